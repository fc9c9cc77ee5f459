/**
 * Which pod volumes a Velero Schedule copies with the node agent (Kopia file-system backup).
 *
 * Velero decides per Backup (velero-io/velero `pkg/util/podvolume/pod_volume.go`,
 * `GetVolumesByPod`): with `defaultVolumesToFsBackup: true` every volume of every backed-up pod
 * except those listed in the pod annotation `backup.velero.io/backup-volumes-excludes` (opt-out);
 * with it false only the volumes listed in `backup.velero.io/backup-volumes` (opt-in). Velero has no
 * per-namespace switch, so "opt-in, plus every volume of namespaces a and b" is two Schedules per
 * configured schedule: the configured one without a and b, copying only annotated volumes, and
 * `<name>-volumes` for exactly a and b with `defaultVolumesToFsBackup: true`. Together they back up
 * the same objects as the configured schedule, and no volume outside a and b unless annotated.
 */

export type FsBackup =
  | { readonly mode: "off" }
  | { readonly mode: "opt-out" }
  | { readonly mode: "opt-in"; readonly namespaces: readonly string[] };

/**
 * The stack file's `velero.fsBackup` (boolean or object) as one shape: `true` is opt-out, as before. A
 * value already in that shape (a parsed section handed to a component) stays as it is.
 */
export function normalizeFsBackup(
  value: boolean | { mode: "opt-in" | "opt-out"; namespaces?: readonly string[] } | FsBackup | undefined,
): FsBackup {
  if (value === undefined || value === false || (value !== true && value.mode === "off")) return { mode: "off" };
  if (value === true || value.mode === "opt-out") return { mode: "opt-out" };
  return { mode: "opt-in", namespaces: [...(value.namespaces ?? [])] };
}

/** The node agent runs (and the namespace needs the privileged Pod Security level) in both modes. */
export function usesNodeAgent(fs: FsBackup): boolean {
  return fs.mode !== "off";
}

/** Suffix of the Schedule that copies every volume of the opt-in namespaces. */
export const VOLUMES_SCHEDULE_SUFFIX = "-volumes";

export interface ScheduleInput {
  readonly name: string;
  readonly includedNamespaces?: readonly string[];
}

/** One Velero Schedule a configured schedule becomes. */
export interface ScheduleSplit {
  /** The Schedule's name. */
  readonly name: string;
  /** The configured schedule it comes from. */
  readonly configured: string;
  /** Namespaces it includes (undefined: all but the excluded ones). */
  readonly includedNamespaces?: string[];
  /** Namespaces it excludes on top of `velero.excludedNamespaces`. */
  readonly extraExcludedNamespaces: string[];
  readonly defaultVolumesToFsBackup: boolean;
  /** What pod-volume data it copies, for the plan. */
  readonly copies: string;
  /** Whether it copies volumes by default, and where: "none", "annotated" or the namespaces. */
  readonly volumeScope: "none" | "annotated" | "all" | { readonly namespaces: string[] };
}

/** The Schedules one configured schedule becomes under the fsBackup mode. */
export function splitSchedule(fs: FsBackup, schedule: ScheduleInput): ScheduleSplit[] {
  const included = schedule.includedNamespaces ? [...schedule.includedNamespaces] : undefined;
  const base = {
    name: schedule.name,
    configured: schedule.name,
    extraExcludedNamespaces: [] as string[],
    ...(included ? { includedNamespaces: included } : {}),
  };
  if (fs.mode === "off")
    return [{ ...base, defaultVolumesToFsBackup: false, copies: "no pod volumes", volumeScope: "none" }];
  if (fs.mode === "opt-out") {
    return [
      {
        ...base,
        defaultVolumesToFsBackup: true,
        copies: "every pod volume, except those a pod lists in `backup.velero.io/backup-volumes-excludes`",
        volumeScope: "all",
      },
    ];
  }
  const volumeNamespaces = fs.namespaces.filter((ns) => !included || included.includes(ns));
  const annotatedOnly = "only the volumes a pod lists in `backup.velero.io/backup-volumes`";
  if (volumeNamespaces.length === 0)
    return [{ ...base, defaultVolumesToFsBackup: false, copies: annotatedOnly, volumeScope: "annotated" }];
  const rest = included?.filter((ns) => !volumeNamespaces.includes(ns));
  const volumes: ScheduleSplit = {
    name: rest && rest.length === 0 ? schedule.name : `${schedule.name}${VOLUMES_SCHEDULE_SUFFIX}`,
    configured: schedule.name,
    includedNamespaces: volumeNamespaces,
    extraExcludedNamespaces: [],
    defaultVolumesToFsBackup: true,
    copies: `every pod volume of ${volumeNamespaces.join(", ")}, except those a pod lists in \`backup.velero.io/backup-volumes-excludes\``,
    volumeScope: { namespaces: volumeNamespaces },
  };
  if (rest && rest.length === 0) return [volumes];
  const others: ScheduleSplit = {
    name: schedule.name,
    configured: schedule.name,
    ...(rest ? { includedNamespaces: rest } : {}),
    extraExcludedNamespaces: rest ? [] : volumeNamespaces,
    defaultVolumesToFsBackup: false,
    copies: annotatedOnly,
    volumeScope: "annotated",
  };
  return [others, volumes];
}

/**
 * The namespaces whose pod volumes the built Schedules copy by default, as a PromQL label matcher on
 * `namespace` (annotated volumes elsewhere cannot be known offline and are not counted); undefined
 * when no Schedule copies volumes by default. `excluded`: velero.excludedNamespaces.
 */
export function defaultVolumeNamespaceMatcher(
  schedules: readonly { volumeScope: ScheduleSplit["volumeScope"]; includedNamespaces?: readonly string[] }[],
  excluded: readonly string[],
  alternatives: (values: readonly string[]) => string,
): string | undefined {
  const copying = schedules.filter((s) => s.volumeScope === "all" || typeof s.volumeScope === "object");
  if (copying.length === 0) return undefined;
  // A Schedule over every namespace (no include list) copies everything but the excluded ones.
  if (copying.some((s) => !s.includedNamespaces)) {
    return excluded.length ? `namespace!~"${alternatives([...excluded].sort())}"` : `namespace!=""`;
  }
  const names = [...new Set(copying.flatMap((s) => s.includedNamespaces ?? []))].sort();
  return `namespace=~"${alternatives(names)}"`;
}
