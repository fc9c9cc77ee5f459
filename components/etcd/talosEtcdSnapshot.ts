import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { PREFIXES } from "../core/schema.js";
import { backupCronJobSpec, SCRIPTS_MOUNT, scriptsVolume, TMP_MOUNT } from "../core/cronJob.js";
import { contentHash, readScript } from "../core/files.js";
import type { HubConnection, WriterCredentials } from "../core/hubConnection.js";
import { commonLabels, names } from "../core/names.js";
import { VERSIONS } from "../core/versions.js";
import type { CronJobWatch } from "../core/watch.js";
import { etcdWatch, snapshotUploadEnv } from "./logic.js";
import { talosRestoreRunbook } from "./restore.js";
import { ETCD_DEFAULTS } from "./schema.js";
import { TALOS_SECRET_MOUNT_PATH, TALOS_SNAPSHOT_LABEL, TALOSCTL, talosServiceAccount } from "./talos.js";

export interface TalosEtcdSnapshotArgs {
  /** Where the snapshots go. */
  readonly hub: HubConnection;
  /** The hub's etcd writer (can write only under etcd-snapshots/). */
  readonly credentials: WriterCredentials;
  /** Namespace of the CronJob and the Talos ServiceAccount; the machine config must allow it. @default "kube-system" */
  readonly namespace?: string;
  /** 5-field cron, UTC. @default "0 2 * * *" */
  readonly schedule?: string;
  /** Control-plane node to ask for the snapshot. @default the node the talosconfig endpoint reaches */
  readonly talosNode?: string;
  /** Size limit of the scratch volume that holds talosctl and one snapshot. @default "4Gi" */
  readonly scratchSizeLimit?: string;
}

/**
 * A CronJob that takes an etcd snapshot through the Talos API (no host path, no privilege) with a
 * Talos ServiceAccount limited to `os:etcd:backup`, and uploads it like the k3s offload.
 */
export class TalosEtcdSnapshot extends pulumi.ComponentResource {
  public readonly cronJobName: pulumi.Output<string>;
  /** The Talos ServiceAccount (and the Secret Talos writes for it). */
  public readonly talosServiceAccountName: pulumi.Output<string>;
  public readonly restoreRunbook: pulumi.Output<string>;
  /** What watches the CronJob (namespace, name, its real schedule, deadlines, metric): read by alerts and plan. */
  public readonly watches: pulumi.Output<CronJobWatch[]>;

  constructor(name: string, args: TalosEtcdSnapshotArgs, opts?: pulumi.ComponentResourceOptions) {
    super("homelab-backup:index:TalosEtcdSnapshot", name, {}, opts);
    const { hub } = args;
    const namespace = args.namespace ?? ETCD_DEFAULTS.namespace;
    const schedule = args.schedule ?? ETCD_DEFAULTS.schedule;
    const scratchSizeLimit = args.scratchSizeLimit ?? "4Gi";
    const labels = commonLabels("etcd-offload");
    const scriptFiles = {
      "talos-snapshot.sh": readScript("etcd/talos-snapshot.sh"),
      "offload.sh": readScript("etcd/offload.sh"),
    };
    const saName = `${names.etcdCronJob}-talos`;
    // The same CronJob name and deadlines as the k3s offload: the etcd alerts watch either.
    const watch = etcdWatch(namespace, schedule);

    const talosAccount = new k8s.apiextensions.CustomResource(
      `${name}-talos-account`,
      talosServiceAccount(saName, namespace, labels),
      { parent: this },
    );
    const secret = new k8s.core.v1.Secret(
      `${name}-credentials`,
      {
        metadata: { name: `${names.etcdCronJob}-hub`, namespace, labels },
        type: "Opaque",
        stringData: { accessKeyId: args.credentials.accessKeyId, secretAccessKey: args.credentials.secretAccessKey },
      },
      { parent: this },
    );
    const scripts = new k8s.core.v1.ConfigMap(
      `${name}-scripts`,
      { metadata: { name: `${names.etcdCronJob}-scripts`, namespace, labels }, data: scriptFiles },
      { parent: this },
    );

    const env: k8s.types.input.core.v1.EnvVar[] = [
      { name: "WORK_DIR", value: "/work" },
      { name: "OFFLOAD_SCRIPT", value: `${SCRIPTS_MOUNT.mountPath}/offload.sh` },
      { name: "SNAPSHOT_LABEL", value: TALOS_SNAPSHOT_LABEL },
      { name: "TALOSCTL_VERSION", value: TALOSCTL.version },
      { name: "TALOSCTL_SHA256_AMD64", value: TALOSCTL.sha256.amd64 },
      { name: "TALOSCTL_SHA256_ARM64", value: TALOSCTL.sha256.arm64 },
      { name: "TALOSCTL_URL_BASE", value: TALOSCTL.releaseUrl },
      ...(args.talosNode ? [{ name: "TALOS_NODE", value: args.talosNode }] : []),
      { name: "HUB_BUCKET", value: hub.bucket },
      { name: "HUB_PREFIX", value: PREFIXES.etcd.replace(/\/$/, "") },
      ...snapshotUploadEnv(hub, secret.metadata.name),
    ];

    const cronJob = new k8s.batch.v1.CronJob(
      `${name}-cronjob`,
      {
        metadata: {
          name: names.etcdCronJob,
          namespace,
          labels,
          annotations: { "homelab-backup/script-hash": contentHash(...Object.values(scriptFiles)) },
        },
        spec: backupCronJobSpec({
          schedule: watch.schedule,
          activeDeadlineSeconds: watch.activeDeadlineSeconds,
          podLabels: labels,
          volumes: [
            scriptsVolume(`${names.etcdCronJob}-scripts`),
            // talosctl (about 80 MB) and one snapshot (etcd's default quota is 2 GiB): on disk, not in memory.
            { name: "work", emptyDir: { sizeLimit: scratchSizeLimit } },
            // Written by Talos for the ServiceAccount above; the pod waits until it exists.
            { name: "talos-secrets", secret: { secretName: saName, defaultMode: 0o444 } },
          ],
          containers: [
            {
              name: "snapshot",
              // The rclone image is Alpine: busybox sh, sha256sum, head/tail/od, and rclone to fetch talosctl.
              image: VERSIONS.rcloneImage,
              command: ["/bin/sh", `${SCRIPTS_MOUNT.mountPath}/talos-snapshot.sh`],
              env,
              resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { cpu: "1", memory: "512Mi" } },
              volumeMounts: [
                TMP_MOUNT,
                SCRIPTS_MOUNT,
                { name: "work", mountPath: "/work" },
                { name: "talos-secrets", mountPath: TALOS_SECRET_MOUNT_PATH, readOnly: true },
              ],
            },
          ],
        }),
      },
      { parent: this, dependsOn: [scripts, secret, talosAccount] },
    );

    this.cronJobName = cronJob.metadata.name;
    this.talosServiceAccountName = talosAccount.metadata.name;
    this.restoreRunbook = pulumi.output(talosRestoreRunbook(hub));
    this.watches = pulumi.output([watch]);
    this.registerOutputs({
      watches: this.watches,
      cronJobName: this.cronJobName,
      talosServiceAccountName: this.talosServiceAccountName,
      restoreRunbook: this.restoreRunbook,
    });
  }
}
