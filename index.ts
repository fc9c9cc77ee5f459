/**
 * homelab-backup: the whole backup stack of a homelab cluster from one stack file.
 * Config in (validated before anything is registered), components out (components/stack.ts), outputs exported.
 */
import * as pulumi from "@pulumi/pulumi";
import { parseStackConfig, StackConfigError } from "./components/config.js";
import { backupStack } from "./components/stack.js";

const stack = (() => {
  try {
    return parseStackConfig(pulumi.runtime.allConfig());
  } catch (e) {
    // A RunError prints the message alone: every bad key path, no stack trace.
    throw e instanceof StackConfigError ? new pulumi.RunError(e.message) : e;
  }
})();
const config = new pulumi.Config();
const { hub, bridge, longhorn, dumps, drill, etcd, velero, mirrors, offsiteSync, drills, alerts } = backupStack(
  stack,
  (key) => config.getSecret(key),
);

export const hubEndpoint = hub?.endpoint;
export const hubBucket = hub?.bucket;
export const hubRegion = hub?.region;
export const hubAdminPassword = hub?.adminCredentials?.password;
export const writerAccessKeyIds = hub
  ? pulumi.secret(Object.fromEntries(Object.entries(hub.writers).map(([k, w]) => [k, w.accessKeyId])))
  : undefined;
export const longhornBackupTargetUrl = longhorn?.backupTargetUrl;
export const postgresRestoreCommands = Object.fromEntries([...dumps].map(([db, job]) => [db, job.restoreCommand]));
export const postgresRestoreDrills = drill?.cronJobNames;
export const restoreDrills = drills?.cronJobNames;
export const etcdRestoreRunbook = etcd?.restoreRunbook;
export const veleroSchedules = velero?.scheduleNames;
export const veleroRepositoryPassword = velero?.repositoryPassword;
export const etcdRestoreAccessKeyId = etcd && hub && pulumi.secret(hub.writers.etcd.accessKeyId);
export const etcdRestoreSecretAccessKey = etcd && hub?.writers.etcd.secretAccessKey;
export const bucketMirrors = mirrors.map((m) => m.cronJobName);
export const bucketsRestoreAccessKeyId =
  mirrors.length > 0 && hub ? pulumi.secret(hub.writers.buckets.accessKeyId) : undefined;
export const bucketsRestoreSecretAccessKey = mirrors.length > 0 ? hub?.writers.buckets.secretAccessKey : undefined;
export const offsiteEncryptionKey = offsiteSync?.encryptionKey;
export const ftpBridgeEncryptionKey = bridge?.encryptionKey;
export const offsiteRestoreCommand = offsiteSync?.restoreCommand;
export const alertNames = alerts?.alertNames;
