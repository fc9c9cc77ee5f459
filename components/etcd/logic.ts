/**
 * etcd snapshots off the cluster: what watches the job (the restore runbooks are in restore.ts). k3s
 * itself takes the snapshots (`--etcd-snapshot-schedule-cron`, default every 12 h, 5 kept); the offload job copies
 * the finished ones to `etcd-snapshots/<node>/` with a `<file>.json` record (size, sha256, check).
 */
import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { DEFAULT_ACTIVE_DEADLINE_SECONDS } from "../core/cronJob.js";
import type { HubConnection } from "../core/hubConnection.js";
import { rcloneS3Provider } from "../core/rclone.js";
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

/**
 * The environment both snapshot jobs (k3s offload.sh, talos-snapshot.sh) upload with: rclone's `hub`
 * remote from environment variables, the writer's key from the job's Secret (keys `accessKeyId`,
 * `secretAccessKey`), and a writable HOME and cache under the memory-backed /tmp.
 */
export function snapshotUploadEnv(
  hub: HubConnection,
  secretName: pulumi.Input<string>,
): k8s.types.input.core.v1.EnvVar[] {
  return [
    { name: "HOME", value: "/tmp" },
    { name: "XDG_CACHE_HOME", value: "/tmp" },
    { name: "RCLONE_CONFIG", value: "/tmp/rclone.conf" },
    { name: "RCLONE_CONFIG_HUB_TYPE", value: "s3" },
    { name: "RCLONE_CONFIG_HUB_PROVIDER", value: rcloneS3Provider(hub.server) },
    { name: "RCLONE_CONFIG_HUB_REGION", value: hub.region },
    ...(hub.kind === "aws" ? [] : [{ name: "RCLONE_CONFIG_HUB_ENDPOINT", value: hub.endpoint }]),
    { name: "RCLONE_CONFIG_HUB_FORCE_PATH_STYLE", value: String(hub.pathStyle) },
    {
      name: "RCLONE_CONFIG_HUB_ACCESS_KEY_ID",
      valueFrom: { secretKeyRef: { name: secretName, key: "accessKeyId" } },
    },
    {
      name: "RCLONE_CONFIG_HUB_SECRET_ACCESS_KEY",
      valueFrom: { secretKeyRef: { name: secretName, key: "secretAccessKey" } },
    },
  ];
}
