/**
 * TalosEtcdSnapshot under the mock runtime: the CronJob has no host path and runs unprivileged, the
 * Talos ServiceAccount is valid against Talos' own CRD and carries exactly os:etcd:backup, and the
 * job mounts the Secret Talos writes for it where talosctl looks.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import Ajv from "ajv";
import * as YAML from "yaml";
import { beforeAll, describe, expect, it } from "vitest";
import { talosMachineConfigPatch, TALOSCTL } from "../../components/etcd/talos.js";
import { VERSIONS } from "../../components/core/versions.js";
import { validateCustomResource } from "../support/crds.js";
import { installMocks, recordingMocks, settle, unwrapSecrets, type RecordingMocks } from "../../tools/mocks.js";

const CRD = path.resolve(__dirname, "..", "fixtures", "crds", "talos", "serviceaccounts.talos.dev.yaml");

/** The CRD's openAPIV3Schema as ajv reads it, unknown fields rejected (kubectl's strict validation). */
function talosValidator() {
  const crd = YAML.parse(readFileSync(CRD, "utf8"));
  const schema = crd.spec.versions.find((v: any) => v.name === "v1alpha1").schema.openAPIV3Schema;
  const closed = (node: any): any => {
    if (node?.type === "object" && node.properties) {
      return {
        ...node,
        additionalProperties: false,
        properties: Object.fromEntries(Object.entries(node.properties).map(([k, v]) => [k, closed(v)])),
      };
    }
    return node;
  };
  const root = closed(schema);
  // apiVersion, kind and metadata are validated by the API server itself, not by the CRD schema.
  root.properties = {
    ...root.properties,
    apiVersion: { const: "talos.dev/v1alpha1" },
    kind: { const: "ServiceAccount" },
    metadata: { type: "object" },
  };
  return new Ajv({ strict: false, allErrors: true }).compile(root);
}

describe("TalosEtcdSnapshot component (mock runtime)", () => {
  let rec: RecordingMocks;
  beforeAll(async () => {
    rec = recordingMocks();
    await installMocks(rec);
    const { TalosEtcdSnapshot } = await import("../../components/etcd/talosEtcdSnapshot.js");
    new TalosEtcdSnapshot("etcd", {
      hub: {
        kind: "pi",
        endpoint: "http://hub.lan:9000",
        bucket: "homelab-backups",
        region: "fr-home-1",
        pathStyle: true,
        server: "minio",
      },
      credentials: { accessKeyId: pulumi.secret("AKETCD"), secretAccessKey: pulumi.secret("etcd-secret-key") },
      talosNode: "10.0.0.2",
    });
    await settle();
  });
  const cron = () => unwrapSecrets(rec.one("kubernetes:batch/v1:CronJob", "etcd-cronjob").inputs);
  const pod = () => cron().spec.jobTemplate.spec.template.spec;
  const account = () =>
    unwrapSecrets(rec.one("kubernetes:talos.dev/v1alpha1:ServiceAccount", "etcd-talos-account").inputs);

  it("renders a Talos ServiceAccount that Talos' CRD accepts, with exactly os:etcd:backup", () => {
    const validate = talosValidator();
    const sa = account();
    expect(validate(sa), JSON.stringify(validate.errors)).toBe(true);
    expect(validateCustomResource(sa)).toEqual([]);
    expect(validateCustomResource({ ...sa, spec: { roles: ["os:etcd:backup"], extra: true } }).join()).toContain(
      "extra",
    );
    expect(sa.spec).toEqual({ roles: ["os:etcd:backup"] });
    expect(sa.metadata).toMatchObject({ name: "etcd-offload-talos", namespace: "kube-system" });
    // The validator bites: a typo'd field or a non-string role is refused.
    expect(validate({ ...sa, spec: { role: ["os:etcd:backup"] } })).toBe(false);
    expect(validate({ ...sa, spec: { roles: [1] } })).toBe(false);
  });

  it("has no host path, no privilege, and runs on any node", () => {
    expect(JSON.stringify(cron())).not.toContain("hostPath");
    expect(pod().nodeSelector).toBeUndefined();
    expect(pod().securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65534 });
    const [c] = pod().containers;
    expect(pod().containers).toHaveLength(1);
    expect(c.securityContext).toMatchObject({
      runAsNonRoot: true,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      privileged: false,
      capabilities: { drop: ["ALL"] },
    });
    expect(c.image).toBe(VERSIONS.rcloneImage);
    expect(cron().metadata).toMatchObject({ name: "etcd-offload", namespace: "kube-system" });
    expect(cron().spec).toMatchObject({ schedule: "0 2 * * *", timeZone: "Etc/UTC", concurrencyPolicy: "Forbid" });
  });

  it("mounts the Secret Talos writes for the ServiceAccount where talosctl reads its config", () => {
    const vol = pod().volumes.find((v: any) => v.secret);
    expect(vol.secret.secretName).toBe(account().metadata.name);
    const mount = pod().containers[0].volumeMounts.find((m: any) => m.name === vol.name);
    expect(mount).toMatchObject({ mountPath: "/var/run/secrets/talos.dev", readOnly: true });
  });

  it("pins talosctl by version and sha256, and passes the node", () => {
    const env = Object.fromEntries(
      pod()
        .containers[0].env.filter((e: any) => e.value !== undefined)
        .map((e: any) => [e.name, e.value]),
    );
    expect(env).toMatchObject({
      TALOSCTL_VERSION: TALOSCTL.version,
      TALOSCTL_SHA256_AMD64: TALOSCTL.sha256.amd64,
      TALOSCTL_SHA256_ARM64: TALOSCTL.sha256.arm64,
      TALOS_NODE: "10.0.0.2",
      HUB_PREFIX: "etcd-snapshots",
    });
    expect(TALOSCTL.sha256.amd64).toMatch(/^[0-9a-f]{64}$/);
    expect(pod().containers[0].command).toEqual(["/bin/sh", "/scripts/talos-snapshot.sh"]);
    const cm = unwrapSecrets(rec.one("kubernetes:core/v1:ConfigMap", "etcd-scripts").inputs);
    expect(Object.keys(cm.data).sort()).toEqual(["offload.sh", "talos-snapshot.sh"]);
  });

  it("keeps hub credentials in a Secret", () => {
    expect(JSON.stringify(cron())).not.toContain("etcd-secret-key");
    const secret = rec.one("kubernetes:core/v1:Secret", "etcd-credentials");
    expect(pulumi.runtime.isRpcSecret(secret.inputs.stringData)).toBe(true);
  });

  it("names the machine-config patch for both Talos config forms", () => {
    const patch = talosMachineConfigPatch("kube-system");
    expect(patch).toContain("kubernetesTalosAPIAccess:");
    expect(patch).toContain("allowedRoles: [os:etcd:backup]");
    expect(patch).toContain("allowedKubernetesNamespaces: [kube-system]");
    expect(patch).toContain("kind: KubeTalosAPIAccessConfig");
    for (const block of patch.match(/```yaml\n([\s\S]*?)```/g)!)
      expect(() => YAML.parse(block.replace(/```(yaml)?/g, ""))).not.toThrow();
  });
});

describe("etcdPlan for Talos", () => {
  it("names the machine-config patch, the role, the Talos directory and the talosctl restore", async () => {
    const { parseStackConfig } = await import("../../components/config.js");
    const { etcdPlan } = await import("../../components/etcd/plan.js");
    const stack = parseStackConfig({
      "homelab-backup:hub": JSON.stringify({
        kind: "pi",
        bucket: "homelab-backups",
        host: "hub.lan",
        ssh: { user: "pi" },
        dataDir: "/mnt/backup",
      }),
      "homelab-backup:hubSshPrivateKey": "key",
      "homelab-backup:etcd": JSON.stringify({ distribution: "talos", namespace: "backup" }),
    });
    const plan = etcdPlan(stack);
    expect(plan.rows[0].where).toBe("s3://homelab-backups/etcd-snapshots/talos/");
    expect(plan.rows[0].how).toContain("os:etcd:backup");
    expect(plan.details).toContain("allowedKubernetesNamespaces: [backup]");
    expect(plan.details).toContain("kubernetesTalosAPIAccess");
    expect(plan.restore).toContain('talosctl -n <control-plane IP> bootstrap --recover-from="./$SNAP"');
    expect(plan.restore).not.toContain("k3s");
  });
});
