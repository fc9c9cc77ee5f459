import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { PREFIXES } from "../core/schema.js";
import { backupCronJobSpec, RESTRICTED_CONTAINER, SCRIPTS_MOUNT, scriptsVolume, TMP_MOUNT } from "../core/cronJob.js";
import { k3sRestoreRunbook } from "./restore.js";
import { contentHash, readScript } from "../core/files.js";
import type { HubConnection, WriterCredentials } from "../core/hubConnection.js";
import { commonLabels, names } from "../core/names.js";
import { VERSIONS } from "../core/versions.js";
import { CronJobWatch } from "../core/watch.js";
import { etcdWatch, snapshotUploadEnv } from "./logic.js";
import { etcdWithDefaults, type EtcdInput } from "./schema.js";

export interface EtcdOffloadArgs {
  /** The etcd section of the stack file; each key left out takes the schema's default (ETCD_DEFAULTS in ./schema.ts). */
  readonly config: EtcdInput;
  /** Where the snapshots go. */
  readonly hub: HubConnection;
  /** The hub's etcd writer (can write only under etcd-snapshots/). */
  readonly credentials: WriterCredentials;
}

/** A CronJob on a control-plane node that copies finished k3s etcd snapshots to the hub. */
export class EtcdOffload extends pulumi.ComponentResource {
  public readonly cronJobName: pulumi.Output<string>;
  public readonly restoreRunbook: pulumi.Output<string>;
  /** What watches the CronJob (namespace, name, its real schedule, deadlines, metric): read by alerts and plan. */
  public readonly watches: pulumi.Output<CronJobWatch[]>;

  constructor(name: string, args: EtcdOffloadArgs, opts?: pulumi.ComponentResourceOptions) {
    super("homelab-backup:index:EtcdOffload", name, {}, opts);
    const { hub } = args;
    const config = etcdWithDefaults(args.config);
    const labels = commonLabels("etcd-offload");
    const script = readScript("etcd/offload.sh");

    const secret = new k8s.core.v1.Secret(
      `${name}-credentials`,
      {
        metadata: { name: `${names.etcdCronJob}-hub`, namespace: config.namespace, labels },
        type: "Opaque",
        stringData: { accessKeyId: args.credentials.accessKeyId, secretAccessKey: args.credentials.secretAccessKey },
      },
      { parent: this },
    );
    const scripts = new k8s.core.v1.ConfigMap(
      `${name}-scripts`,
      {
        metadata: { name: `${names.etcdCronJob}-scripts`, namespace: config.namespace, labels },
        data: { "offload.sh": script },
      },
      { parent: this },
    );

    const env: k8s.types.input.core.v1.EnvVar[] = [
      { name: "SNAPSHOT_DIR", value: "/snapshots" },
      { name: "NODE_NAME", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } },
      { name: "HUB_BUCKET", value: hub.bucket },
      { name: "HUB_PREFIX", value: PREFIXES.etcd.replace(/\/$/, "") },
      { name: "MAX_AGE_DAYS", value: String(config.retentionDays) },
      // The stock rclone image has no etcdctl: the check is size stability + sha256.
      { name: "ETCD_CHECK", value: "auto" },
      ...snapshotUploadEnv(hub, secret.metadata.name),
    ];

    const watch = etcdWatch(config.namespace, config.schedule);
    const cronJob = new k8s.batch.v1.CronJob(
      `${name}-cronjob`,
      {
        metadata: {
          name: names.etcdCronJob,
          namespace: config.namespace,
          labels,
          annotations: { "homelab-backup/script-hash": contentHash(script) },
        },
        spec: backupCronJobSpec({
          schedule: watch.schedule,
          activeDeadlineSeconds: watch.activeDeadlineSeconds,
          nodeSelector: config.nodeSelector,
          tolerations: config.tolerations.map((t) => ({ ...t })),
          podLabels: labels,
          volumes: [
            scriptsVolume(`${names.etcdCronJob}-scripts`),
            { name: "snapshots", hostPath: { path: config.snapshotDir, type: "Directory" } },
          ],
          containers: [
            {
              name: "offload",
              // The rclone image is Alpine: busybox sh, sha256sum and stat are all the script needs.
              image: VERSIONS.rcloneImage,
              command: ["/bin/sh", `${SCRIPTS_MOUNT.mountPath}/offload.sh`],
              env,
              resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { cpu: "1", memory: "256Mi" } },
              volumeMounts: [TMP_MOUNT, SCRIPTS_MOUNT, { name: "snapshots", mountPath: "/snapshots", readOnly: true }],
              // Least privilege that can read the snapshots: k3s writes them as root, mode 0600, in a
              // root-owned 0700 directory. Non-root would need CAP_DAC_READ_SEARCH, and Kubernetes gives
              // added capabilities to a non-root process only in the bounding set (no ambient caps), so
              // it would still be refused. UID 0 is the files' owner, so owner permissions suffice and no
              // capability is needed at all: ALL dropped (no DAC_OVERRIDE/READ_SEARCH, no CHOWN...), no
              // privilege escalation, read-only root fs, the host directory mounted read-only. Only this
              // container runs as 0; the pod default stays nobody. Do not enable user namespaces
              // (hostUsers: false) here: UID 0 would no longer own the files.
              securityContext: {
                ...RESTRICTED_CONTAINER,
                runAsUser: 0,
                runAsGroup: 0,
                runAsNonRoot: false,
                capabilities: { drop: ["ALL"] },
              },
            },
          ],
        }),
      },
      { parent: this, dependsOn: [scripts, secret] },
    );

    this.cronJobName = cronJob.metadata.name;
    this.restoreRunbook = pulumi.output(k3sRestoreRunbook(hub, config.snapshotDir));
    this.watches = pulumi.output([watch]);
    this.registerOutputs({ cronJobName: this.cronJobName, restoreRunbook: this.restoreRunbook, watches: this.watches });
  }
}
