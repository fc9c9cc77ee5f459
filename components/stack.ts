/**
 * The whole backup stack from a parsed stack file: which components to build, and how they connect
 * (every data class writes to the hub with its own writer credentials). `index.ts` calls this with
 * the stack configuration and exports what the components built.
 */
import type * as pulumi from "@pulumi/pulumi";
import { arrivalsOnHub } from "./alerts/arrivals.js";
import { BackupAlerts } from "./alerts/backupAlerts.js";
import { HubArrivals } from "./alerts/hubArrivals.js";
import { offsiteOf, type SecretKey, type StackConfig } from "./config.js";
import { RestoreDrills } from "./drills/restoreDrills.js";
import type { WriterName } from "./core/hubConnection.js";
import { EtcdOffload } from "./etcd/etcdOffload.js";
import { TalosEtcdSnapshot } from "./etcd/talosEtcdSnapshot.js";
import { S3FtpBridge } from "./ftpBridge/s3FtpBridge.js";
import { BackupHub } from "./hub/backupHub.js";
import { prefixLifecycles } from "./hub/retention.js";
import { piHubOf } from "./hub/schema.js";
import { resolveStack } from "./model.js";
import { LonghornBackupTarget } from "./longhorn/longhornBackupTarget.js";
import { BucketMirror } from "./mirror/bucketMirror.js";
import { OffsiteCronJob } from "./offsite/offsiteCronJob.js";
import { OffsiteHubTimer } from "./offsite/offsiteHubTimer.js";
import { PostgresDumpJob } from "./postgres/postgresDumpJob.js";
import { PostgresRestoreDrill } from "./postgres/postgresRestoreDrill.js";
import { VELERO_PREFIX } from "./velero/logic.js";
import { Velero } from "./velero/velero.js";

/** A secret config value (`homelab-backup:<key>`), or undefined when it is not set. */
export type SecretLookup = (key: SecretKey) => pulumi.Output<string> | undefined;

/** Builds every component the stack file asks for; `secret` reads the secret config keys. */
export function backupStack(stack: StackConfig, secret: SecretLookup) {
  // Resolved once: the hub's rights, every CronJob's schedule and watch, read by the components below.
  const model = resolveStack(stack);
  // The schema has already refused a stack file that lacks a secret its sections need.
  const required = (key: SecretKey) => {
    const value = secret(key);
    if (!value) throw new Error(`homelab-backup:${key} is required`);
    return value;
  };
  const offsite = offsiteOf(stack);

  // The hub exists only when a section writes to it (the schema refuses a writer without one).
  const hub = stack.hub
    ? new BackupHub("hub", {
        hub: stack.hub,
        lifecycles: prefixLifecycles(stack),
        sshPrivateKey: secret("hubSshPrivateKey"),
        adminPassword: secret("hubAdminPassword"),
        rights: model.hub,
        offsite,
        writerKeys: secret("hubWriterKeys"),
        adminToken: secret("hubAdminToken"),
        scrape: stack.alerts ? { namespace: stack.alerts.namespace, labels: stack.alerts.ruleLabels } : undefined,
        arrivals: arrivalsOnHub(stack),
      })
    : undefined;
  /** The hub's connection and a writer's credentials, for a section that writes to the hub. */
  const at = (writer: WriterName) => ({ hub: hub!.connection, credentials: hub!.writer(writer) });

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
                endpoint: at("longhorn").hub.endpoint,
                bucket: at("longhorn").hub.bucket,
                region: at("longhorn").hub.region,
                prefix: stack.longhorn.prefix,
                pathStyle: at("longhorn").hub.pathStyle,
                accessKeyId: at("longhorn").credentials.accessKeyId,
                secretAccessKey: at("longhorn").credentials.secretAccessKey,
              },
        // Longhorn's target is patched only once the bridge serves: the Kubernetes provider reports a
        // Deployment created only when it is ready (doc comment of k8s.apps.v1.Deployment in
        // @pulumi/kubernetes; the bridge sets no skipAwait), and depending on the bridge component
        // depends on every child of it, its Deployment included.
        targetReadyAfter: stack.longhorn.target === "ftpBridge" && bridge ? [bridge] : [],
      })
    : undefined;

  const dumps = new Map(
    (stack.postgres?.databases ?? []).map((db) => [
      db.name,
      new PostgresDumpJob(`pg-${db.name}`, {
        database: db,
        schedule: model.watches.dumps.get(db.name)!.schedule,
        ...at("postgres"),
      }),
    ]),
  );
  const drill = stack.postgres?.restoreDrill
    ? new PostgresRestoreDrill("pg-restore-drill", {
        drill: stack.postgres.restoreDrill,
        databases: stack.postgres.databases,
        ...at("postgres"),
      })
    : undefined;

  const etcd = !stack.etcd
    ? undefined
    : stack.etcd.distribution === "talos"
      ? new TalosEtcdSnapshot("etcd", {
          ...at("etcd"),
          namespace: stack.etcd.namespace,
          schedule: stack.etcd.schedule,
          talosNode: stack.etcd.talosNode,
        })
      : new EtcdOffload("etcd", { config: stack.etcd, ...at("etcd") });

  const velero = stack.velero
    ? new Velero("velero", {
        config: stack.velero,
        ...at("velero"),
        repositoryPassword: secret("veleroRepositoryPassword"),
        serviceMonitorLabels: stack.alerts?.ruleLabels,
      })
    : undefined;

  const mirrors = (stack.buckets?.mirrors ?? []).map(
    (m) => new BucketMirror(`mirror-${m.name}`, { mirror: m, ...at("buckets") }),
  );

  // The off-site copy runs where runOn says: a systemd timer on the hub, or a CronJob in the cluster.
  const offsiteArgs = offsite && {
    config: offsite,
    hub: hub!.connection,
    ftpPassword: required("offsiteFtpPassword"),
    encryptionKey: secret("offsiteEncryptionKey"),
    reader: hub!.writer("offsite"),
  };
  const offsiteCopy = !offsiteArgs
    ? undefined
    : offsiteArgs.config.runOn === "hub"
      ? new OffsiteHubTimer("offsite", {
          ...offsiteArgs,
          hubConfig: piHubOf(stack.hub!),
          sshPrivateKey: required("hubSshPrivateKey"),
        })
      : new OffsiteCronJob("offsite", offsiteArgs);

  // drills.postgres is built above as the PostgreSQL restore drill; RestoreDrills builds the others.
  const d = stack.drills;
  const drills =
    d && (d.velero || d.longhorn || d.etcd || d.offsite || d.buckets)
      ? new RestoreDrills("drills", {
          drills: d,
          hub: hub!.connection,
          reader: hub!.writer("drills"),
          velero: stack.velero && { namespace: stack.velero.namespace, prefix: VELERO_PREFIX },
          longhornNamespace: stack.longhorn?.namespace,
          offsite: offsite &&
            offsiteCopy && {
              config: offsite,
              ftpPassword: required("offsiteFtpPassword"),
              encryptionKey: offsite.encryption.enabled ? offsiteCopy.encryptionKey : undefined,
            },
          mirrors: stack.buckets?.mirrors,
        })
      : undefined;

  const alerts = stack.alerts
    ? new BackupAlerts("alerts", {
        config: stack.alerts,
        stack,
        watches: model.watches,
        audit:
          hub && stack.alerts.audit.enabled
            ? {
                hub: hub.connection,
                reader: hub.writer("audit"),
                offsite: offsite
                  ? {
                      config: offsite,
                      ftpPassword: required("offsiteFtpPassword"),
                      encryptionKey: offsiteCopy?.encryptionKey,
                    }
                  : undefined,
              }
            : undefined,
        notifySecrets: {
          ntfyToken: secret("alertsNtfyToken"),
          slackWebhookUrl: secret("alertsSlackWebhookUrl"),
          smtpPassword: secret("alertsSmtpPassword"),
          heartbeatUrl: secret("alertsHeartbeatUrl"),
        },
      })
    : undefined;

  // A pi hub with notify channels checks by itself that backups keep arriving (after the hub is configured: the bucket's directory exists then).
  const arrivals =
    hub && arrivalsOnHub(stack)
      ? new HubArrivals("hub-arrivals", {
          alerts: stack.alerts!,
          hub: piHubOf(stack.hub!),
          sshPrivateKey: required("hubSshPrivateKey"),
          secrets: {
            ntfyToken: secret("alertsNtfyToken"),
            slackWebhookUrl: secret("alertsSlackWebhookUrl"),
            smtpPassword: secret("alertsSmtpPassword"),
          },
          after: [hub],
        })
      : undefined;

  return { model, hub, bridge, longhorn, dumps, drill, etcd, velero, mirrors, offsiteCopy, drills, alerts, arrivals };
}
