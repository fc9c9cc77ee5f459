/**
 * The whole backup stack from a parsed stack file: which components to build, and how they connect
 * (every data class writes to the hub with its own writer credentials). `index.ts` calls this with
 * the stack configuration and exports what the components built.
 */
import type * as pulumi from "@pulumi/pulumi";
import { BackupAlerts } from "./alerts/backupAlerts.js";
import { offsiteOf, type SecretKey, type StackConfig } from "./config.js";
import { PREFIXES } from "./core/schema.js";
import { drillReadPrefixes } from "./drills/logic.js";
import { RestoreDrills } from "./drills/restoreDrills.js";
import { EtcdOffload } from "./etcd/etcdOffload.js";
import { S3FtpBridge } from "./ftpBridge/s3FtpBridge.js";
import { BackupHub } from "./hub/backupHub.js";
import { prefixLifecycles } from "./hub/retention.js";
import { hubWritersInUse } from "./hub/s3Stack.js";
import { LonghornBackupTarget } from "./longhorn/longhornBackupTarget.js";
import { BucketMirror } from "./mirror/bucketMirror.js";
import { OffsiteSync } from "./offsite/offsiteSync.js";
import { dumpSchedules } from "./postgres/logic.js";
import { PostgresDumpJob } from "./postgres/postgresDumpJob.js";
import { PostgresRestoreDrill } from "./postgres/postgresRestoreDrill.js";
import { VELERO_PREFIX } from "./velero/logic.js";
import { Velero } from "./velero/velero.js";

/** A secret config value (`homelab-backup:<key>`), or undefined when it is not set. */
export type SecretLookup = (key: SecretKey) => pulumi.Output<string> | undefined;

/** Builds every component the stack file asks for; `secret` reads the secret config keys. */
export function backupStack(stack: StackConfig, secret: SecretLookup) {
  // The schema has already refused a stack file that lacks a secret its sections need.
  const required = (key: SecretKey) => {
    const value = secret(key);
    if (!value) throw new Error(`homelab-backup:${key} is required`);
    return value;
  };
  const offsite = offsiteOf(stack);

  const hub = new BackupHub("hub", {
    hub: stack.hub,
    lifecycles: prefixLifecycles(stack),
    sshPrivateKey: secret("hubSshPrivateKey"),
    adminPassword: secret("hubAdminPassword"),
    offsitePrefixes: offsite?.prefixes,
    writersInUse: hubWritersInUse(stack).map((w) => w.name),
    writerKeys: secret("hubWriterKeys"),
    drillPrefixes: stack.drills ? drillReadPrefixes(stack.drills, offsite?.prefixes) : undefined,
  });
  const s3 = hub.connection;

  const bridge = stack.ftpBridge
    ? new S3FtpBridge("ftp-bridge", {
        config: stack.ftpBridge,
        ftpPassword: required("ftpBridgePassword"),
        encryptionKey: secret("ftpBridgeEncryptionKey"),
      })
    : undefined;

  const longhorn = stack.longhorn
    ? new LonghornBackupTarget("longhorn", {
        config: stack.longhorn,
        target:
          stack.longhorn.target === "ftpBridge" && bridge
            ? {
                endpoint: bridge.endpoint,
                bucket: stack.ftpBridge!.bucket,
                region: stack.ftpBridge!.region,
                prefix: "longhorn/",
                pathStyle: true,
                accessKeyId: bridge.accessKeyId,
                secretAccessKey: bridge.secretAccessKey,
              }
            : {
                endpoint: s3.endpoint,
                bucket: s3.bucket,
                region: s3.region,
                prefix: PREFIXES.longhorn,
                pathStyle: s3.pathStyle,
                accessKeyId: hub.writers.longhorn.accessKeyId,
                secretAccessKey: hub.writers.longhorn.secretAccessKey,
              },
      })
    : undefined;

  const schedules = stack.postgres ? dumpSchedules(stack.postgres) : new Map<string, string>();
  const dumps = new Map(
    (stack.postgres?.databases ?? []).map((db) => [
      db.name,
      new PostgresDumpJob(`pg-${db.name}`, {
        database: db,
        schedule: schedules.get(db.name)!,
        hub: s3,
        credentials: hub.writers.postgres,
      }),
    ]),
  );
  const drill = stack.postgres?.restoreDrill
    ? new PostgresRestoreDrill("pg-restore-drill", {
        drill: stack.postgres.restoreDrill,
        databases: stack.postgres.databases,
        hub: s3,
        credentials: hub.writers.postgres,
      })
    : undefined;

  const etcd = stack.etcd
    ? new EtcdOffload("etcd", { config: stack.etcd, hub: s3, credentials: hub.writers.etcd })
    : undefined;

  const velero = stack.velero
    ? new Velero("velero", {
        config: stack.velero,
        hub: s3,
        credentials: hub.writers.velero,
        serviceMonitorLabels: stack.alerts?.ruleLabels,
      })
    : undefined;

  const mirrors = (stack.buckets?.mirrors ?? []).map(
    (m) => new BucketMirror(`mirror-${m.name}`, { mirror: m, hub: s3, credentials: hub.writers.buckets }),
  );

  const offsiteSync = offsite
    ? new OffsiteSync("offsite", {
        config: offsite,
        hub: s3,
        hubConfig: stack.hub,
        ftpPassword: required("offsiteFtpPassword"),
        encryptionKey: secret("offsiteEncryptionKey"),
        reader: hub.writers.offsite,
        sshPrivateKey: secret("hubSshPrivateKey"),
      })
    : undefined;

  // drills.postgres is built above as the PostgreSQL restore drill; RestoreDrills builds the others.
  const d = stack.drills;
  const drills =
    d && (d.velero || d.longhorn || d.etcd || d.offsite || d.buckets)
      ? new RestoreDrills("drills", {
          drills: d,
          hub: s3,
          reader: hub.writers.drills,
          velero: stack.velero && { namespace: stack.velero.namespace, prefix: VELERO_PREFIX },
          longhornNamespace: stack.longhorn?.namespace,
          offsite: offsite &&
            offsiteSync && {
              config: offsite,
              ftpPassword: required("offsiteFtpPassword"),
              encryptionKey: offsite.encryption.enabled ? offsiteSync.encryptionKey : undefined,
            },
          mirrors: stack.buckets?.mirrors,
        })
      : undefined;

  const alerts = stack.alerts ? new BackupAlerts("alerts", { config: stack.alerts, stack }) : undefined;

  return { hub, bridge, longhorn, dumps, drill, etcd, velero, mirrors, offsiteSync, drills, alerts };
}
