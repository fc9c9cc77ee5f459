/**
 * The encrypted second copy of the hub bucket on an FTP(S) server, run in the cluster (`runOn: cluster`):
 * rclone crypt over FTP from a CronJob in its own namespace, with every secret in a Secret the job reads by
 * secretKeyRef. The variant that runs on the hub is OffsiteHubTimer (./offsiteHubTimer.ts).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { rcloneScriptCronJobSpec } from "../core/cronJob.js";
import { contentHash, scriptTree } from "../core/files.js";
import type { HubConnection, WriterCredentials } from "../core/hubConnection.js";
import { commonLabels, names } from "../core/names.js";
import type { CronJobWatch } from "../core/watch.js";
import { OFFSITE_TYPES, offsiteComponentOptions, offsiteEncryptionKey } from "./identity.js";
import {
  OFFSITE_JOB_SCRIPTS,
  offsiteJobEnv,
  offsiteJobSecretKeys,
  offsiteJobWatch,
  offsiteRestoreCommand,
} from "./logic.js";
import { offsiteWithDefaults, type OffsiteInput } from "./schema.js";

export interface OffsiteCronJobArgs {
  /** The offsite section of the stack file (`namespace` is the job's); each key left out takes the schema's default (OFFSITE_DEFAULTS in ./schema.ts). */
  readonly config: OffsiteInput;
  /** The hub's S3 endpoint, bucket and addressing: the source of the copy. */
  readonly hub: HubConnection;
  /** FTP(S) login password (`homelab-backup:offsiteFtpPassword`). */
  readonly ftpPassword: pulumi.Input<string>;
  /** rclone crypt key (`homelab-backup:offsiteEncryptionKey`). @default generated: 32 random bytes, hex */
  readonly encryptionKey?: pulumi.Input<string>;
  /** The hub's offsite reader credentials (read-only on the copied prefixes). */
  readonly reader: WriterCredentials;
}

export class OffsiteCronJob extends pulumi.ComponentResource {
  /** The crypt key (a secret); undefined when encryption is off, so the stack exports no key. */
  public readonly encryptionKey: pulumi.Output<string> | undefined;
  /** Downloads and decrypts the copy with only the key and the FTP login. */
  public readonly restoreCommand: pulumi.Output<string>;
  /** `<namespace>/offsite-sync`. */
  public readonly cronJobName: pulumi.Output<string>;
  /** What watches the CronJob (namespace, name, its real schedule, deadlines, metric): read by alerts and plan. */
  public readonly watches: pulumi.Output<CronJobWatch[]>;

  constructor(name: string, args: OffsiteCronJobArgs, opts?: pulumi.ComponentResourceOptions) {
    super(OFFSITE_TYPES.cronJob, name, {}, offsiteComponentOptions(OFFSITE_TYPES.cronJob, opts));
    const { hub } = args;
    const config = offsiteWithDefaults(args.config, hub.kind);
    const key = offsiteEncryptionKey(name, config, args.encryptionKey, this);

    const labels = commonLabels("offsite");
    // The job's own namespace (backup-system by default) exists nowhere else: create it. Server-side
    // apply adopts it when it already exists, and it is kept on destroy because it may hold more.
    const namespace = new k8s.core.v1.Namespace(
      `${name}-namespace`,
      { metadata: { name: config.namespace, labels } },
      { parent: this, retainOnDelete: true },
    );
    const ns = namespace.metadata.name;
    const secret = new k8s.core.v1.Secret(
      `${name}-secret`,
      {
        metadata: { name: `${names.offsiteCronJob}-credentials`, namespace: ns, labels },
        type: "Opaque",
        stringData: {
          OFFSITE_FTP_PASSWORD: pulumi.secret(args.ftpPassword),
          OFFSITE_S3_ACCESS_KEY_ID: pulumi.secret(args.reader.accessKeyId),
          OFFSITE_S3_SECRET_ACCESS_KEY: args.reader.secretAccessKey,
          ...(key ? { OFFSITE_ENCRYPTION_KEY: key } : {}),
        },
      },
      { parent: this },
    );
    const scriptFiles = scriptTree(OFFSITE_JOB_SCRIPTS);
    const scripts = new k8s.core.v1.ConfigMap(
      `${name}-scripts`,
      {
        metadata: { name: `${names.offsiteCronJob}-scripts`, namespace: ns, labels },
        data: scriptFiles.data,
      },
      { parent: this },
    );
    const secretEnv = offsiteJobSecretKeys(config).map((k) => ({
      name: k,
      valueFrom: { secretKeyRef: { name: secret.metadata.name, key: k } },
    }));
    const watch = offsiteJobWatch(config);
    new k8s.batch.v1.CronJob(
      `${name}-cronjob`,
      {
        metadata: {
          name: names.offsiteCronJob,
          namespace: ns,
          labels,
          annotations: { "homelab-backup/scripts-hash": contentHash(...Object.values(scriptFiles.data)) },
        },
        spec: rcloneScriptCronJobSpec({
          schedule: watch.schedule,
          podLabels: labels,
          activeDeadlineSeconds: watch.activeDeadlineSeconds,
          container: "offsite",
          script: "offsite/offsite-job.sh",
          env: [...Object.entries(offsiteJobEnv(config, hub)).map(([k, v]) => ({ name: k, value: v })), ...secretEnv],
          scripts: { configMap: `${names.offsiteCronJob}-scripts`, paths: scriptFiles.paths },
        }),
      },
      { parent: this, dependsOn: [scripts, secret] },
    );

    this.encryptionKey = key;
    this.restoreCommand = pulumi.output(offsiteRestoreCommand(config));
    this.cronJobName = pulumi.output(`${config.namespace}/${names.offsiteCronJob}`);
    this.watches = pulumi.output([watch]);
    this.registerOutputs({
      encryptionKey: this.encryptionKey,
      restoreCommand: this.restoreCommand,
      cronJobName: this.cronJobName,
      watches: this.watches,
    });
  }
}
