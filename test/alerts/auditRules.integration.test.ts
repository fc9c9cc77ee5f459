/**
 * The audit's alert rules under the real promtool: every rule passes `check rules` and, in
 * `test rules`, fires on series the audit exporter writes and stays silent on healthy ones (and just
 * before its threshold). Thresholds are worked out by hand here from the schedules named in each case.
 */
import { describe, expect, it } from "vitest";
import { AUDIT_METRICS as M, S3_PRICE_PER_GB_MONTH_US_EAST_1 } from "../../components/alerts/auditMetrics.js";
import { auditRules, heartbeatRule, promDuration, type AuditAlertRule } from "../../components/alerts/auditRules.js";
import { expandAnnotations, promtoolTest } from "../support/promtool.js";

const H = 3600;
const D = 86_400;
const GiB = 1024 ** 3;
const runbook = (a: string) => `https://example.test/runbook#${a.toLowerCase()}`;

const PG_WIKI = D + 600 + H; // daily dump: 24 h gap + 10 min starting deadline + 1 h active deadline
const LONGHORN = D + 2 * H; // daily backup job: 24 h gap + 2 h for Longhorn to finish
const VELERO_DAILY = D + H; // `0 2 * * *`: longest gap 24 h + 1 h objects-only allowance

const input = {
  runbook,
  auditIntervalSeconds: H,
  bucket: "homelab-backups",
  items: [
    { cls: "longhorn", what: "Longhorn volumes", thresholdSeconds: LONGHORN, why: "24h gap + 2h", staleness: true },
    {
      cls: "postgres",
      item: "wiki",
      what: "PostgreSQL dump `wiki`",
      thresholdSeconds: PG_WIKI,
      why: "24h + 10m + 1h",
      staleness: true,
    },
    {
      cls: "velero",
      item: "daily",
      what: "Velero schedule `daily`",
      thresholdSeconds: VELERO_DAILY,
      why: "24h + 1h",
      staleness: true,
    },
    {
      cls: "buckets",
      item: "photos",
      what: "mirror `photos`",
      thresholdSeconds: D + 600 + 6 * H,
      why: "24h + 10m + 6h",
      staleness: false,
    },
  ],
  longhorn: { longestGapSeconds: D, allowanceSeconds: 2 * H },
  bucketQuotaGiB: 1,
  monthlyCost: { limitUsd: 1, pricePerGiBMonth: S3_PRICE_PER_GB_MONTH_US_EAST_1, region: "us-east-1" },
  backupSizeGiB: { velero: 1 },
  coverage: true,
};
const { rules, infos } = auditRules(input);
const all: AuditAlertRule[] = [...rules, heartbeatRule(runbook)];

/** The annotations promtool must see for `alert` with these labels (first rule of that name matching them). */
function expected(alert: string, labels: Record<string, string>, value?: string) {
  const rule = all.find(
    (r) => r.alert === alert && Object.entries(r.labels).every(([k, v]) => v.includes("{{") || labels[k] === v),
  )!;
  const ann = expandAnnotations(rule.annotations, labels);
  // Labels the rule templates (backup_namespace), filled in from the series labels.
  for (const [k, v] of Object.entries(rule.labels))
    if (v.includes("{{"))
      labels = { ...labels, [k]: v.replace(/\{\{ \$labels\.(\w+) \}\}/g, (_, n: string) => labels[n] ?? "") };
  // A label given as "" is one the alert lacks: Go templates expand it to "", promtool lists it not.
  labels = Object.fromEntries(Object.entries(labels).filter(([, v]) => v !== ""));
  if (value !== undefined)
    for (const k of Object.keys(ann)) ann[k] = ann[k].replace(/\{\{ \$value \| printf "%\.2f" \}\}/, value);
  return { exp_labels: labels, exp_annotations: ann };
}

const s = (name: string, labels: Record<string, string>, values: string) => ({
  series: `${name}{${Object.entries(labels)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(", ")}}`,
  values,
});
const wiki = { class: "postgres", item: "wiki" };
const pvcA = { class: "longhorn", item: "pvc-a", pvc: "data", pvc_namespace: "wiki" };

const tests = [
  {
    name: "stale: the newest restore point ages past the schedule's threshold (Longhorn 1.10 metrics only, no longhorn_volume_last_backup_at)",
    interval: "10m",
    input_series: [
      s(M.timestamp, wiki, "0x200"),
      s(M.timestamp, pvcA, "0x200"),
      // What Longhorn 1.10 exports: the last backup object is Completed; there is no last-backup time.
      s("longhorn_backup_state", { volume: "pvc-a", backup: "backup-1", recurring_job: "nightly" }, "3x200"),
      s("longhorn_volume_robustness", { volume: "pvc-a", node: "n1" }, "1x200"),
      // A fresh item stays silent throughout.
      s(M.timestamp, { class: "postgres", item: "fresh" }, "0+600x200"),
    ],
    alert_rule_test: [
      { eval_time: `${PG_WIKI / 60}m`, alertname: "BackupRestorePointStale", exp_alerts: [] },
      {
        eval_time: `${PG_WIKI / 60 + 10}m`,
        alertname: "BackupRestorePointStale",
        exp_alerts: [expected("BackupRestorePointStale", { severity: "critical", ...wiki })],
      },
      {
        eval_time: `${LONGHORN / 60 + 10}m`,
        alertname: "BackupRestorePointStale",
        exp_alerts: [
          expected("BackupRestorePointStale", { severity: "critical", ...wiki }),
          expected("BackupRestorePointStale", { severity: "critical", class: "longhorn", item: "pvc-a" }),
        ],
      },
    ],
  },
  {
    name: "missing: an expected item the destination never held fires once its first backup was due; a found one never does",
    interval: "10m",
    input_series: [
      s(M.found, { class: "velero", item: "daily" }, `0x${VELERO_DAILY / 600 + 3}`),
      s(M.found, wiki, `1x${VELERO_DAILY / 600 + 3}`),
    ],
    alert_rule_test: [
      { eval_time: `${VELERO_DAILY / 60 - 10}m`, alertname: "BackupRestorePointMissing", exp_alerts: [] },
      {
        eval_time: `${VELERO_DAILY / 60 + 10}m`,
        alertname: "BackupRestorePointMissing",
        exp_alerts: [expected("BackupRestorePointMissing", { severity: "critical", class: "velero", item: "daily" })],
      },
    ],
  },
  {
    name: "missing applies to every item of a class-wide entry (a Longhorn volume that never got a backup)",
    interval: "10m",
    input_series: [s(M.found, pvcA, `0x${LONGHORN / 600 + 3}`)],
    alert_rule_test: [
      { eval_time: `${LONGHORN / 60 - 10}m`, alertname: "BackupRestorePointMissing", exp_alerts: [] },
      {
        eval_time: `${LONGHORN / 60 + 10}m`,
        alertname: "BackupRestorePointMissing",
        exp_alerts: [expected("BackupRestorePointMissing", { severity: "critical", class: "longhorn", item: "pvc-a" })],
      },
    ],
  },
  {
    name: "invalid: a record that disagrees with its object fires at once; valid or absent ones do not",
    interval: "10m",
    input_series: [
      s(M.found, { class: "postgres", item: "wiki" }, "1x10"),
      s(M.valid, { class: "postgres", item: "wiki" }, "1x10"),
      s(M.found, { class: "buckets", item: "photos" }, "1x10"),
      s(M.valid, { class: "buckets", item: "photos" }, "0x10"),
      s(M.found, { class: "velero", item: "daily" }, "0x10"),
      s(M.valid, { class: "velero", item: "daily" }, "0x10"),
    ],
    alert_rule_test: [
      {
        eval_time: "20m",
        alertname: "BackupRestorePointInvalid",
        exp_alerts: [expected("BackupRestorePointInvalid", { severity: "critical", class: "buckets", item: "photos" })],
      },
    ],
  },
  {
    name: "invalid stays silent when everything checks out",
    interval: "10m",
    input_series: [s(M.found, wiki, "1x10"), s(M.valid, wiki, "1x10")],
    alert_rule_test: [{ eval_time: "20m", alertname: "BackupRestorePointInvalid", exp_alerts: [] }],
  },
  {
    name: "Longhorn: fewer backups than retain, for a backup volume old enough to hold them all",
    interval: "10m",
    input_series: [
      // retain 3, daily: 3 × 24 h + 2 h = 3d2h after the backup volume was created.
      s(M.count, pvcA, "1x500"),
      s(M.expectedCount, pvcA, "3x500"),
      s(M.firstSeen, pvcA, "0x500"),
      // Young (created at 2 d): fewer backups are expected.
      s(M.count, { ...pvcA, item: "pvc-young" }, "1x500"),
      s(M.expectedCount, { ...pvcA, item: "pvc-young" }, "3x500"),
      s(M.firstSeen, { ...pvcA, item: "pvc-young" }, "172800x500"),
      // Old and full.
      s(M.count, { ...pvcA, item: "pvc-full" }, "3x500"),
      s(M.expectedCount, { ...pvcA, item: "pvc-full" }, "3x500"),
      s(M.firstSeen, { ...pvcA, item: "pvc-full" }, "0x500"),
    ],
    alert_rule_test: [
      { eval_time: "3d2h50m", alertname: "LonghornBackupsBelowRetain", exp_alerts: [] },
      {
        eval_time: "3d3h20m",
        alertname: "LonghornBackupsBelowRetain",
        exp_alerts: [expected("LonghornBackupsBelowRetain", { severity: "warning", ...pvcA })],
      },
    ],
  },
  {
    name: "Longhorn BackupTarget unavailable for 15 minutes",
    interval: "10m",
    input_series: [
      s(M.targetAvailable, { backup_target: "default" }, "0x5"),
      s(M.targetAvailable, { backup_target: "other" }, "1x5"),
    ],
    alert_rule_test: [
      { eval_time: "10m", alertname: "LonghornBackupTargetUnavailable", exp_alerts: [] },
      {
        eval_time: "20m",
        alertname: "LonghornBackupTargetUnavailable",
        exp_alerts: [
          expected("LonghornBackupTargetUnavailable", {
            severity: "critical",
            class: "longhorn",
            backup_target: "default",
          }),
        ],
      },
    ],
  },
  {
    name: "the audit itself: an unreadable item for two intervals",
    interval: "10m",
    input_series: [
      s(M.itemError, wiki, "1x20"),
      s(M.itemError, { class: "velero", item: "daily" }, "0x20"),
      s(M.lastRun, {}, "0+600x20"),
    ],
    alert_rule_test: [
      { eval_time: "1h50m", alertname: "BackupAuditFailing", exp_alerts: [] },
      {
        eval_time: "2h10m",
        alertname: "BackupAuditFailing",
        exp_alerts: [expected("BackupAuditFailing", { severity: "warning", ...wiki })],
      },
    ],
  },
  {
    name: "the audit itself: no run for three intervals",
    interval: "10m",
    input_series: [s(M.lastRun, {}, "0x40")],
    alert_rule_test: [
      { eval_time: "4h50m", alertname: "BackupAuditFailing", exp_alerts: [] },
      {
        eval_time: "5h20m",
        alertname: "BackupAuditFailing",
        exp_alerts: [expected("BackupAuditFailing", { severity: "warning", class: "audit", item: "last-run" })],
      },
    ],
  },
  {
    name: "the audit itself: never ran",
    interval: "10m",
    input_series: [s("up", { job: "other" }, "1x20")],
    alert_rule_test: [
      {
        eval_time: "2h10m",
        alertname: "BackupAuditFailing",
        exp_alerts: [expected("BackupAuditFailing", { severity: "warning", class: "audit", item: "last-run" })],
      },
    ],
  },
  {
    name: "bucket usage above alerts.bucketQuotaGiB (1 GiB)",
    interval: "10m",
    input_series: [
      s(M.bucketBytes, { bucket: "homelab-backups", storage_class: "STANDARD" }, `${0.5 * GiB}x4 ${2 * GiB}x5`),
    ],
    alert_rule_test: [
      { eval_time: "40m", alertname: "BackupBucketQuotaExceeded", exp_alerts: [] },
      {
        eval_time: "80m",
        alertname: "BackupBucketQuotaExceeded",
        exp_alerts: [
          expected("BackupBucketQuotaExceeded", { severity: "warning", class: "hub", bucket: "homelab-backups" }),
        ],
      },
    ],
  },
  {
    name: "projected monthly cost: 30 GiB STANDARD + 200 GiB GLACIER = 1.41 USD > 1 (neither alone is)",
    interval: "10m",
    input_series: [
      s(M.bucketBytes, { bucket: "homelab-backups", storage_class: "STANDARD" }, `${30 * GiB}x10`),
      s(M.bucketBytes, { bucket: "homelab-backups", storage_class: "GLACIER" }, `${200 * GiB}x10`),
    ],
    alert_rule_test: [
      {
        eval_time: "20m",
        alertname: "BackupMonthlyCostHigh",
        exp_alerts: [
          expected("BackupMonthlyCostHigh", { severity: "warning", class: "hub", bucket: "homelab-backups" }, "1.41"),
        ],
      },
    ],
  },
  {
    name: "projected monthly cost: 30 GiB STANDARD + 200 GiB DEEP_ARCHIVE = 0.89 USD stays silent",
    interval: "10m",
    input_series: [
      s(M.bucketBytes, { bucket: "homelab-backups", storage_class: "STANDARD" }, `${30 * GiB}x10`),
      s(M.bucketBytes, { bucket: "homelab-backups", storage_class: "DEEP_ARCHIVE" }, `${200 * GiB}x10`),
    ],
    alert_rule_test: [{ eval_time: "20m", alertname: "BackupMonthlyCostHigh", exp_alerts: [] }],
  },
  {
    name: "projected monthly cost: a storage class without a price counts as STANDARD (50 GiB = 1.15 USD)",
    interval: "10m",
    input_series: [
      s(M.bucketBytes, { bucket: "homelab-backups", storage_class: "REDUCED_REDUNDANCY" }, `${50 * GiB}x10`),
    ],
    alert_rule_test: [
      {
        eval_time: "20m",
        alertname: "BackupMonthlyCostHigh",
        exp_alerts: [
          expected("BackupMonthlyCostHigh", { severity: "warning", class: "hub", bucket: "homelab-backups" }, "1.15"),
        ],
      },
    ],
  },
  {
    name: "one backup above alerts.backupSizeGiB.velero (1 GiB); other classes have no limit",
    interval: "10m",
    input_series: [
      s(M.size, { class: "velero", item: "daily" }, `${0.5 * GiB}x4 ${2 * GiB}x5`),
      s(M.size, { class: "postgres", item: "wiki" }, `${5 * GiB}x10`),
    ],
    alert_rule_test: [
      { eval_time: "40m", alertname: "BackupTooLarge", exp_alerts: [] },
      {
        eval_time: "80m",
        alertname: "BackupTooLarge",
        exp_alerts: [expected("BackupTooLarge", { severity: "warning", class: "velero", item: "daily" })],
      },
    ],
  },
  {
    name: "a PVC no class covers, after two audit intervals",
    interval: "10m",
    input_series: [s(M.pvcUncovered, { namespace: "apps", persistentvolumeclaim: "uploads" }, "1x20")],
    alert_rule_test: [
      { eval_time: "1h50m", alertname: "PersistentVolumeClaimNotBackedUp", exp_alerts: [] },
      {
        eval_time: "2h10m",
        alertname: "PersistentVolumeClaimNotBackedUp",
        exp_alerts: [
          expected("PersistentVolumeClaimNotBackedUp", {
            severity: "warning",
            class: "coverage",
            namespace: "apps",
            persistentvolumeclaim: "uploads",
          }),
        ],
      },
    ],
  },
  {
    name: "the heartbeat always fires",
    interval: "10m",
    input_series: [],
    alert_rule_test: [
      {
        eval_time: "10m",
        alertname: "BackupAlertingHeartbeat",
        exp_alerts: [expected("BackupAlertingHeartbeat", { severity: "none", class: "heartbeat" })],
      },
    ],
  },
];

describe("audit alert rules", () => {
  it("pass promtool check rules, and every alert fires and stays silent in promtool test rules", async () => {
    const { check, test } = await promtoolTest([{ name: "homelab-backup.audit", rules: all }], tests, "10m");
    expect(check.code, check.output).toBe(0);
    expect(test.code, test.output).toBe(0);
    // Every alert name has a firing case and a silent case above.
    for (const name of new Set(all.map((r) => r.alert))) {
      const cases = tests.flatMap((t) => t.alert_rule_test).filter((c) => c.alertname === name);
      expect(
        cases.some((c) => c.exp_alerts.length > 0),
        `${name} fires somewhere`,
      ).toBe(true);
      if (name !== "BackupAlertingHeartbeat")
        expect(
          cases.some((c) => c.exp_alerts.length === 0),
          `${name} is silent somewhere`,
        ).toBe(true);
    }
  });

  it("a mirror (staleness off) has no staleness rule, and the plan rows carry thresholds", () => {
    expect(rules.some((r) => r.alert === "BackupRestorePointStale" && r.labels.item === "photos")).toBe(false);
    expect(
      infos.find((i) => i.alert === "BackupRestorePointStale" && i.watches.includes("wiki"))!.thresholdSeconds,
    ).toBe(PG_WIKI);
    expect(promDuration(31 * D + H)).toBe("31d1h");
    expect(promDuration(VELERO_DAILY)).toBe("1d1h");
  });

  it("a broken rule is caught: promtool fails when a rule watches the wrong metric", async () => {
    const broken = all.map((r) => (r.alert === "BackupTooLarge" ? { ...r, expr: r.expr.replace(M.size, M.count) } : r));
    const { test } = await promtoolTest(
      [{ name: "broken", rules: broken }],
      tests.filter((t) => t.name.startsWith("one backup")),
      "10m",
    );
    expect(test.code).not.toBe(0);
  });
});
