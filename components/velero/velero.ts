import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { VeleroConfig } from "../config.js";
import type { HubConnection, WriterCredentials } from "../core/hubConnection.js";
import { commonLabels, names } from "../core/names.js";
import { STACK_KEY_ANNOTATION } from "../core/stackKey.js";
import { bslConfig, VELERO_PREFIX, veleroSchedules } from "./logic.js";
import { usesNodeAgent } from "./fsBackup.js";
import { VERSIONS } from "../core/versions.js";
import { veleroWithDefaults, type VeleroInput } from "./schema.js";

export interface VeleroArgs {
  /** The velero section of the stack file; each key left out takes the schema's default (VELERO_DEFAULTS in ./schema.ts). */
  readonly config: VeleroInput;
  /** Where the backups go. */
  readonly hub: HubConnection;
  /** The hub's velero writer (can write only under velero/). */
  readonly credentials: WriterCredentials;
  /**
   * Kopia repository password (`homelab-backup:veleroRepositoryPassword`), never Velero's built-in default.
   * @default generated: 40 random letters and digits
   */
  readonly repositoryPassword?: pulumi.Input<string>;
  /** Labels of the chart's ServiceMonitor (kube-prometheus-stack selects on `release`). @default none: no ServiceMonitor */
  readonly serviceMonitorLabels?: Record<string, string>;
}

/**
 * The Kopia repository password Secret. Velero reads `velero-repo-credentials`, key
 * `repository-password`, and creates it with the public default `static-passw0rd` only when it does not
 * exist at server start (velero-io/velero `pkg/repository/keys/keys.go`, `EnsureCommonRepositoryKey`):
 * so it is created before the Helm release, and a repository keeps the password it was created with.
 */
export const VELERO_REPO_CREDENTIALS_SECRET = "velero-repo-credentials";
export const VELERO_REPO_PASSWORD_KEY = "repository-password";

/** Name of the Secret holding the AWS shared-credentials file (key `cloud`). */
export const VELERO_CREDENTIALS_SECRET = "velero-hub-credentials";
export const VELERO_CHART_REPO = "https://vmware-tanzu.github.io/helm-charts";

/**
 * Fields the Velero server writes back into objects we own: the schedule reconciler sets
 * `spec.skipImmediately` (server default when unset, false after a skip); without ignoring it every
 * preview would show a diff and every `up` would fight the controller.
 */
export const SCHEDULE_IGNORE_CHANGES = ["spec.skipImmediately"];

/** Chart values for the pinned Velero release (chart 12.x keys). */
export function veleroHelmValues(
  config: VeleroConfig,
  serviceMonitorLabels?: Record<string, string>,
): Record<string, unknown> {
  const [repository, tag] = VERSIONS.veleroImage.split(":");
  return {
    image: { repository, tag },
    initContainers: [
      {
        name: "velero-plugin-for-aws",
        image: VERSIONS.veleroAwsPluginImage,
        imagePullPolicy: "IfNotPresent",
        volumeMounts: [{ mountPath: "/target", name: "plugins" }],
      },
    ],
    upgradeCRDs: true,
    // We create the BackupStorageLocation and the Schedules ourselves (validated, with ignoreChanges).
    backupsEnabled: false,
    snapshotsEnabled: false,
    deployNodeAgent: usesNodeAgent(config.fsBackup),
    configuration: { uploaderType: "kopia", backupStorageLocation: [], volumeSnapshotLocation: [] },
    credentials: { useSecret: true, existingSecret: VELERO_CREDENTIALS_SECRET },
    metrics: {
      enabled: true,
      serviceMonitor: { enabled: serviceMonitorLabels !== undefined, additionalLabels: serviceMonitorLabels ?? {} },
    },
    schedules: {},
  };
}

/** Velero (optionally installed), its storage location on the hub, and one Schedule per configured schedule. */
export class Velero extends pulumi.ComponentResource {
  public readonly scheduleNames: pulumi.Output<string[]>;
  public readonly storageLocationName: pulumi.Output<string>;
  /** The Kopia repository password in use (a secret): keep a copy outside the homelab. */
  public readonly repositoryPassword: pulumi.Output<string>;

  constructor(name: string, args: VeleroArgs, opts?: pulumi.ComponentResourceOptions) {
    super("homelab-backup:index:Velero", name, {}, opts);
    const { hub } = args;
    const config = veleroWithDefaults(args.config);
    const labels = commonLabels("velero");
    const namespace = config.namespace;

    let ns: k8s.core.v1.Namespace | undefined;
    if (config.install) {
      ns = new k8s.core.v1.Namespace(
        `${name}-namespace`,
        {
          metadata: {
            name: namespace,
            // The node agent mounts host paths (pod volumes): it needs the privileged Pod Security level.
            labels: {
              ...labels,
              ...(usesNodeAgent(config.fsBackup) ? { "pod-security.kubernetes.io/enforce": "privileged" } : {}),
            },
          },
        },
        { parent: this },
      );
    }

    const secret = new k8s.core.v1.Secret(
      `${name}-credentials`,
      {
        metadata: { name: VELERO_CREDENTIALS_SECRET, namespace, labels },
        type: "Opaque",
        stringData: {
          cloud: pulumi.interpolate`[default]\naws_access_key_id=${args.credentials.accessKeyId}\naws_secret_access_key=${args.credentials.secretAccessKey}\n`,
        },
      },
      { parent: this, dependsOn: ns ? [ns] : [] },
    );

    this.repositoryPassword = pulumi.secret(
      args.repositoryPassword ??
        new random.RandomPassword(`${name}-repository-password`, { length: 40, special: false }, { parent: this })
          .result,
    );
    const repoSecret = new k8s.core.v1.Secret(
      `${name}-repository-password`,
      {
        metadata: { name: VELERO_REPO_CREDENTIALS_SECRET, namespace, labels },
        type: "Opaque",
        stringData: { [VELERO_REPO_PASSWORD_KEY]: this.repositoryPassword },
      },
      { parent: this, dependsOn: ns ? [ns] : [] },
    );

    const release = config.install
      ? new k8s.helm.v3.Release(
          `${name}-release`,
          {
            name: "velero",
            namespace,
            chart: "velero",
            version: VERSIONS.veleroChart,
            repositoryOpts: { repo: VELERO_CHART_REPO },
            values: veleroHelmValues(config, args.serviceMonitorLabels),
            atomic: true,
            timeout: 600,
          },
          // The password Secret first: Velero writes its default into a missing one at start.
          { parent: this, dependsOn: [secret, repoSecret, ...(ns ? [ns] : [])] },
        )
      : undefined;
    // The CRDs come with the chart: the custom resources must wait for it.
    const crOpts = { parent: this, dependsOn: release ? [release] : [] };

    const bsl = new k8s.apiextensions.CustomResource(
      `${name}-bsl`,
      {
        apiVersion: "velero.io/v1",
        kind: "BackupStorageLocation",
        metadata: { name: names.veleroStorageLocation, namespace, labels },
        spec: {
          provider: "aws",
          default: true,
          accessMode: "ReadWrite",
          objectStorage: { bucket: hub.bucket, prefix: VELERO_PREFIX },
          credential: { name: VELERO_CREDENTIALS_SECRET, key: "cloud" },
          config: bslConfig(hub),
        },
      },
      { ...crOpts, dependsOn: [...crOpts.dependsOn, secret] },
    );

    const schedules = veleroSchedules(config).map(
      (s) =>
        new k8s.apiextensions.CustomResource(
          `${name}-schedule-${s.name}`,
          {
            apiVersion: "velero.io/v1",
            kind: "Schedule",
            metadata: {
              name: s.name,
              namespace,
              labels,
              // The stack-file entry it is made from, so a policy verdict names the key to change.
              annotations: {
                [STACK_KEY_ANNOTATION]: `velero.schedules[${config.schedules.findIndex((c) => c.name === s.configured)}]`,
              },
            },
            spec: {
              schedule: s.cron,
              // Backups must outlive a deleted Schedule: owner references would garbage-collect them.
              useOwnerReferencesInBackup: false,
              template: s.template,
            },
          },
          { ...crOpts, dependsOn: [...crOpts.dependsOn, bsl, repoSecret], ignoreChanges: SCHEDULE_IGNORE_CHANGES },
        ),
    );

    this.scheduleNames = pulumi.output(schedules.map((s) => s.metadata.name)) as pulumi.Output<string[]>;
    this.storageLocationName = bsl.metadata.name;
    this.registerOutputs({
      scheduleNames: this.scheduleNames,
      storageLocationName: this.storageLocationName,
      repositoryPassword: this.repositoryPassword,
    });
  }
}
