/**
 * `alerts.jobRunningTooLongMinutes`: warn while a backup Job is still running past that, before its
 * activeDeadlineSeconds kills it (BackupJobDeadlineExceeded fires only afterwards).
 */
import { jobsOf, rule, SERIES_NAMESPACE, type Built } from "./ruleHelpers.js";

/** One rule over the Jobs of every backup CronJob (namespace -> CronJob names). */
export function longRunningJobRules(cronJobs: ReadonlyMap<string, readonly string[]>, minutes: number): Built[] {
  if (![...cronJobs.values()].some((c) => c.length > 0)) return [];
  const seconds = Math.round(minutes * 60);
  const running = `(time() - max by (namespace, job_name) (kube_job_status_start_time)) > ${seconds} and on (namespace, job_name) max by (namespace, job_name) (kube_job_status_active) > 0`;
  return [
    rule(
      "homelab-backup.jobs",
      "BackupJobRunningTooLong",
      "warning",
      "jobs",
      `max by (namespace, cronjob, job_name) (${jobsOf(cronJobs)} * on (namespace, job_name) group_left () (${running}))`,
      {
        summary: "Backup job is running for too long",
        description: `Job {{ $labels.namespace }}/{{ $labels.job_name }} of CronJob {{ $labels.cronjob }} has been running for more than ${minutes} minutes (alerts.jobRunningTooLongMinutes): the backup is growing or the hub is slow, and the deadline may kill it.`,
      },
      {
        watches: "Jobs of the backup CronJobs",
        firesWhen: `a Job still active after ${minutes} min`,
        why: "alerts.jobRunningTooLongMinutes: a warning before the deadline kills the run",
      },
      undefined,
      SERIES_NAMESPACE,
    ),
  ];
}
