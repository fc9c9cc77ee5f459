/**
 * What every area's alert rules (`components/<area>/alerts.ts`) are built from: the rule and
 * annotation types, runbook links, thresholds, PromQL building blocks, and the failure/staleness pair
 * of a CronJob-based backup.
 *
 * Staleness thresholds follow from each schedule (longest gap between two runs plus how long a run may
 * take to start and finish), never a fixed "25h". PromQL stays in the subset promtool 2.42 and
 * Prometheus 3 both accept (no new functions, no UTF-8 names). Annotations only use `$labels`, so an
 * alert's text is fully determined by its labels.
 */
import { cronGaps, formatSeconds } from "../core/cron.js";
import { DEFAULT_ACTIVE_DEADLINE_SECONDS, DEFAULT_STARTING_DEADLINE_SECONDS } from "../core/cronJob.js";
import type { CronJobWatch } from "../core/watch.js";

/**
 * The label naming the namespace of what an alert watches. A rule sets it only from a label its
 * expression keeps (a CronJob's static namespace, or `{{ $labels.namespace }}` /
 * `{{ $labels.pvc_namespace }}` where the expression's result carries that label); with
 * notifications on, `namespace` itself becomes the alerts namespace (notify.ts `routableLabels`).
 */
export const TARGET_NAMESPACE_LABEL = "backup_namespace";
/** TARGET_NAMESPACE_LABEL for a rule whose result keeps the watched object's `namespace` label. */
export const SERIES_NAMESPACE = { [TARGET_NAMESPACE_LABEL]: "{{ $labels.namespace }}" } as const;

export const RUNBOOK_BASE = "https://github.com/homelab-backup/homelab-backup";

export interface AlertAnnotations {
  readonly summary: string;
  readonly description: string;
  readonly runbook_url: string;
}

/** One alerting rule as Prometheus rule files and PrometheusRule `spec.groups[].rules[]` write it. */
export interface AlertRule {
  readonly alert: string;
  readonly expr: string;
  readonly for?: string;
  readonly labels: Record<string, string>;
  readonly annotations: AlertAnnotations;
}

export interface RuleGroup {
  readonly name: string;
  readonly rules: AlertRule[];
}

export type Severity = "critical" | "warning";

/** What the plan says about one rule: what it watches, when it fires, and why that threshold. */
export interface AlertInfo {
  readonly alert: string;
  readonly severity: Severity;
  readonly watches: string;
  readonly firesWhen: string;
  /** The staleness threshold in seconds, when the rule has one. */
  readonly thresholdSeconds?: number;
  readonly why: string;
}

/** The README anchor of an alert's runbook. */
export function runbookAnchor(alert: string): string {
  return `runbook-${alert.toLowerCase()}`;
}

export function runbookUrl(alert: string): string {
  return `${RUNBOOK_BASE}#${runbookAnchor(alert)}`;
}

// ---------------------------------------------------------------------------------------------
// Thresholds
// ---------------------------------------------------------------------------------------------

/** A CronJob run may start up to startingDeadlineSeconds late and run up to activeDeadlineSeconds. */
export const CRONJOB_RUN_ALLOWANCE_SECONDS = DEFAULT_ACTIVE_DEADLINE_SECONDS + DEFAULT_STARTING_DEADLINE_SECONDS;
/** Longhorn recurring jobs have no deadline; a periodic full backup of a large volume to a Pi takes hours. */
export const LONGHORN_RUN_ALLOWANCE_SECONDS = 2 * 3600;
/** Velero fails a pod-volume (Kopia) backup after its fs-backup timeout, 4 h by default. */
export const VELERO_FS_BACKUP_ALLOWANCE_SECONDS = 4 * 3600;
/** Velero backups of Kubernetes objects only take minutes; one hour is ample. */
export const VELERO_OBJECTS_ALLOWANCE_SECONDS = 3600;
/** The hub's off-site copy uploads a night of changes over a home uplink to FTP; no deadline. */
export const OFFSITE_HUB_RUN_ALLOWANCE_SECONDS = 4 * 3600;
/** Failure counters are looked at over the schedule's interval, at most one day. */
export const MAX_FAILURE_WINDOW_SECONDS = 86_400;

/** Staleness threshold of a watched CronJob: longest gap of its schedule + starting deadline + active deadline. */
export function cronJobStaleSeconds(w: CronJobWatch): number {
  return cronGaps(w.schedule).maxGapSeconds + w.startingDeadlineSeconds + w.activeDeadlineSeconds;
}

/** Why a watched CronJob's staleness threshold is what it is, in the plan's words. */
export function watchWhy(w: CronJobWatch): string {
  return cronWhy(
    w.schedule,
    w.startingDeadlineSeconds + w.activeDeadlineSeconds,
    jobAllowanceText(w.activeDeadlineSeconds),
  );
}

// ---------------------------------------------------------------------------------------------
// PromQL building blocks
// ---------------------------------------------------------------------------------------------

export function q(value: string): string {
  return JSON.stringify(value);
}

export function regexAlternatives(values: readonly string[]): string {
  return values.map((v) => v.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|");
}

/** Jobs of the given CronJobs, labelled {namespace, job_name, cronjob}, value 1. */
export function jobsOf(cronJobs: ReadonlyMap<string, readonly string[]>): string {
  const parts = [...cronJobs.entries()]
    .filter(([, cjs]) => cjs.length > 0)
    .map(([ns, cjs]) => {
      const owner =
        cjs.length === 1 ? `owner_name=${q(cjs[0])}` : `owner_name=~${q(regexAlternatives([...new Set(cjs)].sort()))}`;
      return `label_replace(kube_job_owner{namespace=${q(ns)}, owner_kind="CronJob", ${owner}}, "cronjob", "$1", "owner_name", "(.+)")`;
    });
  return `max by (namespace, job_name, cronjob) (${parts.join(" or ")})`;
}

/**
 * Failed Jobs of one CronJob that started after its last success (a later successful run clears
 * the alert, although the failed Job object stays until its TTL), valued with the Job's start time.
 */
export function cronJobFailedExpr(ns: string, cj: string): string {
  const failed =
    `${jobsOf(new Map([[ns, [cj]]]))}` +
    ` * on (namespace, job_name) group_left () max by (namespace, job_name) (kube_job_failed{namespace=${q(ns)}, condition="true"} == 1)` +
    ` * on (namespace, job_name) group_left () max by (namespace, job_name) (kube_job_status_start_time{namespace=${q(ns)}})`;
  const lastSuccess = `kube_cronjob_status_last_successful_time{namespace=${q(ns)}, cronjob=${q(cj)}}`;
  return `(${failed}) > on (namespace, cronjob) group_left () max by (namespace, cronjob) (${lastSuccess})\nor\n((${failed}) unless on (namespace, cronjob) ${lastSuccess})`;
}

/**
 * Age of the last success of one CronJob above `threshold`, or, when it never succeeded (the series
 * is absent until the first success), age of the CronJob itself above `threshold`: a CronJob created
 * longer ago than the threshold without any success fires, a brand-new one does not.
 */
export function cronJobStaleExpr(ns: string, cj: string, threshold: number): string {
  const sel = `{namespace=${q(ns)}, cronjob=${q(cj)}}`;
  return (
    `(time() - max by (namespace, cronjob) (kube_cronjob_status_last_successful_time${sel}) > ${threshold})\nor\n` +
    `((time() - max by (namespace, cronjob) (kube_cronjob_created${sel}) > ${threshold}) unless on (namespace, cronjob) kube_cronjob_status_last_successful_time${sel})`
  );
}

// ---------------------------------------------------------------------------------------------
// The rules
// ---------------------------------------------------------------------------------------------

/** One rule, the group it belongs to, and what the plan says about it. */
export interface Built {
  group: string;
  rule: AlertRule;
  info: AlertInfo;
}

export function rule(
  group: string,
  alert: string,
  severity: Severity,
  cls: string,
  expr: string,
  text: { summary: string; description: string },
  info: Omit<AlertInfo, "alert" | "severity">,
  forDuration?: string,
  extraLabels: Record<string, string> = {},
): Built {
  return {
    group,
    rule: {
      alert,
      expr,
      ...(forDuration ? { for: forDuration } : {}),
      // Per-target rules repeat the target's own series labels (namespace/cronjob, schedule) so that
      // rules of one alert name stay distinct (promtool's duplicate-rule lint) without changing the alert.
      labels: { severity, class: cls, ...extraLabels },
      annotations: { summary: text.summary, description: text.description, runbook_url: runbookUrl(alert) },
    },
    info: { alert, severity, ...info },
  };
}

/** A CronJob-based backup: one failure rule and one staleness rule. */
export interface CronJobTarget {
  group: string;
  cls: string;
  failedAlert: string;
  staleAlert: string;
  failedSeverity: Severity;
  staleSeverity: Severity;
  /** "PostgreSQL dump of `wiki`". */
  what: string;
  /** The CronJob as its component built it: namespace, name, schedule, deadlines. */
  watch: CronJobWatch;
  /** Staleness threshold. @default cronJobStaleSeconds(watch) */
  threshold?: number;
  /** Why that threshold. @default watchWhy(watch) */
  why?: string;
}

export function cronJobRules(target: CronJobTarget): Built[] {
  const t = {
    ...target,
    namespace: target.watch.namespace,
    cronJob: target.watch.cronJob,
    cron: target.watch.schedule,
    threshold: target.threshold ?? cronJobStaleSeconds(target.watch),
    why: target.why ?? watchWhy(target.watch),
  };
  const at = `${t.namespace}/${t.cronJob}`;
  return [
    rule(
      t.group,
      t.failedAlert,
      t.failedSeverity,
      t.cls,
      cronJobFailedExpr(t.namespace, t.cronJob),
      {
        summary: `${t.what} failed`,
        description: `Job {{ $labels.job_name }} of CronJob {{ $labels.namespace }}/{{ $labels.cronjob }} failed (backoff limit or deadline reached) and no run has succeeded since. ${t.what} did not happen; see the job's pod logs.`,
      },
      {
        watches: `CronJob ${at}`,
        firesWhen: "a Job of the CronJob failed after its last success (kube_job_failed joined via kube_job_owner)",
        why: "a failed run is one missed backup; the next successful run clears it",
      },
      undefined,
      { namespace: t.namespace, cronjob: t.cronJob },
    ),
    rule(
      t.group,
      t.staleAlert,
      t.staleSeverity,
      t.cls,
      cronJobStaleExpr(t.namespace, t.cronJob, t.threshold),
      {
        summary: `${t.what} is stale`,
        description: `CronJob {{ $labels.namespace }}/{{ $labels.cronjob }} (schedule \`${t.cron}\` UTC) has had no successful run for more than ${formatSeconds(t.threshold)}, or never succeeded although it exists for longer than that.`,
      },
      {
        watches: `CronJob ${at}`,
        firesWhen: `no success for > ${formatSeconds(t.threshold)} (or never, for a CronJob older than that)`,
        thresholdSeconds: t.threshold,
        why: t.why,
      },
      undefined,
      { namespace: t.namespace, cronjob: t.cronJob },
    ),
  ];
}

export function jobAllowanceText(activeDeadlineSeconds: number): string {
  return `${formatSeconds(DEFAULT_STARTING_DEADLINE_SECONDS)} starting deadline + ${formatSeconds(activeDeadlineSeconds)} active deadline`;
}

export function cronWhy(
  cron: string,
  allowance = CRONJOB_RUN_ALLOWANCE_SECONDS,
  allowanceText = jobAllowanceText(DEFAULT_ACTIVE_DEADLINE_SECONDS),
): string {
  return `longest gap of \`${cron}\` (${formatSeconds(cronGaps(cron).maxGapSeconds)}) + ${allowanceText} (${formatSeconds(allowance)})`;
}
