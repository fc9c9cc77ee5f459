/**
 * The homelab-backup components as a library: every component and its Args, and the types a caller
 * needs to build their inputs. Importing this module registers nothing; the stack program is
 * `index.ts` at the repository root.
 */
export { BackupAlerts, type BackupAlertsArgs } from "./alerts/backupAlerts.js";
export { BackupAudit, type BackupAuditArgs } from "./alerts/backupAudit.js";
export { HubArrivals, type HubArrivalsArgs } from "./alerts/hubArrivals.js";
export { RestoreDrills, type RestoreDrillsArgs } from "./drills/restoreDrills.js";
export { EtcdOffload, type EtcdOffloadArgs } from "./etcd/etcdOffload.js";
export { TalosEtcdSnapshot, type TalosEtcdSnapshotArgs } from "./etcd/talosEtcdSnapshot.js";
export { S3FtpBridge, type S3FtpBridgeArgs } from "./ftpBridge/s3FtpBridge.js";
export { BackupHub, type BackupHubArgs } from "./hub/backupHub.js";
export { PiHub, type PiHubArgs } from "./hub/pi/piHub.js";
export { S3Hub, type S3HubArgs } from "./hub/s3/s3Hub.js";
export { LonghornBackupTarget, type LonghornBackupTargetArgs } from "./longhorn/longhornBackupTarget.js";
export { BucketMirror, type BucketMirrorArgs } from "./mirror/bucketMirror.js";
export { OffsiteCronJob, type OffsiteCronJobArgs } from "./offsite/offsiteCronJob.js";
export { OffsiteHubTimer, type OffsiteHubTimerArgs } from "./offsite/offsiteHubTimer.js";
export { PostgresDumpJob, type PostgresDumpJobArgs } from "./postgres/postgresDumpJob.js";
export { PostgresRestoreDrill, type PostgresRestoreDrillArgs } from "./postgres/postgresRestoreDrill.js";
export { Velero, type VeleroArgs } from "./velero/velero.js";

export { backupStack, type SecretLookup } from "./stack.js";
export {
  parseStackConfig,
  StackConfigError,
  type AlertsConfig,
  type DatabaseConfig,
  type EtcdConfig,
  type FtpBridgeConfig,
  type HubConfig,
  type LonghornConfig,
  type MirrorConfig,
  type OffsiteConfig,
  type PostgresConfig,
  type RestoreDrillConfig,
  type StackConfig,
  type VeleroConfig,
} from "./config.js";
export { hubConnection, type HubConnection, type WriterCredentials, type WriterName } from "./core/hubConnection.js";
