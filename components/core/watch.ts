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
