/**
 * etcd snapshots off the cluster: the restore runbook and the plan section. k3s itself takes the
 * snapshots (`--etcd-snapshot-schedule-cron`, default every 12 h, 5 kept); the offload job copies
 * the finished ones to `etcd-snapshots/<node>/` with a `<file>.json` record (size, sha256, check).
 */
import { PREFIXES } from "../config.js";
import { DEFAULT_ACTIVE_DEADLINE_SECONDS } from "../core/cronJob.js";
import { type HubConnection } from "../core/hubConnection.js";
import { names } from "../core/names.js";
import { cronJobWatch, type CronJobWatch } from "../core/watch.js";

export const DEFAULT_SNAPSHOT_DIR = "/var/lib/rancher/k3s/server/db/snapshots";

/** activeDeadlineSeconds of the offload Job: it uploads a few snapshots of tens of MiB. */
export const ETCD_ACTIVE_DEADLINE_SECONDS = DEFAULT_ACTIVE_DEADLINE_SECONDS;

/** What watches the offload CronJob (built by EtcdOffload, read by the alert rules). */
export function etcdWatch(namespace: string, schedule: string): CronJobWatch {
  return cronJobWatch(namespace, names.etcdCronJob, schedule, ETCD_ACTIVE_DEADLINE_SECONDS);
}

/** `aws s3` endpoint flag for a non-AWS hub (empty on AWS). */
function endpointFlag(hub: HubConnection): string {
  return hub.kind === "aws" ? "" : ` --endpoint-url ${hub.endpoint}`;
}

/**
 * The k3s disaster-recovery procedure (cluster reset from a snapshot) with the snapshot fetched from the hub and checked
 * against its record before anything is reset.
 */
export function etcdRestoreRunbook(hub: HubConnection, snapshotDir: string = DEFAULT_SNAPSHOT_DIR): string {
  const base = `s3://${hub.bucket}/${PREFIXES.etcd}`;
  const ep = endpointFlag(hub);
  return [
    "WARNING: an etcd restore resets the whole cluster state to the snapshot time; everything after it is lost.",
    "",
    "1. Pick a snapshot (any server's snapshot restores the whole cluster):",
    "```sh",
    `aws s3 ls --recursive ${base}${ep} | grep -v '/.partial/' | grep -v '.json$'`,
    "```",
    "2. On the server that will lead the restore, download the snapshot and its record, and check the sha256:",
    "```sh",
    "NODE=<node>; SNAP=<snapshot file>",
    `sudo mkdir -p ${snapshotDir}`,
    `aws s3 cp ${base}$NODE/$SNAP /tmp/$SNAP${ep}`,
    `aws s3 cp ${base}$NODE/$SNAP.json /tmp/$SNAP.json${ep}`,
    `expected=$(grep -o '"sha256":"[0-9a-f]*"' /tmp/$SNAP.json | grep -o '[0-9a-f]\\{64\\}')`,
    `echo "$expected  /tmp/$SNAP" | sha256sum -c -   # must print OK; stop here otherwise`,
    `sudo install -m 0600 -o root -g root /tmp/$SNAP ${snapshotDir}/$SNAP`,
    "```",
    "3. Stop k3s on every server, then reset the cluster from the snapshot on the leading server:",
    "```sh",
    "sudo systemctl stop k3s            # on every server",
    `sudo k3s server --cluster-reset --cluster-reset-restore-path=${snapshotDir}/$SNAP`,
    "sudo systemctl start k3s",
    "```",
    "4. On every other server, remove the stale etcd data and rejoin:",
    "```sh",
    "sudo systemctl stop k3s",
    "sudo rm -rf /var/lib/rancher/k3s/server/db",
    "sudo systemctl start k3s",
    "```",
    "5. Check: `sudo k3s kubectl get nodes` and `sudo k3s kubectl get pods -A`.",
  ].join("\n");
}
