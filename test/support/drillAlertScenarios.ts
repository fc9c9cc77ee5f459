/**
 * The promtool scenarios of the drills' alert rules (components/drills/alerts.ts), one per drill class
 * that has its own failure and staleness alerts: kube-state-metrics series of drill Jobs and the
 * alert_rule_test cases over them. test/drills/alerts.integration.test.ts runs them under promtool;
 * the example-stack check in test/alerts/promtool.integration.test.ts counts an alert as proven only
 * when these cases both fire and silence it.
 *
 * Thresholds worked out by hand: weekly drill, 1 h deadline, restoreTestMaxAgeDays 7 →
 * max(7 d, 7 d + 10 min + 1 h) = 7 d 1 h 10 min = 609000 s.
 */
import { drillAlertRules, type DrillTarget } from "../../components/drills/alerts.js";
import { DRILL_CLASSES, type DrillClass } from "../../components/drills/schema.js";

const H = 3600;
const D = 86_400;
export const DRILL_NS = "homelab-drills";
export const STALE_SECONDS = 609_000;
/** Every series runs from 0 to here (12 days), sampled every 10 min. */
export const UNTIL_SECONDS = 12 * D;
const WHAT: Record<DrillClass, string> = {
  postgres: "PostgreSQL restore drill",
  velero: "Velero restore drill",
  longhorn: "Longhorn restore drill",
  etcd: "etcd restore drill",
  offsite: "off-site restore drill",
  buckets: "bucket mirror drill",
};

/** The classes whose failure and staleness alerts come from components/drills/alerts.ts (postgres's are its own area's). */
export const SCENARIO_CLASSES = DRILL_CLASSES.filter((c) => c !== "postgres");

/** One weekly drill CronJob per class, plus a Velero drill that never succeeded; etcd has a 15 min RTO target. */
export const DRILL_TARGETS: DrillTarget[] = [
  ...SCENARIO_CLASSES.map((cls) => ({
    cls,
    namespace: DRILL_NS,
    cronJob: `drill-${cls}`,
    schedule: "30 7 * * 0",
    activeDeadlineSeconds: H,
    what: WHAT[cls],
    ...(cls === "etcd" ? { rtoTargetSeconds: 900 } : {}),
  })),
  {
    cls: "velero",
    namespace: DRILL_NS,
    cronJob: "drill-velero-new",
    schedule: "30 6 * * 0",
    activeDeadlineSeconds: H,
    what: WHAT.velero,
  },
];

/** A series held at `value` from `fromS` on (absent before), sampled every 10 min up to UNTIL_SECONDS. */
export function held(fromS: number, value: number, untilS = UNTIL_SECONDS): string {
  const steps = Math.round(untilS / 600);
  const before = Math.round(fromS / 600);
  return [before > 0 ? `_x${before}` : "", `${value}x${steps - before}`].filter(Boolean).join(" ");
}

export const at = (s: number) => `${Math.round(s / 60)}m`;

export interface AlertCase {
  eval_time: string;
  alertname: string;
  exp_alerts: { exp_labels: Record<string, string>; exp_annotations: Record<string, string> }[];
}

/** The rules, the input series and the alert cases of the whole scenario. */
export function drillAlertScenario(): {
  built: ReturnType<typeof drillAlertRules>;
  series: { series: string; values: string }[];
  cases: AlertCase[];
} {
  const built = drillAlertRules(DRILL_TARGETS, { restoreTestMaxAgeDays: 7 });
  const series: { series: string; values: string }[] = [];
  const own = (job: string, cj: string) =>
    `kube_job_owner{namespace="${DRILL_NS}", job_name="${job}", owner_kind="CronJob", owner_name="${cj}", owner_is_controller="true"}`;
  const job = (name: string, cj: string, start: number, end: number, failed: boolean) => {
    series.push({ series: own(name, cj), values: held(start, 1) });
    series.push({
      series: `kube_job_status_start_time{namespace="${DRILL_NS}", job_name="${name}"}`,
      values: held(start, start),
    });
    series.push(
      failed
        ? {
            series: `kube_job_failed{namespace="${DRILL_NS}", job_name="${name}", condition="true"}`,
            values: held(end, 1),
          }
        : {
            series: `kube_job_status_completion_time{namespace="${DRILL_NS}", job_name="${name}"}`,
            values: held(end, end),
          },
    );
  };
  const labels = (alert: string, extra: Record<string, string>) => {
    const b =
      built.find((x) => x.rule.alert === alert && x.rule.labels.cronjob === extra.cronjob) ??
      built.find((x) => x.rule.alert === alert)!;
    const l: Record<string, string> = { ...b.rule.labels, ...extra };
    const fill = (t: string) => t.replace(/\{\{ \$labels\.(\w+) \}\}/g, (_, k) => l[k] ?? `<no ${k}>`);
    return {
      exp_labels: l,
      exp_annotations: Object.fromEntries(Object.entries(b.rule.annotations).map(([k, v]) => [k, fill(v)])),
    };
  };
  const title = (cls: DrillClass) =>
    built
      .find((b) => b.rule.labels.class === cls && /Failed$/.test(b.rule.alert))!
      .rule.alert.replace(/RestoreDrillFailed$/, "");
  const cases: AlertCase[] = [];
  const lastSuccess = 3 * D + 1200;
  for (const cls of SCENARIO_CLASSES) {
    const cj = `drill-${cls}`;
    const who = { namespace: DRILL_NS, cronjob: cj };
    // Succeeds in 10 min at 1 h, fails on day 2, succeeds in 20 min on day 3.
    job(`${cj}-1`, cj, 1 * H, 1 * H + 600, false);
    job(`${cj}-2`, cj, 2 * D, 2 * D + 300, true);
    job(`${cj}-3`, cj, 3 * D, lastSuccess, false);
    series.push({ series: `kube_cronjob_created{namespace="${DRILL_NS}", cronjob="${cj}"}`, values: held(0, 0) });
    series.push({
      series: `kube_cronjob_status_last_successful_time{namespace="${DRILL_NS}", cronjob="${cj}"}`,
      values: `${held(1 * H + 600, 1 * H + 600, lastSuccess)} ${lastSuccess}x${Math.round((UNTIL_SECONDS - lastSuccess) / 600)}`,
    });
    const failed = `${title(cls)}RestoreDrillFailed`;
    const stale = `${title(cls)}RestoreDrillStale`;
    const newVelero = { namespace: DRILL_NS, cronjob: "drill-velero-new" };
    // The never-succeeded Velero drill is stale from STALE_SECONDS on, beside the class's own.
    const alsoStale = (t: number) => (cls === "velero" && t > STALE_SECONDS ? [labels(stale, newVelero)] : []);
    cases.push(
      { eval_time: at(1 * D), alertname: failed, exp_alerts: [] },
      { eval_time: at(2 * D + 1200), alertname: failed, exp_alerts: [labels(failed, { ...who, job_name: `${cj}-2` })] },
      { eval_time: at(3 * D + 1800), alertname: failed, exp_alerts: [] },
      {
        eval_time: at(lastSuccess + STALE_SECONDS - 600),
        alertname: stale,
        exp_alerts: alsoStale(lastSuccess + STALE_SECONDS - 600),
      },
      {
        eval_time: at(lastSuccess + STALE_SECONDS + 600),
        alertname: stale,
        exp_alerts: [...alsoStale(lastSuccess + STALE_SECONDS + 600), labels(stale, who)],
      },
    );
  }
  // The Velero drill that never succeeded: stale once its CronJob is older than the threshold, never "failed".
  series.push({
    series: `kube_cronjob_created{namespace="${DRILL_NS}", cronjob="drill-velero-new"}`,
    values: held(0, 0),
  });
  const newVelero = { namespace: DRILL_NS, cronjob: "drill-velero-new" };
  cases.push(
    { eval_time: at(STALE_SECONDS - 600), alertname: "VeleroRestoreDrillStale", exp_alerts: [] },
    {
      eval_time: at(STALE_SECONDS + 600),
      alertname: "VeleroRestoreDrillStale",
      exp_alerts: [labels("VeleroRestoreDrillStale", newVelero)],
    },
    { eval_time: at(STALE_SECONDS + 600), alertname: "VeleroRestoreDrillFailed", exp_alerts: [] },
  );
  // RTO 600 s < 900 s target after the etcd drill's first success; 1200 s > 900 s after the third.
  const etcd = { namespace: DRILL_NS, cronjob: "drill-etcd" };
  cases.push(
    { eval_time: at(1 * D), alertname: "RestoreTimeAboveTarget", exp_alerts: [] },
    {
      eval_time: at(3 * D + 1800),
      alertname: "RestoreTimeAboveTarget",
      exp_alerts: [labels("RestoreTimeAboveTarget", etcd)],
    },
  );
  return { built, series, cases };
}

/** Alert names the scenario's cases both fire and hold silent. */
export function provenDrillAlerts(cases: readonly AlertCase[]): string[] {
  const fired = new Set(cases.filter((c) => c.exp_alerts.length > 0).map((c) => c.alertname));
  const silent = new Set(cases.filter((c) => c.exp_alerts.length === 0).map((c) => c.alertname));
  return [...fired].filter((a) => silent.has(a)).sort();
}
