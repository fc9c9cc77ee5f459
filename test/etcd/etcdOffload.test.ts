/**
 * etcd offload: the runbook and plan (pure), the CronJob under the mock runtime, and shellcheck on
 * the scripts the job runs.
 */
import { execFile } from "node:child_process";
import { readdirSync } from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { parseStackConfig, type StackConfig } from "../../components/config.js";
import { k3sRestoreRunbook } from "../../components/etcd/restore.js";
import { etcdPlan } from "../../components/etcd/plan.js";
import { COMPONENTS_DIR } from "../../components/core/files.js";
import { hubConnection } from "../../components/core/hubConnection.js";
import { VERSIONS } from "../../components/core/versions.js";
import { installMocks, recordingMocks, settle, unwrapSecrets, type RecordingMocks } from "../../tools/mocks.js";

const run = promisify(execFile);
const piHub = { kind: "pi", bucket: "homelab-backups", host: "hub.lan", ssh: { user: "pi" }, dataDir: "/mnt/backup" };
function stackOf(sections: Record<string, unknown>): StackConfig {
  const raw: Record<string, string> = { "homelab-backup:hubSshPrivateKey": "key" };
  for (const [k, v] of Object.entries(sections)) raw[`homelab-backup:${k}`] = JSON.stringify(v);
  return parseStackConfig(raw);
}

describe("k3sRestoreRunbook / etcdPlan", () => {
  it("sets up the hub remote from the stack outputs, downloads, checks sha256 before the k3s cluster reset, then resets the other servers", () => {
    const book = k3sRestoreRunbook(hubConnection(stackOf({ hub: piHub }).hub!));
    const order = [
      'RCLONE_CONFIG_HUB_ENDPOINT="$(pulumi stack output hubEndpoint)"',
      'RCLONE_CONFIG_HUB_SECRET_ACCESS_KEY="$(pulumi stack output etcdRestoreSecretAccessKey --show-secrets)"',
      'rclone copyto "hub:$BUCKET/etcd-snapshots/$ETCD_NODE/$SNAP" "./$SNAP"',
      "sha256sum -c",
      "systemctl stop k3s",
      '--cluster-reset --cluster-reset-restore-path="/var/lib/rancher/k3s/server/db/snapshots/$SNAP"',
      "rm -rf /var/lib/rancher/k3s/server/db",
    ];
    const at = order.map((s) => book.indexOf(s));
    expect(
      at.every((i) => i >= 0),
      JSON.stringify(at),
    ).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    // No tool the runbook does not name, and no credential-less download.
    expect(book).not.toMatch(/\bmc |aws s3 /);
  });
  it("plans the offload with the schedule, retention and the node-scoped destination", () => {
    const plan = etcdPlan(stackOf({ hub: piHub, etcd: { schedule: "30 2 * * *", retentionDays: 14 } }));
    expect(plan.rows).toEqual([
      expect.objectContaining({
        when: "daily 02:30 UTC (`30 2 * * *`)",
        retention: "14 days (hub lifecycle on etcd-snapshots/)",
        where: "s3://homelab-backups/etcd-snapshots/<node>/",
      }),
    ]);
    expect(plan.restore).toContain("--cluster-reset-restore-path");
  });
});

describe("EtcdOffload component (mock runtime)", () => {
  let rec: RecordingMocks;
  beforeAll(async () => {
    rec = recordingMocks();
    await installMocks(rec);
    const { EtcdOffload } = await import("../../components/etcd/etcdOffload.js");
    const stack = stackOf({ hub: piHub, etcd: {} });
    new EtcdOffload("etcd", {
      config: stack.etcd!,
      hub: hubConnection(stack.hub!),
      credentials: { accessKeyId: pulumi.secret("AKETCD"), secretAccessKey: pulumi.secret("etcd-secret-key") },
    });
    await settle();
  });
  const cron = () => unwrapSecrets(rec.one("kubernetes:batch/v1:CronJob", "etcd-cronjob").inputs);
  const pod = () => cron().spec.jobTemplate.spec.template.spec;

  it("runs in kube-system on control-plane nodes, tolerating their taints", () => {
    expect(cron().metadata).toMatchObject({ name: "etcd-offload", namespace: "kube-system" });
    expect(pod().nodeSelector).toEqual({ "node-role.kubernetes.io/control-plane": "true" });
    expect(pod().tolerations).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          key: "node-role.kubernetes.io/control-plane",
          operator: "Exists",
          effect: "NoSchedule",
        }),
      ]),
    );
    expect(cron().spec).toMatchObject({ schedule: "0 2 * * *", timeZone: "Etc/UTC", concurrencyPolicy: "Forbid" });
  });

  it("mounts the snapshot directory read-only from an existing host directory", () => {
    const vol = pod().volumes.find((v: any) => v.hostPath);
    expect(vol.hostPath).toEqual({ path: "/var/lib/rancher/k3s/server/db/snapshots", type: "Directory" });
    const [c] = pod().containers;
    const mount = c.volumeMounts.find((m: any) => m.name === vol.name);
    expect(mount.readOnly).toBe(true);
    expect(pod().volumes.filter((v: any) => v.hostPath)).toHaveLength(1);
  });

  it("runs the one container as UID 0 with every capability dropped, no escalation, read-only root fs, pinned image", () => {
    const [c] = pod().containers;
    expect(pod().containers).toHaveLength(1);
    expect(c.image).toBe(VERSIONS.rcloneImage);
    expect(c.securityContext).toMatchObject({
      runAsUser: 0,
      runAsNonRoot: false,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      privileged: false,
      capabilities: { drop: ["ALL"] },
    });
    expect(c.securityContext.capabilities.add ?? []).toEqual([]);
    expect(pod().hostUsers).toBeUndefined();
  });

  it("keeps the credentials in a Secret, referenced by secretKeyRef, never as env values", () => {
    const [c] = pod().containers;
    const json = JSON.stringify(cron());
    expect(json).not.toContain("etcd-secret-key");
    expect(json).not.toContain("AKETCD");
    for (const e of c.env) if (/KEY|SECRET/.test(e.name)) expect(e.value, e.name).toBeUndefined();
    const secretRefs = c.env
      .filter((e: any) => e.valueFrom?.secretKeyRef)
      .map((e: any) => e.name)
      .sort();
    expect(secretRefs).toEqual(["RCLONE_CONFIG_HUB_ACCESS_KEY_ID", "RCLONE_CONFIG_HUB_SECRET_ACCESS_KEY"]);
    const secret = rec.one("kubernetes:core/v1:Secret", "etcd-credentials");
    expect(pulumi.runtime.isRpcSecret(secret.inputs.stringData)).toBe(true);
    expect(unwrapSecrets(secret.inputs).stringData).toEqual({
      accessKeyId: "AKETCD",
      secretAccessKey: "etcd-secret-key",
    });
    expect(c.env.find((e: any) => e.name === "NODE_NAME").valueFrom).toEqual({
      fieldRef: { fieldPath: "spec.nodeName" },
    });
  });

  it("ships the offload script in a ConfigMap, run with sh", () => {
    const cm = unwrapSecrets(rec.one("kubernetes:core/v1:ConfigMap", "etcd-scripts").inputs);
    expect(cm.data["offload.sh"]).toContain("etcd-offload");
    expect(pod().containers[0].command).toEqual(["/bin/sh", "/scripts/offload.sh"]);
  });
});

describe("components/etcd", () => {
  it("is shellcheck-clean", async () => {
    const dir = path.join(COMPONENTS_DIR, "etcd");
    const files = readdirSync(dir)
      .filter((f) => f.endsWith(".sh"))
      .map((f) => path.join(dir, f));
    expect(files.length).toBeGreaterThan(0);
    await run("shellcheck", ["--severity=style", ...files]);
  });
});
