/** Per-prefix lifecycle rules and the object-lock floor, from parsed stack files. */
import { describe, expect, it } from "vitest";
import { parseStackConfig, PREFIXES } from "../../components/config.js";
import {
  archiveFor,
  awsLifecycleRule,
  NONCURRENT_GRACE_DAYS,
  objectLockMaximumDays,
  prefixLifecycles,
  type PrefixLifecycle,
} from "../../components/hub/retention.js";

const awsHub = { kind: "aws", bucket: "homelab-backups", region: "eu-central-1" };
const db = { name: "wiki", namespace: "wiki", host: "postgres", passwordSecret: { name: "pg", key: "password" } };
const mirror = {
  name: "photos",
  schedule: "0 1 * * *",
  source: {
    endpoint: "http://rgw.ceph.svc:80",
    bucket: "photos",
    credentialsSecret: { namespace: "ceph", name: "photos-s3" },
  },
};

const stackOf = (sections: Record<string, unknown>) =>
  parseStackConfig({
    "homelab-backup:hub": awsHub,
    ...Object.fromEntries(Object.entries(sections).map(([k, v]) => [`homelab-backup:${k}`, v])),
  });
const byPrefix = (ls: PrefixLifecycle[]) => new Map(ls.map((l) => [l.prefix, l]));

describe("prefixLifecycles", () => {
  it("status/ (overwritten records: the audit's PVC inventory, the drills' results) keeps noncurrent versions only for the grace, and only when something writes there", () => {
    const status = (sections: Record<string, unknown>) => byPrefix(prefixLifecycles(stackOf(sections))).get("status/");
    const rule = { prefix: "status/", noncurrentDays: NONCURRENT_GRACE_DAYS };
    expect(status({ alerts: {} })).toEqual(rule);
    expect(status({ postgres: { databases: [db], restoreDrill: {} } })).toEqual(rule);
    expect(status({ etcd: {}, drills: { etcd: {} } })).toEqual(rule);
    expect(status({ alerts: { audit: { enabled: false } } })).toBeUndefined();
    expect(status({ postgres: { databases: [db] } })).toBeUndefined();
    expect(awsLifecycleRule(rule)).toMatchObject({
      filter: { prefix: "status/" },
      expiration: { expiredObjectDeleteMarker: true },
      noncurrentVersionExpiration: { noncurrentDays: NONCURRENT_GRACE_DAYS },
    });
  });

  it("sets no rule at all when no data class is configured", () => {
    expect(prefixLifecycles(stackOf({}))).toEqual([]);
  });

  it("gives each configured class exactly its own rules and nothing for the others", () => {
    expect(prefixLifecycles(stackOf({ postgres: { databases: [db] } })).map((l) => l.prefix)).toEqual([
      "postgres-backups/",
      "postgres-backups/.partial/",
    ]);
    expect(prefixLifecycles(stackOf({ longhorn: {} })).map((l) => l.prefix)).toEqual(["longhorn/"]);
    expect(prefixLifecycles(stackOf({ velero: {} })).map((l) => l.prefix)).toEqual(["velero/"]);
    expect(prefixLifecycles(stackOf({ etcd: {} })).map((l) => l.prefix)).toEqual([
      "etcd-snapshots/",
      "etcd-snapshots/.partial/",
    ]);
    // A buckets section with no mirror writes nothing, so it needs no rule.
    expect(prefixLifecycles(stackOf({ buckets: {} }))).toEqual([]);
    expect(prefixLifecycles(stackOf({ buckets: { mirrors: [mirror] } })).map((l) => l.prefix)).toEqual(["buckets/"]);
  });

  it("expires dumps and snapshots after their own retentionDays, and their staging objects after one day", () => {
    const rules = byPrefix(
      prefixLifecycles(stackOf({ postgres: { retentionDays: 14, databases: [db] }, etcd: { retentionDays: 5 } })),
    );
    expect(rules.get("postgres-backups/")?.expireDays).toBe(14);
    expect(rules.get("etcd-snapshots/")?.expireDays).toBe(5);
    expect(rules.get("postgres-backups/.partial/")?.expireDays).toBe(1);
    expect(rules.get("etcd-snapshots/.partial/")?.expireDays).toBe(1);
    // Defaults from the contract: 7 days.
    expect(
      byPrefix(prefixLifecycles(stackOf({ postgres: { databases: [db] } }))).get("postgres-backups/")?.expireDays,
    ).toBe(7);
  });

  it("never expires what Longhorn, Velero or a mirror prune themselves, but cleans their old versions", () => {
    const rules = prefixLifecycles(stackOf({ longhorn: {}, velero: {}, buckets: { mirrors: [mirror] } }));
    expect(rules).toHaveLength(3);
    for (const l of rules) {
      expect(l.expireDays, l.prefix).toBeUndefined();
      expect(l.archive, l.prefix).toBeUndefined();
      expect(l.noncurrentDays, l.prefix).toBe(NONCURRENT_GRACE_DAYS);
    }
  });

  it("every rule stays inside one class's prefix", () => {
    const all = prefixLifecycles(
      stackOf({ longhorn: {}, postgres: { databases: [db] }, etcd: {}, velero: {}, buckets: { mirrors: [mirror] } }),
    );
    for (const l of all)
      expect(
        Object.values(PREFIXES).some((p) => l.prefix.startsWith(p)),
        l.prefix,
      ).toBe(true);
  });

  it("moves a class only when it stays in the colder class at least its minimum duration (components/hub/archive.ts)", () => {
    const parse = (archive: object, retentionDays: number, ttl = "720h") =>
      parseStackConfig({
        "homelab-backup:hub": { ...awsHub, archive },
        "homelab-backup:postgres": { retentionDays, databases: [db] },
        "homelab-backup:velero": { schedules: [{ name: "daily", cron: "0 2 * * *", ttl }] },
      });
    const early = byPrefix(prefixLifecycles(parse({ afterDays: 3, storageClass: "GLACIER_IR" }, 120)));
    expect(early.get("postgres-backups/")?.archive).toEqual({ afterDays: 3, storageClass: "GLACIER_IR" });
    expect(early.get("postgres-backups/.partial/")?.archive).toBeUndefined();
    // Velero's 30-day backups would leave GLACIER_IR before its 90-day minimum.
    expect(early.get("velero/")?.archive).toBeUndefined();
    // A year of Velero backups moves; 7-day dumps do not.
    const late = byPrefix(prefixLifecycles(parse({ afterDays: 30, storageClass: "GLACIER_IR" }, 7, "8760h")));
    expect(late.get("velero/")?.archive).toEqual({ afterDays: 30, storageClass: "GLACIER_IR" });
    expect(late.get("postgres-backups/")?.archive).toBeUndefined();
    expect(awsLifecycleRule(late.get("velero/")!).transitions).toEqual([{ days: 30, storageClass: "GLACIER_IR" }]);
    // STANDARD_IA: 30 days old at the earliest, 30 days in the class.
    expect(
      byPrefix(prefixLifecycles(parse({ afterDays: 30, storageClass: "STANDARD_IA" }, 60))).get("postgres-backups/")
        ?.archive,
    ).toEqual({ afterDays: 30, storageClass: "STANDARD_IA" });
  });

  it("ignores archive on a pi hub", () => {
    const pi = parseStackConfig({
      "homelab-backup:hub": { kind: "pi", bucket: "b-1", host: "pi.lan", ssh: { user: "pi" }, dataDir: "/srv/minio" },
      "homelab-backup:hubSshPrivateKey": "k",
      "homelab-backup:postgres": { retentionDays: 400, databases: [db] },
    });
    expect(archiveFor(pi, "postgres-backups/")).toBeUndefined();
  });
});

describe("awsLifecycleRule", () => {
  it("maps an expiring class to a days expiry, noncurrent expiry, multipart abort and transition", () => {
    const rule = awsLifecycleRule({
      prefix: "postgres-backups/",
      expireDays: 30,
      noncurrentDays: 7,
      archive: { afterDays: 3, storageClass: "GLACIER" },
    });
    expect(rule).toMatchObject({
      status: "Enabled",
      filter: { prefix: "postgres-backups/" },
      expiration: { days: 30 },
      noncurrentVersionExpiration: { noncurrentDays: 7 },
      abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
      transitions: [{ days: 3, storageClass: "GLACIER" }],
    });
  });

  it("gives a non-expiring class no days expiry (S3 refuses days beside expiredObjectDeleteMarker)", () => {
    const rule = awsLifecycleRule({ prefix: "longhorn/", noncurrentDays: 7 });
    expect(rule.expiration).toEqual({ expiredObjectDeleteMarker: true });
    expect(rule.transitions).toBeUndefined();
  });

  it("gives distinct ids to a prefix and its staging prefix", () => {
    expect(awsLifecycleRule({ prefix: "etcd-snapshots/", noncurrentDays: 1 }).id).not.toBe(
      awsLifecycleRule({ prefix: "etcd-snapshots/.partial/", noncurrentDays: 1 }).id,
    );
  });
});

describe("objectLockMaximumDays", () => {
  it("is the shortest retention of postgres, etcd and Velero ttl (rounded down to days): a lock must not outlive it", () => {
    const stack = stackOf({
      postgres: { retentionDays: 14, databases: [db] },
      etcd: { retentionDays: 10 },
      velero: {
        schedules: [
          { name: "daily", cron: "0 2 * * *", ttl: "200h" },
          { name: "monthly", cron: "0 4 1 * *", ttl: "8761h" },
        ],
      },
    });
    expect(objectLockMaximumDays(stack)).toBe(8);
    expect(
      objectLockMaximumDays(stackOf({ postgres: { retentionDays: 14, databases: [db] }, etcd: { retentionDays: 21 } })),
    ).toBe(14);
  });

  it("leaves Longhorn out and is undefined when nothing has a retention in days", () => {
    expect(objectLockMaximumDays(stackOf({ longhorn: {} }))).toBeUndefined();
    expect(objectLockMaximumDays(stackOf({}))).toBeUndefined();
  });
});
