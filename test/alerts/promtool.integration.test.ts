/**
 * The alert rules, checked by the real promtool (2.42, the Debian package): `promtool check rules` on
 * the generated groups (and the dashboard's queries as recording rules), then `promtool test rules`
 * with synthetic series in which EVERY alert fires at least once and stays silent at least once
 * (healthy series, the moment just before its threshold, a brand-new job that never ran yet).
 *
 * The scenarios are written from the contract, not from the rules: which CronJob each class runs
 * (components/core/names.ts), and the thresholds worked out by hand below (longest gap of the cron + 10 min
 * starting deadline + the job's active deadline: 1 h for dumps and etcd, 4 h for the restore drill,
 * 6 h for a mirror, 23 h for the off-site CronJob; + 2 h for Longhorn, + 4 h for Velero with
 * fs-backup and for the hub's off-site timer). Expected annotations are the rule's own templates with
 * `$labels` filled in from the expected labels; a template naming a label the alert does not carry
 * fails the test.
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dashboardQueries } from "../../components/alerts/dashboard.js";
import type { RuleGroup } from "../../components/alerts/ruleHelpers.js";
import { alertNames, alertRuleGroups } from "../../components/alerts/rules.js";
import { parseStackConfig, type StackConfig } from "../../components/config.js";
import { metrics, names } from "../../components/core/names.js";
import { drillAlertScenario, provenDrillAlerts } from "../support/drillAlertScenarios.js";
import { exampleStack } from "../support/stackFiles.js";
import { stackWatches } from "../../components/model.js";

const run = promisify(execFile);

const H = 3600;
const D = 86_400;
const CRONJOB = H + 600; // active deadline + starting deadline
/** promtool evaluation interval, seconds; every threshold below is a multiple of it. */
const EVAL_STEP = 600;

const DB = (name: string, namespace: string, extra: object = {}) => ({
  name,
  namespace,
  host: `${name}-postgresql`,
  passwordSecret: { name: `${name}-pg`, key: "password" },
  ...extra,
});

/** Every class: pi hub (MinIO, quota), Longhorn, three databases with a drill, etcd, Velero d/w/m, a mirror, off-site on the hub. */
const FULL_RAW = {
  "homelab-backup:hub": JSON.stringify({
    kind: "pi",
    bucket: "homelab-backups",
    region: "fr-home-1",
    host: "hub.lan",
    ssh: { user: "pi" },
    dataDir: "/mnt/backup-hdd/minio",
  }),
  "homelab-backup:hubSshPrivateKey": "key",
  "homelab-backup:offsiteFtpPassword": "pw",
  "homelab-backup:longhorn": JSON.stringify({
    recurringJobs: [
      { name: "nightly-backup", cron: "0 5 * * *", task: "backup", retain: 14, groups: ["default"] },
      { name: "hourly-snapshot", cron: "15 * * * *", task: "snapshot", retain: 24 },
    ],
  }),
  "homelab-backup:postgres": JSON.stringify({
    databases: [
      DB("wiki", "wiki"),
      DB("immich", "immich"),
      DB("shared", "databases", { schedule: "30 2 * * *", mode: "cluster" }),
    ],
    restoreDrill: { schedule: "0 6 * * *", databases: ["wiki", "immich"] },
  }),
  "homelab-backup:etcd": "{}",
  "homelab-backup:velero": JSON.stringify({
    fsBackup: true,
    schedules: [
      { name: "daily", cron: "0 2 * * *", ttl: "720h" },
      { name: "weekly", cron: "0 3 * * 0", ttl: "8640h" },
      { name: "monthly", cron: "0 4 1 * *", ttl: "8760h" },
    ],
  }),
  "homelab-backup:buckets": JSON.stringify({
    mirrors: [
      {
        name: "photos",
        schedule: "0 4 * * *",
        source: {
          endpoint: "http://rgw.rook-ceph.svc:80",
          bucket: "photos",
          credentialsSecret: { namespace: "media", name: "photos-bucket" },
        },
      },
    ],
  }),
  "homelab-backup:offsite": JSON.stringify({
    schedule: "0 6 * * *",
    ftp: { host: "ftp.example.org", user: "homelab" },
  }),
  "homelab-backup:alerts": JSON.stringify({ bucketQuotaGiB: 500, hubDiskUsagePercent: 85, restoreTestMaxAgeDays: 2 }),
};

/** AWS hub, off-site copy as a CronJob in the cluster, etcd every six hours. */
const CLUSTER_OFFSITE_RAW = {
  "homelab-backup:hub": JSON.stringify({ kind: "aws", bucket: "homelab-backups" }),
  "homelab-backup:offsiteFtpPassword": "pw",
  "homelab-backup:etcd": JSON.stringify({ schedule: "0 */6 * * *" }),
  "homelab-backup:offsite": JSON.stringify({
    schedule: "0 6 * * *",
    ftp: { host: "ftp.example.org", user: "homelab" },
  }),
  "homelab-backup:alerts": "{}",
};

interface CronTarget {
  failed: string;
  stale: string;
  cls: string;
  namespace: string;
  cronjob: string;
  /** Staleness threshold in seconds, worked out by hand. */
  threshold: number;
}

const SEVERITY: Record<string, string> = {
  PostgresBackupFailed: "warning",
  PostgresBackupStale: "critical",
  PostgresRestoreDrillFailed: "critical",
  PostgresRestoreDrillStale: "warning",
  EtcdBackupFailed: "warning",
  EtcdBackupStale: "critical",
  BucketMirrorFailed: "warning",
  BucketMirrorStale: "critical",
  OffsiteBackupFailed: "warning",
  OffsiteBackupStale: "critical",
  LonghornBackupError: "warning",
  LonghornVolumeBackupStale: "critical",
  VeleroBackupFailed: "warning",
  VeleroBackupPartiallyFailed: "warning",
  VeleroBackupStale: "critical",
  VeleroBackupStorageLocationUnavailable: "critical",
  BackupJobOOMKilled: "warning",
  BackupJobDeadlineExceeded: "warning",
  BackupHubDiskUsageHigh: "warning",
  BackupBucketQuotaExceeded: "warning",
  VeleroVolumesExceedHubDisk: "warning",
};

type Labels = Record<string, string>;
interface Series {
  series: string;
  values: string;
}
interface AlertCheck {
  eval_time: string;
  alertname: string;
  exp_alerts: { exp_labels: Labels; exp_annotations: Labels }[];
}
interface UnitTest {
  name: string;
  interval: string;
  input_series: Series[];
  alert_rule_test: AlertCheck[];
}

function series(metric: string, labels: Labels, values: string): Series {
  return {
    series: `${metric}{${Object.entries(labels)
      .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
      .join(", ")}}`,
    values,
  };
}

const min = (seconds: number) => {
  // Checks sit on evaluation steps: with 1-minute samples, a 10-minute evaluation interval keeps
  // promtool about ten times faster (it evaluates every rule of the file at every step).
  if (seconds % EVAL_STEP !== 0) throw new Error(`eval time ${seconds}s is not a multiple of ${EVAL_STEP}s`);
  return `${seconds / 60}m`;
};

/** Builds promtool tests and records, per alert name, whether it has a firing and a silent case. */
class Suite {
  readonly tests: UnitTest[] = [];
  readonly fired = new Set<string>();
  readonly silent = new Set<string>();
  constructor(private readonly groups: RuleGroup[]) {}

  /** The annotations of `alert` for these labels: the rule's templates with `$labels` filled in. */
  annotations(alert: string, labels: Labels): Labels {
    const rules = this.groups.flatMap((g) => g.rules).filter((r) => r.alert === alert);
    if (rules.length === 0) throw new Error(`no rule ${alert}`);
    const seriesLabels = Object.fromEntries(
      Object.entries(labels).filter(([k]) => !["severity", "class", "stale", "backup_namespace"].includes(k)),
    );
    const texts = new Set(rules.map((r) => JSON.stringify(r.annotations)));
    // Rules of one name differ in description only by target-specific text; pick the one whose
    // static labels match the expected labels.
    const rule =
      rules.find((r) => Object.entries(r.labels).every(([k, v]) => v.includes("{{") || labels[k] === v)) ??
      (texts.size === 1 ? rules[0] : undefined);
    if (!rule) throw new Error(`${alert}: no rule has the labels ${JSON.stringify(labels)}`);
    const expand = (t: string) =>
      t.replace(/\{\{\s*\$labels\.(\w+)\s*\}\}/g, (_, name: string) => {
        if (!(name in seriesLabels))
          throw new Error(
            `${alert}: annotation uses $labels.${name}, which the alert does not carry (${JSON.stringify(labels)})`,
          );
        return seriesLabels[name];
      });
    if (
      /\{\{/.test(
        Object.values(rule.annotations)
          .join(" ")
          .replace(/\{\{\s*\$labels\.\w+\s*\}\}/g, ""),
      )
    )
      throw new Error(`${alert}: unexpected template in annotations`);
    return Object.fromEntries(Object.entries(rule.annotations).map(([k, v]) => [k, expand(v)]));
  }

  /** `fire` lists the series labels of each expected alert (severity/class are added here). */
  check(alert: string, at: number, fire: Labels[]): AlertCheck {
    if (fire.length) this.fired.add(alert);
    else this.silent.add(alert);
    const first = this.groups.flatMap((g) => g.rules).find((r) => r.alert === alert)!;
    const cls = first.labels.class;
    // Labels the rule templates (backup_namespace from a label the result keeps), filled in from the series labels.
    const templated = (l: Labels) =>
      Object.fromEntries(
        Object.entries(first.labels)
          .filter(([, v]) => v.includes("{{"))
          .map(([k, v]) => [k, v.replace(/\{\{\s*\$labels\.(\w+)\s*\}\}/g, (_, n: string) => l[n] ?? "")])
          .filter(([, v]) => v !== ""),
      );
    return {
      eval_time: min(at),
      alertname: alert,
      exp_alerts: fire.map((l) => {
        const labels = { ...l, severity: SEVERITY[alert], class: cls, ...templated(l) };
        return { exp_labels: labels, exp_annotations: this.annotations(alert, labels) };
      }),
    };
  }

  /** Rule group of each test, so that promtool evaluates only the group under test. */
  readonly groupOf = new Map<UnitTest, string>();

  add(name: string, input: Series[], checks: AlertCheck[]): void {
    const groups = new Set(
      checks.map((c) => this.groups.find((g) => g.rules.some((r) => r.alert === c.alertname))!.name),
    );
    if (groups.size !== 1) throw new Error(`${name}: checks span rule groups ${[...groups].join(", ")}`);
    const test = { name, interval: "1m", input_series: input, alert_rule_test: checks };
    this.tests.push(test);
    this.groupOf.set(test, [...groups][0]);
  }
}

/** Samples every minute up to `seconds` (and a bit): `<value>x<n>` covers the whole test. */
const hold = (value: number, seconds: number) => `${value}x${Math.ceil(seconds / 60) + 10}`;
/** A timestamp that follows the clock: a success every minute (healthy). */
const fresh = (seconds: number) => `0+60x${Math.ceil(seconds / 60) + 10}`;

function cronJobScenarios(s: Suite, all: CronTarget[]): void {
  const byAlert = new Map<string, CronTarget[]>();
  for (const t of all) byAlert.set(t.stale, [...(byAlert.get(t.stale) ?? []), t]);
  for (const [stale, targets] of byAlert) {
    const [target, ...others] = targets;
    const T = target.threshold;
    const end = T + 2 * H;
    const id = (t: CronTarget) => ({ namespace: t.namespace, cronjob: t.cronjob });
    const created = targets.map((t) => series("kube_cronjob_created", id(t), hold(0, end)));
    // Last success at t=0 for the target, a success every minute for the others.
    s.add(
      `${stale}: last success older than ${T}s`,
      [
        ...created,
        series("kube_cronjob_status_last_successful_time", id(target), hold(0, end)),
        ...others.map((o) => series("kube_cronjob_status_last_successful_time", id(o), fresh(end))),
      ],
      [s.check(stale, T, []), s.check(stale, T + EVAL_STEP, [id(target)])],
    );
    // Never succeeded: fires once the CronJob is older than the threshold, not before.
    s.add(
      `${stale}: never succeeded`,
      [series("kube_cronjob_created", id(target), hold(0, end))],
      [s.check(stale, T, []), s.check(stale, T + EVAL_STEP, [id(target)])],
    );
    s.add(
      `${stale}: brand-new CronJob`,
      [series("kube_cronjob_created", id(target), hold(H, end + H))],
      [s.check(stale, T + EVAL_STEP, []), s.check(stale, H + T + EVAL_STEP, [id(target)])],
    );

    const failed = target.failed;
    const job = `${target.cronjob}-29384100`;
    const jobLabels = { namespace: target.namespace, job_name: job };
    const failedJob = (startSeconds: number) => [
      series(
        "kube_job_owner",
        { ...jobLabels, owner_kind: "CronJob", owner_name: target.cronjob, owner_is_controller: "true" },
        "_x59 1x200",
      ),
      series("kube_job_failed", { ...jobLabels, condition: "true" }, "_x59 1x200"),
      series("kube_job_status_start_time", jobLabels, `_x59 ${startSeconds}x200`),
    ];
    // Someone else's CronJob in the same namespace fails too: never ours to report.
    const foreign = [
      series(
        "kube_job_owner",
        {
          namespace: target.namespace,
          job_name: "other-1",
          owner_kind: "CronJob",
          owner_name: "other",
          owner_is_controller: "true",
        },
        "1x200",
      ),
      series("kube_job_failed", { namespace: target.namespace, job_name: "other-1", condition: "true" }, "1x200"),
      series("kube_job_status_start_time", { namespace: target.namespace, job_name: "other-1" }, "60x200"),
    ];
    s.add(
      `${failed}: a run fails after the last success`,
      [...failedJob(3600), ...foreign, series("kube_cronjob_status_last_successful_time", id(target), "0x200")],
      [s.check(failed, 30 * 60, []), s.check(failed, 70 * 60, [{ ...id(target), job_name: job }])],
    );
    s.add(
      `${failed}: a later run succeeds`,
      [
        ...failedJob(3600),
        ...foreign,
        series("kube_cronjob_status_last_successful_time", id(target), "0x119 7200x100"),
      ],
      [s.check(failed, 100 * 60, [{ ...id(target), job_name: job }]), s.check(failed, 130 * 60, [])],
    );
    s.add(
      `${failed}: first run fails`,
      [...failedJob(3600)],
      [s.check(failed, 70 * 60, [{ ...id(target), job_name: job }])],
    );
    void others;
  }
}

function fullScenarios(s: Suite): void {
  // Longhorn: Error backups, and per-volume age with "0 = never backed up".
  const LH = D + 2 * H;
  s.add(
    "LonghornBackupError",
    [
      series(
        "longhorn_backup_state",
        { volume: "pvc-a", backup: "backup-1", recurring_job: "nightly-backup", node: "n1" },
        "2x4 4x60",
      ),
      series(
        "longhorn_backup_state",
        { volume: "pvc-b", backup: "backup-2", recurring_job: "nightly-backup", node: "n2" },
        "3x60",
      ),
    ],
    [
      s.check("LonghornBackupError", 0, []),
      s.check("LonghornBackupError", 10 * 60, [
        { volume: "pvc-a", backup: "backup-1", recurring_job: "nightly-backup" },
      ]),
    ],
  );
  const vol = (v: string) => ({ volume: v, pvc: `data-${v}`, pvc_namespace: "apps" });
  s.add(
    "LonghornVolumeBackupStale: old backup",
    [
      series("longhorn_volume_last_backup_at", { ...vol("pvc-a"), node: "n1" }, hold(1, LH + H)),
      series("longhorn_volume_last_backup_at", { ...vol("pvc-b"), node: "n2" }, fresh(LH + H)),
    ],
    [
      s.check("LonghornVolumeBackupStale", LH, []),
      s.check("LonghornVolumeBackupStale", LH + EVAL_STEP, [vol("pvc-a")]),
    ],
  );
  s.add(
    "LonghornVolumeBackupStale: never backed up",
    [
      series("longhorn_volume_last_backup_at", { ...vol("pvc-a"), node: "n1" }, hold(0, LH + H)),
      series("longhorn_volume_last_backup_at", { ...vol("pvc-new"), node: "n1" }, `0x599 36000x${Math.ceil(LH / 60)}`),
    ],
    [
      s.check("LonghornVolumeBackupStale", LH - EVAL_STEP, []),
      s.check("LonghornVolumeBackupStale", LH, [{ ...vol("pvc-a"), stale: "never_succeeded" }]),
    ],
  );

  // Velero: thresholds 1d+4h (daily), 7d+4h (weekly), 31d+4h (monthly), fs-backup on.
  const VD = D + 4 * H;
  const sched = (name: string) => ({ schedule: name });
  s.add(
    "VeleroBackupStale: daily too old, weekly and monthly within their intervals",
    ["daily", "weekly", "monthly"].map((n) =>
      series("velero_backup_last_successful_timestamp", sched(n), hold(0, VD + H)),
    ),
    [s.check("VeleroBackupStale", VD, []), s.check("VeleroBackupStale", VD + EVAL_STEP, [sched("daily")])],
  );
  s.add(
    "VeleroBackupStale: never succeeded (series absent), healthy ad-hoc backups ignored",
    [
      series("velero_backup_attempt_total", sched("daily"), hold(3, VD + H)),
      series("velero_backup_last_successful_timestamp", sched(""), fresh(VD + H)),
    ],
    [
      s.check("VeleroBackupStale", VD - EVAL_STEP, []),
      s.check("VeleroBackupStale", VD, [{ ...sched("daily"), stale: "never_succeeded" }]),
    ],
  );
  s.add(
    "VeleroBackupFailed / PartiallyFailed",
    [
      series("velero_backup_failure_total", sched("daily"), "0x59 1x1600"),
      series("velero_backup_validation_failure_total", sched("weekly"), "0x59 1x1600"),
      series("velero_backup_failure_total", sched("monthly"), "0x1660"),
      series("velero_backup_partial_failure_total", sched("daily"), "0x89 1x1600"),
      series("velero_backup_partial_failure_total", sched("weekly"), "0x1660"),
    ],
    [
      s.check("VeleroBackupFailed", 30 * 60, []),
      s.check("VeleroBackupFailed", 70 * 60, [sched("daily"), sched("weekly")]),
      s.check("VeleroBackupFailed", (60 + 24 * 60 + 10) * 60, []),
      s.check("VeleroBackupPartiallyFailed", 60 * 60, []),
      s.check("VeleroBackupPartiallyFailed", 100 * 60, [sched("daily")]),
    ],
  );
  s.add(
    "VeleroBackupStorageLocationUnavailable",
    [
      series("velero_backup_location_status_gauge", { backup_location_name: "default" }, "1x9 0x60"),
      series("velero_backup_location_status_gauge", { backup_location_name: "secondary" }, "1x70"),
    ],
    [
      s.check("VeleroBackupStorageLocationUnavailable", 20 * 60, []),
      s.check("VeleroBackupStorageLocationUnavailable", 30 * 60, [{ backup_location_name: "default" }]),
    ],
  );

  // Off-site copy on the hub (node-exporter textfile): 1d + 4h.
  const OT = D + 4 * H;
  const hub = { instance: "hub.lan:9100" };
  s.add(
    "OffsiteBackupFailed",
    [series(metrics.offsiteLastRunSuccess, { ...hub, job: "hub-node" }, "1x59 0x30 1x30")],
    [
      s.check("OffsiteBackupFailed", 30 * 60, []),
      s.check("OffsiteBackupFailed", 70 * 60, [hub]),
      s.check("OffsiteBackupFailed", 100 * 60, []),
    ],
  );
  s.add(
    "OffsiteBackupStale: old success",
    [series(metrics.offsiteLastSuccess, { ...hub, job: "hub-node" }, hold(1, OT + H))],
    [s.check("OffsiteBackupStale", OT, []), s.check("OffsiteBackupStale", OT + EVAL_STEP, [hub])],
  );
  s.add(
    "OffsiteBackupStale: no textfile metric at all",
    [],
    [
      s.check("OffsiteBackupStale", OT - EVAL_STEP, []),
      s.check("OffsiteBackupStale", OT, [{ stale: "never_succeeded" }]),
    ],
  );
  s.add(
    "OffsiteBackupStale: never succeeded (0)",
    [series(metrics.offsiteLastSuccess, { ...hub, job: "hub-node" }, hold(0, OT + H))],
    [
      s.check("OffsiteBackupStale", OT - EVAL_STEP, []),
      s.check("OffsiteBackupStale", OT, [{ ...hub, stale: "never_succeeded" }]),
    ],
  );

  // Containers killed for memory and Jobs killed at their deadline, ours only.
  const pod = (ns: string, name: string, job: string, container: string, reason: string) => [
    series(
      "kube_pod_container_status_terminated_reason",
      { namespace: ns, pod: name, container, reason, uid: `u-${name}` },
      "1x30",
    ),
    series(
      "kube_pod_owner",
      { namespace: ns, pod: name, owner_kind: "Job", owner_name: job, owner_is_controller: "true", uid: `u-${name}` },
      "1x30",
    ),
  ];
  const owner = (ns: string, job: string, cj: string) =>
    series(
      "kube_job_owner",
      { namespace: ns, job_name: job, owner_kind: "CronJob", owner_name: cj, owner_is_controller: "true" },
      "1x30",
    );
  s.add(
    "BackupJobOOMKilled",
    [
      ...pod("wiki", "pg-dump-wiki-1-x", "pg-dump-wiki-1", "dump", "OOMKilled"),
      owner("wiki", "pg-dump-wiki-1", names.postgresDumpCronJob("wiki")),
      ...pod(
        "velero",
        "repo-maintain-job-1-y",
        "repo-maintain-job-1",
        "velero-repo-maintenance-container",
        "OOMKilled",
      ),
      ...pod("apps", "migrate-1-z", "migrate-1", "migrate", "OOMKilled"),
      owner("apps", "migrate-1", "migrate"),
    ],
    [
      s.check("BackupJobOOMKilled", 10 * 60, [
        { namespace: "wiki", cronjob: "pg-dump-wiki", job_name: "pg-dump-wiki-1", container: "dump" },
        { namespace: "velero", job_name: "repo-maintain-job-1", container: "velero-repo-maintenance-container" },
      ]),
    ],
  );
  s.add(
    "BackupJobOOMKilled: completed pods",
    [
      ...pod("wiki", "pg-dump-wiki-2-x", "pg-dump-wiki-2", "dump", "Completed"),
      owner("wiki", "pg-dump-wiki-2", names.postgresDumpCronJob("wiki")),
    ],
    [s.check("BackupJobOOMKilled", 10 * 60, [])],
  );
  s.add(
    "BackupJobDeadlineExceeded",
    [
      owner("kube-system", "etcd-offload-1", names.etcdCronJob),
      series(
        "kube_job_status_failed",
        { namespace: "kube-system", job_name: "etcd-offload-1", reason: "DeadlineExceeded" },
        "1x30",
      ),
      series(
        "kube_job_status_failed",
        { namespace: "kube-system", job_name: "etcd-offload-1", reason: "BackoffLimitExceeded" },
        "0x30",
      ),
      owner("media", "bucket-mirror-photos-1", names.mirrorCronJob("photos")),
      series(
        "kube_job_status_failed",
        { namespace: "media", job_name: "bucket-mirror-photos-1", reason: "DeadlineExceeded" },
        "0x30",
      ),
      series(
        "kube_job_status_failed",
        { namespace: "media", job_name: "bucket-mirror-photos-1", reason: "BackoffLimitExceeded" },
        "1x30",
      ),
    ],
    [
      s.check("BackupJobDeadlineExceeded", 10 * 60, [
        { namespace: "kube-system", cronjob: "etcd-offload", job_name: "etcd-offload-1" },
      ]),
    ],
  );
  s.add(
    "BackupJobDeadlineExceeded: none",
    [
      owner("kube-system", "etcd-offload-2", names.etcdCronJob),
      series("kube_job_status_failed", { namespace: "kube-system", job_name: "etcd-offload-2" }, "0x30"),
    ],
    [s.check("BackupJobDeadlineExceeded", 10 * 60, [])],
  );

  // The hub: data disk above 85 % (not the SD card), bucket above 500 GiB.
  const fs = (mountpoint: string, device: string, avail: number, size: number, samples = 40) => [
    series(
      "node_filesystem_avail_bytes",
      { instance: "hub.lan:9100", job: "hub-node", mountpoint, device, fstype: "ext4" },
      `${avail}x${samples}`,
    ),
    series(
      "node_filesystem_size_bytes",
      { instance: "hub.lan:9100", job: "hub-node", mountpoint, device, fstype: "ext4" },
      `${size}x${samples}`,
    ),
  ];
  s.add(
    "BackupHubDiskUsageHigh",
    [
      ...fs("/mnt/backup-hdd", "/dev/sda1", 10e9, 100e9),
      ...fs("/", "/dev/mmcblk0p2", 1e9, 30e9),
      ...fs("/mnt/backup-hdd-old", "/dev/sdb1", 1e9, 100e9),
    ],
    [
      s.check("BackupHubDiskUsageHigh", 10 * 60, []),
      s.check("BackupHubDiskUsageHigh", 20 * 60, [{ instance: "hub.lan:9100", mountpoint: "/mnt/backup-hdd" }]),
    ],
  );
  s.add(
    "BackupHubDiskUsageHigh: 80 % used",
    [...fs("/mnt/backup-hdd", "/dev/sda1", 20e9, 100e9)],
    [s.check("BackupHubDiskUsageHigh", 20 * 60, [])],
  );
  // Velero's default pod-volume copy (fsBackup opt-out: every namespace but the excluded ones)
  // against 85 % of the hub's 100 GB data disk, held for 1 h; kube-system's volume is excluded.
  const used = (namespace: string, pvc: string, values: string) =>
    series("kubelet_volume_stats_used_bytes", { namespace, persistentvolumeclaim: pvc, node: "n1" }, values);
  const hubDisk = fs("/mnt/backup-hdd", "/dev/sda1", 50e9, 100e9, 150);
  s.add(
    "VeleroVolumesExceedHubDisk",
    [
      ...hubDisk,
      used("media", "photos", "60e9x150"),
      used("wiki", "data", "20e9x29 30e9x120"),
      used("kube-system", "big", "500e9x150"),
    ],
    [s.check("VeleroVolumesExceedHubDisk", 60 * 60, []), s.check("VeleroVolumesExceedHubDisk", 100 * 60, [{}])],
  );
  s.add(
    "VeleroVolumesExceedHubDisk: 84 GB of 100 GB",
    [
      ...hubDisk,
      used("media", "photos", "64e9x150"),
      used("wiki", "data", "20e9x150"),
      used("kube-system", "big", "500e9x150"),
    ],
    [s.check("VeleroVolumesExceedHubDisk", 100 * 60, [])],
  );
  const GiB = 1024 ** 3;
  s.add(
    "BackupBucketQuotaExceeded",
    [
      series(
        "minio_bucket_usage_total_bytes",
        { bucket: "homelab-backups", server: "127.0.0.1:9000" },
        `${499 * GiB}x9 ${501 * GiB}x40`,
      ),
      series("minio_bucket_usage_total_bytes", { bucket: "other", server: "127.0.0.1:9000" }, `${900 * GiB}x50`),
    ],
    [
      s.check("BackupBucketQuotaExceeded", 20 * 60, []),
      s.check("BackupBucketQuotaExceeded", 30 * 60, [{ bucket: "homelab-backups" }]),
    ],
  );
}

const FULL_CRONJOBS: CronTarget[] = [
  ...[
    ["wiki", "wiki"],
    ["immich", "immich"],
    ["shared", "databases"],
  ].map(([db, ns]) => ({
    failed: "PostgresBackupFailed",
    stale: "PostgresBackupStale",
    cls: "postgres",
    namespace: ns,
    cronjob: names.postgresDumpCronJob(db),
    threshold: D + CRONJOB,
  })),
  // restoreTestMaxAgeDays 2 is longer than the daily drill's own 1d + 4h10m (4 h deadline), so it wins.
  ...["wiki", "immich"].map((db) => ({
    failed: "PostgresRestoreDrillFailed",
    stale: "PostgresRestoreDrillStale",
    cls: "postgres",
    namespace: db,
    cronjob: names.postgresRestoreDrillCronJob(db),
    threshold: 2 * D,
  })),
  {
    failed: "EtcdBackupFailed",
    stale: "EtcdBackupStale",
    cls: "etcd",
    namespace: "kube-system",
    cronjob: names.etcdCronJob,
    threshold: D + CRONJOB,
  },
  {
    failed: "BucketMirrorFailed",
    stale: "BucketMirrorStale",
    cls: "buckets",
    namespace: "media",
    cronjob: names.mirrorCronJob("photos"),
    threshold: D + 6 * H + 600,
  },
];

const VARIANT_CRONJOBS: CronTarget[] = [
  {
    failed: "EtcdBackupFailed",
    stale: "EtcdBackupStale",
    cls: "etcd",
    namespace: "kube-system",
    cronjob: names.etcdCronJob,
    threshold: 6 * H + CRONJOB,
  },
  {
    failed: "OffsiteBackupFailed",
    stale: "OffsiteBackupStale",
    cls: "offsite",
    namespace: "backup-system",
    cronjob: names.offsiteCronJob,
    threshold: D + 23 * H + 600,
  },
];

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "promtool-"));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function promtool(...args: string[]): Promise<{ code: number; out: string }> {
  try {
    const r = await run("promtool", args, { cwd: dir, maxBuffer: 64 * 1024 * 1024 });
    return { code: 0, out: r.stdout + r.stderr };
  } catch (e: any) {
    if (e.code === "ENOENT") throw new Error("promtool is not installed (Debian package prometheus); CI installs it");
    return { code: typeof e.code === "number" ? e.code : 1, out: `${e.stdout ?? ""}${e.stderr ?? ""}` };
  }
}

async function checkAndTest(label: string, stack: StackConfig, scenarios: (s: Suite) => void) {
  const groups = alertRuleGroups(stack, stackWatches(stack));
  const rulesFile = `${label}-rules.json`;
  await writeFile(path.join(dir, rulesFile), JSON.stringify({ groups }, null, 1));
  const check = await promtool("check", "rules", rulesFile);
  expect(check.out).toContain("SUCCESS");
  expect(check.code, check.out).toBe(0);

  const s = new Suite(groups);
  scenarios(s);
  // One rules file and one test file per rule group (each group alone is what promtool evaluates
  // at every step), run in parallel.
  const runs = groups
    .filter((g) => s.tests.some((t) => s.groupOf.get(t) === g.name))
    .map(async (g) => {
      const base = `${label}-${g.name}`;
      await writeFile(path.join(dir, `${base}.rules.json`), JSON.stringify({ groups: [g] }, null, 1));
      const tests = s.tests.filter((t) => s.groupOf.get(t) === g.name);
      await writeFile(
        path.join(dir, `${base}.tests.json`),
        JSON.stringify(
          { rule_files: [`${base}.rules.json`], evaluation_interval: `${EVAL_STEP / 60}m`, tests },
          null,
          1,
        ),
      );
      return { group: g.name, ...(await promtool("test", "rules", `${base}.tests.json`)) };
    });
  for (const r of await Promise.all(runs)) {
    expect(r.code, `${r.group}:\n${r.out}`).toBe(0);
    expect(r.out).toContain("SUCCESS");
  }
  return { s, groups, rulesFile };
}

describe("alert rules under promtool", { timeout: 300_000 }, () => {
  it("full stack (pi hub, every class, off-site on the hub): every alert fires and stays silent as specified", async () => {
    const stack = parseStackConfig(FULL_RAW);
    const { s } = await checkAndTest("full", stack, (suite) => {
      cronJobScenarios(suite, FULL_CRONJOBS);
      fullScenarios(suite);
    });
    const all = alertNames(stack, stackWatches(stack));
    expect(all.length).toBe(21);
    expect(
      all.filter((a) => !s.fired.has(a)),
      "alerts without a firing case",
    ).toEqual([]);
    expect(
      all.filter((a) => !s.silent.has(a)),
      "alerts without a silent case",
    ).toEqual([]);
  });

  it("example stack (Pulumi.homelab.yaml): its rules pass promtool check rules, and each of its alerts is one the full-stack suite fires and silences", async () => {
    const example = parseStackConfig(exampleStack().config);
    const dir = await mkdtemp(path.join(tmpdir(), "promtool-example-"));
    try {
      const file = path.join(dir, "example-rules.json");
      await writeFile(file, JSON.stringify({ groups: alertRuleGroups(example, stackWatches(example)) }));
      const { stdout } = await promisify(execFile)("promtool", ["check", "rules", file]);
      expect(stdout).toContain("SUCCESS");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    const proven = new Set(alertNames(parseStackConfig(FULL_RAW), stackWatches(parseStackConfig(FULL_RAW))));
    // The restore drills' alerts are fired and silenced by their own promtool suite (test/drills/alerts.integration.test.ts).
    for (const name of provenDrillAlerts(drillAlertScenario().cases)) proven.add(name);
    const exampleAlerts = alertNames(example, stackWatches(example));
    expect(exampleAlerts.length).toBeGreaterThanOrEqual(15);
    expect(exampleAlerts.filter((a) => !proven.has(a))).toEqual([]);
  });

  it("AWS hub with the off-site copy as a CronJob: the same contract for the cluster variant", async () => {
    const stack = parseStackConfig(CLUSTER_OFFSITE_RAW);
    const { s } = await checkAndTest("variant", stack, (suite) => {
      cronJobScenarios(suite, VARIANT_CRONJOBS);
      suite.add(
        "BackupJobDeadlineExceeded (variant)",
        [
          series(
            "kube_job_owner",
            {
              namespace: "backup-system",
              job_name: "offsite-sync-1",
              owner_kind: "CronJob",
              owner_name: names.offsiteCronJob,
            },
            "1x10",
          ),
          series(
            "kube_job_status_failed",
            { namespace: "backup-system", job_name: "offsite-sync-1", reason: "DeadlineExceeded" },
            "1x10",
          ),
        ],
        [
          suite.check("BackupJobDeadlineExceeded", 10 * 60, [
            { namespace: "backup-system", cronjob: "offsite-sync", job_name: "offsite-sync-1" },
          ]),
        ],
      );
      suite.add(
        "BackupJobOOMKilled (variant)",
        [
          series(
            "kube_pod_container_status_terminated_reason",
            { namespace: "backup-system", pod: "offsite-sync-1-a", container: "sync", reason: "OOMKilled" },
            "1x10",
          ),
          series(
            "kube_pod_owner",
            { namespace: "backup-system", pod: "offsite-sync-1-a", owner_kind: "Job", owner_name: "offsite-sync-1" },
            "1x10",
          ),
          series(
            "kube_job_owner",
            {
              namespace: "backup-system",
              job_name: "offsite-sync-1",
              owner_kind: "CronJob",
              owner_name: names.offsiteCronJob,
            },
            "1x10",
          ),
        ],
        [
          suite.check("BackupJobOOMKilled", 10 * 60, [
            { namespace: "backup-system", cronjob: "offsite-sync", job_name: "offsite-sync-1", container: "sync" },
          ]),
          suite.check("BackupJobDeadlineExceeded", 10 * 60, []),
        ],
      );
      // Without Velero in the stack, an OOM in the velero namespace is not a backup job's.
      suite.add(
        "BackupJobOOMKilled (variant, foreign pods)",
        [
          series(
            "kube_pod_container_status_terminated_reason",
            { namespace: "velero", pod: "repo-maintain-job-1-a", container: "velero", reason: "OOMKilled" },
            "1x10",
          ),
          series(
            "kube_pod_owner",
            { namespace: "velero", pod: "repo-maintain-job-1-a", owner_kind: "Job", owner_name: "repo-maintain-job-1" },
            "1x10",
          ),
        ],
        [suite.check("BackupJobOOMKilled", 10 * 60, [])],
      );
    });
    const all = alertNames(stack, stackWatches(stack));
    expect(all.sort()).toEqual([
      "BackupJobDeadlineExceeded",
      "BackupJobOOMKilled",
      "EtcdBackupFailed",
      "EtcdBackupStale",
      "OffsiteBackupFailed",
      "OffsiteBackupStale",
    ]);
    expect(all.filter((a) => !s.fired.has(a) || !s.silent.has(a))).toEqual([]);
  });

  it("fails when a staleness alert is expected a little before its threshold (the harness can fail)", async () => {
    const stack = parseStackConfig(FULL_RAW);
    const groups = alertRuleGroups(stack, stackWatches(stack));
    await writeFile(
      path.join(dir, "wrong-rules.json"),
      JSON.stringify({ groups: groups.filter((g) => g.name === "homelab-backup.etcd") }),
    );
    const s = new Suite(groups);
    const T = D + CRONJOB;
    const id = { namespace: "kube-system", cronjob: "etcd-offload" };
    s.add(
      "etcd stale 10 minutes early",
      [
        series("kube_cronjob_created", id, hold(0, T)),
        series("kube_cronjob_status_last_successful_time", id, hold(0, T)),
      ],
      [s.check("EtcdBackupStale", T - EVAL_STEP, [id])],
    );
    await writeFile(
      path.join(dir, "wrong-tests.json"),
      JSON.stringify({ rule_files: ["wrong-rules.json"], evaluation_interval: `${EVAL_STEP / 60}m`, tests: s.tests }),
    );
    const r = await promtool("test", "rules", "wrong-tests.json");
    expect(r.code).not.toBe(0);
    expect(r.out).toContain("EtcdBackupStale");
  });

  it("the dashboard's queries parse (as recording rules under promtool check rules)", async () => {
    for (const raw of [FULL_RAW, CLUSTER_OFFSITE_RAW]) {
      const panels = dashboardQueries(parseStackConfig(raw));
      expect(panels.length).toBeGreaterThan(0);
      const rules = panels.flatMap((p, i) =>
        p.targets.map((t, k) => ({ record: `homelab_backup_dashboard:panel${i}_${k}`, expr: t.expr })),
      );
      await writeFile(path.join(dir, "dashboard.json"), JSON.stringify({ groups: [{ name: "dashboard", rules }] }));
      const r = await promtool("check", "rules", "dashboard.json");
      expect(r.code, r.out).toBe(0);
    }
  });
});
