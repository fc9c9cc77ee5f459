import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import YAML from "yaml";
import {
  bucketNameError,
  editDistance,
  imageError,
  offsiteOf,
  parseStackConfig,
  StackConfigError,
  suggest,
} from "../../components/config.js";

const piHub = { kind: "pi", bucket: "homelab-backups", host: "hub.lan", ssh: { user: "pi" }, dataDir: "/mnt/backup" };
const db = { name: "wiki", namespace: "wiki", host: "wiki-pg", passwordSecret: { name: "wiki-pg", key: "password" } };

/** Config as `pulumi config` stores it: full keys, objects as JSON strings. */
function raw(
  sections: Record<string, unknown>,
  secrets: Record<string, string> = { hubSshPrivateKey: "key" },
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(sections))
    out[`homelab-backup:${k}`] = typeof v === "string" ? v : JSON.stringify(v);
  for (const [k, v] of Object.entries(secrets)) out[`homelab-backup:${k}`] = v;
  return out;
}

function problems(
  sections: Record<string, unknown>,
  secrets?: Record<string, string>,
): { path: string; message: string }[] {
  try {
    parseStackConfig(raw(sections, secrets));
  } catch (e) {
    expect(e).toBeInstanceOf(StackConfigError);
    return (e as StackConfigError).problems;
  }
  throw new Error("expected the configuration to be refused");
}

describe("parseStackConfig: valid stacks", () => {
  it("applies the contract's defaults", () => {
    const c = parseStackConfig(
      raw(
        {
          hub: { kind: "aws", bucket: "my-backups" },
          postgres: { databases: [db] },
          velero: {},
          etcd: {},
          longhorn: {},
          alerts: {},
        },
        {},
      ),
    );
    expect(c.hub!.region).toBe("us-east-1");
    expect(c.postgres!.retentionDays).toBe(7);
    expect(c.postgres!.window).toEqual({ start: "03:00", end: "05:00" });
    expect(c.postgres!.databases[0]).toMatchObject({
      port: 5432,
      database: "wiki",
      user: "postgres",
      mode: "database",
    });
    expect(c.postgres!.image).toMatch(/^postgres:\d+[.\d]*-alpine/);
    expect(c.velero).toMatchObject({
      namespace: "velero",
      install: true,
      fsBackup: { mode: "off" },
      excludedNamespaces: ["kube-system", "kube-node-lease", "kube-public", "velero"],
      excludedResources: [],
    });
    expect(c.velero!.schedules).toEqual([{ name: "daily", cron: "0 2 * * *", ttl: "720h" }]);
    expect(c.etcd).toMatchObject({
      schedule: "0 2 * * *",
      snapshotDir: "/var/lib/rancher/k3s/server/db/snapshots",
      retentionDays: 7,
      nodeSelector: { "node-role.kubernetes.io/control-plane": "true" },
    });
    expect(c.longhorn).toMatchObject({
      namespace: "longhorn-system",
      target: "hub",
      pollInterval: "5m0s",
      allowRecurringJobWhileVolumeDetached: true,
      recurringJobs: [],
      storageClasses: [],
    });
    expect(c.alerts).toMatchObject({
      namespace: "monitoring",
      ruleLabels: { release: "kube-prometheus-stack" },
      grafanaDashboard: true,
      hubDiskUsagePercent: 85,
      restoreTestMaxAgeDays: 30,
    });
  });

  it("resolves offsite.runOn from the hub kind", () => {
    const ftp = { host: "ftp.example.org", user: "u" };
    const onPi = parseStackConfig(
      raw({ hub: piHub, offsite: { ftp } }, { hubSshPrivateKey: "k", offsiteFtpPassword: "p" }),
    );
    expect(offsiteOf(onPi)!.runOn).toBe("hub");
    expect(onPi.offsite).toMatchObject({
      schedule: "0 6 * * *",
      ftp: { port: 21, explicitTls: true },
      encryption: { enabled: true, filenameEncryption: "standard" },
    });
    const onAws = parseStackConfig(
      raw({ hub: { kind: "aws", bucket: "b-ackups" }, offsite: { ftp } }, { offsiteFtpPassword: "p" }),
    );
    expect(offsiteOf(onAws)!.runOn).toBe("cluster");
  });

  it("defaults the restore drill to every database and one table-count check", () => {
    const c = parseStackConfig(
      raw({
        hub: piHub,
        postgres: { databases: [db, { ...db, name: "gitea", namespace: "gitea" }], restoreDrill: {} },
      }),
    );
    expect(c.postgres!.restoreDrill!.databases).toEqual(["wiki", "gitea"]);
    expect(c.postgres!.restoreDrill!.checks).toHaveLength(1);
    expect(c.postgres!.restoreDrill!.checks[0]).toMatch(/count\(\*\)/i);
  });

  it("leaves keys of other namespaces to their providers", () => {
    const c = parseStackConfig({
      ...raw({ hub: piHub }),
      "aws:region": "eu-central-1",
      "kubernetes:context": "homelab",
    });
    expect(c.hub!.kind).toBe("pi");
  });

  it("accepts the example stack file", () => {
    const doc = YAML.parse(readFileSync(path.resolve(__dirname, "../../Pulumi.homelab.yaml"), "utf8"));
    const r: Record<string, string> = {};
    for (const [k, v] of Object.entries<any>(doc.config))
      r[k] = v && typeof v === "object" && "secure" in v ? "sample" : typeof v === "string" ? v : JSON.stringify(v);
    const c = parseStackConfig(r);
    for (const section of [
      "hub",
      "longhorn",
      "postgres",
      "etcd",
      "velero",
      "buckets",
      "offsite",
      "ftpBridge",
      "alerts",
    ] as const)
      expect(c[section], section).toBeDefined();
  });
});

describe("parseStackConfig: every bad value is refused with its key path", () => {
  const cases: [string, Record<string, unknown>, Record<string, string> | undefined, string, RegExp][] = [
    [
      "misspelt top-level key",
      { hub: piHub, lognhorn: {} },
      undefined,
      "homelab-backup:lognhorn",
      /did you mean "longhorn"/,
    ],
    ["missing hub", { postgres: { databases: [db] } }, undefined, "hub", /required/],
    ["unknown hub kind", { hub: { ...piHub, kind: "gcs" } }, undefined, "hub.kind", /"aws", "pi"/],
    [
      "invalid bucket name",
      { hub: { ...piHub, bucket: "My_Backups" } },
      undefined,
      "hub.bucket",
      /not a valid bucket name/,
    ],
    ["bucket name as IP", { hub: { ...piHub, bucket: "192.168.1.10" } }, undefined, "hub.bucket", /IP address/],
    [
      "pi hub without host",
      { hub: { ...piHub, host: undefined } },
      undefined,
      "hub.host",
      /required when hub.kind is "pi"/,
    ],
    ["pi hub without dataDir", { hub: { ...piHub, dataDir: undefined } }, undefined, "hub.dataDir", /required/],
    ["relative dataDir", { hub: { ...piHub, dataDir: "mnt/backup" } }, undefined, "hub.dataDir", /absolute path/],
    ["pi hub without ssh key", { hub: piHub }, {}, "homelab-backup:hubSshPrivateKey", /required when hub.kind is "pi"/],
    ["latest server version", { hub: { ...piHub, version: "latest" } }, undefined, "hub.version", /never "latest"/],
    [
      "object lock on rustfs",
      { hub: { ...piHub, server: "rustfs", objectLock: { mode: "GOVERNANCE", days: 7 } } },
      undefined,
      "hub.objectLock",
      /refused on server "rustfs"/,
    ],
    [
      "archive on a pi hub",
      { hub: { ...piHub, archive: { afterDays: 30, storageClass: "GLACIER" } } },
      undefined,
      "hub.archive",
      /only to hub.kind "aws"/,
    ],
    [
      "ssh on an aws hub",
      { hub: { kind: "aws", bucket: "bucket-x", ssh: { user: "pi" } } },
      {},
      "hub.ssh",
      /only to hub.kind "pi"/,
    ],
    ["port out of range", { hub: { ...piHub, port: 70000 } }, undefined, "hub.port", /between 1 and 65535/],
    [
      "unknown key in a job",
      {
        hub: piHub,
        longhorn: { recurringJobs: [{ name: "a", cron: "0 5 * * *", task: "backup", retain: 3, retian: 4 }] },
      },
      undefined,
      "longhorn.recurringJobs[0].retian",
      /did you mean "retain"/,
    ],
    [
      "retain not above full-backup-interval",
      {
        hub: piHub,
        longhorn: {
          recurringJobs: [{ name: "a", cron: "0 5 * * *", task: "backup", retain: 7, fullBackupInterval: 7 }],
        },
      },
      undefined,
      "longhorn.recurringJobs[0].retain",
      /greater than fullBackupInterval \(7\)/,
    ],
    [
      "full-backup-interval on a snapshot job",
      {
        hub: piHub,
        longhorn: {
          recurringJobs: [{ name: "a", cron: "0 5 * * *", task: "snapshot", retain: 7, fullBackupInterval: 3 }],
        },
      },
      undefined,
      "longhorn.recurringJobs[0].fullBackupInterval",
      /only to backup tasks/,
    ],
    [
      "unknown Longhorn task",
      { hub: piHub, longhorn: { recurringJobs: [{ name: "a", cron: "0 5 * * *", task: "backups", retain: 3 }] } },
      undefined,
      "longhorn.recurringJobs[0].task",
      /"backup"/,
    ],
    [
      "job name too long",
      {
        hub: piHub,
        longhorn: { recurringJobs: [{ name: "a".repeat(41), cron: "0 5 * * *", task: "backup", retain: 3 }] },
      },
      undefined,
      "longhorn.recurringJobs[0].name",
      /at most 40/,
    ],
    [
      "duplicate job names",
      {
        hub: piHub,
        longhorn: {
          recurringJobs: [
            { name: "a", cron: "0 5 * * *", task: "backup", retain: 3 },
            { name: "a", cron: "0 6 * * *", task: "backup", retain: 3 },
          ],
        },
      },
      undefined,
      "longhorn.recurringJobs[1].name",
      /duplicate/,
    ],
    [
      "six-field cron",
      { hub: piHub, longhorn: { recurringJobs: [{ name: "a", cron: "0 0 5 * * *", task: "backup", retain: 3 }] } },
      undefined,
      "longhorn.recurringJobs[0].cron",
      /has 6 fields; expected 5/,
    ],
    [
      "cron value out of range",
      { hub: piHub, etcd: { schedule: "0 25 * * *" } },
      undefined,
      "etcd.schedule",
      /not a valid cron/,
    ],
    [
      "Quartz-only cron syntax",
      { hub: piHub, etcd: { schedule: "0 2 L * *" } },
      undefined,
      "etcd.schedule",
      /not standard cron syntax/,
    ],
    [
      "storage class naming a missing job",
      {
        hub: piHub,
        longhorn: {
          recurringJobs: [{ name: "nightly", cron: "0 5 * * *", task: "backup", retain: 3 }],
          storageClasses: [{ name: "lh", recurringJobs: ["nigthly"] }],
        },
      },
      undefined,
      "longhorn.storageClasses[0].recurringJobs[0]",
      /did you mean "nightly"/,
    ],
    [
      "storage class naming a group no job has",
      {
        hub: piHub,
        longhorn: {
          recurringJobs: [{ name: "nightly", cron: "0 5 * * *", task: "backup", retain: 3, groups: ["critical"] }],
          storageClasses: [{ name: "lh", recurringJobGroups: ["critcal"] }],
        },
      },
      undefined,
      "longhorn.storageClasses[0].recurringJobGroups[0]",
      /never be backed up/,
    ],
    [
      "unitless poll interval",
      { hub: piHub, longhorn: { pollInterval: "300" } },
      undefined,
      "longhorn.pollInterval",
      /not a Go duration/,
    ],
    [
      "ftpBridge target without section",
      { hub: piHub, longhorn: { target: "ftpBridge" } },
      undefined,
      "longhorn.target",
      /needs the homelab-backup:ftpBridge section/,
    ],
    ["no databases", { hub: piHub, postgres: { databases: [] } }, undefined, "postgres.databases", /at least one/],
    [
      "database without passwordSecret",
      { hub: piHub, postgres: { databases: [{ name: "a", namespace: "a", host: "pg" }] } },
      undefined,
      "postgres.databases[0].passwordSecret",
      /required/,
    ],
    [
      "database name not a DNS label",
      { hub: piHub, postgres: { databases: [{ ...db, name: "Wiki_DB" }] } },
      undefined,
      "postgres.databases[0].name",
      /DNS label/,
    ],
    [
      "window start after end",
      { hub: piHub, postgres: { databases: [db], window: { start: "05:00", end: "03:00" } } },
      undefined,
      "postgres.window.start",
      /earlier than window.end/,
    ],
    [
      "window time not HH:MM",
      { hub: piHub, postgres: { databases: [db], window: { start: "3am", end: "05:00" } } },
      undefined,
      "postgres.window.start",
      /HH:MM/,
    ],
    [
      "unpinned client image",
      { hub: piHub, postgres: { databases: [db], image: "postgres:latest" } },
      undefined,
      "postgres.image",
      /latest/,
    ],
    [
      "drill naming an unknown database",
      { hub: piHub, postgres: { databases: [db], restoreDrill: { databases: ["wikki"] } } },
      undefined,
      "postgres.restoreDrill.databases[0]",
      /did you mean "wiki"/,
    ],
    [
      "velero ttl without unit",
      { hub: piHub, velero: { schedules: [{ name: "daily", cron: "0 2 * * *", ttl: "720" }] } },
      undefined,
      "velero.schedules[0].ttl",
      /Go duration/,
    ],
    [
      "offsite on hub with an aws hub",
      { hub: { kind: "aws", bucket: "my-backups" }, offsite: { runOn: "hub", ftp: { host: "ftp.x.org", user: "u" } } },
      { offsiteFtpPassword: "p" },
      "offsite.runOn",
      /needs hub.kind "pi"/,
    ],
    [
      "offsite without FTP password",
      { hub: piHub, offsite: { ftp: { host: "ftp.x.org", user: "u" } } },
      { hubSshPrivateKey: "k" },
      "homelab-backup:offsiteFtpPassword",
      /required when offsite is set/,
    ],
    [
      "ftpBridge encryption key not 64 hex",
      { hub: piHub, ftpBridge: { ftp: { host: "ftp.x.org", user: "u" } } },
      { hubSshPrivateKey: "k", ftpBridgePassword: "p", ftpBridgeEncryptionKey: "abc" },
      "homelab-backup:ftpBridgeEncryptionKey",
      /64 hexadecimal/,
    ],
    [
      "mirror endpoint not a URL",
      {
        hub: piHub,
        buckets: {
          mirrors: [
            {
              name: "m",
              schedule: "0 4 * * *",
              source: { endpoint: "rgw", bucket: "photos", credentialsSecret: { namespace: "media", name: "s" } },
            },
          ],
        },
      },
      undefined,
      "buckets.mirrors[0].source.endpoint",
      /URL/,
    ],
    ["section as a plain string", { hub: piHub, etcd: "yes" }, undefined, "etcd", /must be an object/],
    [
      "alerts disk percentage above 100",
      { hub: piHub, alerts: { hubDiskUsagePercent: 120 } },
      undefined,
      "alerts.hubDiskUsagePercent",
      /between 1 and 100/,
    ],
  ];

  it.each(cases)("%s", (_title, sections, secrets, keyPath, message) => {
    const found = problems(sections, secrets);
    const match = found.find((p) => p.path === keyPath);
    expect(match, `expected a problem at ${keyPath}, got ${JSON.stringify(found)}`).toBeDefined();
    expect(match!.message).toMatch(message);
  });

  it("covers at least 20 distinct bad configurations", () => {
    expect(new Set(cases.map((c) => c[3])).size).toBeGreaterThanOrEqual(20);
  });

  it("reports every problem at once, one message each", () => {
    const found = problems({
      hub: { ...piHub, bucket: "UPPER", port: 0 },
      lognhorn: {},
      postgres: { databases: [{ ...db, schedul: "0 3 * * *" }], window: { start: "05:00", end: "03:00" } },
    });
    expect(found.map((p) => p.path).sort()).toEqual(
      [
        "homelab-backup:lognhorn",
        "hub.bucket",
        "hub.port",
        "postgres.databases[0].schedul",
        "postgres.window.start",
      ].sort(),
    );
  });

  it("never prints a secret value in a message", () => {
    const secret = "not-hex-but-very-secret-value";
    const found = problems(
      { hub: piHub, ftpBridge: { ftp: { host: "ftp.x.org", user: "u" } } },
      { hubSshPrivateKey: "k", ftpBridgePassword: "p", ftpBridgeEncryptionKey: secret },
    );
    expect(JSON.stringify(found)).not.toContain(secret);
  });
});

describe("helpers", () => {
  it("imageError refuses untagged and latest images and accepts tags and digests", () => {
    expect(imageError("postgres")).toMatch(/no tag/);
    expect(imageError("postgres:latest")).toMatch(/latest/);
    expect(imageError("registry.local:5000/postgres")).toMatch(/no tag/);
    expect(imageError("registry.local:5000/postgres:17.6")).toBeUndefined();
    expect(imageError(`rclone/rclone@sha256:${"a".repeat(64)}`)).toBeUndefined();
  });
  it("bucketNameError follows the S3 naming rules", () => {
    expect(bucketNameError("ab")).toMatch(/3 to 63/);
    expect(bucketNameError("a..b")).toMatch(/adjacent/);
    expect(bucketNameError("xn--bucket")).toMatch(/xn--/);
    expect(bucketNameError("homelab-backups.2026")).toBeUndefined();
  });
  it("suggest finds the nearest key and stays silent for unrelated words", () => {
    expect(editDistance("lognhorn", "longhorn")).toBe(2);
    expect(suggest("postgress", ["postgres", "etcd"])).toContain('"postgres"');
    expect(suggest("zzzzzz", ["postgres", "etcd"])).toBe("");
  });
});

describe("parseStackConfig: a value of the wrong type", () => {
  const hub = { kind: "aws", bucket: "homelab-backups", region: "eu-central-1" };
  const problems = (raw: Record<string, unknown>) => {
    try {
      parseStackConfig(Object.fromEntries(Object.entries(raw).map(([k, v]) => [`homelab-backup:${k}`, v])));
    } catch (e) {
      return (e as StackConfigError).problems.map((p) => `${p.path}: ${p.message}`);
    }
    return [];
  };

  it("says what it is and what was expected, instead of calling it missing", () => {
    const job = { name: "nightly", cron: "0 3 * * *", task: "backup", retain: "7" };
    expect(problems({ hub, longhorn: { recurringJobs: [job] } })).toEqual([
      'longhorn.recurringJobs[0].retain: must be a number, not a string ("7")',
    ]);
    expect(problems({ hub, longhorn: { recurringJobs: [{ ...job, retain: 7, name: 3 }] } })).toEqual([
      "longhorn.recurringJobs[0].name: must be a string, not a number (3)",
    ]);
  });

  it("still calls a key that is absent missing", () => {
    const job = { name: "nightly", cron: "0 3 * * *", task: "backup", retain: 7 };
    expect(problems({ hub, longhorn: { recurringJobs: [{ ...job, name: undefined }] } })).toEqual([
      "longhorn.recurringJobs[0].name: is required (string)",
    ]);
  });
});
