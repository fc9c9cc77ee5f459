/**
 * Prometheus alert rules, their thresholds and the Grafana dashboard of the backup stack, derived
 * from the stack file: every configured data class gets a failure alert and a staleness alert whose
 * threshold follows from its own schedule (longest gap between two runs plus how long a run may take
 * to start and finish), never a fixed "25h". The same `groups` object is the PrometheusRule
 * `spec.groups` and the plain rules file promtool reads.
 *
 * PromQL stays in the subset promtool 2.42 and Prometheus 3 both accept (no new functions, no UTF-8
 * names). Annotations only use `$labels`, so an alert's text is fully determined by its labels.
 */
import { offsiteOf, type StackConfig } from "../config.js";
import { cronGaps, formatSeconds } from "../core/cron.js";
import { DEFAULT_ACTIVE_DEADLINE_SECONDS, DEFAULT_STARTING_DEADLINE_SECONDS } from "../core/cronJob.js";
import { metrics, names } from "../core/names.js";
import type { PlanSection } from "../core/planTypes.js";

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

/**
 * activeDeadlineSeconds each component gives its CronJob (components/*.ts; test/unit/backupAlerts.test.ts
 * builds those components and checks these figures against the CronJobs they create).
 */
export const JOB_ACTIVE_DEADLINES = {
  postgresDump: DEFAULT_ACTIVE_DEADLINE_SECONDS,
  restoreDrill: 4 * 3600,
  etcd: DEFAULT_ACTIVE_DEADLINE_SECONDS,
  mirror: 6 * 3600,
  offsite: 23 * 3600,
} as const;

/** Staleness threshold of a CronJob-based backup: longest gap + starting deadline + active deadline. */
export function cronJobStaleSeconds(cron: string, activeDeadlineSeconds: number = DEFAULT_ACTIVE_DEADLINE_SECONDS): number {
  return cronGaps(cron).maxGapSeconds + DEFAULT_STARTING_DEADLINE_SECONDS + activeDeadlineSeconds;
}

/** The schedule of a database's dump: its own, or a daily time inside the window (same longest gap: 24 h). */
function dumpCron(stack: StackConfig, db: { schedule?: string }): string {
  if (db.schedule) return db.schedule;
  const [h, m] = stack.postgres!.window.start.split(":").map(Number);
  return `${m} ${h} * * *`;
}

// ---------------------------------------------------------------------------------------------
// PromQL building blocks
// ---------------------------------------------------------------------------------------------

function q(value: string): string {
  return JSON.stringify(value);
}

function regexAlternatives(values: readonly string[]): string {
  return values.map((v) => v.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|");
}

/** Jobs of the given CronJobs, labelled {namespace, job_name, cronjob}, value 1. */
function jobsOf(cronJobs: ReadonlyMap<string, readonly string[]>): string {
  const parts = [...cronJobs.entries()]
    .filter(([, cjs]) => cjs.length > 0)
    .map(([ns, cjs]) => {
      const owner = cjs.length === 1 ? `owner_name=${q(cjs[0])}` : `owner_name=~${q(regexAlternatives([...new Set(cjs)].sort()))}`;
      return `label_replace(kube_job_owner{namespace=${q(ns)}, owner_kind="CronJob", ${owner}}, "cronjob", "$1", "owner_name", "(.+)")`;
    });
  return `max by (namespace, job_name, cronjob) (${parts.join(" or ")})`;
}

/**
 * Failed Jobs of one CronJob that started after its last success (a later successful run clears
 * the alert, although the failed Job object stays until its TTL), valued with the Job's start time.
 */
function cronJobFailedExpr(ns: string, cj: string): string {
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
function cronJobStaleExpr(ns: string, cj: string, threshold: number): string {
  const sel = `{namespace=${q(ns)}, cronjob=${q(cj)}}`;
  return (
    `(time() - max by (namespace, cronjob) (kube_cronjob_status_last_successful_time${sel}) > ${threshold})\nor\n` +
    `((time() - max by (namespace, cronjob) (kube_cronjob_created${sel}) > ${threshold}) unless on (namespace, cronjob) kube_cronjob_status_last_successful_time${sel})`
  );
}

// ---------------------------------------------------------------------------------------------
// The rules
// ---------------------------------------------------------------------------------------------

interface Built {
  group: string;
  rule: AlertRule;
  info: AlertInfo;
}

function rule(
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

interface CronJobTarget {
  group: string;
  cls: string;
  failedAlert: string;
  staleAlert: string;
  failedSeverity: Severity;
  staleSeverity: Severity;
  /** "PostgreSQL dump of `wiki`". */
  what: string;
  namespace: string;
  cronJob: string;
  cron: string;
  threshold: number;
  why: string;
}

function cronJobRules(t: CronJobTarget): Built[] {
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
      { watches: `CronJob ${at}`, firesWhen: "a Job of the CronJob failed after its last success (kube_job_failed joined via kube_job_owner)", why: "a failed run is one missed backup; the next successful run clears it" },
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
      { watches: `CronJob ${at}`, firesWhen: `no success for > ${formatSeconds(t.threshold)} (or never, for a CronJob older than that)`, thresholdSeconds: t.threshold, why: t.why },
      undefined,
      { namespace: t.namespace, cronjob: t.cronJob },
    ),
  ];
}

function jobAllowanceText(activeDeadlineSeconds: number): string {
  return `${formatSeconds(DEFAULT_STARTING_DEADLINE_SECONDS)} starting deadline + ${formatSeconds(activeDeadlineSeconds)} active deadline`;
}

function cronWhy(cron: string, allowance = CRONJOB_RUN_ALLOWANCE_SECONDS, allowanceText = jobAllowanceText(DEFAULT_ACTIVE_DEADLINE_SECONDS)): string {
  return `longest gap of \`${cron}\` (${formatSeconds(cronGaps(cron).maxGapSeconds)}) + ${allowanceText} (${formatSeconds(allowance)})`;
}

/** Every CronJob of the stack that backs something up, by namespace (for OOM and deadline alerts). */
export function backupCronJobs(stack: StackConfig): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const add = (ns: string, cj: string) => out.set(ns, [...(out.get(ns) ?? []), cj]);
  for (const j of stack.longhorn?.recurringJobs ?? []) add(stack.longhorn!.namespace, j.name);
  const pg = stack.postgres;
  for (const db of pg?.databases ?? []) add(db.namespace, names.postgresDumpCronJob(db.name));
  for (const name of pg?.restoreDrill?.databases ?? []) add(pg!.databases.find((d) => d.name === name)!.namespace, names.postgresRestoreDrillCronJob(name));
  if (stack.etcd) add(stack.etcd.namespace, names.etcdCronJob);
  for (const m of stack.buckets?.mirrors ?? []) add(m.source.credentialsSecret.namespace, names.mirrorCronJob(m.name));
  const offsite = offsiteOf(stack);
  if (offsite?.runOn === "cluster") add(offsite.namespace, names.offsiteCronJob);
  return out;
}

/** Ancestors of the hub's dataDir (itself included, `/` excluded): one of them is its mount point. */
export function dataDirMountpoints(dataDir: string): string[] {
  const parts = dataDir.split("/").filter(Boolean);
  return parts.map((_, i) => "/" + parts.slice(0, parts.length - i).join("/"));
}

function build(stack: StackConfig): Built[] {
  const alerts = stack.alerts ?? { restoreTestMaxAgeDays: 30, hubDiskUsagePercent: 85, bucketQuotaGiB: undefined };
  const out: Built[] = [];

  // Longhorn: the CronJobs Longhorn creates can report success after failed backups (#13587), so
  // the signals are the Backup objects in Error and the per-volume time of the last backup.
  const lh = stack.longhorn;
  if (lh) {
    const g = "homelab-backup.longhorn";
    out.push(
      rule(
        g,
        "LonghornBackupError",
        "warning",
        "longhorn",
        `max by (volume, backup, recurring_job) (longhorn_backup_state == 4)`,
        {
          summary: "Longhorn backup in Error state",
          description: "Backup {{ $labels.backup }} of Longhorn volume {{ $labels.volume }} (recurring job \"{{ $labels.recurring_job }}\") is in Error state. Longhorn deletes failed backups after failed-backup-ttl (24 h by default); check the backup target and longhorn-manager logs.",
        },
        { watches: "Longhorn Backup objects", firesWhen: "longhorn_backup_state == 4 (Error)", why: "a backup that failed is a missed restore point, whatever the recurring-job CronJob reported" },
      ),
    );
    const backupJobs = lh.recurringJobs.filter((j) => j.task === "backup" || j.task === "backup-force-create");
    if (backupJobs.length > 0) {
      const longest = backupJobs.reduce((a, b) => (cronGaps(b.cron).maxGapSeconds > cronGaps(a.cron).maxGapSeconds ? b : a));
      const threshold = cronGaps(longest.cron).maxGapSeconds + LONGHORN_RUN_ALLOWANCE_SECONDS;
      const why = `longest gap of the backup jobs (\`${longest.name}\`: \`${longest.cron}\`, ${formatSeconds(cronGaps(longest.cron).maxGapSeconds)}) + ${formatSeconds(LONGHORN_RUN_ALLOWANCE_SECONDS)} for the backup to finish (Longhorn jobs have no deadline)`;
      const text = {
        summary: "Longhorn volume has no recent backup",
        description: `Longhorn volume {{ $labels.volume }} (PVC {{ $labels.pvc_namespace }}/{{ $labels.pvc }}) has no completed backup for more than ${formatSeconds(threshold)}, or none at all for that long. Check that the volume is in a backup recurring job or group and attached, and the Longhorn backup target.`,
      };
      const info = { watches: "every Longhorn volume", firesWhen: `last backup older than ${formatSeconds(threshold)}, or none for ${formatSeconds(threshold)}`, thresholdSeconds: threshold, why };
      out.push(rule(g, "LonghornVolumeBackupStale", "critical", "longhorn", `time() - max by (volume, pvc, pvc_namespace) (longhorn_volume_last_backup_at > 0) > ${threshold}`, text, info));
      // 0 means "never backed up"; `for` spares a brand-new volume until its first backup is due.
      out.push(rule(g, "LonghornVolumeBackupStale", "critical", "longhorn", `max by (volume, pvc, pvc_namespace) (longhorn_volume_last_backup_at) == 0`, text, info, formatSeconds(threshold), { stale: "never_succeeded" }));
    }
  }

  const pg = stack.postgres;
  if (pg) {
    const g = "homelab-backup.postgres";
    for (const db of pg.databases) {
      const cron = dumpCron(stack, db);
      out.push(
        ...cronJobRules({
          group: g,
          cls: "postgres",
          failedAlert: "PostgresBackupFailed",
          staleAlert: "PostgresBackupStale",
          failedSeverity: "warning",
          staleSeverity: "critical",
          what: `PostgreSQL dump of \`${db.name}\``,
          namespace: db.namespace,
          cronJob: names.postgresDumpCronJob(db.name),
          cron,
          threshold: cronJobStaleSeconds(cron, JOB_ACTIVE_DEADLINES.postgresDump),
          why: cronWhy(cron) + (db.schedule ? "" : ` (spread in the ${pg.window.start}–${pg.window.end} window: daily)`),
        }),
      );
    }
    const drill = pg.restoreDrill;
    if (drill) {
      const maxAge = alerts.restoreTestMaxAgeDays * 86_400;
      const fromCron = cronJobStaleSeconds(drill.schedule, JOB_ACTIVE_DEADLINES.restoreDrill);
      const threshold = Math.max(maxAge, fromCron);
      const why =
        threshold === maxAge
          ? `alerts.restoreTestMaxAgeDays (${alerts.restoreTestMaxAgeDays} d); the drill's own cadence would allow ${formatSeconds(fromCron)}`
          : `${cronWhy(drill.schedule, DEFAULT_STARTING_DEADLINE_SECONDS + JOB_ACTIVE_DEADLINES.restoreDrill, jobAllowanceText(JOB_ACTIVE_DEADLINES.restoreDrill))}: longer than restoreTestMaxAgeDays (${alerts.restoreTestMaxAgeDays} d), which the schedule could never meet`;
      for (const name of drill.databases) {
        const db = pg.databases.find((d) => d.name === name)!;
        out.push(
          ...cronJobRules({
            group: g,
            cls: "postgres",
            failedAlert: "PostgresRestoreDrillFailed",
            staleAlert: "PostgresRestoreDrillStale",
            failedSeverity: "critical",
            staleSeverity: "warning",
            what: `PostgreSQL restore drill of \`${name}\``,
            namespace: db.namespace,
            cronJob: names.postgresRestoreDrillCronJob(name),
            cron: drill.schedule,
            threshold,
            why,
          }),
        );
      }
    }
  }

  if (stack.etcd) {
    out.push(
      ...cronJobRules({
        group: "homelab-backup.etcd",
        cls: "etcd",
        failedAlert: "EtcdBackupFailed",
        staleAlert: "EtcdBackupStale",
        failedSeverity: "warning",
        staleSeverity: "critical",
        what: "etcd snapshot offload",
        namespace: stack.etcd.namespace,
        cronJob: names.etcdCronJob,
        cron: stack.etcd.schedule,
        threshold: cronJobStaleSeconds(stack.etcd.schedule, JOB_ACTIVE_DEADLINES.etcd),
        why: cronWhy(stack.etcd.schedule),
      }),
    );
  }

  const velero = stack.velero;
  if (velero) {
    const g = "homelab-backup.velero";
    const allowance = velero.fsBackup ? VELERO_FS_BACKUP_ALLOWANCE_SECONDS : VELERO_OBJECTS_ALLOWANCE_SECONDS;
    const allowanceText = velero.fsBackup ? `${formatSeconds(allowance)} (Velero's fs-backup timeout)` : `${formatSeconds(allowance)} for an objects-only backup`;
    for (const s of velero.schedules) {
      const schedule = names.veleroSchedule(s.name);
      const gap = cronGaps(s.cron).maxGapSeconds;
      const threshold = gap + allowance;
      const window = Math.min(gap, MAX_FAILURE_WINDOW_SECONDS);
      const sel = `{schedule=${q(schedule)}}`;
      out.push(
        rule(
          g,
          "VeleroBackupFailed",
          "warning",
          "velero",
          `sum by (schedule) (increase({__name__=~"velero_backup_failure_total|velero_backup_validation_failure_total", schedule=${q(schedule)}}[${formatSeconds(window)}])) > 0`,
          { summary: "Velero backup failed", description: `A backup of Velero schedule {{ $labels.schedule }} failed (or failed validation) in the last ${formatSeconds(window)}. See \`velero backup describe\` and \`velero backup logs\` of the latest backup.` },
          { watches: `Velero schedule \`${schedule}\``, firesWhen: `failure or validation-failure counter increased within ${formatSeconds(window)}`, why: `one schedule interval (at most 1 day): the alert lasts until the next run is due` },
          undefined,
          { schedule },
        ),
        rule(
          g,
          "VeleroBackupPartiallyFailed",
          "warning",
          "velero",
          `sum by (schedule) (increase(velero_backup_partial_failure_total${sel}[${formatSeconds(window)}])) > 0`,
          { summary: "Velero backup partially failed", description: `A backup of Velero schedule {{ $labels.schedule }} ended PartiallyFailed in the last ${formatSeconds(window)}: some items or pod volumes are missing from it. See \`velero backup describe --details\`.` },
          { watches: `Velero schedule \`${schedule}\``, firesWhen: `partial-failure counter increased within ${formatSeconds(window)}`, why: "PartiallyFailed backups do not count as successful, but are easy to miss" },
          undefined,
          { schedule },
        ),
      );
      const text = {
        summary: "Velero backup is stale",
        description: `Velero schedule {{ $labels.schedule }} (\`${s.cron}\` UTC) has had no completed backup for more than ${formatSeconds(threshold)}, or none at all for that long.`,
      };
      const info = { watches: `Velero schedule \`${schedule}\``, firesWhen: `last completed backup older than ${formatSeconds(threshold)}, or none for ${formatSeconds(threshold)}`, thresholdSeconds: threshold, why: cronWhy(s.cron, allowance, allowanceText) };
      out.push(rule(g, "VeleroBackupStale", "critical", "velero", `time() - max by (schedule) (velero_backup_last_successful_timestamp${sel}) > ${threshold}`, text, info, undefined, { schedule }));
      // The timestamp is absent until the first success (and last_status reads 1 for a schedule that never ran).
      out.push(rule(g, "VeleroBackupStale", "critical", "velero", `absent(velero_backup_last_successful_timestamp${sel})`, text, info, formatSeconds(threshold), { schedule, ...{ stale: "never_succeeded" } }));
    }
    out.push(
      rule(
        g,
        "VeleroBackupStorageLocationUnavailable",
        "critical",
        "velero",
        `min by (backup_location_name) (velero_backup_location_status_gauge) == 0`,
        { summary: "Velero backup storage location unavailable", description: "Velero BackupStorageLocation {{ $labels.backup_location_name }} has been unavailable for 15 minutes: no backup can be written. Check `velero backup-location get` (credentials, plugin, checksumAlgorithm)." },
        { watches: "Velero BackupStorageLocations", firesWhen: "velero_backup_location_status_gauge == 0 for 15m", why: "Velero re-validates every minute; 15 minutes rides out a hub restart" },
        "15m",
      ),
    );
  }

  const mirrors = stack.buckets?.mirrors ?? [];
  for (const m of mirrors) {
    out.push(
      ...cronJobRules({
        group: "homelab-backup.buckets",
        cls: "buckets",
        failedAlert: "BucketMirrorFailed",
        staleAlert: "BucketMirrorStale",
        failedSeverity: "warning",
        staleSeverity: "critical",
        what: `Mirror of bucket \`${m.source.bucket}\` (\`${m.name}\`)`,
        namespace: m.source.credentialsSecret.namespace,
        cronJob: names.mirrorCronJob(m.name),
        cron: m.schedule,
        threshold: cronJobStaleSeconds(m.schedule, JOB_ACTIVE_DEADLINES.mirror),
        why: cronWhy(m.schedule, DEFAULT_STARTING_DEADLINE_SECONDS + JOB_ACTIVE_DEADLINES.mirror, jobAllowanceText(JOB_ACTIVE_DEADLINES.mirror)),
      }),
    );
  }

  const offsite = offsiteOf(stack);
  if (offsite?.runOn === "cluster") {
    out.push(
      ...cronJobRules({
        group: "homelab-backup.offsite",
        cls: "offsite",
        failedAlert: "OffsiteBackupFailed",
        staleAlert: "OffsiteBackupStale",
        failedSeverity: "warning",
        staleSeverity: "critical",
        what: "Off-site encrypted copy",
        namespace: offsite.namespace,
        cronJob: names.offsiteCronJob,
        cron: offsite.schedule,
        threshold: cronJobStaleSeconds(offsite.schedule, JOB_ACTIVE_DEADLINES.offsite),
        why: cronWhy(offsite.schedule, DEFAULT_STARTING_DEADLINE_SECONDS + JOB_ACTIVE_DEADLINES.offsite, jobAllowanceText(JOB_ACTIVE_DEADLINES.offsite)),
      }),
    );
  } else if (offsite) {
    const g = "homelab-backup.offsite";
    const threshold = cronGaps(offsite.schedule).maxGapSeconds + OFFSITE_HUB_RUN_ALLOWANCE_SECONDS;
    const why = cronWhy(offsite.schedule, OFFSITE_HUB_RUN_ALLOWANCE_SECONDS, `${formatSeconds(OFFSITE_HUB_RUN_ALLOWANCE_SECONDS)} for the upload (the hub's timer has no deadline)`);
    out.push(
      rule(
        g,
        "OffsiteBackupFailed",
        "warning",
        "offsite",
        `min by (instance) (${metrics.offsiteLastRunSuccess}) == 0`,
        { summary: "Off-site encrypted copy failed", description: `The last off-site copy run on the hub ({{ $labels.instance }}) failed. See \`journalctl -u ${names.offsiteUnit}.service\` on the hub.` },
        { watches: `systemd timer ${names.offsiteUnit} on the hub (textfile metrics)`, firesWhen: `${metrics.offsiteLastRunSuccess} == 0`, why: "the last run failed; the next successful run clears it" },
      ),
    );
    const text = {
      summary: "Off-site encrypted copy is stale",
      description: `The hub's off-site copy (\`${offsite.schedule}\` UTC) has not succeeded for more than ${formatSeconds(threshold)}, or never did for that long (or the hub's node-exporter textfile metrics are missing). See \`systemctl status ${names.offsiteUnit}.timer\` on the hub.`,
    };
    const info = { watches: `systemd timer ${names.offsiteUnit} on the hub (textfile metrics)`, firesWhen: `last success older than ${formatSeconds(threshold)}, or none for ${formatSeconds(threshold)}`, thresholdSeconds: threshold, why };
    out.push(rule(g, "OffsiteBackupStale", "critical", "offsite", `time() - max by (instance) (${metrics.offsiteLastSuccess} > 0) > ${threshold}`, text, info));
    out.push(rule(g, "OffsiteBackupStale", "critical", "offsite", `(max by (instance) (${metrics.offsiteLastSuccess}) == 0) or absent(${metrics.offsiteLastSuccess})`, text, info, formatSeconds(threshold), { stale: "never_succeeded" }));
  }

  // Jobs of every backup CronJob (and Velero's Kopia maintenance Jobs, #8593).
  const cronJobs = backupCronJobs(stack);
  if (cronJobs.size > 0 || velero) {
    const g = "homelab-backup.jobs";
    const ours = cronJobs.size > 0 ? jobsOf(cronJobs) : undefined;
    const oomPods = `label_replace(max by (namespace, pod, container) (kube_pod_container_status_terminated_reason{reason="OOMKilled"} == 1) * on (namespace, pod) group_left (owner_name) max by (namespace, pod, owner_name) (kube_pod_owner{owner_kind="Job"}), "job_name", "$1", "owner_name", "(.+)")`;
    const oomParts: string[] = [];
    if (ours) oomParts.push(`max by (namespace, cronjob, job_name, container) (${oomPods} * on (namespace, job_name) group_left (cronjob) ${ours})`);
    if (velero) oomParts.push(`max by (namespace, job_name, container) (${oomPods.replace('reason="OOMKilled"', `namespace=${q(velero.namespace)}, reason="OOMKilled"`)})`);
    out.push(
      rule(
        g,
        "BackupJobOOMKilled",
        "warning",
        "jobs",
        oomParts.join("\nor\n"),
        { summary: "Backup container OOMKilled", description: "Container {{ $labels.container }} of backup Job {{ $labels.namespace }}/{{ $labels.job_name }} was killed for exceeding its memory limit. Raise the limit or reduce what the job holds in memory." },
        { watches: `pods of the backup CronJobs${velero ? " and Velero's maintenance Jobs" : ""}`, firesWhen: "a container terminated with reason OOMKilled (while the pod exists)", why: "an OOM kill ends a backup run early; it stays visible until the Job's TTL removes the pod" },
      ),
    );
    if (ours) {
      out.push(
        rule(
          g,
          "BackupJobDeadlineExceeded",
          "warning",
          "jobs",
          `max by (namespace, cronjob, job_name) (${ours} * on (namespace, job_name) group_left () (max by (namespace, job_name) (kube_job_status_failed{reason="DeadlineExceeded"}) == 1))`,
          { summary: "Backup job exceeded its deadline", description: "Job {{ $labels.namespace }}/{{ $labels.job_name }} of CronJob {{ $labels.cronjob }} ran longer than its activeDeadlineSeconds and was killed: the backup is growing or the hub is slow." },
          { watches: "Jobs of the backup CronJobs", firesWhen: "a Job failed with reason DeadlineExceeded", why: `runs are killed after activeDeadlineSeconds (${formatSeconds(DEFAULT_ACTIVE_DEADLINE_SECONDS)} by default)` },
        ),
      );
    }
  }

  if (stack.hub.kind === "pi" && stack.hub.dataDir) {
    const g = "homelab-backup.hub";
    const mp = `mountpoint=~${q(regexAlternatives(dataDirMountpoints(stack.hub.dataDir)))}`;
    const pct = alerts.hubDiskUsagePercent;
    out.push(
      rule(
        g,
        "BackupHubDiskUsageHigh",
        "warning",
        "hub",
        `max by (instance, mountpoint) (100 * (1 - node_filesystem_avail_bytes{${mp}} / node_filesystem_size_bytes{${mp}})) > ${pct}`,
        { summary: "Backup hub disk almost full", description: `The filesystem {{ $labels.mountpoint }} on {{ $labels.instance }}, which holds the hub's data (${stack.hub.dataDir}), is more than ${pct}% full. Shorten retention or add disk before backups start failing.` },
        { watches: `the hub's data disk (${stack.hub.dataDir})`, firesWhen: `used > ${pct}% for 15m`, why: "alerts.hubDiskUsagePercent" },
        "15m",
      ),
    );
    if (alerts.bucketQuotaGiB !== undefined && stack.hub.server === "minio") {
      const bytes = Math.round(alerts.bucketQuotaGiB * 1024 ** 3);
      out.push(
        rule(
          g,
          "BackupBucketQuotaExceeded",
          "warning",
          "hub",
          `max by (bucket) (minio_bucket_usage_total_bytes{bucket=${q(stack.hub.bucket)}}) > ${bytes}`,
          { summary: "Backup bucket above its quota", description: `Bucket {{ $labels.bucket }} holds more than ${alerts.bucketQuotaGiB} GiB (alerts.bucketQuotaGiB).` },
          { watches: `bucket \`${stack.hub.bucket}\` (MinIO /minio/v2/metrics/bucket)`, firesWhen: `minio_bucket_usage_total_bytes > ${alerts.bucketQuotaGiB} GiB for 15m`, why: "alerts.bucketQuotaGiB" },
          "15m",
        ),
      );
    }
  }
  return out;
}

/** The rule file `groups` (and PrometheusRule `spec.groups`) of the stack, one group per data class. */
export function alertRuleGroups(stack: StackConfig): RuleGroup[] {
  const groups = new Map<string, AlertRule[]>();
  for (const b of build(stack)) groups.set(b.group, [...(groups.get(b.group) ?? []), b.rule]);
  return [...groups.entries()].map(([name, rules]) => ({ name, rules }));
}

/** Every alert (one entry per rule) with its threshold and the reason for it. */
export function alertInfos(stack: StackConfig): AlertInfo[] {
  return build(stack).map((b) => b.info);
}

/** The distinct alert names of the stack, in rule order. */
export function alertNames(stack: StackConfig): string[] {
  return [...new Set(build(stack).map((b) => b.rule.alert))];
}

/** The plan section: every alert with its threshold and why. */
export function alertsPlan(stack: StackConfig): PlanSection {
  const seen = new Set<string>();
  const rows: string[] = [];
  for (const i of alertInfos(stack)) {
    const key = `${i.alert}|${i.watches}|${i.firesWhen}`;
    if (seen.has(key)) continue;
    seen.add(key);
    rows.push(`| [${i.alert}](${runbookUrl(i.alert)}) | ${i.severity} | ${i.watches} | ${i.firesWhen} | ${i.why} |`.replace(/\n/g, " "));
  }
  const a = stack.alerts;
  const details = [
    `PrometheusRule in \`${a?.namespace ?? "monitoring"}\` with labels ${Object.entries(a?.ruleLabels ?? {}).map(([k, v]) => `\`${k}: ${v}\``).join(", ") || "none"}. Staleness thresholds follow each schedule's longest gap plus how long a run may take; a backup that never succeeded fires once it is older than its threshold.`,
    "",
    "| Alert | Severity | Watches | Fires when | Why this threshold |",
    "| --- | --- | --- | --- | --- |",
    ...rows,
  ].join("\n");
  return { title: "Alerts", rows: [], details, restore: "" };
}

// ---------------------------------------------------------------------------------------------
// Grafana dashboard
// ---------------------------------------------------------------------------------------------

export const DASHBOARD_UID = "homelab-backup";

interface Target {
  expr: string;
  legendFormat: string;
  refId: string;
  instant?: boolean;
}

/** The PromQL of every dashboard panel, so tests can check it with promtool. */
export function dashboardQueries(stack: StackConfig): { title: string; unit: string; type: "table" | "timeseries"; targets: { expr: string; legend: string }[] }[] {
  const cronJobs = backupCronJobs(stack);
  const cjSel = [...cronJobs.entries()].map(([ns, cjs]) => `{namespace=${q(ns)}, cronjob=~${q(regexAlternatives(cjs))}}`);
  const cronMetric = (m: string) => cjSel.map((s) => `${m}${s}`).join(" or ");
  const panels: ReturnType<typeof dashboardQueries> = [];
  const last: { expr: string; legend: string }[] = [];
  const age: { expr: string; legend: string }[] = [];
  if (cjSel.length) {
    last.push({ expr: `max by (namespace, cronjob) (${cronMetric("kube_cronjob_status_last_successful_time")}) * 1000`, legend: "{{namespace}}/{{cronjob}}" });
    age.push({ expr: `time() - max by (namespace, cronjob) (${cronMetric("kube_cronjob_status_last_successful_time")})`, legend: "{{namespace}}/{{cronjob}}" });
  }
  if (stack.velero) {
    last.push({ expr: `max by (schedule) (velero_backup_last_successful_timestamp{schedule!=""}) * 1000`, legend: "velero {{schedule}}" });
    age.push({ expr: `time() - max by (schedule) (velero_backup_last_successful_timestamp{schedule!=""})`, legend: "velero {{schedule}}" });
  }
  if (stack.longhorn) {
    last.push({ expr: `max by (volume) (longhorn_volume_last_backup_at > 0) * 1000`, legend: "longhorn {{volume}}" });
    age.push({ expr: `time() - max by (volume) (longhorn_volume_last_backup_at > 0)`, legend: "longhorn {{volume}}" });
  }
  const offsite = offsiteOf(stack);
  if (offsite?.runOn === "hub") {
    last.push({ expr: `max(${metrics.offsiteLastSuccess}) * 1000`, legend: "offsite (hub)" });
    age.push({ expr: `time() - max(${metrics.offsiteLastSuccess})`, legend: "offsite (hub)" });
  }
  if (last.length) {
    panels.push({ title: "Last successful backup", unit: "dateTimeAsIso", type: "table", targets: last });
    panels.push({ title: "Age of last successful backup", unit: "s", type: "timeseries", targets: age });
  }
  const sizes: { expr: string; legend: string }[] = [];
  if (stack.velero) sizes.push({ expr: `max by (schedule) (velero_backup_tarball_size_bytes{schedule!=""})`, legend: "velero {{schedule}}" });
  if (stack.longhorn) sizes.push({ expr: `sum by (volume) (longhorn_backup_actual_size_bytes)`, legend: "longhorn {{volume}} (all backups)" });
  if (offsite?.runOn === "hub") sizes.push({ expr: `max(${metrics.offsiteBytes})`, legend: "offsite last run" });
  if (stack.hub.kind === "pi" && stack.hub.server === "minio") sizes.push({ expr: `max by (bucket) (minio_bucket_usage_total_bytes{bucket=${q(stack.hub.bucket)}})`, legend: "bucket {{bucket}}" });
  if (sizes.length) panels.push({ title: "Backup sizes", unit: "bytes", type: "timeseries", targets: sizes });
  const failures: { expr: string; legend: string }[] = [];
  if (cjSel.length) {
    failures.push({
      expr: `sum by (namespace, cronjob) (${jobsOf(cronJobs)} * on (namespace, job_name) group_left () max by (namespace, job_name) (kube_job_failed{condition="true"} == 1))`,
      legend: "failed jobs {{namespace}}/{{cronjob}}",
    });
  }
  if (stack.velero) {
    failures.push({ expr: `sum by (schedule) (increase(velero_backup_failure_total{schedule!=""}[1d]))`, legend: "velero failed {{schedule}}" });
    failures.push({ expr: `sum by (schedule) (increase(velero_backup_partial_failure_total{schedule!=""}[1d]))`, legend: "velero partially failed {{schedule}}" });
  }
  if (stack.longhorn) failures.push({ expr: `count by (volume) (longhorn_backup_state == 4)`, legend: "longhorn error {{volume}}" });
  if (offsite?.runOn === "hub") failures.push({ expr: `1 - min(${metrics.offsiteLastRunSuccess})`, legend: "offsite last run failed" });
  if (failures.length) panels.push({ title: "Failures", unit: "short", type: "timeseries", targets: failures });
  if (stack.hub.kind === "pi" && stack.hub.dataDir) {
    const mp = `mountpoint=~${q(regexAlternatives(dataDirMountpoints(stack.hub.dataDir)))}`;
    panels.push({ title: "Hub disk usage", unit: "percent", type: "timeseries", targets: [{ expr: `max by (instance, mountpoint) (100 * (1 - node_filesystem_avail_bytes{${mp}} / node_filesystem_size_bytes{${mp}}))`, legend: "{{instance}} {{mountpoint}}" }] });
  }
  return panels;
}

/** The Grafana dashboard (JSON model, schemaVersion 39) the sidecar loads from the ConfigMap. */
export function alertsDashboard(stack: StackConfig): Record<string, unknown> {
  const ds = { type: "prometheus", uid: "${datasource}" };
  const panels = dashboardQueries(stack).map((p, i) => {
    const targets: Target[] = p.targets.map((t, k) => ({ expr: t.expr, legendFormat: t.legend, refId: String.fromCharCode(65 + k), ...(p.type === "table" ? { instant: true } : {}) }));
    return {
      id: i + 1,
      title: p.title,
      type: p.type,
      datasource: ds,
      gridPos: { h: 8, w: 12, x: (i % 2) * 12, y: Math.floor(i / 2) * 8 },
      fieldConfig: { defaults: { unit: p.unit }, overrides: [] },
      options: p.type === "table" ? { showHeader: true } : { legend: { displayMode: "table", placement: "bottom" }, tooltip: { mode: "multi" } },
      targets: targets.map((t) => ({ ...t, datasource: ds })),
      ...(p.type === "table" ? { transformations: [{ id: "reduce", options: { reducers: ["lastNotNull"] } }] } : {}),
    };
  });
  return {
    uid: DASHBOARD_UID,
    title: "Homelab backups",
    tags: ["homelab-backup", "backups"],
    timezone: "utc",
    schemaVersion: 39,
    version: 1,
    editable: false,
    time: { from: "now-7d", to: "now" },
    refresh: "5m",
    templating: { list: [{ name: "datasource", type: "datasource", query: "prometheus", label: "Data source", current: {}, hide: 0 }] },
    annotations: { list: [] },
    panels,
  };
}
