/**
 * components/alerts/rules.ts without promtool: which alerts a stack gets, their thresholds (worked out by hand
 * from each schedule), labels and annotations, the plan section and the dashboard model.
 */
import { describe, expect, it } from "vitest";
import { alertsDashboard } from "../../components/alerts/dashboard.js";
import { alertsPlan } from "../../components/alerts/plan.js";
import { runbookAnchor, type AlertRule } from "../../components/alerts/ruleHelpers.js";
import { alertInfos, alertNames, alertRuleGroups } from "../../components/alerts/rules.js";
import { dataDirMountpoints } from "../../components/hub/alerts.js";
import { parseStackConfig } from "../../components/config.js";
import { metrics, names } from "../../components/core/names.js";
import { stackWatches } from "../../components/model.js";

const H = 3600;
const D = 86_400;

const pgDb = (name: string, namespace: string, extra: object = {}) => ({
  name,
  namespace,
  host: `${name}-pg`,
  passwordSecret: { name: "pg", key: "password" },
  ...extra,
});

function fullStack(overrides: Record<string, unknown> = {}) {
  return parseStackConfig({
    hub: {
      kind: "pi",
      bucket: "homelab-backups",
      host: "hub.lan",
      ssh: { user: "pi" },
      dataDir: "/mnt/backup-hdd/minio",
    },
    hubSshPrivateKey: "key",
    offsiteFtpPassword: "pw",
    longhorn: {
      recurringJobs: [
        { name: "nightly-backup", cron: "0 5 * * *", task: "backup", retain: 14 },
        { name: "weekly-backup", cron: "0 1 * * 0", task: "backup-force-create", retain: 4 },
        { name: "hourly-snapshot", cron: "15 * * * *", task: "snapshot", retain: 24 },
      ],
    },
    postgres: {
      databases: [pgDb("wiki", "wiki"), pgDb("shared", "databases", { schedule: "0 */6 * * *" })],
      restoreDrill: { schedule: "0 6 * * 0" },
    },
    etcd: { schedule: "0 2 * * *" },
    velero: {
      schedules: [
        { name: "daily", cron: "0 2 * * *", ttl: "720h" },
        { name: "monthly", cron: "0 4 1 * *", ttl: "8760h" },
      ],
    },
    buckets: {
      mirrors: [
        {
          name: "photos",
          schedule: "0 4 * * 1-5",
          source: { endpoint: "http://rgw:80", bucket: "photos", credentialsSecret: { namespace: "media", name: "s" } },
        },
      ],
    },
    offsite: { schedule: "0 6 * * *", ftp: { host: "ftp.example.org", user: "u" } },
    alerts: { bucketQuotaGiB: 500 },
    ...overrides,
  });
}

const rules = (stack: ReturnType<typeof fullStack>): AlertRule[] =>
  alertRuleGroups(stack, stackWatches(stack)).flatMap((g) => g.rules);
const ruleFor = (stack: ReturnType<typeof fullStack>, alert: string, label: Record<string, string> = {}) => {
  const found = rules(stack).filter(
    (r) => r.alert === alert && Object.entries(label).every(([k, v]) => r.labels[k] === v),
  );
  expect(found.length, `${alert} ${JSON.stringify(label)}`).toBeGreaterThan(0);
  return found;
};
/** The number compared with `> N` in a staleness expression. */
const thresholdsOf = (expr: string) => [...expr.matchAll(/> (\d+)\)?/g)].map((m) => Number(m[1])).filter((n) => n > 0);

describe("staleness thresholds follow each schedule", () => {
  const stack = fullStack();

  it("CronJobs: longest gap + 10 min starting deadline + the job's active deadline, never a fixed 25 h", () => {
    const wiki = ruleFor(stack, "PostgresBackupStale", { cronjob: names.postgresDumpCronJob("wiki") })[0];
    expect(thresholdsOf(wiki.expr)).toEqual([D + H + 600, D + H + 600]);
    // Every six hours: 6 h + 1 h 10 m, not a day.
    const shared = ruleFor(stack, "PostgresBackupStale", { cronjob: names.postgresDumpCronJob("shared") })[0];
    expect(thresholdsOf(shared.expr)).toEqual([6 * H + H + 600, 6 * H + H + 600]);
    // Weekdays only: Friday to Monday is the longest gap, 3 days.
    const mirror = ruleFor(stack, "BucketMirrorStale")[0];
    expect(thresholdsOf(mirror.expr)[0]).toBe(3 * D + 6 * H + 600); // mirrors may run 6 h
    expect(mirror.expr).toContain(`namespace="media"`);
    expect(mirror.expr).toContain(`cronjob="${names.mirrorCronJob("photos")}"`);
    for (const r of rules(stack).filter((r) => r.expr.includes("kube_cronjob_status_last_successful_time")))
      expect(r.expr, r.alert).not.toMatch(/\b90000\b/);
  });

  it("a CronJob that never succeeded is judged by its creation time", () => {
    const etcd = ruleFor(stack, "EtcdBackupStale")[0];
    expect(etcd.expr).toContain(`kube_cronjob_created{namespace="kube-system", cronjob="${names.etcdCronJob}"}`);
    expect(etcd.expr).toMatch(/unless on \(namespace, cronjob\) kube_cronjob_status_last_successful_time/);
  });

  it("restore drill: restoreTestMaxAgeDays, unless the drill's own cadence is longer", () => {
    expect(thresholdsOf(ruleFor(stack, "PostgresRestoreDrillStale")[0].expr)[0]).toBe(30 * D);
    const rare = fullStack({
      postgres: { databases: [pgDb("wiki", "wiki")], restoreDrill: { schedule: "0 6 1 */3 *" } },
      alerts: { restoreTestMaxAgeDays: 30 },
    });
    const t = thresholdsOf(ruleFor(rare, "PostgresRestoreDrillStale")[0].expr)[0];
    expect(t).toBeGreaterThan(90 * D); // quarterly: the longest quarter is 92 days
    expect(t).toBe(92 * D + 4 * H + 600); // the drill may run 4 h
    // One drill CronJob per drilled database, in that database's namespace.
    expect(
      ruleFor(stack, "PostgresRestoreDrillFailed", {
        namespace: "databases",
        cronjob: names.postgresRestoreDrillCronJob("shared"),
      }),
    ).toHaveLength(1);
  });

  it("Longhorn: longest gap of the backup jobs (not the snapshot jobs) + 2 h", () => {
    const [age, never] = ruleFor(stack, "LonghornVolumeBackupStale");
    expect(thresholdsOf(age.expr)[0]).toBe(7 * D + 2 * H);
    expect(never.expr).toContain("longhorn_volume_last_backup_at) == 0");
    expect(never.for).toBe("7d2h");
    const snapshotsOnly = fullStack({
      longhorn: { recurringJobs: [{ name: "snap", cron: "0 * * * *", task: "snapshot", retain: 3 }] },
    });
    expect(alertNames(snapshotsOnly, stackWatches(snapshotsOnly))).not.toContain("LonghornVolumeBackupStale");
    expect(alertNames(snapshotsOnly, stackWatches(snapshotsOnly))).toContain("LonghornBackupError");
  });

  it("Velero: per schedule, gap + 1 h (objects only) or + 4 h (fs-backup), never-succeeded via absent()", () => {
    const daily = ruleFor(stack, "VeleroBackupStale", { schedule: "daily" });
    expect(thresholdsOf(daily[0].expr)[0]).toBe(D + H);
    expect(daily[1].expr).toBe('absent(velero_backup_last_successful_timestamp{schedule="daily"})');
    expect(daily[1].for).toBe("1d1h");
    expect(thresholdsOf(ruleFor(stack, "VeleroBackupStale", { schedule: "monthly" })[0].expr)[0]).toBe(31 * D + H);
    const fs = fullStack({
      velero: { fsBackup: true, schedules: [{ name: "daily", cron: "0 2 * * *", ttl: "720h" }] },
    });
    expect(thresholdsOf(ruleFor(fs, "VeleroBackupStale", { schedule: "daily" })[0].expr)[0]).toBe(D + 4 * H);
    // Failure counters are looked at over one interval, at most a day.
    expect(ruleFor(stack, "VeleroBackupFailed", { schedule: "monthly" })[0].expr).toContain("[1d]");
    expect(ruleFor(stack, "VeleroBackupPartiallyFailed", { schedule: "daily" })[0].expr).toContain(
      "velero_backup_partial_failure_total",
    );
  });

  it("off-site copy: textfile metrics on the hub, a CronJob in the cluster", () => {
    const hub = ruleFor(stack, "OffsiteBackupStale");
    expect(hub[0].expr).toContain(metrics.offsiteLastSuccess);
    expect(thresholdsOf(hub[0].expr)[0]).toBe(D + 4 * H);
    expect(ruleFor(stack, "OffsiteBackupFailed")[0].expr).toContain(`${metrics.offsiteLastRunSuccess}) == 0`);
    const cluster = fullStack({
      offsite: { runOn: "cluster", schedule: "0 6 * * *", ftp: { host: "ftp.example.org", user: "u" } },
    });
    const stale = ruleFor(cluster, "OffsiteBackupStale");
    expect(stale).toHaveLength(1);
    expect(stale[0].expr).toContain(`cronjob="${names.offsiteCronJob}"`);
    expect(stale[0].expr).toContain(`namespace="backup-system"`);
    expect(thresholdsOf(stale[0].expr)[0]).toBe(D + 23 * 3600 + 600); // the off-site CronJob may run 23 h
    expect(rules(cluster).some((r) => r.expr.includes(metrics.offsiteLastSuccess))).toBe(false);
  });
});

describe("which alerts a stack gets", () => {
  it("every class of the full stack, hub disk and bucket quota included", () => {
    expect(alertNames(fullStack(), stackWatches(fullStack())).sort()).toEqual(
      [
        "BackupBucketQuotaExceeded",
        "BackupHubDiskUsageHigh",
        "BackupJobDeadlineExceeded",
        "BackupJobOOMKilled",
        "BucketMirrorFailed",
        "BucketMirrorStale",
        "EtcdBackupFailed",
        "EtcdBackupStale",
        "LonghornBackupError",
        "LonghornVolumeBackupStale",
        "OffsiteBackupFailed",
        "OffsiteBackupStale",
        "PostgresBackupFailed",
        "PostgresBackupStale",
        "PostgresRestoreDrillFailed",
        "PostgresRestoreDrillStale",
        "VeleroBackupFailed",
        "VeleroBackupPartiallyFailed",
        "VeleroBackupStale",
        "VeleroBackupStorageLocationUnavailable",
      ].sort(),
    );
  });

  it("no hub disk or quota alert on AWS, no quota alert without bucketQuotaGiB or on RustFS", () => {
    const aws = parseStackConfig({
      hub: { kind: "aws", bucket: "homelab-backups" },
      etcd: {},
      alerts: { bucketQuotaGiB: 100 },
    });
    expect(alertNames(aws, stackWatches(aws)).sort()).toEqual([
      "BackupJobDeadlineExceeded",
      "BackupJobOOMKilled",
      "EtcdBackupFailed",
      "EtcdBackupStale",
    ]);
    expect(alertNames(fullStack({ alerts: {} }), stackWatches(fullStack({ alerts: {} })))).not.toContain(
      "BackupBucketQuotaExceeded",
    );
    const rustfs = fullStack({
      hub: {
        kind: "pi",
        server: "rustfs",
        bucket: "homelab-backups",
        host: "hub.lan",
        ssh: { user: "pi" },
        dataDir: "/srv/rustfs",
      },
    });
    expect(alertNames(rustfs, stackWatches(rustfs))).not.toContain("BackupBucketQuotaExceeded");
    expect(alertNames(rustfs, stackWatches(rustfs))).toContain("BackupHubDiskUsageHigh");
  });

  it("hub disk: the ancestors of dataDir (never /), the configured percentage, the quota in bytes", () => {
    expect(dataDirMountpoints("/mnt/backup-hdd/minio")).toEqual(["/mnt/backup-hdd/minio", "/mnt/backup-hdd", "/mnt"]);
    const stack = fullStack({ alerts: { hubDiskUsagePercent: 90, bucketQuotaGiB: 1.5 } });
    const disk = ruleFor(stack, "BackupHubDiskUsageHigh")[0];
    expect(disk.expr).toContain('mountpoint=~"/mnt/backup-hdd/minio|/mnt/backup-hdd|/mnt"');
    expect(disk.expr).toMatch(/> 90$/);
    expect(ruleFor(stack, "BackupBucketQuotaExceeded")[0].expr).toBe(
      `max by (bucket) (minio_bucket_usage_total_bytes{bucket="homelab-backups"}) > ${1.5 * 1024 ** 3}`,
    );
  });

  it("OOM and deadline alerts watch exactly the stack's backup CronJobs", () => {
    const oom = ruleFor(fullStack(), "BackupJobOOMKilled")[0].expr;
    expect(oom).toContain(`namespace="wiki", owner_kind="CronJob", owner_name=~"pg-dump-wiki|pg-restore-drill-wiki"`);
    expect(oom).toContain(
      `namespace="longhorn-system", owner_kind="CronJob", owner_name=~"hourly-snapshot|nightly-backup|weekly-backup"`,
    );
    expect(oom).toContain(`namespace="velero", reason="OOMKilled"`);
  });
});

describe("every rule", () => {
  const stack = fullStack();
  it("has a severity, a summary, a description and a runbook link into the README", () => {
    for (const r of rules(stack)) {
      expect(["critical", "warning"], r.alert).toContain(r.labels.severity);
      expect(r.annotations.summary.length, r.alert).toBeGreaterThan(5);
      expect(r.annotations.description.length, r.alert).toBeGreaterThan(20);
      expect(r.annotations.runbook_url).toBe(
        `https://github.com/homelab-backup/homelab-backup#runbook-${r.alert.toLowerCase()}`,
      );
      expect(runbookAnchor(r.alert)).toMatch(/^runbook-[a-z]+$/);
    }
  });
  it("is unique by name and labels (promtool's duplicate lint)", () => {
    const keys = rules(stack).map((r) => `${r.alert}${JSON.stringify(r.labels)}`);
    expect(new Set(keys).size).toBe(keys.length);
  });
  it("stays out of PromQL promtool 2.42 does not know", () => {
    for (const r of rules(stack))
      expect(r.expr, r.alert).not.toMatch(
        /\b(limitk|limit_ratio|double_exponential_smoothing|info|ts_of_\w+|first_over_time)\(/,
      );
  });
});

describe("plan section and dashboard", () => {
  const stack = fullStack();
  it("lists every alert with its threshold and why", () => {
    const plan = alertsPlan(stack, stackWatches(stack));
    expect(plan.title).toBe("Alerts");
    for (const a of alertNames(stack, stackWatches(stack))) expect(plan.details, a).toContain(`[${a}]`);
    expect(plan.details).toContain("1d1h10m");
    expect(plan.details).toContain("30d");
    const stale = alertInfos(stack, stackWatches(stack)).filter((i) => i.alert.endsWith("Stale"));
    for (const i of stale) expect(i.thresholdSeconds, i.alert).toBeGreaterThan(0);
  });

  it("builds a Grafana dashboard model with unique panel ids and a Prometheus query per target", () => {
    const d = alertsDashboard(stack) as any;
    expect(d.uid).toBe("homelab-backup");
    expect(d.schemaVersion).toBeGreaterThanOrEqual(36);
    const ids = d.panels.map((p: any) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(d.panels.map((p: any) => p.title)).toEqual(
      expect.arrayContaining(["Last successful backup", "Age of last successful backup", "Backup sizes", "Failures"]),
    );
    for (const p of d.panels) {
      expect(["table", "timeseries"]).toContain(p.type);
      expect(p.gridPos).toMatchObject({
        h: expect.any(Number),
        w: expect.any(Number),
        x: expect.any(Number),
        y: expect.any(Number),
      });
      for (const t of p.targets) {
        expect(t.expr.length).toBeGreaterThan(5);
        expect(t.datasource.uid).toBe("${datasource}");
      }
    }
    expect(JSON.parse(JSON.stringify(d))).toEqual(d);
  });
});
