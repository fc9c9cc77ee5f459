/**
 * One object-store bucket (e.g. a Rook/Ceph RGW bucket) mirrored into `buckets/<name>/` of
 * the hub by a CronJob in the namespace of the bucket's credentials Secret: `rclone sync`, then a
 * verification that fails the run when the mirror and the source differ.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { MirrorConfig } from "../config.js";
import { rcloneScriptCronJobSpec } from "../core/cronJob.js";
import { contentHash, RCLONE_REMOTES_SCRIPT, scriptTree } from "../core/files.js";
import type { HubConnection, WriterCredentials } from "../core/hubConnection.js";
import { commonLabels } from "../core/names.js";
import { mirrorEnv } from "./logic.js";
import { CronJobWatch } from "../core/watch.js";
import { mirrorWatch } from "./logic.js";

export interface BucketMirrorArgs {
  /** One entry of `buckets.mirrors`. */
  readonly mirror: MirrorConfig;
  /** The hub's S3 endpoint, bucket and addressing. */
  readonly hub: HubConnection;
  /** The hub's `buckets` writer (may write only under `buckets/`). */
  readonly credentials: WriterCredentials;
}

export class BucketMirror extends pulumi.ComponentResource {
  /** `<namespace>/bucket-mirror-<name>`. */
  public readonly cronJobName: string;
  /** What watches the CronJob (namespace, name, its real schedule, deadlines, metric): read by alerts and plan. */
  public readonly watches: pulumi.Output<CronJobWatch[]>;

  constructor(name: string, args: BucketMirrorArgs, opts?: pulumi.ComponentResourceOptions) {
    super("homelab-backup:index:BucketMirror", name, {}, opts);
    const { mirror, hub } = args;
    const ns = mirror.source.credentialsSecret.namespace;
    const watch = mirrorWatch(mirror);
    const jobName = watch.cronJob;
    const labels = { ...commonLabels("bucket-mirror"), "homelab-backup/mirror": mirror.name };
    // mirror.sh sources ../core/rclone-remotes.sh: both keep their components/ paths in the pod.
    const files = scriptTree(["mirror/mirror.sh", RCLONE_REMOTES_SCRIPT]);

    const hubSecret = new k8s.core.v1.Secret(
      `${name}-hub`,
      {
        metadata: { name: `${jobName}-hub`, namespace: ns, labels },
        type: "Opaque",
        stringData: {
          HUB_ACCESS_KEY_ID: pulumi.secret(args.credentials.accessKeyId),
          HUB_SECRET_ACCESS_KEY: args.credentials.secretAccessKey,
        },
      },
      { parent: this },
    );
    const scripts = new k8s.core.v1.ConfigMap(
      `${name}-scripts`,
      { metadata: { name: `${jobName}-scripts`, namespace: ns, labels }, data: files.data },
      { parent: this },
    );

    const ref = (secret: pulumi.Input<string>, key: string, as = key) => ({
      name: as,
      valueFrom: { secretKeyRef: { name: secret, key } },
    });
    new k8s.batch.v1.CronJob(
      `${name}-cronjob`,
      {
        metadata: {
          name: jobName,
          namespace: ns,
          labels,
          annotations: { "homelab-backup/scripts-hash": contentHash(...Object.values(files.data)) },
        },
        spec: rcloneScriptCronJobSpec({
          schedule: watch.schedule,
          podLabels: labels,
          activeDeadlineSeconds: watch.activeDeadlineSeconds,
          container: "mirror",
          script: "mirror/mirror.sh",
          env: [
            ...Object.entries({ ...mirrorEnv(mirror, hub), RCLONE: "/opt/tools/rclone", HOME: "/tmp" }).map(
              ([k, v]) => ({ name: k, value: v }),
            ),
            // The keys Rook's ObjectBucketClaim Secrets have.
            ref(mirror.source.credentialsSecret.name, "AWS_ACCESS_KEY_ID"),
            ref(mirror.source.credentialsSecret.name, "AWS_SECRET_ACCESS_KEY"),
            ref(hubSecret.metadata.name, "HUB_ACCESS_KEY_ID"),
            ref(hubSecret.metadata.name, "HUB_SECRET_ACCESS_KEY"),
          ],
          scripts: { configMap: `${jobName}-scripts`, paths: files.paths },
        }),
      },
      { parent: this, dependsOn: [scripts, hubSecret] },
    );
    this.cronJobName = `${ns}/${jobName}`;
    this.watches = pulumi.output([watch]);
    this.registerOutputs({ cronJobName: this.cronJobName, watches: this.watches });
  }
}
