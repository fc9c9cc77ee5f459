/**
 * What a component that creates a backup CronJob hands to whoever watches it (alert rules, plan):
 * the CronJob it made, the schedule it really runs on, and its deadlines. Built once, by the
 * component's own area (`components/<area>/logic.ts`), from the same values the CronJob gets.
 */
import { DEFAULT_STARTING_DEADLINE_SECONDS } from "./cronJob.js";

/** kube-state-metrics' series of a CronJob's last success: what the staleness alert reads. */
export const CRONJOB_SUCCESS_METRIC = "kube_cronjob_status_last_successful_time";

export interface CronJobWatch {
  /** Namespace of the CronJob. */
  readonly namespace: string;
  /** Name of the CronJob. */
  readonly cronJob: string;
  /** The CronJob's `spec.schedule` (5-field cron, UTC). */
  readonly schedule: string;
  /** The Job's `activeDeadlineSeconds`. */
  readonly activeDeadlineSeconds: number;
  /** The CronJob's `startingDeadlineSeconds`. */
  readonly startingDeadlineSeconds: number;
  /** The metric whose age says when the CronJob last succeeded. */
  readonly metric: string;
}

/** The watch of one CronJob, with the starting deadline every backup CronJob gets (core/cronJob.ts). */
export function cronJobWatch(
  namespace: string,
  cronJob: string,
  schedule: string,
  activeDeadlineSeconds: number,
): CronJobWatch {
  return {
    namespace,
    cronJob,
    schedule,
    activeDeadlineSeconds,
    startingDeadlineSeconds: DEFAULT_STARTING_DEADLINE_SECONDS,
    metric: CRONJOB_SUCCESS_METRIC,
  };
}

/**
 * Every backup CronJob's watch in a stack, by class: resolved once (components/model.ts
 * `stackWatches`, from the same values the components give their CronJobs) and read by the alert
 * rules and the plan instead of being worked out again from the stack file.
 */
export interface StackWatches {
  /** PostgreSQL dumps, by database name. */
  readonly dumps: ReadonlyMap<string, CronJobWatch>;
  /** PostgreSQL restore drills, by database name. */
  readonly postgresDrills: ReadonlyMap<string, CronJobWatch>;
  /** The etcd offload (k3s or Talos). */
  readonly etcd?: CronJobWatch;
  /** Bucket mirrors, by mirror name. */
  readonly mirrors: ReadonlyMap<string, CronJobWatch>;
  /** The off-site copy when it runs as a CronJob in the cluster. */
  readonly offsiteJob?: CronJobWatch;
}
