/**
 * Names shared between the components that create things and the components that watch them
 * (alerts, dashboard, plan): one definition, so an alert can never watch a job under a stale name.
 */
export const names = {
  /** CronJob that dumps one database, in the database's namespace. */
  postgresDumpCronJob: (db: string) => `pg-dump-${db}`,
  /** CronJob of the restore drill for one database, in that database's namespace. */
  postgresRestoreDrillCronJob: (db: string) => `pg-restore-drill-${db}`,
  /** Job of a restore the operator starts from the dump's CronJob; `stamp` is `$(date +%s)`, 10 digits until 2286. */
  postgresRestoreJob: (db: string, stamp = "$(date +%s)") => `pg-restore-${db}-${stamp}`,
  /** CronJob that offloads etcd snapshots. */
  etcdCronJob: "etcd-offload",
  /** CronJob that mirrors one bucket, in the namespace of its credentials Secret. */
  mirrorCronJob: (mirror: string) => `bucket-mirror-${mirror}`,
  /** CronJob of the restore drill of one mirror (drills.buckets), in the mirror's namespace. */
  mirrorDrillCronJob: (mirror: string) => `drill-buckets-${mirror}`,
  /** CronJob of the off-site copy when it runs in the cluster. */
  offsiteCronJob: "offsite-sync",
  /** systemd units of the off-site copy when it runs on the hub. */
  offsiteUnit: "homelab-backup-offsite",
  /** node-exporter textfile written by the hub's off-site copy. */
  offsiteTextfile: "homelab_backup_offsite.prom",
  /** The Longhorn BackupTarget every volume without backupTargetName uses. */
  longhornBackupTarget: "default",
  /** Velero Schedule object; its name is the `schedule` label of every velero_backup_* metric. */
  veleroSchedule: (schedule: string) => schedule,
  /** Velero BackupStorageLocation. */
  veleroStorageLocation: "default",
} as const;

/** Metrics the project's own jobs publish (textfile collector on the hub). */
export const metrics = {
  offsiteLastSuccess: "homelab_backup_offsite_last_success_timestamp_seconds",
  offsiteLastRun: "homelab_backup_offsite_last_run_timestamp_seconds",
  offsiteLastRunSuccess: "homelab_backup_offsite_last_run_success",
  offsiteBytes: "homelab_backup_offsite_last_run_bytes",
  offsiteFiles: "homelab_backup_offsite_last_run_files",
} as const;

/** Labels every object the stack creates carries. */
export function commonLabels(component: string): Record<string, string> {
  return {
    "app.kubernetes.io/managed-by": "pulumi",
    "app.kubernetes.io/part-of": "homelab-backup",
    "app.kubernetes.io/component": component,
  };
}
