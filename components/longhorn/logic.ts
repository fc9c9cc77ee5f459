/**
 * Longhorn backups as plain data: the BackupTarget patch, the Setting patch, one RecurringJob per job,
 * the PVC label patches that put volumes into jobs, the StorageClasses that put new volumes into
 * jobs at birth, and the plan section. Everything here is computed from the stack file alone; the
 * component (components/longhornBackupTarget.ts) only turns these objects into resources.
 *
 * Longhorn facts relied on (Longhorn v1.12.1, /work/shared/notes/longhorn.md):
 * - the backup target is the `default` BackupTarget CR (the `backup-target` Setting was removed in
 *   v1.8.0 and the webhook refuses it); the CR always exists, so it is patched, never created;
 * - a PVC's job labels count only with `recurring-job.longhorn.io/source: enabled` beside them;
 * - a volume with any job/group label leaves the `default` group;
 * - the mutator fills `name`, `groups`, `labels`, `parameters`, `concurrency`, `retain` when absent,
 *   so every field is set explicitly to avoid perpetual diffs.
 */
import {
  LONGHORN_BACKUP_TASKS,
  LONGHORN_NO_RETAIN_TASKS,
  type LonghornConfig,
  type RecurringJobConfig,
  type StorageClassConfig,
} from "../config.js";
import { cronGaps } from "../core/cron.js";
import { formatGoDuration, parseGoDuration } from "../core/duration.js";
import { names } from "../core/names.js";

export const LONGHORN_API_VERSION = "longhorn.io/v1beta2";
export const LONGHORN_PROVISIONER = "driver.longhorn.io";
/** Name of the Secret holding the S3 credentials the BackupTarget uses (in the Longhorn namespace). */
export const LONGHORN_CREDENTIAL_SECRET = "longhorn-backup-s3-credentials";
/** The setting that lets recurring jobs back up volumes no pod has attached. */
export const DETACHED_SETTING = "allow-recurring-job-while-volume-detached";
/** Settings that no longer exist since Longhorn v1.8.0: never emit them. */
export const REMOVED_SETTINGS = [
  "backup-target",
  "backup-target-credential-secret",
  "backupstore-poll-interval",
] as const;

export const JOB_LABEL_PREFIX = "recurring-job.longhorn.io/";
export const GROUP_LABEL_PREFIX = "recurring-job-group.longhorn.io/";
/** Without this label on a PVC, Longhorn ignores the PVC's job labels. */
export const SOURCE_LABEL = `${JOB_LABEL_PREFIX}source`;
export const ENABLED = "enabled";
/** StorageClass parameters this module owns; a user's `parameters` may not set them. */
const RESERVED_SC_PARAMETERS = ["numberOfReplicas", "recurringJobSelector"];
/** Fields of a StorageClass object that users put under `parameters` by mistake (seed 003). */
const SC_FIELDS_NOT_PARAMETERS = [
  "reclaimPolicy",
  "allowVolumeExpansion",
  "volumeBindingMode",
  "provisioner",
  "mountOptions",
];

// ---------------------------------------------------------------------------------------------
// BackupTarget and its credentials
// ---------------------------------------------------------------------------------------------

/**
 * `s3://<bucket>@<region>/<prefix>`: the bucket in the userinfo, the region as the host and a
 * non-empty path (Longhorn refuses `s3://bucket@region`). An endpoint host in the region slot
 * fails in Longhorn (#8954), so the region must be a plain region label.
 */
export function backupTargetUrl(bucket: string, region: string, prefix: string): string {
  if (!/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(bucket))
    throw new Error(`Longhorn backup target: bucket "${bucket}" is not a valid bucket name`);
  if (!/^[a-z0-9][a-z0-9-]*$/.test(region)) {
    throw new Error(
      `Longhorn backup target: region "${region}" must be a region label (e.g. us-east-1); an endpoint belongs in AWS_ENDPOINTS, not in the URL`,
    );
  }
  const path = prefix.replace(/^\/+/, "");
  // The bucket root is `s3://bucket@region/`: the path is "/", never empty (Longhorn refuses s3://bucket@region).
  if (path === "") return `s3://${bucket}@${region}/`;
  if (/[$,\s]/.test(path))
    throw new Error(`Longhorn backup target: prefix "${prefix}" must not contain '$', ',' or whitespace`);
  return `s3://${bucket}@${region}/${path.endsWith("/") ? path : `${path}/`}`;
}

/** True when `endpoint` is Amazon S3 itself (Longhorn then derives the endpoint from the region). */
export function isAwsEndpoint(endpoint: string): boolean {
  try {
    return /(^|\.)amazonaws\.com(\.cn)?$/.test(new URL(endpoint).hostname);
  } catch {
    return false;
  }
}

/**
 * The non-secret keys of the credential Secret. Amazon S3 needs none (the region in the URL is
 * enough, and virtual-hosted addressing is the SDK's default there). Any other endpoint goes in
 * `AWS_ENDPOINTS`, with `VIRTUAL_HOSTED_STYLE` stated explicitly: with a custom endpoint Longhorn
 * defaults to path style, which MinIO/RustFS/the bridge need and some providers refuse (#1552).
 */
export function credentialEndpointKeys(
  endpoint: string | undefined,
  pathStyle: boolean,
  aws: boolean,
): Record<string, string> {
  if (aws) return {};
  if (endpoint === undefined)
    throw new Error("Longhorn backup target: an S3-compatible endpoint needs its URL (AWS_ENDPOINTS)");
  const err = credentialValueError("AWS_ENDPOINTS", endpoint);
  if (err) throw new Error(err);
  if (!/^https?:\/\/[^/\s]+\/?$/.test(endpoint))
    throw new Error(`Longhorn backup target: endpoint "${endpoint}" must be http(s)://host[:port]`);
  return { AWS_ENDPOINTS: endpoint.replace(/\/$/, ""), VIRTUAL_HOSTED_STYLE: pathStyle ? "false" : "true" };
}

/** Longhorn's webhook refuses credential values with surrounding whitespace or a newline (#811, #7159). */
export function credentialValueError(key: string, value: string): string | undefined {
  if (value === "") return `Longhorn credential ${key} is empty`;
  if (value !== value.trim() || /[\r\n]/.test(value))
    return `Longhorn credential ${key} has surrounding whitespace or a newline, which breaks S3 authentication`;
  return undefined;
}

/** The `default` BackupTarget patch body. */
export function backupTargetManifest(
  namespace: string,
  url: string,
  pollInterval: string,
  credentialSecret = LONGHORN_CREDENTIAL_SECRET,
) {
  const seconds = parseGoDuration(pollInterval);
  if (seconds === undefined || seconds < 0)
    throw new Error(`Longhorn pollInterval "${pollInterval}" is not a Go duration`);
  return {
    apiVersion: LONGHORN_API_VERSION,
    kind: "BackupTarget",
    metadata: { name: names.longhornBackupTarget, namespace },
    // Canonical Go form ("5m0s"): what Longhorn itself writes back, so no diff on the next run.
    spec: { backupTargetURL: url, credentialSecret, pollInterval: formatGoDuration(seconds) },
  };
}

/** A Setting patch body: Settings have no spec, the value is a top-level string. */
export function settingManifest(namespace: string, name: string, value: string) {
  if ((REMOVED_SETTINGS as readonly string[]).includes(name))
    throw new Error(`Longhorn setting "${name}" was removed in v1.8.0; use the BackupTarget CR`);
  return { apiVersion: LONGHORN_API_VERSION, kind: "Setting", metadata: { name, namespace }, value };
}

// ---------------------------------------------------------------------------------------------
// RecurringJobs
// ---------------------------------------------------------------------------------------------

export interface RecurringJobSpec {
  readonly name: string;
  readonly task: string;
  readonly cron: string;
  readonly retain: number;
  readonly concurrency: number;
  readonly groups: string[];
  readonly labels: Record<string, string>;
  readonly parameters: Record<string, string>;
}

/** Every field set, as Longhorn's mutator would leave it, so that nothing drifts. */
export function recurringJobSpec(job: RecurringJobConfig): RecurringJobSpec {
  const noRetain = LONGHORN_NO_RETAIN_TASKS.includes(job.task);
  if (!noRetain && job.retain === undefined)
    throw new Error(`Longhorn recurring job "${job.name}": retain is required for task ${job.task}`);
  const parameters: Record<string, string> = {};
  if (job.fullBackupInterval !== undefined && LONGHORN_BACKUP_TASKS.includes(job.task))
    parameters["full-backup-interval"] = String(job.fullBackupInterval);
  return {
    name: job.name,
    task: job.task,
    cron: job.cron,
    retain: noRetain ? 0 : job.retain!,
    concurrency: job.concurrency,
    groups: [...job.groups],
    labels: { ...job.labels },
    parameters,
  };
}

/** The RecurringJob object (explicit metadata.name: Pulumi auto-naming would break the 40-char limit). */
export function recurringJobManifest(namespace: string, job: RecurringJobConfig) {
  return {
    apiVersion: LONGHORN_API_VERSION,
    kind: "RecurringJob",
    metadata: { name: job.name, namespace },
    spec: recurringJobSpec(job),
  };
}

export interface RestorePoints {
  /** Backups (or snapshots) kept at any time once the job has run `retain` times. */
  readonly restorePoints: number;
  /** Kept backups that re-uploaded every block (full backups), at worst; undefined for non-backup tasks. */
  readonly fullBackupsAtWorst: number | undefined;
  /** The same, at best. */
  readonly fullBackupsAtBest: number | undefined;
  /** Oldest restore point, in seconds before the newest (longest gaps of the schedule). */
  readonly spanSeconds: number;
}

/**
 * What one job leaves to restore from. Longhorn makes a full backup when the run counter is a
 * multiple of `full-backup-interval` (absent/0: only the first is full, 1: always full), so any
 * `retain` consecutive runs contain floor(retain/N) to ceil(retain/N) full backups.
 */
export function worstCaseRestorePoints(job: RecurringJobConfig): RestorePoints {
  const spec = recurringJobSpec(job);
  const gaps = cronGaps(job.cron);
  const span = spec.retain > 1 ? (spec.retain - 1) * gaps.maxGapSeconds : 0;
  if (!LONGHORN_BACKUP_TASKS.includes(job.task))
    return {
      restorePoints: spec.retain,
      fullBackupsAtWorst: undefined,
      fullBackupsAtBest: undefined,
      spanSeconds: span,
    };
  const n = job.fullBackupInterval ?? 0;
  if (n === 0) return { restorePoints: spec.retain, fullBackupsAtWorst: 0, fullBackupsAtBest: 0, spanSeconds: span };
  return {
    restorePoints: spec.retain,
    fullBackupsAtWorst: Math.floor(spec.retain / n),
    fullBackupsAtBest: Math.ceil(spec.retain / n),
    spanSeconds: span,
  };
}

// ---------------------------------------------------------------------------------------------
// Volume membership: PVC labels and StorageClasses
// ---------------------------------------------------------------------------------------------

export interface PvcLabelPatch {
  readonly namespace: string;
  readonly name: string;
  /** Jobs that name this PVC, sorted. */
  readonly jobs: string[];
  /** Groups `groupPvcs` puts this PVC in, sorted. */
  readonly groups: string[];
  /** The labels the patch puts on the PVC. */
  readonly labels: Record<string, string>;
}

/**
 * One label patch per PVC named by any job or by `groupPvcs` (all merged). Each carries the source
 * label, without which Longhorn ignores PVC job and group labels (it then copies them to the volume,
 * as labelling the volume by hand would); a PVC named by a job also gets the `default` group label
 * when some job serves `default`: a labelled volume otherwise silently leaves `default` and loses
 * those jobs. A PVC that only joins groups gets exactly those groups (list `default` to keep it).
 */
export function pvcLabelPatches(config: LonghornConfig): PvcLabelPatch[] {
  const byPvc = new Map<string, { namespace: string; name: string; jobs: Set<string>; groups: Set<string> }>();
  const entry = (pvc: { namespace: string; name: string }) => {
    const key = `${pvc.namespace}/${pvc.name}`;
    const e = byPvc.get(key) ?? {
      namespace: pvc.namespace,
      name: pvc.name,
      jobs: new Set<string>(),
      groups: new Set<string>(),
    };
    byPvc.set(key, e);
    return e;
  };
  for (const job of config.recurringJobs) for (const pvc of job.pvcs) entry(pvc).jobs.add(job.name);
  for (const [group, pvcs] of Object.entries(config.groupPvcs ?? {}))
    for (const pvc of pvcs) entry(pvc).groups.add(group);
  const keepDefault = config.recurringJobs.some((j) => j.groups.includes("default"));
  return [...byPvc.values()]
    .sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name))
    .map(({ namespace, name, jobs, groups }) => {
      const sortedJobs = [...jobs].sort();
      const sortedGroups = [...groups].sort();
      const labels: Record<string, string> = { [SOURCE_LABEL]: ENABLED };
      for (const j of sortedJobs) labels[`${JOB_LABEL_PREFIX}${j}`] = ENABLED;
      for (const g of sortedGroups) labels[`${GROUP_LABEL_PREFIX}${g}`] = ENABLED;
      if (keepDefault && sortedJobs.length > 0) labels[`${GROUP_LABEL_PREFIX}default`] = ENABLED;
      return { namespace, name, jobs: sortedJobs, groups: sortedGroups, labels };
    });
}

export interface SelectorEntry {
  readonly name: string;
  readonly isGroup: boolean;
}

/** The StorageClass `recurringJobSelector` entries: jobs with isGroup false, groups with isGroup true. */
export function storageClassSelectorEntries(sc: StorageClassConfig): SelectorEntry[] {
  return [
    ...sc.recurringJobs.map((name) => ({ name, isGroup: false })),
    ...sc.recurringJobGroups.map((name) => ({ name, isGroup: true })),
  ];
}

/** `recurringJobSelector` as the JSON string Longhorn's CSI driver parses. */
export function storageClassSelector(sc: StorageClassConfig): string {
  return JSON.stringify(storageClassSelectorEntries(sc));
}

/** Where a StorageClass parameter problem is, in stack-file terms. */
function scPath(config: LonghornConfig | undefined, sc: StorageClassConfig, key: string): string {
  const i = config ? config.storageClasses.indexOf(sc) : -1;
  return `longhorn.storageClasses[${i >= 0 ? i : sc.name}].parameters.${key}`;
}

/**
 * The StorageClass parameters: numberOfReplicas (a string: parameters are a string map), the job
 * selector, then the user's extra parameters. Refuses object fields written as parameters
 * (`reclaimPolicy` there is silently ignored by Kubernetes and the volumes get Delete).
 */
export function storageClassParameters(sc: StorageClassConfig, config?: LonghornConfig): Record<string, string> {
  for (const key of Object.keys(sc.parameters)) {
    if (SC_FIELDS_NOT_PARAMETERS.includes(key)) {
      throw new Error(
        `${scPath(config, sc, key)}: "${key}" is a StorageClass field, not a Longhorn parameter; set it on the storage class itself (reclaimPolicy: ${sc.reclaimPolicy})`,
      );
    }
    if (RESERVED_SC_PARAMETERS.includes(key)) {
      throw new Error(
        `${scPath(config, sc, key)}: "${key}" is set from the storage class's ${key === "numberOfReplicas" ? "numberOfReplicas" : "recurringJobs/recurringJobGroups"}; remove it from parameters`,
      );
    }
  }
  return {
    numberOfReplicas: String(sc.numberOfReplicas),
    recurringJobSelector: storageClassSelector(sc),
    ...sc.parameters,
  };
}

/** The StorageClass object (cluster-scoped). */
export function storageClassManifest(sc: StorageClassConfig, config?: LonghornConfig) {
  return {
    apiVersion: "storage.k8s.io/v1" as const,
    kind: "StorageClass" as const,
    metadata: { name: sc.name },
    provisioner: LONGHORN_PROVISIONER,
    parameters: storageClassParameters(sc, config),
    reclaimPolicy: sc.reclaimPolicy,
    allowVolumeExpansion: true,
    volumeBindingMode: "Immediate",
  };
}

export interface JobCoverage {
  readonly job: string;
  readonly task: string;
  /** Groups the job serves (`default` = every volume with no job/group label). */
  readonly groups: string[];
  /** PVCs (`namespace/name`) labelled into this job directly. */
  readonly pvcs: string[];
  /** PVCs that join through a group label the program puts on them (the `default` group). */
  readonly pvcsViaGroups: string[];
  /** StorageClasses whose new volumes join this job, directly or through a group. */
  readonly storageClasses: string[];
  /** True when the job reaches no volume at all through this stack (no PVC, class or default group). */
  readonly reachesNothing: boolean;
}

/** Which PVCs, groups and StorageClasses each job covers. */
export function pvcCoverage(config: LonghornConfig): JobCoverage[] {
  const patches = pvcLabelPatches(config);
  return config.recurringJobs.map((job) => {
    const direct = patches.filter((p) => p.jobs.includes(job.name)).map((p) => `${p.namespace}/${p.name}`);
    const viaGroups = patches
      .filter(
        (p) => !p.jobs.includes(job.name) && job.groups.some((g) => p.labels[`${GROUP_LABEL_PREFIX}${g}`] === ENABLED),
      )
      .map((p) => `${p.namespace}/${p.name}`);
    const classes = config.storageClasses
      .filter((sc) =>
        storageClassSelectorEntries(sc).some((e) => (e.isGroup ? job.groups.includes(e.name) : e.name === job.name)),
      )
      .map((sc) => sc.name);
    const reachesNothing =
      direct.length === 0 &&
      viaGroups.length === 0 &&
      classes.length === 0 &&
      !job.groups.includes("default") &&
      job.task !== "system-backup";
    return {
      job: job.name,
      task: job.task,
      groups: [...job.groups],
      pvcs: direct,
      pvcsViaGroups: viaGroups,
      storageClasses: classes,
      reachesNothing,
    };
  });
}

/** What a Longhorn restore of one PVC needs: the placeholders of the plan, or real values in a test. */
export interface LonghornRestoreInput {
  /** Longhorn's namespace. */
  readonly longhornNamespace: string;
  /** The new Longhorn volume (never the old one's name: the old volume stays until the restore is checked). */
  readonly volume: string;
  /** The Backup's `status.url`. */
  readonly backupUrl: string;
  /** The Backup's `status.volumeSize`, in bytes. */
  readonly sizeBytes: string;
  readonly pvcNamespace: string;
  readonly pvc: string;
  /** The old PVC's `spec.storageClassName`, kept so the PVC binds as before. */
  readonly storageClass: string;
  /** The old PVC's first access mode. */
  readonly accessMode: string;
  readonly replicas: number;
}

/**
 * The three objects of a restore to the original PVC name, as Longhorn documents a statically bound
 * volume (longhorn.io/docs/1.10.1/references/examples, "CSI Persistent Volume": a PV with
 * `csi.driver: driver.longhorn.io` and `volumeHandle` = the Longhorn volume, and a PVC naming it in
 * `volumeName`), with the volume created from the backup (`spec.fromBackup`, volumes.longhorn.io CRD,
 * test/fixtures/crds/longhorn). The PV is Retain so that deleting the PVC later never deletes the data.
 */
export function longhornRestoreObjects(r: LonghornRestoreInput): Record<string, unknown>[] {
  const pv = `${r.volume}-pv`;
  return [
    {
      apiVersion: LONGHORN_API_VERSION,
      kind: "Volume",
      metadata: { name: r.volume, namespace: r.longhornNamespace },
      spec: { fromBackup: r.backupUrl, size: r.sizeBytes, numberOfReplicas: r.replicas, frontend: "blockdev" },
    },
    {
      apiVersion: "v1",
      kind: "PersistentVolume",
      metadata: { name: pv },
      spec: {
        capacity: { storage: r.sizeBytes },
        volumeMode: "Filesystem",
        accessModes: [r.accessMode],
        persistentVolumeReclaimPolicy: "Retain",
        storageClassName: r.storageClass,
        csi: { driver: "driver.longhorn.io", fsType: "ext4", volumeHandle: r.volume },
      },
    },
    {
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: { name: r.pvc, namespace: r.pvcNamespace },
      spec: {
        accessModes: [r.accessMode],
        resources: { requests: { storage: r.sizeBytes } },
        storageClassName: r.storageClass,
        volumeName: pv,
      },
    },
  ];
}
