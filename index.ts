/**
 * homelab-backup: the whole backup stack of a homelab cluster from one stack file.
 * Config in (validated before anything is registered), components out (components/stack.ts), outputs returned.
 *
 * The program is a function, which the SDK's loader (@pulumi/pulumi/cmd/run/run.js) calls and whose
 * result becomes the stack's outputs: so a stack exports only the outputs it has, where named exports
 * left undefined would make every preview warn "Undefined value (…) will not show as a stack output".
 */
import * as pulumi from "@pulumi/pulumi";
import { parseStackConfig, StackConfigError } from "./components/config.js";
import { backupStack } from "./components/stack.js";
import { statusSpec } from "./components/alerts/statusSpec.js";

export = (): Record<string, unknown> => {
  const stack = (() => {
    try {
      return parseStackConfig(pulumi.runtime.allConfig());
    } catch (e) {
      // A RunError prints the message alone: every bad key path, no stack trace.
      throw e instanceof StackConfigError ? new pulumi.RunError(e.message) : e;
    }
  })();
  const config = new pulumi.Config();
  const { model, hub, bridge, longhorn, dumps, drill, etcd, velero, mirrors, offsiteCopy, drills, alerts } =
    backupStack(stack, (key) => config.getSecret(key));
  // `npm run status` reads the hub with the audit reader's key (list, and get of metadata only).
  const statusReader = hub?.writers.audit;
  const mirrorWriter = mirrors.length > 0 ? hub?.writer("buckets") : undefined;
  const etcdWriter = etcd ? hub?.writer("etcd") : undefined;
  const outputs: Record<string, unknown> = {
    hubEndpoint: hub?.endpoint,
    hubBucket: hub?.bucket,
    hubRegion: hub?.region,
    hubAdminPassword: hub?.adminCredentials?.password,
    writerAccessKeyIds:
      hub && pulumi.secret(Object.fromEntries(Object.entries(hub.writers).map(([k, w]) => [k, w!.accessKeyId]))),
    longhornBackupTargetUrl: longhorn?.backupTargetUrl,
    postgresRestoreCommands: Object.fromEntries([...dumps].map(([db, job]) => [db, job.restoreCommand])),
    postgresRestoreDrills: drill?.cronJobNames,
    restoreDrills: drills?.cronJobNames,
    etcdRestoreRunbook: etcd?.restoreRunbook,
    veleroSchedules: velero?.scheduleNames,
    veleroRepositoryPassword: velero?.repositoryPassword,
    etcdRestoreAccessKeyId: etcdWriter && pulumi.secret(etcdWriter.accessKeyId),
    etcdRestoreSecretAccessKey: etcdWriter?.secretAccessKey,
    bucketMirrors: mirrors.map((m) => m.cronJobName),
    bucketsRestoreAccessKeyId: mirrorWriter && pulumi.secret(mirrorWriter.accessKeyId),
    bucketsRestoreSecretAccessKey: mirrorWriter?.secretAccessKey,
    offsiteEncryptionKey: offsiteCopy?.encryptionKey,
    ftpBridgeEncryptionKey: bridge?.encryptionKey,
    offsiteRestoreCommand: offsiteCopy?.restoreCommand,
    alertNames: alerts?.alertNames,
    // What `npm run status` (tools/status.ts) reads: what to check and each item's threshold (plain), the
    // read-only key, and the FTP password of the off-site copy (its crypt key is offsiteEncryptionKey).
    statusSpec: statusSpec(stack, model),
    statusReaderAccessKeyId: statusReader && pulumi.secret(statusReader.accessKeyId),
    statusReaderSecretAccessKey: statusReader && pulumi.secret(statusReader.secretAccessKey),
    statusOffsiteFtpPassword: offsiteCopy && config.getSecret("offsiteFtpPassword"),
  };
  return Object.fromEntries(Object.entries(outputs).filter(([, v]) => v !== undefined));
};
