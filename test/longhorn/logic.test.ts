/**
 * components/longhorn/logic.ts without the mock runtime: each Longhorn trap is fed the configuration that would
 * have fallen into it, and every Longhorn object built is checked against the upstream CRDs.
 */
import { describe, expect, it } from "vitest";
import {
  LONGHORN_TASKS,
  parseStackConfig,
  StackConfigError,
  type LonghornConfig,
  type StackConfig,
} from "../../components/config.js";
import {
  BRIDGE_SECRET,
  bridgeDeploymentSpec,
  bridgeEndpoint,
  bridgeEnv,
  bridgeServiceSpec,
} from "../../components/ftpBridge/logic.js";
import {
  DETACHED_SETTING,
  GROUP_LABEL_PREFIX,
  SOURCE_LABEL,
  backupTargetManifest,
  backupTargetUrl,
  credentialEndpointKeys,
  credentialValueError,
  isAwsEndpoint,
  pvcCoverage,
  pvcLabelPatches,
  recurringJobManifest,
  recurringJobSpec,
  settingManifest,
  storageClassManifest,
  storageClassParameters,
  storageClassSelector,
  worstCaseRestorePoints,
} from "../../components/longhorn/logic.js";
import { longhornPlan } from "../../components/longhorn/plan.js";
import { validateCustomResource } from "../support/crds.js";
import { exampleStack } from "../support/stackFiles.js";
import { DRILL_VOLUME_GROUP } from "../../components/longhorn/schema.js";

const awsHub = { kind: "aws", bucket: "homelab-backups", region: "eu-central-1" };

function stack(
  longhorn: unknown,
  extra: Record<string, unknown> = {},
  secrets: Record<string, string> = {},
): StackConfig {
  const raw: Record<string, string> = {
    "homelab-backup:hub": JSON.stringify(awsHub),
    "homelab-backup:longhorn": JSON.stringify(longhorn),
  };
  for (const [k, v] of Object.entries(extra)) raw[`homelab-backup:${k}`] = JSON.stringify(v);
  for (const [k, v] of Object.entries(secrets)) raw[`homelab-backup:${k}`] = v;
  return parseStackConfig(raw);
}
const lhOf = (longhorn: unknown): LonghornConfig => stack(longhorn).longhorn!;

function problems(longhorn: unknown): { path: string; message: string }[] {
  try {
    stack(longhorn);
  } catch (e) {
    expect(e).toBeInstanceOf(StackConfigError);
    return (e as StackConfigError).problems;
  }
  throw new Error("expected the configuration to be refused");
}

/** The example stack's Longhorn section, read from Pulumi.homelab.yaml as users write it (so it cannot drift). */
const exampleLonghorn = JSON.parse(exampleStack().config["homelab-backup:longhorn"]);

describe("backup target URL and credentials", () => {
  it("puts the bucket in the userinfo, the region as host and a non-empty path", () => {
    expect(backupTargetUrl("homelab-backups", "fr-home-1", "longhorn/")).toBe(
      "s3://homelab-backups@fr-home-1/longhorn/",
    );
    expect(backupTargetUrl("b1", "us-east-1", "/longhorn")).toBe("s3://b1@us-east-1/longhorn/");
  });
  it("writes the bucket root as s3://bucket@region/ (never s3://bucket@region, which Longhorn refuses) and refuses an endpoint in the region slot (#8954)", () => {
    expect(backupTargetUrl("b1", "us-east-1", "")).toBe("s3://b1@us-east-1/");
    expect(backupTargetUrl("b1", "us-east-1", "/")).toBe("s3://b1@us-east-1/");
    expect(() => backupTargetUrl("b1", "hub.lan:9000", "longhorn/")).toThrow(/region label/);
    expect(() => backupTargetUrl("b1", "s3.eu-central-1.amazonaws.com", "longhorn/")).toThrow(/AWS_ENDPOINTS/);
    expect(() => backupTargetUrl("b1", "us-east-1", "long,horn/")).toThrow(/'\$', ','/);
  });
  it("writes AWS_ENDPOINTS for S3-compatible servers only, with the addressing style stated", () => {
    expect(isAwsEndpoint("https://s3.eu-central-1.amazonaws.com")).toBe(true);
    expect(isAwsEndpoint("http://backup1.lab.home.arpa:9000")).toBe(false);
    expect(isAwsEndpoint("http://s3-to-ftp.longhorn-system.svc.cluster.local:9000")).toBe(false);
    expect(credentialEndpointKeys("https://s3.eu-central-1.amazonaws.com", false, true)).toEqual({});
    expect(credentialEndpointKeys("http://hub.lan:9000", true, false)).toEqual({
      AWS_ENDPOINTS: "http://hub.lan:9000",
      VIRTUAL_HOSTED_STYLE: "false",
    });
    expect(credentialEndpointKeys("https://objects.example.net/", false, false)).toEqual({
      AWS_ENDPOINTS: "https://objects.example.net",
      VIRTUAL_HOSTED_STYLE: "true",
    });
  });
  it("refuses credential values Longhorn's webhook refuses (trailing newline, #811/#7159)", () => {
    expect(() => credentialEndpointKeys("http://hub.lan:9000\n", true, false)).toThrow(/newline/);
    expect(credentialValueError("AWS_SECRET_ACCESS_KEY", "abc\n")).toMatch(/newline/);
    expect(credentialValueError("AWS_ACCESS_KEY_ID", " abc")).toMatch(/whitespace/);
    expect(credentialValueError("AWS_ACCESS_KEY_ID", "")).toMatch(/empty/);
    expect(credentialValueError("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")).toBeUndefined();
  });
  it("builds a BackupTarget patch body that the CRD accepts, with a canonical Go duration", () => {
    const bt = backupTargetManifest("longhorn-system", "s3://b1@us-east-1/longhorn/", "300s");
    expect(bt.metadata.name).toBe("default");
    expect(bt.spec).toEqual({
      backupTargetURL: "s3://b1@us-east-1/longhorn/",
      credentialSecret: "longhorn-backup-s3-credentials",
      pollInterval: "5m0s",
    });
    expect(validateCustomResource(bt)).toEqual([]);
    expect(() => backupTargetManifest("longhorn-system", "s3://b1@us-east-1/longhorn/", "300")).toThrow(/Go duration/);
  });
  it("never builds a removed Setting (backup-target is a BackupTarget CR since v1.8.0)", () => {
    for (const removed of ["backup-target", "backup-target-credential-secret", "backupstore-poll-interval"]) {
      expect(() => settingManifest("longhorn-system", removed, "s3://b@r/")).toThrow(/removed in v1.8.0/);
    }
    const s = settingManifest("longhorn-system", DETACHED_SETTING, "true");
    expect(s).toEqual({
      apiVersion: "longhorn.io/v1beta2",
      kind: "Setting",
      metadata: { name: DETACHED_SETTING, namespace: "longhorn-system" },
      value: "true",
    });
    expect(validateCustomResource(s)).toEqual([]);
  });
});

describe("recurring jobs", () => {
  it("sets every field explicitly, full-backup-interval as a string", () => {
    const [nightly] = lhOf(exampleLonghorn).recurringJobs;
    expect(recurringJobSpec(nightly)).toEqual({
      name: "nightly-backup",
      task: "backup",
      cron: "0 5 * * *",
      retain: 14,
      concurrency: 2,
      groups: ["default", "critical"],
      labels: { tier: "nightly" },
      parameters: { "full-backup-interval": "7" },
    });
  });
  it("fills the fields Longhorn's mutator would default (retain 0 for maintenance tasks, empty maps)", () => {
    const lh = lhOf(exampleLonghorn);
    const trim = recurringJobSpec(lh.recurringJobs[2]);
    expect(trim).toEqual({
      name: "weekly-trim",
      task: "filesystem-trim",
      cron: "30 1 * * 0",
      retain: 0,
      concurrency: 1,
      groups: ["default"],
      labels: {},
      parameters: {},
    });
    const cleanup = recurringJobSpec(
      lhOf({ recurringJobs: [{ name: "cleanup", cron: "0 0 * * *", task: "snapshot-cleanup", retain: 5 }] })
        .recurringJobs[0],
    );
    expect(cleanup.retain).toBe(0);
    expect(recurringJobSpec(lh.recurringJobs[3]).parameters).toEqual({});
  });
  it("builds a RecurringJob the CRD accepts for every Longhorn task", () => {
    const jobs = LONGHORN_TASKS.map((task, i) => ({
      name: `job-${i}`,
      cron: "0 3 * * *",
      task,
      retain: 3,
      ...(task.startsWith("backup") ? { fullBackupInterval: 2 } : {}),
    }));
    const lh = lhOf({ recurringJobs: jobs });
    for (const job of lh.recurringJobs) {
      const manifest = recurringJobManifest("longhorn-system", job);
      expect(manifest.metadata.name).toBe(job.name);
      expect(validateCustomResource(manifest), job.task).toEqual([]);
    }
  });
  it("refuses retain <= fullBackupInterval at parse time, naming the key", () => {
    const p = problems({
      recurringJobs: [
        { name: "ok", cron: "0 1 * * *", task: "backup", retain: 7, fullBackupInterval: 5 },
        { name: "bad", cron: "0 2 * * *", task: "backup", retain: 3, fullBackupInterval: 3 },
      ],
    });
    expect(p.map((x) => x.path)).toEqual(["longhorn.recurringJobs[1].retain"]);
    expect(p[0].message).toMatch(/greater than fullBackupInterval \(3\)/);
  });
  it("counts the full backups a job keeps at worst", () => {
    const lh = lhOf({
      recurringJobs: [
        { name: "a", cron: "0 5 * * *", task: "backup", retain: 14, fullBackupInterval: 7 },
        { name: "b", cron: "0 5 * * *", task: "backup", retain: 8, fullBackupInterval: 3 },
        { name: "c", cron: "0 5 * * *", task: "backup", retain: 7 },
        { name: "d", cron: "0 5 * * *", task: "backup-force-create", retain: 4, fullBackupInterval: 1 },
        { name: "e", cron: "30 1 * * 0", task: "filesystem-trim" },
        { name: "f", cron: "15 * * * *", task: "snapshot", retain: 24 },
      ],
    });
    const [a, b, c, d, e, f] = lh.recurringJobs.map(worstCaseRestorePoints);
    expect(a).toMatchObject({
      restorePoints: 14,
      fullBackupsAtWorst: 2,
      fullBackupsAtBest: 2,
      spanSeconds: 13 * 86_400,
    });
    expect(b).toMatchObject({ restorePoints: 8, fullBackupsAtWorst: 2, fullBackupsAtBest: 3 });
    expect(c).toMatchObject({ restorePoints: 7, fullBackupsAtWorst: 0 });
    expect(d).toMatchObject({ restorePoints: 4, fullBackupsAtWorst: 4 });
    expect(e).toMatchObject({ restorePoints: 0, fullBackupsAtWorst: undefined, spanSeconds: 0 });
    expect(f).toMatchObject({ restorePoints: 24, spanSeconds: 23 * 3600 });
  });
});

describe("volume membership", () => {
  it("labels each named PVC with its job AND the source label, one patch per PVC for all its jobs", () => {
    const lh = lhOf({
      recurringJobs: [
        {
          name: "daily",
          cron: "0 2 * * *",
          task: "backup",
          retain: 7,
          pvcs: [
            { namespace: "gaming", name: "gaming-data" },
            { namespace: "gaming", name: "gaming-system" },
          ],
        },
        {
          name: "weekly",
          cron: "0 2 * * 0",
          task: "backup",
          retain: 4,
          pvcs: [{ namespace: "gaming", name: "gaming-system" }],
        },
      ],
    });
    const patches = pvcLabelPatches(lh);
    expect(patches.map((p) => `${p.namespace}/${p.name}`)).toEqual(["gaming/gaming-data", "gaming/gaming-system"]);
    expect(patches[0].labels).toEqual({ [SOURCE_LABEL]: "enabled", "recurring-job.longhorn.io/daily": "enabled" });
    expect(patches[1].labels).toEqual({
      [SOURCE_LABEL]: "enabled",
      "recurring-job.longhorn.io/daily": "enabled",
      "recurring-job.longhorn.io/weekly": "enabled",
    });
    for (const p of patches) {
      expect(p.labels[SOURCE_LABEL], "a PVC job label without the source label is ignored by Longhorn").toBe("enabled");
      for (const v of Object.values(p.labels)) expect(v).toBe("enabled");
    }
  });
  it("keeps a labelled PVC in the default group when a job serves it (a job label otherwise drops it from default)", () => {
    const lh = lhOf(exampleLonghorn);
    const [acme] = pvcLabelPatches(lh);
    expect(acme.labels).toEqual({
      [SOURCE_LABEL]: "enabled",
      "recurring-job.longhorn.io/traefik-certs": "enabled",
      [`${GROUP_LABEL_PREFIX}default`]: "enabled",
    });
    const cov = pvcCoverage(lh);
    expect(cov.find((c) => c.job === "nightly-backup")).toMatchObject({
      pvcs: [],
      pvcsViaGroups: ["traefik/traefik-acme"],
      storageClasses: ["longhorn-backed-up"],
      reachesNothing: false,
    });
    expect(cov.find((c) => c.job === "traefik-certs")).toMatchObject({
      pvcs: ["traefik/traefik-acme"],
      storageClasses: [],
    });
    expect(cov.find((c) => c.job === "hourly-snapshot")).toMatchObject({ storageClasses: ["longhorn-backed-up"] });
    const noDefault = lhOf({
      recurringJobs: [
        { name: "solo", cron: "0 1 * * *", task: "backup", retain: 3, pvcs: [{ namespace: "a", name: "b" }] },
      ],
    });
    expect(pvcLabelPatches(noDefault)[0].labels).not.toHaveProperty(`${GROUP_LABEL_PREFIX}default`);
  });
  it("reports a job that reaches no volume", () => {
    const lh = lhOf({
      recurringJobs: [{ name: "orphan", cron: "0 1 * * *", task: "backup", retain: 3, groups: ["nobody"] }],
    });
    expect(pvcCoverage(lh)[0].reachesNothing).toBe(true);
  });
});

describe("storage classes", () => {
  it("marks groups isGroup true and jobs isGroup false in recurringJobSelector", () => {
    const lh = lhOf({
      recurringJobs: [
        { name: "nightly-s3-backup", cron: "0 3 * * *", task: "backup", retain: 7, groups: ["traefik-only"] },
      ],
      storageClasses: [
        { name: "by-job", recurringJobs: ["nightly-s3-backup"] },
        { name: "by-group", recurringJobGroups: ["traefik-only"] },
        { name: "both", recurringJobs: ["nightly-s3-backup"], recurringJobGroups: ["traefik-only"] },
      ],
    });
    const [byJob, byGroup, both] = lh.storageClasses;
    // A hand-made setup wrote {"name":"nightly-s3-backup","isGroup":true}: a job name marked as a group matches nothing.
    expect(JSON.parse(storageClassSelector(byJob))).toEqual([{ name: "nightly-s3-backup", isGroup: false }]);
    expect(JSON.parse(storageClassSelector(byGroup))).toEqual([{ name: "traefik-only", isGroup: true }]);
    expect(JSON.parse(storageClassSelector(both))).toEqual([
      { name: "nightly-s3-backup", isGroup: false },
      { name: "traefik-only", isGroup: true },
    ]);
  });
  it("puts reclaimPolicy on the StorageClass itself and refuses it as a parameter", () => {
    const lh = lhOf(exampleLonghorn);
    const sc = storageClassManifest(lh.storageClasses[0], lh);
    expect(sc).toMatchObject({
      provisioner: "driver.longhorn.io",
      reclaimPolicy: "Retain",
      allowVolumeExpansion: true,
      metadata: { name: "longhorn-backed-up" },
    });
    expect(sc.parameters).toEqual({
      numberOfReplicas: "2",
      recurringJobSelector: '[{"name":"critical","isGroup":true}]',
      dataLocality: "best-effort",
    });
    expect(sc.parameters).not.toHaveProperty("reclaimPolicy");
    const bad = lhOf({
      ...exampleLonghorn,
      storageClasses: [{ name: "x", recurringJobGroups: ["critical"], parameters: { reclaimPolicy: "Retain" } }],
    });
    expect(() => storageClassParameters(bad.storageClasses[0], bad)).toThrow(
      /longhorn.storageClasses\[0\].parameters.reclaimPolicy: "reclaimPolicy" is a StorageClass field/,
    );
    const clash = lhOf({
      ...exampleLonghorn,
      storageClasses: [{ name: "x", recurringJobGroups: ["critical"], parameters: { recurringJobSelector: "[]" } }],
    });
    expect(() => storageClassParameters(clash.storageClasses[0], clash)).toThrow(/recurringJobSelector/);
  });
  it("refuses at parse time a selector naming a job or group that does not exist", () => {
    const p = problems({
      recurringJobs: [{ name: "nightly", cron: "0 3 * * *", task: "backup", retain: 7, groups: ["critical"] }],
      storageClasses: [
        { name: "a", recurringJobs: ["nigthly"] },
        { name: "b", recurringJobGroups: ["critcal"] },
      ],
    });
    expect(p.map((x) => x.path)).toEqual([
      "longhorn.storageClasses[0].recurringJobs[0]",
      "longhorn.storageClasses[1].recurringJobGroups[0]",
    ]);
    expect(p[0].message).toMatch(/did you mean "nightly"/);
    expect(p[1].message).toMatch(/never be backed up; did you mean "critical"/);
  });
});

describe("s3-to-ftp bridge shapes", () => {
  const bridge = (encryption: boolean, port = 9000) =>
    stack(
      { target: "ftpBridge" },
      { ftpBridge: { port, encryption, ftp: { host: "ftp.box.com", user: "me", path: "/Homelab" } } },
      { ftpBridgePassword: "pw" },
    ).ftpBridge!;
  it("reads every credential from the Secret and never puts one in a value", () => {
    const env = bridgeEnv(bridge(true), BRIDGE_SECRET);
    const byName = new Map(env.map((e) => [e.name, e]));
    for (const [name, key] of [
      ["FTP_USER", "ftp_user"],
      ["FTP_PASSWORD", "ftp_password"],
      ["S3_ACCESS_KEY", "s3_access_key"],
      ["S3_SECRET_KEY", "s3_secret_key"],
      ["ENCRYPTION_KEY", "encryption_key"],
    ]) {
      expect(byName.get(name), name).toEqual({ name, valueFrom: { secretKeyRef: { name: BRIDGE_SECRET, key } } });
    }
    expect(byName.get("FTP_HOST")).toEqual({ name: "FTP_HOST", value: "ftp.box.com" });
    expect(byName.get("FTP_PORT")).toEqual({ name: "FTP_PORT", value: "21" });
    expect(byName.get("FTP_ROOT_PATH")).toEqual({ name: "FTP_ROOT_PATH", value: "/Homelab" });
    expect(bridgeEnv(bridge(false), BRIDGE_SECRET).map((e) => e.name)).not.toContain("ENCRYPTION_KEY");
  });
  it("maps the configured port onto the container's S3 port and builds the endpoint from it", () => {
    const cfg = bridge(true, 9100);
    expect(bridgeEndpoint(cfg)).toBe("http://s3-to-ftp.longhorn-system.svc.cluster.local:9100");
    expect(bridgeServiceSpec(cfg).ports).toEqual([{ name: "s3-api", port: 9100, targetPort: "s3", protocol: "TCP" }]);
    const spec = bridgeDeploymentSpec(cfg, BRIDGE_SECRET, { app: "x" }, { readOnlyRootFilesystem: true });
    const c = spec.template.spec.containers[0];
    expect(c.ports).toEqual([{ name: "s3", containerPort: 9000, protocol: "TCP" }]);
    expect(c.livenessProbe.httpGet).toEqual({ path: "/health", port: "s3" });
    expect(c.readinessProbe.httpGet).toEqual({ path: "/health", port: "s3" });
    expect(spec.template.spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65532 });
  });
});

describe("plan section", () => {
  it("lists every job with its target, cadence and retention", () => {
    const s = stack(exampleLonghorn);
    const plan = longhornPlan(s);
    expect(plan.rows).toHaveLength(4);
    expect(plan.rows[0]).toMatchObject({
      when: "daily 05:00 UTC (`0 5 * * *`)",
      where: "s3://homelab-backups/longhorn/",
    });
    expect(plan.rows[0].how).toMatch(/incremental, full every 7 runs/);
    expect(plan.rows[0].retention).toMatch(/last 14 backups per volume \(≈ 13d back at worst\)/);
    expect(plan.rows[1].where).toMatch(/in the cluster/);
    expect(plan.details).toContain("s3://homelab-backups@eu-central-1/longhorn/");
    expect(plan.details).toContain("`allow-recurring-job-while-volume-detached` = `true`");
    expect(plan.restore).toContain("backups.longhorn.io");
  });
  it("warns when detached volumes are skipped and when a job reaches nothing", () => {
    const plan = longhornPlan(
      stack({
        allowRecurringJobWhileVolumeDetached: false,
        recurringJobs: [{ name: "orphan", cron: "0 1 * * *", task: "backup", retain: 3, groups: ["nobody"] }],
      }),
    );
    expect(plan.details).toMatch(/detached volumes are skipped/);
    expect(plan.details).toMatch(/`orphan` reaches no volume/);
  });
  it("points at the bridge when longhorn.target is ftpBridge", () => {
    const s = stack(
      {
        target: "ftpBridge",
        recurringJobs: [{ name: "d", cron: "0 1 * * *", task: "backup", retain: 3, groups: ["default"] }],
      },
      { ftpBridge: { bucket: "longhorn", region: "box", ftp: { host: "ftp.box.com", user: "me", path: "/Homelab" } } },
      { ftpBridgePassword: "pw" },
    );
    const plan = longhornPlan(s);
    expect(plan.details).toContain("s3://longhorn@box/longhorn/");
    expect(plan.rows[0].where).toMatch(/ftp:\/\/ftp.box.com:21\/Homelab \(encrypted by the bridge\)/);
  });
});

describe("the drill's scratch-volume group", () => {
  it("is refused as a recurring job's group, naming the key", () => {
    expect(() =>
      parseStackConfig({
        "homelab-backup:hub": JSON.stringify({ kind: "aws", bucket: "homelab-backups" }),
        "homelab-backup:longhorn": JSON.stringify({
          recurringJobs: [
            { name: "nightly", cron: "0 3 * * *", task: "backup", retain: 7, groups: [DRILL_VOLUME_GROUP] },
          ],
        }),
      }),
    ).toThrow(/longhorn\.recurringJobs\[0\]\.groups\[0\]: is reserved/);
  });
});
