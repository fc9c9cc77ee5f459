/** Alert rules of the etcd snapshot offload (composed by components/alerts/rules.ts). */
import type { StackConfig } from "../config.js";
import { cronJobRules, type Built } from "../alerts/ruleHelpers.js";
import { etcdWatch } from "./logic.js";

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
        watch: etcdWatch(stack.etcd.namespace, stack.etcd.schedule),
      }),
    );
  }
  return out;
}
