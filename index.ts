/**
 * homelab-backup: the whole backup stack of a homelab cluster from one stack file.
 * Config in (validated before anything is registered), components out, outputs exported.
 */
import * as pulumi from "@pulumi/pulumi";
import { BackupAlerts } from "./components/alerts/backupAlerts.js";
import { BackupHub } from "./components/hub/backupHub.js";
import { BucketMirror } from "./components/mirror/bucketMirror.js";
import { EtcdOffload } from "./components/etcd/etcdOffload.js";
import { LonghornBackupTarget } from "./components/longhorn/longhornBackupTarget.js";
import { OffsiteSync } from "./components/offsite/offsiteSync.js";
import { PostgresDumpJob } from "./components/postgres/postgresDumpJob.js";
import { PostgresRestoreDrill } from "./components/postgres/postgresRestoreDrill.js";
import { S3FtpBridge } from "./components/ftpBridge/s3FtpBridge.js";
import { Velero } from "./components/velero/velero.js";
import { offsiteOf, parseStackConfig, PREFIXES, StackConfigError } from "./components/config.js";
import { dumpSchedules } from "./components/postgres/logic.js";
import { prefixLifecycles } from "./components/hub/retention.js";

const stack = (() => {
  try {
    return parseStackConfig(pulumi.runtime.allConfig());
  } catch (e) {
    // A RunError prints the message alone: every bad key path, no stack trace.
    throw e instanceof StackConfigError ? new pulumi.RunError(e.message) : e;
  }
})();
const config = new pulumi.Config();
const offsite = offsiteOf(stack);

const hub = new BackupHub("hub", {
  hub: stack.hub,
  lifecycles: prefixLifecycles(stack),
  sshPrivateKey: config.getSecret("hubSshPrivateKey"),
  adminPassword: config.getSecret("hubAdminPassword"),
  offsitePrefixes: offsite?.prefixes,
});
const s3 = hub.connection;

const bridge = stack.ftpBridge
  ? new S3FtpBridge("ftp-bridge", { config: stack.ftpBridge, ftpPassword: config.requireSecret("ftpBridgePassword"), encryptionKey: config.getSecret("ftpBridgeEncryptionKey") })
  : undefined;

const longhorn = stack.longhorn
  ? new LonghornBackupTarget("longhorn", {
      config: stack.longhorn,
      target:
        stack.longhorn.target === "ftpBridge" && bridge
          ? { endpoint: bridge.endpoint, bucket: stack.ftpBridge!.bucket, region: stack.ftpBridge!.region, prefix: "longhorn/", pathStyle: true, accessKeyId: bridge.accessKeyId, secretAccessKey: bridge.secretAccessKey }
          : { endpoint: s3.endpoint, bucket: s3.bucket, region: s3.region, prefix: PREFIXES.longhorn, pathStyle: s3.pathStyle, accessKeyId: hub.writers.longhorn.accessKeyId, secretAccessKey: hub.writers.longhorn.secretAccessKey },
    })
  : undefined;

const schedules = stack.postgres ? dumpSchedules(stack.postgres) : new Map<string, string>();
const dumps = new Map(
  (stack.postgres?.databases ?? []).map((db) => [db.name, new PostgresDumpJob(`pg-${db.name}`, { database: db, schedule: schedules.get(db.name)!, hub: s3, credentials: hub.writers.postgres })]),
);
const drill = stack.postgres?.restoreDrill
  ? new PostgresRestoreDrill("pg-restore-drill", { drill: stack.postgres.restoreDrill, databases: stack.postgres.databases, hub: s3, credentials: hub.writers.postgres })
  : undefined;

const etcd = stack.etcd ? new EtcdOffload("etcd", { config: stack.etcd, hub: s3, credentials: hub.writers.etcd }) : undefined;

const velero = stack.velero
  ? new Velero("velero", { config: stack.velero, hub: s3, credentials: hub.writers.velero, serviceMonitorLabels: stack.alerts?.ruleLabels })
  : undefined;

const mirrors = (stack.buckets?.mirrors ?? []).map((m) => new BucketMirror(`mirror-${m.name}`, { mirror: m, hub: s3, credentials: hub.writers.buckets }));

const offsiteSync = offsite
  ? new OffsiteSync("offsite", {
      config: offsite,
      hub: s3,
      hubConfig: stack.hub,
      ftpPassword: config.requireSecret("offsiteFtpPassword"),
      encryptionKey: config.getSecret("offsiteEncryptionKey"),
      reader: hub.writers.offsite,
      sshPrivateKey: config.getSecret("hubSshPrivateKey"),
    })
  : undefined;

const alerts = stack.alerts ? new BackupAlerts("alerts", { config: stack.alerts, stack }) : undefined;

export const hubEndpoint = hub.endpoint;
export const hubBucket = hub.bucket;
export const hubRegion = hub.region;
export const hubAdminPassword = hub.adminCredentials?.password;
export const writerAccessKeyIds = pulumi.secret(Object.fromEntries(Object.entries(hub.writers).map(([k, w]) => [k, w.accessKeyId])));
export const longhornBackupTargetUrl = longhorn?.backupTargetUrl;
export const postgresRestoreCommands = Object.fromEntries([...dumps].map(([db, job]) => [db, job.restoreCommand]));
export const postgresRestoreDrills = drill?.cronJobNames;
export const etcdRestoreRunbook = etcd?.restoreRunbook;
export const veleroSchedules = velero?.scheduleNames;
export const bucketMirrors = mirrors.map((m) => m.cronJobName);
export const offsiteEncryptionKey = offsiteSync?.encryptionKey;
export const ftpBridgeEncryptionKey = bridge?.encryptionKey;
export const offsiteRestoreCommand = offsiteSync?.restoreCommand;
export const alertNames = alerts?.alertNames;
