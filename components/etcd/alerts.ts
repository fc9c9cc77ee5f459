/** Alert rules of the etcd snapshot offload (composed by components/alerts/rules.ts). */
import { cronJobRules, type Built } from "../alerts/ruleHelpers.js";
import type { StackWatches } from "../core/watch.js";

/** Failure and staleness of the offload CronJob. */
export function etcdAlertRules(watches: StackWatches): Built[] {
  const out: Built[] = [];
  if (watches.etcd) {
    out.push(
      ...cronJobRules({
        group: "homelab-backup.etcd",
        cls: "etcd",
        failedAlert: "EtcdBackupFailed",
        staleAlert: "EtcdBackupStale",
        failedSeverity: "warning",
        staleSeverity: "critical",
        what: "etcd snapshot offload",
        watch: watches.etcd,
      }),
    );
  }
  return out;
}
