/** Alert rules of the etcd snapshot offload (composed by components/alerts/rules.ts). */
import type { StackConfig } from "../config.js";
import { names } from "../core/names.js";
import { cronJobRules, cronJobStaleSeconds, cronWhy, JOB_ACTIVE_DEADLINES, type Built } from "../alerts/ruleHelpers.js";

/** Failure and staleness of the offload CronJob. */
export function etcdAlertRules(stack: StackConfig): Built[] {
  const out: Built[] = [];
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
  return out;
}
