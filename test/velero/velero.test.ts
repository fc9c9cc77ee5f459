/**
 * Velero: steady-state backup counts, the BSL/Schedule specs, and the component under the mock
 * runtime. Every emitted Velero object is validated against the upstream v1.18 CRD schemas.
 */
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { parseStackConfig, type StackConfig } from "../../components/config.js";
import { hubConnection } from "../../components/core/hubConnection.js";
import {
  bslConfig,
  scheduleTemplate,
  steadyStateBackups,
  ttlShorterThanInterval,
} from "../../components/velero/logic.js";
import { veleroPlan } from "../../components/velero/plan.js";
import { VERSIONS } from "../../components/core/versions.js";
import { installMocks, recordingMocks, settle, unwrapSecrets, type RecordingMocks } from "../../tools/mocks.js";
import { validateCustomResource } from "../support/crds.js";

const piHub = { kind: "pi", bucket: "homelab-backups", host: "hub.lan", ssh: { user: "pi" }, dataDir: "/mnt/backup" };
function stackOf(sections: Record<string, unknown>): StackConfig {
  const raw: Record<string, string> = { "homelab-backup:hubSshPrivateKey": "key" };
  for (const [k, v] of Object.entries(sections)) raw[`homelab-backup:${k}`] = JSON.stringify(v);
  return parseStackConfig(raw);
}

/** Keys velero-plugin-for-aws accepts in BSL config (shared/notes/velero-prometheus.md §2). */
const PLUGIN_KEYS = new Set(
  "region s3Url publicUrl kmsKeyId customerKeyEncryptionFile customerKeyEncryptionSecret s3ForcePathStyle bucket signatureVersion credentialsFile profile serverSideEncryption insecureSkipTLSVerify caCert enableSharedConfig tagging checksumAlgorithm".split(
    " ",
  ),
);

describe("steadyStateBackups / ttlShorterThanInterval", () => {
  it("counts the AWS k3s fixture schedules", () => {
    expect(steadyStateBackups("0 2 * * *", "720h")).toEqual({ max: 30, min: 30 });
    // 360 days of weekly runs: 51.4 on average, so 51 just before a run and 52 just after.
    expect(steadyStateBackups("0 3 * * 0", "8640h")).toEqual({ max: 52, min: 51 });
    expect(steadyStateBackups("0 4 1 * *", "8760h")).toEqual({ max: 12, min: 12 });
  });
  it("treats ttl 0 as Velero's 720h default and sees gaps when ttl is shorter than the interval", () => {
    expect(steadyStateBackups("0 2 * * *", "0")).toEqual(steadyStateBackups("0 2 * * *", "720h"));
    expect(steadyStateBackups("0 2 * * *", "12h")).toEqual({ max: 1, min: 0 });
    expect(ttlShorterThanInterval("0 2 * * *", "12h")).toBe(true);
    expect(ttlShorterThanInterval("0 2 * * *", "24h")).toBe(false);
    // Weekdays only: the weekend gap is 72h, so a 48h ttl leaves holes though runs are "daily".
    expect(ttlShorterThanInterval("0 2 * * 1-5", "48h")).toBe(true);
    expect(steadyStateBackups("0 2 * * 1-5", "48h").min).toBe(0);
    expect(() => steadyStateBackups("0 2 * * *", "30d")).toThrow(/Go duration/);
  });
});

describe("BSL config and Schedule template", () => {
  it("uses only plugin keys, path style and no CRC32 checksum on a pi hub; plain region on AWS", () => {
    const pi = bslConfig(hubConnection(stackOf({ hub: piHub }).hub!));
    expect(pi).toEqual({
      region: "us-east-1",
      s3Url: "http://hub.lan:9000",
      s3ForcePathStyle: "true",
      checksumAlgorithm: "",
    });
    const aws = bslConfig(
      hubConnection(stackOf({ hub: { kind: "aws", bucket: "my-backups", region: "eu-west-1" } }).hub!),
    );
    expect(aws).toEqual({ region: "eu-west-1" });
    for (const k of [...Object.keys(pi), ...Object.keys(aws)]) expect(PLUGIN_KEYS.has(k), k).toBe(true);
    for (const v of Object.values(pi)) expect(typeof v).toBe("string");
  });
  it("never excludes a namespace the schedule includes (Velero would refuse the backup)", () => {
    const v = stackOf({
      hub: piHub,
      velero: {
        fsBackup: true,
        excludedResources: ["secrets"],
        schedules: [{ name: "sys", cron: "0 1 * * *", ttl: "168h", includedNamespaces: ["kube-system", "apps"] }],
      },
    }).velero!;
    const t = scheduleTemplate(v, v.schedules[0]);
    expect(t.includedNamespaces).toEqual(["kube-system", "apps"]);
    expect(t.excludedNamespaces).toEqual(["kube-node-lease", "kube-public", "velero"]);
    expect(t).toMatchObject({
      excludedResources: ["secrets"],
      ttl: "168h0m0s",
      snapshotVolumes: false,
      defaultVolumesToFsBackup: true,
      storageLocation: "default",
    });
  });
});

describe("veleroPlan", () => {
  it("lists each schedule with its steady-state count and restore commands, and warns on holes", () => {
    const stack = stackOf({
      hub: piHub,
      velero: {
        schedules: [
          { name: "daily", cron: "0 2 * * *", ttl: "720h" },
          { name: "short", cron: "0 2 * * *", ttl: "12h" },
        ],
      },
    });
    const plan = veleroPlan(stack);
    expect(plan.rows).toHaveLength(2);
    expect(plan.rows[0].retention).toContain("30 backups at steady state");
    expect(plan.rows[0].where).toBe("s3://homelab-backups/velero/backups/");
    expect(plan.details).toContain("| daily | `0 2 * * *` | 720h0m0s | 30–30 |");
    expect(plan.details).toMatch(/Warning:\*\* schedule `short`/);
    expect(plan.details).not.toMatch(/schedule `daily` keeps/);
    expect(plan.restore).toContain(
      "velero restore create --from-schedule daily --include-namespaces <namespace> --wait",
    );
    expect(plan.restore).toContain("velero restore create --from-schedule short --wait");
  });
});

describe("Velero component (mock runtime)", () => {
  let rec: RecordingMocks;
  const options = new Map<string, { ignoreChanges: string[]; dependencies: string[] }>();

  beforeAll(async () => {
    rec = recordingMocks();
    await installMocks(rec);
    const monitor: any = (pulumi.runtime as any).getMonitor();
    const inner = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req: any, cb: any) => {
      options.set(req.getName(), {
        ignoreChanges: req.getIgnorechangesList(),
        dependencies: req.getDependenciesList(),
      });
      return inner(req, cb);
    };
    const { Velero } = await import("../../components/velero/velero.js");
    const stack = stackOf({
      hub: piHub,
      velero: {
        fsBackup: true,
        excludedResources: ["secrets"],
        schedules: [
          { name: "daily", cron: "0 2 * * *", ttl: "720h" },
          { name: "weekly", cron: "0 3 * * 0", ttl: "8640h", includedNamespaces: ["apps"] },
        ],
      },
    });
    new Velero("velero", {
      config: stack.velero!,
      hub: hubConnection(stack.hub!),
      credentials: { accessKeyId: pulumi.secret("AKVELERO"), secretAccessKey: pulumi.secret("velero-secret-key") },
      serviceMonitorLabels: { release: "kube-prometheus-stack" },
    });
    await settle();
  });

  const schedules = () => rec.byType("kubernetes:velero.io/v1:Schedule").map((r) => unwrapSecrets(r.inputs));
  const bsl = () => unwrapSecrets(rec.one("kubernetes:velero.io/v1:BackupStorageLocation", "velero-bsl").inputs);

  it("emits Velero objects that validate against the upstream CRDs (and the validator catches a bad one)", () => {
    const objects = [bsl(), ...schedules()];
    expect(objects).toHaveLength(3);
    for (const o of objects) expect(validateCustomResource(o), `${o.kind} ${o.metadata.name}`).toEqual([]);
    const broken = { ...bsl(), spec: { ...bsl().spec, objectStorage: { prefix: "velero" } } };
    expect(validateCustomResource(broken).join("\n")).toMatch(/bucket/);
  });

  it("points the BSL at the hub with the velero writer's credentials file", () => {
    const b = bsl();
    expect(b.metadata).toMatchObject({ name: "default", namespace: "velero" });
    expect(b.spec).toMatchObject({
      provider: "aws",
      default: true,
      objectStorage: { bucket: "homelab-backups", prefix: "velero" },
      credential: { name: "velero-hub-credentials", key: "cloud" },
    });
    expect(Object.keys(b.spec.config).every((k) => PLUGIN_KEYS.has(k))).toBe(true);
    expect(b.spec.config).toMatchObject({
      s3ForcePathStyle: "true",
      checksumAlgorithm: "",
      s3Url: "http://hub.lan:9000",
    });
    const secret = unwrapSecrets(rec.one("kubernetes:core/v1:Secret", "velero-credentials").inputs);
    expect(secret.stringData.cloud).toBe(
      "[default]\naws_access_key_id=AKVELERO\naws_secret_access_key=velero-secret-key\n",
    );
    expect(
      pulumi.runtime.isRpcSecret(rec.one("kubernetes:core/v1:Secret", "velero-credentials").inputs.stringData),
    ).toBe(true);
  });

  it("builds one Schedule per configured schedule that ignores Velero's write-backs and depends on the release", () => {
    const byName = new Map(schedules().map((s) => [s.metadata.name, s]));
    expect([...byName.keys()].sort()).toEqual(["daily", "weekly"]);
    expect(byName.get("weekly").spec).toMatchObject({
      schedule: "0 3 * * 0",
      useOwnerReferencesInBackup: false,
      template: {
        ttl: "8640h0m0s",
        includedNamespaces: ["apps"],
        excludedResources: ["secrets"],
        snapshotVolumes: false,
        defaultVolumesToFsBackup: true,
        storageLocation: "default",
      },
    });
    for (const n of ["velero-schedule-daily", "velero-schedule-weekly"]) {
      expect(options.get(n)!.ignoreChanges).toEqual(["spec.skipImmediately"]);
      expect(options.get(n)!.dependencies.some((u) => u.endsWith("::velero-release"))).toBe(true);
    }
    expect(options.get("velero-bsl")!.dependencies.some((u) => u.endsWith("::velero-release"))).toBe(true);
  });

  it("installs the pinned chart with the AWS plugin, kopia node agent, no chart BSL, and a labelled ServiceMonitor", () => {
    const r = unwrapSecrets(rec.one("kubernetes:helm.sh/v3:Release", "velero-release").inputs);
    expect(r).toMatchObject({
      chart: "velero",
      version: VERSIONS.veleroChart,
      namespace: "velero",
      repositoryOpts: { repo: "https://vmware-tanzu.github.io/helm-charts" },
    });
    const v = r.values;
    expect(v.initContainers).toEqual([
      expect.objectContaining({
        image: VERSIONS.veleroAwsPluginImage,
        volumeMounts: [{ mountPath: "/target", name: "plugins" }],
      }),
    ]);
    expect(v.initContainers[0].image).not.toMatch(/v1\.14\.2$|latest/);
    expect(v).toMatchObject({
      deployNodeAgent: true,
      snapshotsEnabled: false,
      backupsEnabled: false,
      upgradeCRDs: true,
      configuration: { uploaderType: "kopia" },
      credentials: { useSecret: true, existingSecret: "velero-hub-credentials" },
    });
    expect(v.metrics.serviceMonitor).toEqual({ enabled: true, additionalLabels: { release: "kube-prometheus-stack" } });
    expect(JSON.stringify(v)).not.toContain("velero-secret-key");
    const ns = unwrapSecrets(rec.one("kubernetes:core/v1:Namespace", "velero-namespace").inputs);
    expect(ns.metadata.labels["pod-security.kubernetes.io/enforce"]).toBe("privileged");
  });
});
