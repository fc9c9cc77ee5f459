/**
 * Longhorn backups: the credential Secret, the `default` BackupTarget and the detached-volume Setting
 * (both patched by server-side apply: Longhorn pre-creates them and refuses their deletion), one
 * RecurringJob per job, label patches that put the named PVCs into their jobs, and StorageClasses
 * whose new volumes join jobs at birth. All shapes come from components/longhorn/logic.ts.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import {
  DETACHED_SETTING,
  LONGHORN_CREDENTIAL_SECRET,
  backupTargetManifest,
  backupTargetUrl,
  credentialEndpointKeys,
  credentialValueError,
  isAwsEndpoint,
  pvcLabelPatches,
  recurringJobManifest,
  settingManifest,
  storageClassManifest,
} from "./logic.js";
import { commonLabels } from "../core/names.js";
import { STACK_KEY_ANNOTATION } from "../core/stackKey.js";
import { longhornWithDefaults, type LonghornInput } from "./schema.js";

/** Server-side apply takes the fields over from longhorn-manager, which created the object. */
const PATCH_FORCE = { "pulumi.com/patchForce": "true" };

/**
 * The credential Secret, BackupTarget/default and the detached-volume Setting stay in the cluster
 * when they leave the stack (the `longhorn` section removed, `pulumi destroy`) or are replaced.
 *
 * The target and the Setting are Patch resources: server-side apply under a field manager of their
 * own (the Patch docs in node_modules/@pulumi/kubernetes, e.g. core/v1/secretPatch.d.ts), forced, so
 * that manager alone owns `spec.backupTargetURL`, `spec.credentialSecret`, `spec.pollInterval` and the
 * Setting's `value`. Deleting a Patch resource gives its fields up, and fields left without a manager
 * are removed or reset (repository pulumi/docs, the Kubernetes provider's guide "Managing Resources
 * with Server-Side Apply", "Patch a Resource", point 5). `value` is required by the Setting's CRD
 * (test/fixtures/crds/longhorn/settings.longhorn.io.yaml), so the API server would refuse that and the
 * destroy would stop there; the target would lose its URL and credentials, or keep them pointing at
 * the Secret the same destroy deletes. Deleting the objects themselves is no way out: longhorn-manager
 * refuses it (repository longhorn/longhorn-manager, webhook/resources/backuptarget/validator.go).
 *
 * `retainOnDelete`: "the providers Delete method will not be called for this resource"
 * (node_modules/@pulumi/pulumi/resource.d.ts). Longhorn keeps its target, setting and credentials as
 * they were; the plan (components/longhorn/plan.ts) says so and how to detach the target by hand.
 */
const KEEP_IN_CLUSTER = { retainOnDelete: true } as const;

export interface LonghornS3Target {
  /** S3 endpoint as seen from the cluster, e.g. `http://hub.lan:9000` or the bridge's Service URL. */
  readonly endpoint: pulumi.Input<string>;
  /** Bucket name. */
  readonly bucket: string;
  /** Region label, the host part of the backup target URL (never the endpoint). */
  readonly region: string;
  /** Path inside the bucket; "" is the bucket root. @default the config's `prefix` (itself "longhorn/" by default) */
  readonly prefix?: string;
  /** Path-style addressing (MinIO, RustFS, the bridge); false asks Longhorn for virtual-hosted style. */
  readonly pathStyle: boolean;
  /** True when the endpoint is Amazon S3 itself: no AWS_ENDPOINTS, Longhorn uses the region. @default detected from an `*.amazonaws.com` endpoint string */
  readonly awsEndpoint?: boolean;
  /** Access key id Longhorn signs with. */
  readonly accessKeyId: pulumi.Input<string>;
  /** Secret access key Longhorn signs with (a Pulumi secret). */
  readonly secretAccessKey: pulumi.Input<string>;
}

export interface LonghornBackupTargetArgs {
  /** The longhorn section of the stack file; each key left out takes the schema's default (LONGHORN_DEFAULTS in ./schema.ts). */
  readonly config: LonghornInput;
  /** Where the BackupTarget points and the credentials to use there. */
  readonly target: LonghornS3Target;
  /**
   * What must be ready before the BackupTarget points at the target, e.g. the S3FtpBridge: depending on
   * it waits for its Deployment, which the Kubernetes provider reports created only once it is ready.
   * @default []
   */
  readonly targetReadyAfter?: pulumi.Resource[];
}

export class LonghornBackupTarget extends pulumi.ComponentResource {
  /** `s3://<bucket>@<region>/<prefix>` as set on BackupTarget/default. */
  public readonly backupTargetUrl: pulumi.Output<string>;
  /** Names of the RecurringJobs, in stack-file order. */
  public readonly recurringJobNames: pulumi.Output<string[]>;
  /** Name of the credential Secret in the Longhorn namespace. */
  public readonly credentialSecretName: pulumi.Output<string>;

  constructor(name: string, args: LonghornBackupTargetArgs, opts?: pulumi.ComponentResourceOptions) {
    super("homelab-backup:index:LonghornBackupTarget", name, {}, opts);
    const { target } = args;
    const config = longhornWithDefaults(args.config);
    const ns = config.namespace;
    const child = { parent: this };
    const labels = commonLabels("longhorn-backup");

    // Everything that can be checked from plain data is checked before any resource is registered.
    const url = backupTargetUrl(target.bucket, target.region, target.prefix ?? config.prefix);
    const aws = target.awsEndpoint ?? (typeof target.endpoint === "string" && isAwsEndpoint(target.endpoint));
    const storageClasses = config.storageClasses.map((sc) => storageClassManifest(sc, config));
    const targetBody = backupTargetManifest(ns, url, config.pollInterval);

    const checked = (key: string, v: pulumi.Input<string>) =>
      pulumi.output(v).apply((s) => {
        const err = credentialValueError(key, s);
        if (err) throw new Error(err);
        return s;
      });
    const endpointKeys = aws
      ? pulumi.output({} as Record<string, string>)
      : pulumi.output(target.endpoint).apply((e) => credentialEndpointKeys(e, target.pathStyle, false));
    const secret = new k8s.core.v1.Secret(
      `${name}-credentials`,
      {
        metadata: { name: LONGHORN_CREDENTIAL_SECRET, namespace: ns, labels },
        type: "Opaque",
        // stringData, never data: no base64 step that could smuggle in a trailing newline.
        stringData: pulumi.secret(
          pulumi
            .all([
              checked("AWS_ACCESS_KEY_ID", target.accessKeyId),
              checked("AWS_SECRET_ACCESS_KEY", target.secretAccessKey),
              endpointKeys,
            ])
            .apply(([id, key, extra]) => ({
              AWS_ACCESS_KEY_ID: id,
              AWS_SECRET_ACCESS_KEY: key,
              ...extra,
            })),
        ),
      },
      { ...child, ...KEEP_IN_CLUSTER },
    );

    const backupTarget = new k8s.apiextensions.CustomResourcePatch(
      `${name}-backup-target`,
      { ...targetBody, metadata: { ...targetBody.metadata, annotations: PATCH_FORCE } },
      { parent: this, dependsOn: [secret, ...(args.targetReadyAfter ?? [])], ...KEEP_IN_CLUSTER },
    );

    const setting = settingManifest(ns, DETACHED_SETTING, String(config.allowRecurringJobWhileVolumeDetached));
    new k8s.apiextensions.CustomResourcePatch(
      `${name}-detached-volumes`,
      { ...setting, metadata: { ...setting.metadata, annotations: PATCH_FORCE } },
      { ...child, ...KEEP_IN_CLUSTER },
    );

    const jobs = config.recurringJobs.map((job, i) => {
      const body = recurringJobManifest(ns, job);
      return new k8s.apiextensions.CustomResource(
        `${name}-job-${job.name}`,
        // The stack-file entry it is made from, so a policy verdict names the key to change.
        {
          ...body,
          metadata: {
            ...body.metadata,
            labels,
            annotations: { [STACK_KEY_ANNOTATION]: `longhorn.recurringJobs[${i}]` },
          },
        },
        child,
      );
    });

    for (const p of pvcLabelPatches(config)) {
      new k8s.core.v1.PersistentVolumeClaimPatch(
        `${name}-pvc-${p.namespace}-${p.name}`,
        { metadata: { name: p.name, namespace: p.namespace, labels: p.labels, annotations: PATCH_FORCE } },
        // The jobs exist before their labels arrive, so no label ever points at a missing job.
        { parent: this, dependsOn: jobs },
      );
    }

    for (const sc of storageClasses) {
      new k8s.storage.v1.StorageClass(
        `${name}-sc-${sc.metadata.name}`,
        { ...sc, metadata: { ...sc.metadata, labels } },
        { parent: this, dependsOn: jobs },
      );
    }

    this.backupTargetUrl = backupTarget.urn.apply(() => url);
    this.recurringJobNames = pulumi.output(config.recurringJobs.map((j) => j.name));
    this.credentialSecretName = secret.metadata.name;
    this.registerOutputs({
      backupTargetUrl: this.backupTargetUrl,
      recurringJobNames: this.recurringJobNames,
      credentialSecretName: this.credentialSecretName,
    });
  }
}
