/**
 * Alert rules of the restore drills (composed by components/alerts/rules.ts): for every drill CronJob
 * a failure rule and a staleness rule, and per class an alert when the measured restore time exceeds
 * the class's RTO target.
 *
 * The measured RTO is the duration of the newest successful drill Job, from kube-state-metrics:
 * `kube_job_status_completion_time - kube_job_status_start_time` (completionTime is set only when a
 * Job succeeds, Kubernetes JobStatus). It is the time from the Job's start to restored-and-checked
 * data, including image pulls and scheduling, which a real recovery pays as well; it needs no push
 * gateway, no extra rights, and the drill script cannot misreport it. The same expression feeds the
 * dashboard's "RTO per class" panel.
 */
import { formatSeconds } from "../core/cron.js";
import { DEFAULT_STARTING_DEADLINE_SECONDS } from "../core/cronJob.js";
import { parseGoDuration } from "../core/duration.js";
import { cronJobWatch } from "../core/watch.js";
import {
  cronJobRules,
  cronJobStaleSeconds,
  cronWhy,
  jobAllowanceText,
  jobsOf,
  rule,
  type Built,
} from "../alerts/ruleHelpers.js";
import type { DrillClass } from "./schema.js";

/** One drill CronJob as the alerts, dashboard and plan see it (RestoreDrills exposes these). */
export interface DrillTarget {
  readonly cls: DrillClass;
  readonly namespace: string;
  readonly cronJob: string;
  readonly schedule: string;
  readonly activeDeadlineSeconds: number;
  /** "etcd restore drill", "Velero restore drill". */
  readonly what: string;
  /** RTO target in seconds, when the stack sets one. */
  readonly rtoTargetSeconds?: number;
  /** The database or mirror the drill proves (status/drills/<cls>/<item>.json); absent: the class has one drill. */
  readonly item?: string;
}

const TITLES: Record<DrillClass, string> = {
  postgres: "Postgres",
  velero: "Velero",
  longhorn: "Longhorn",
  etcd: "Etcd",
  offsite: "Offsite",
  buckets: "Bucket",
};

/**
 * The measured RTO of each drill CronJob in `targets` (seconds; labels namespace, cronjob): the
 * duration of its newest successful Job.
 */
export function drillRtoExpr(targets: readonly DrillTarget[]): string {
  const byNs = new Map<string, string[]>();
  for (const t of targets) byNs.set(t.namespace, [...(byNs.get(t.namespace) ?? []), t.cronJob]);
  const jobs = jobsOf(byNs);
  const done = `(max by (namespace, job_name) (kube_job_status_completion_time) * on (namespace, job_name) group_left (cronjob) ${jobs})`;
  const took = `((max by (namespace, job_name) (kube_job_status_completion_time) - max by (namespace, job_name) (kube_job_status_start_time)) * on (namespace, job_name) group_left (cronjob) ${jobs})`;
  return `max by (namespace, cronjob) (${took} and on (namespace, job_name) (${done} == on (namespace, cronjob) group_left () max by (namespace, cronjob) (${done})))`;
}

/** Failure, staleness and RTO-over-target rules of every drill target. */
export function drillAlertRules(targets: readonly DrillTarget[], alerts: { restoreTestMaxAgeDays: number }): Built[] {
  const out: Built[] = [];
  for (const t of targets) {
    if (t.cls === "postgres") {
      // Failure and staleness of the PostgreSQL drill are components/postgres/alerts.ts's; only the RTO is added here.
      out.push(...rtoRule(t));
      continue;
    }
    const maxAge = alerts.restoreTestMaxAgeDays * 86_400;
    const watch = cronJobWatch(t.namespace, t.cronJob, t.schedule, t.activeDeadlineSeconds);
    const fromCron = cronJobStaleSeconds(watch);
    const threshold = Math.max(maxAge, fromCron);
    const why =
      threshold === maxAge
        ? `alerts.restoreTestMaxAgeDays (${alerts.restoreTestMaxAgeDays} d); the drill's own cadence would allow ${formatSeconds(fromCron)}`
        : `${cronWhy(t.schedule, DEFAULT_STARTING_DEADLINE_SECONDS + t.activeDeadlineSeconds, jobAllowanceText(t.activeDeadlineSeconds))}: longer than restoreTestMaxAgeDays (${alerts.restoreTestMaxAgeDays} d)`;
    out.push(
      ...cronJobRules({
        group: "homelab-backup.drills",
        cls: t.cls,
        failedAlert: `${TITLES[t.cls]}RestoreDrillFailed`,
        staleAlert: `${TITLES[t.cls]}RestoreDrillStale`,
        failedSeverity: "critical",
        staleSeverity: "warning",
        what: t.what,
        watch,
        threshold,
        why,
      }),
    );
    out.push(...rtoRule(t));
  }
  return out;
}

function rtoRule(t: DrillTarget): Built[] {
  if (t.rtoTargetSeconds === undefined) return [];
  return [
    rule(
      "homelab-backup.drills",
      "RestoreTimeAboveTarget",
      "warning",
      t.cls,
      `${drillRtoExpr([t])} > ${t.rtoTargetSeconds}`,
      {
        summary: `${t.what} took longer than its RTO target`,
        description: `The newest successful run of CronJob {{ $labels.namespace }}/{{ $labels.cronjob }} took longer to restore and check than the target of ${formatSeconds(t.rtoTargetSeconds)}.`,
      },
      {
        watches: `CronJob ${t.namespace}/${t.cronJob}`,
        firesWhen: `the newest successful drill took > ${formatSeconds(t.rtoTargetSeconds)}`,
        thresholdSeconds: t.rtoTargetSeconds,
        why: "the stack's RTO target for this class",
      },
      undefined,
      { namespace: t.namespace, cronjob: t.cronJob },
    ),
  ];
}

/** Dashboard queries: measured RTO per class, over time (legend: class). */
export function drillRtoQueries(targets: readonly DrillTarget[]): { expr: string; legend: string }[] {
  const classes = [...new Set(targets.map((t) => t.cls))];
  return classes.map((cls) => ({
    expr: `max(${drillRtoExpr(targets.filter((t) => t.cls === cls))})`,
    legend: cls,
  }));
}

/** RTO target of a drill config entry, in seconds. */
export function rtoTargetSeconds(entry: { rtoTarget?: string } | undefined): number | undefined {
  return entry?.rtoTarget === undefined ? undefined : parseGoDuration(entry.rtoTarget);
}
