/**
 * LonghornBackupTarget under the mock runtime: what it registers is what the cluster would receive.
 * Every Longhorn object (CR or patch body) is validated against the upstream CRDs.
 */
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { parseStackConfig, type LonghornConfig } from "../../components/config.js";
import {
  installMocks,
  recordingMocks,
  settle,
  unwrapSecrets,
  valueOf,
  type RecordedResource,
  type RecordingMocks,
} from "../../tools/mocks.js";
import { validateCustomResource } from "../support/crds.js";

const BT = "kubernetes:longhorn.io/v1beta2:BackupTargetPatch";
const SETTING = "kubernetes:longhorn.io/v1beta2:SettingPatch";
const JOB = "kubernetes:longhorn.io/v1beta2:RecurringJob";
const PVC = "kubernetes:core/v1:PersistentVolumeClaimPatch";
const SC = "kubernetes:storage.k8s.io/v1:StorageClass";
const SECRET = "kubernetes:core/v1:Secret";

function longhorn(
  section: unknown,
  hub: unknown = { kind: "aws", bucket: "homelab-backups", region: "eu-central-1" },
): LonghornConfig {
  return parseStackConfig({
    "homelab-backup:hub": JSON.stringify(hub),
    "homelab-backup:longhorn": JSON.stringify(section),
  }).longhorn!;
}

const example = {
  recurringJobs: [
    {
      name: "nightly-backup",
      cron: "0 5 * * *",
      task: "backup",
      retain: 14,
      concurrency: 2,
      fullBackupInterval: 7,
      groups: ["default", "critical"],
      labels: { tier: "nightly" },
    },
    { name: "hourly-snapshot", cron: "15 * * * *", task: "snapshot", retain: 24, groups: ["critical"] },
    { name: "weekly-trim", cron: "30 1 * * 0", task: "filesystem-trim", groups: ["default"] },
    {
      name: "traefik-certs",
      cron: "45 4 * * *",
      task: "backup",
      retain: 30,
      pvcs: [{ namespace: "traefik", name: "traefik-acme" }],
    },
    {
      name: "gaming-daily",
      cron: "0 2 * * *",
      task: "backup",
      retain: 7,
      pvcs: [
        { namespace: "gaming", name: "gaming-data" },
        { namespace: "traefik", name: "traefik-acme" },
      ],
    },
  ],
  storageClasses: [
    {
      name: "longhorn-backed-up",
      recurringJobGroups: ["critical"],
      recurringJobs: ["traefik-certs"],
      reclaimPolicy: "Retain",
      numberOfReplicas: 2,
      parameters: { dataLocality: "best-effort" },
    },
  ],
};

let rec: RecordingMocks;
let pi: any;
let aws: any;
const of = (r: RecordedResource[], parent: string) => r.filter((x) => x.parent === parent);

beforeAll(async () => {
  rec = recordingMocks();
  await installMocks(rec);
  const { LonghornBackupTarget } = await import("../../components/longhorn/longhornBackupTarget.js");
  pi = new LonghornBackupTarget("lh-pi", {
    config: longhorn(example),
    target: {
      endpoint: "http://backup1.lab.home.arpa:9000",
      bucket: "homelab-backups",
      region: "fr-home-1",
      prefix: "longhorn/",
      pathStyle: true,
      accessKeyId: pulumi.secret("longhorn-writer"),
      secretAccessKey: pulumi.secret("s3cr3t-value"),
    },
  });
  aws = new LonghornBackupTarget("lh-aws", {
    config: longhorn({
      namespace: "storage",
      pollInterval: "90s",
      allowRecurringJobWhileVolumeDetached: false,
      recurringJobs: [example.recurringJobs[0]],
    }),
    target: {
      endpoint: "https://s3.eu-central-1.amazonaws.com",
      bucket: "homelab-backups",
      region: "eu-central-1",
      prefix: "longhorn/",
      pathStyle: false,
      accessKeyId: pulumi.output("AKIAEXAMPLE"),
      secretAccessKey: pulumi.secret("aws-secret"),
    },
  });
  await settle();
});

describe("backup target", () => {
  it("patches BackupTarget/default (never creates one) with region in the URL and a non-empty path", () => {
    const [bt] = of(rec.byType(BT), "lh-pi");
    const body = unwrapSecrets(bt.inputs);
    expect(body.metadata).toMatchObject({
      name: "default",
      namespace: "longhorn-system",
      annotations: { "pulumi.com/patchForce": "true" },
    });
    expect(body.spec).toEqual({
      backupTargetURL: "s3://homelab-backups@fr-home-1/longhorn/",
      credentialSecret: "longhorn-backup-s3-credentials",
      pollInterval: "5m0s",
    });
    expect(rec.resources.filter((r) => r.type === "kubernetes:longhorn.io/v1beta2:BackupTarget")).toEqual([]);
    expect(validateCustomResource(body)).toEqual([]);
    const [awsBt] = of(rec.byType(BT), "lh-aws");
    expect(unwrapSecrets(awsBt.inputs).spec).toEqual({
      backupTargetURL: "s3://homelab-backups@eu-central-1/longhorn/",
      credentialSecret: "longhorn-backup-s3-credentials",
      pollInterval: "1m30s",
    });
    expect(unwrapSecrets(awsBt.inputs).metadata.namespace).toBe("storage");
  });

  it("never emits the removed backup-target Settings", () => {
    const settings = rec.resources
      .filter((r) => /longhorn\.io\/v1beta2:Setting/.test(r.type))
      .map((r) => unwrapSecrets(r.inputs).metadata.name);
    expect(settings.length).toBeGreaterThan(0);
    for (const name of settings)
      expect(["backup-target", "backup-target-credential-secret", "backupstore-poll-interval"]).not.toContain(name);
    expect(rec.byType("kubernetes:longhorn.io/v1beta2:Setting"), "Settings exist already: patch, never create").toEqual(
      [],
    );
  });

  it("writes the credential Secret as one secret stringData, AWS_ENDPOINTS only for S3-compatible servers", () => {
    const [s] = of(rec.byType(SECRET), "lh-pi");
    expect(pulumi.runtime.isRpcSecret(s.inputs.stringData)).toBe(true);
    expect(s.inputs.data).toBeUndefined();
    expect(unwrapSecrets(s.inputs).metadata).toMatchObject({
      name: "longhorn-backup-s3-credentials",
      namespace: "longhorn-system",
    });
    expect(unwrapSecrets(s.inputs.stringData)).toEqual({
      AWS_ACCESS_KEY_ID: "longhorn-writer",
      AWS_SECRET_ACCESS_KEY: "s3cr3t-value",
      AWS_ENDPOINTS: "http://backup1.lab.home.arpa:9000",
      VIRTUAL_HOSTED_STYLE: "false",
    });
    const [a] = of(rec.byType(SECRET), "lh-aws");
    expect(unwrapSecrets(a.inputs.stringData)).toEqual({
      AWS_ACCESS_KEY_ID: "AKIAEXAMPLE",
      AWS_SECRET_ACCESS_KEY: "aws-secret",
    });
  });
});

describe("detached volumes", () => {
  it("patches allow-recurring-job-while-volume-detached to true by default, as a top-level string value", () => {
    const [s] = of(rec.byType(SETTING), "lh-pi");
    const body = unwrapSecrets(s.inputs);
    expect(body).toMatchObject({
      apiVersion: "longhorn.io/v1beta2",
      kind: "Setting",
      metadata: { name: "allow-recurring-job-while-volume-detached", namespace: "longhorn-system" },
      value: "true",
    });
    expect(body.spec).toBeUndefined();
    expect(validateCustomResource(body)).toEqual([]);
    expect(unwrapSecrets(of(rec.byType(SETTING), "lh-aws")[0].inputs).value).toBe("false");
  });
});

describe("recurring jobs", () => {
  it("creates one RecurringJob per job, explicitly named, every field set, valid against the CRD", () => {
    const jobs = of(rec.byType(JOB), "lh-pi").map((r) => unwrapSecrets(r.inputs));
    expect(jobs.map((j) => j.metadata.name).sort()).toEqual(example.recurringJobs.map((j) => j.name).sort());
    for (const j of jobs) {
      expect(Object.keys(j.spec).sort(), j.metadata.name).toEqual([
        "concurrency",
        "cron",
        "groups",
        "labels",
        "name",
        "parameters",
        "retain",
        "task",
      ]);
      expect(j.spec.name).toBe(j.metadata.name);
      expect(j.metadata.namespace).toBe("longhorn-system");
      expect(validateCustomResource(j), j.metadata.name).toEqual([]);
    }
    const byName = new Map(jobs.map((j) => [j.metadata.name, j.spec]));
    expect(byName.get("nightly-backup").parameters).toEqual({ "full-backup-interval": "7" });
    expect(byName.get("weekly-trim").retain).toBe(0);
    expect(byName.get("traefik-certs")).toMatchObject({ groups: [], labels: {}, parameters: {}, concurrency: 1 });
  });
});

describe("volume membership", () => {
  it("patches each named PVC once, with every job naming it, the source label and the default group", () => {
    const patches = of(rec.byType(PVC), "lh-pi").map((r) => unwrapSecrets(r.inputs));
    expect(patches.map((p) => `${p.metadata.namespace}/${p.metadata.name}`).sort()).toEqual([
      "gaming/gaming-data",
      "traefik/traefik-acme",
    ]);
    const acme = patches.find((p) => p.metadata.name === "traefik-acme");
    expect(acme.metadata.labels).toEqual({
      "recurring-job.longhorn.io/source": "enabled",
      "recurring-job.longhorn.io/traefik-certs": "enabled",
      "recurring-job.longhorn.io/gaming-daily": "enabled",
      "recurring-job-group.longhorn.io/default": "enabled",
    });
    expect(acme.metadata.annotations).toEqual({ "pulumi.com/patchForce": "true" });
    expect(acme.spec).toBeUndefined();
  });

  it("creates StorageClasses with reclaimPolicy as a field and a selector with correct isGroup", () => {
    const [sc] = of(rec.byType(SC), "lh-pi").map((r) => unwrapSecrets(r.inputs));
    expect(sc).toMatchObject({
      metadata: { name: "longhorn-backed-up" },
      provisioner: "driver.longhorn.io",
      reclaimPolicy: "Retain",
      allowVolumeExpansion: true,
    });
    expect(sc.parameters.reclaimPolicy).toBeUndefined();
    expect(sc.parameters.numberOfReplicas).toBe("2");
    expect(JSON.parse(sc.parameters.recurringJobSelector)).toEqual([
      { name: "traefik-certs", isGroup: false },
      { name: "critical", isGroup: true },
    ]);
    expect(sc.parameters.dataLocality).toBe("best-effort");
  });

  it("parents every child to its component", () => {
    const children = rec.resources.filter((r) => r.parent === "lh-pi");
    expect(children.length).toBe(1 + 1 + 1 + 5 + 2 + 1);
    for (const c of children) expect(c.parentType).toBe("homelab-backup:index:LonghornBackupTarget");
  });
});

describe("outputs and refusals", () => {
  it("exports the URL and the job names", async () => {
    expect(await valueOf(pi.backupTargetUrl)).toBe("s3://homelab-backups@fr-home-1/longhorn/");
    expect(await valueOf(pi.recurringJobNames)).toEqual([
      "nightly-backup",
      "hourly-snapshot",
      "weekly-trim",
      "traefik-certs",
      "gaming-daily",
    ]);
    expect(await valueOf(aws.backupTargetUrl)).toBe("s3://homelab-backups@eu-central-1/longhorn/");
  });

  it("refuses before registering anything: a prefix with a comma, an endpoint as region, reclaimPolicy as a parameter", async () => {
    const { LonghornBackupTarget } = await import("../../components/longhorn/longhornBackupTarget.js");
    const target = {
      endpoint: "http://hub:9000",
      bucket: "b1",
      region: "us-east-1",
      prefix: "longhorn/",
      pathStyle: true,
      accessKeyId: "a",
      secretAccessKey: "b",
    };
    expect(
      () =>
        new LonghornBackupTarget("bad-prefix", {
          config: longhorn(example),
          target: { ...target, prefix: "long,horn/" },
        }),
    ).toThrow(/'\$', ','/);
    expect(
      () =>
        new LonghornBackupTarget("bad-region", {
          config: longhorn(example),
          target: { ...target, region: "hub:9000" },
        }),
    ).toThrow(/region label/);
    const badSc = longhorn({
      ...example,
      storageClasses: [{ name: "x", recurringJobGroups: ["critical"], parameters: { reclaimPolicy: "Retain" } }],
    });
    expect(() => new LonghornBackupTarget("bad-sc", { config: badSc, target })).toThrow(/parameters.reclaimPolicy/);
    await settle();
    expect(rec.resources.filter((r) => r.name.startsWith("bad-") && r.custom)).toEqual([]);
  });
});
