/**
 * etcd snapshots off the cluster: what watches the job (the restore runbooks are in restore.ts). k3s
 * itself takes the snapshots (`--etcd-snapshot-schedule-cron`, default every 12 h, 5 kept); the offload job copies
 * the finished ones to `etcd-snapshots/<node>/` with a `<file>.json` record (size, sha256, check).
 */
import { DEFAULT_ACTIVE_DEADLINE_SECONDS } from "../core/cronJob.js";
import { names } from "../core/names.js";
import { cronJobWatch, type CronJobWatch } from "../core/watch.js";

/** Where k3s writes its etcd snapshots. */
export const DEFAULT_SNAPSHOT_DIR = "/var/lib/rancher/k3s/server/db/snapshots";

/** activeDeadlineSeconds of the offload Job: it uploads a few snapshots of tens of MiB. */
export const ETCD_ACTIVE_DEADLINE_SECONDS = DEFAULT_ACTIVE_DEADLINE_SECONDS;

/** What watches the offload CronJob (built by EtcdOffload, read by the alert rules). */
export function etcdWatch(namespace: string, schedule: string): CronJobWatch {
  return cronJobWatch(namespace, names.etcdCronJob, schedule, ETCD_ACTIVE_DEADLINE_SECONDS);
}
