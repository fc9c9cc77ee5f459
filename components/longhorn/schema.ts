/** The longhorn section: backup target, recurring jobs and storage classes. Part of the stack file schema (components/config.ts composes the sections). */
import { z } from "zod";
import {
  cron,
  dnsLabel,
  dnsSubdomain,
  goDuration,
  posInt,
  PREFIXES,
  STATUS_PREFIX,
  stringMap,
  suggest,
  uniqueBy,
} from "../core/schema.js";

/**
 * The prefixes Longhorn's may not overlap: the other classes' and the status records'. Each has its own
 * writer, and the writers' rights are per prefix (components/hub/iam.ts): an overlap would let Longhorn
 * prune another class's objects, or the status writers reach Longhorn's.
 */
const TAKEN_PREFIXES = [...Object.values(PREFIXES).filter((p) => p !== PREFIXES.longhorn), STATUS_PREFIX];

export const LONGHORN_TASKS = [
  "backup",
  "backup-force-create",
  "snapshot",
  "snapshot-force-create",
  "snapshot-cleanup",
  "snapshot-delete",
  "filesystem-trim",
  "system-backup",
] as const;
/** Tasks whose `retain` Longhorn's mutator forces to 0. */
export const LONGHORN_NO_RETAIN_TASKS: readonly string[] = ["snapshot-cleanup", "filesystem-trim"];
export const LONGHORN_BACKUP_TASKS: readonly string[] = ["backup", "backup-force-create"];
/**
 * The job group the Longhorn restore drill puts its scratch volumes in (components/drills/longhorn-drill.sh):
 * a Volume with no job or group label joins `default` (longhorn-manager `datastore/longhorn.go`,
 * `labelRecurringJobDefault`), and a backup job in `default` would back up and count the drill's
 * scratch volume. No recurring job may use this group.
 */
export const DRILL_VOLUME_GROUP = "homelab-backup-drill";
const LONGHORN_GROUP = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/** The defaults of each recurring job (LONGHORN_DEFAULTS.recurringJob). */
const job = {
  concurrency: 1,
  groups: [] as string[],
  labels: {} as Record<string, string>,
  pvcs: [] as { namespace: string; name: string }[],
} as const;
/** The defaults of each storage class (LONGHORN_DEFAULTS.storageClass). */
const storage = {
  recurringJobs: [] as string[],
  recurringJobGroups: [] as string[],
  reclaimPolicy: "Retain",
  numberOfReplicas: 2,
  parameters: {} as Record<string, string>,
} as const;

export const recurringJobSchema = z.strictObject({
  name: dnsLabel(40),
  cron,
  task: z.enum(LONGHORN_TASKS),
  /** How many backups or snapshots to keep; required except for snapshot-cleanup and filesystem-trim. */
  retain: z
    .number()
    .int("must be an integer")
    .min(1, "must be an integer >= 1")
    .max(100, "must be at most 100 (Longhorn's recurring-job-max-retention)")
    .optional(),
  /** @default 1 */
  concurrency: posInt(1).default(job.concurrency),
  /** Backup tasks: every this many backups is a full one. @default Longhorn's own (incremental only) */
  fullBackupInterval: posInt(0).optional(),
  /** @default [] */
  groups: z
    .array(
      z
        .string()
        .regex(LONGHORN_GROUP, "must be a Longhorn group name: letters, digits, '_', '.', '-' (2+ characters)")
        .refine(
          (g) => g !== DRILL_VOLUME_GROUP,
          `is reserved: the Longhorn restore drill's scratch volumes are in group "${DRILL_VOLUME_GROUP}", which no job may back up`,
        ),
    )
    .default(job.groups),
  /** @default {} */
  labels: stringMap.default(job.labels),
  /** PVCs labelled into this job. @default [] */
  pvcs: z.array(z.strictObject({ namespace: dnsLabel(), name: dnsSubdomain })).default(job.pvcs),
});

export const storageClassSchema = z.strictObject({
  name: dnsSubdomain,
  /** @default [] */
  recurringJobs: z.array(z.string()).default(storage.recurringJobs),
  /** @default [] */
  recurringJobGroups: z.array(z.string()).default(storage.recurringJobGroups),
  /** @default "Retain" */
  reclaimPolicy: z.enum(["Retain", "Delete"]).default(storage.reclaimPolicy),
  /** @default 2 */
  numberOfReplicas: z
    .number()
    .int("must be an integer")
    .min(1, "must be between 1 and 20")
    .max(20, "must be between 1 and 20")
    .default(storage.numberOfReplicas),
  /** @default {} */
  parameters: stringMap.default(storage.parameters),
});

/**
 * Every default of the longhorn section, in one place: the schema's `.default()`s below and
 * LonghornBackupTarget (through `longhornWithDefaults`) read them here.
 */
/**
 * The Longhorn releases the stack supports, as `major.minor` lines: 1.9 and 1.10 (what the seeds run, 1.9.2
 * and 1.10.1) up to 1.12 (the baseline components/longhorn/logic.ts is written against, v1.12.1).
 * Backup targets as BackupTarget CRs exist since v1.8.0 (logic.ts); nothing older is supported.
 */
export const LONGHORN_SUPPORTED_MINORS: readonly string[] = ["1.9", "1.10", "1.11", "1.12"];
/**
 * First release whose longhorn-manager exports `longhorn_volume_last_backup_at` (unix seconds of a
 * volume's last backup, 0 if none; labels node, volume, pvc, pvc_namespace): longhorn/longhorn-manager
 * `metrics_collector/volume_collector.go` has `lastBackupAtMetric` at tag v1.11.0 and not at v1.10.1.
 */
export const LONGHORN_LAST_BACKUP_AT_SINCE = "1.11.0";

/** `major.minor.patch` of a Longhorn version string ("v1.10.1" or "1.10.1"), or undefined. */
export function parseLonghornVersion(v: string): [number, number, number] | undefined {
  const m = /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$/.exec(v);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

/** Whether the Longhorn release `version` (a valid longhorn.version) exports `longhorn_volume_last_backup_at`. */
export function hasLastBackupAtMetric(version: string): boolean {
  const [a, b] = parseLonghornVersion(version)!;
  const [x, y] = parseLonghornVersion(LONGHORN_LAST_BACKUP_AT_SINCE)!;
  return a > x || (a === x && b >= y);
}

export const LONGHORN_DEFAULTS = {
  /** The Longhorn release the cluster runs (what metrics the alerts and dashboard may use). */
  version: "1.12.1",
  namespace: "longhorn-system",
  target: "hub",
  prefix: "longhorn/",
  pollInterval: "5m0s",
  allowRecurringJobWhileVolumeDetached: true,
  recurringJobs: [] as RecurringJobConfig[],
  storageClasses: [] as StorageClassConfig[],
  groupPvcs: {} as Record<string, { namespace: string; name: string }[]>,
  /** Of each recurring job. */
  recurringJob: job,
  /** Of each storage class. */
  storageClass: storage,
} as const;

export const longhornSchema = z
  .strictObject({
    /**
     * The Longhorn release the cluster runs, `1.10.1` or `v1.10.1`; one of LONGHORN_SUPPORTED_MINORS.
     * Below 1.11 the staleness alert is built from `longhorn_backup_state` (no `longhorn_volume_last_backup_at`). @default "1.12.1"
     */
    version: z
      .string()
      .refine(
        (v) => {
          const p = parseLonghornVersion(v);
          return p !== undefined && LONGHORN_SUPPORTED_MINORS.includes(`${p[0]}.${p[1]}`);
        },
        {
          message: `must be a supported Longhorn release, major.minor.patch in ${LONGHORN_SUPPORTED_MINORS[0]}.x–${LONGHORN_SUPPORTED_MINORS.at(-1)}.x (e.g. "1.10.1")`,
        },
      )
      .default(LONGHORN_DEFAULTS.version),
    /** @default "longhorn-system" */
    namespace: dnsLabel().default(LONGHORN_DEFAULTS.namespace),
    /** @default "hub" */
    target: z.enum(["hub", "ftpBridge"]).default(LONGHORN_DEFAULTS.target),
    /** Where in the hub's bucket Longhorn writes; "" is the bucket root, where existing backups stay visible. @default "longhorn/" */
    prefix: z
      .string()
      .regex(
        /^(|[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*\/)$/,
        'must be "" (the bucket root) or a key prefix ending in "/", e.g. "longhorn/"',
      )
      .refine(
        (p) => p === "" || !TAKEN_PREFIXES.some((t) => p.startsWith(t) || t.startsWith(p)),
        `must not overlap another writer's prefix (${TAKEN_PREFIXES.join(", ")})`,
      )
      .default(LONGHORN_DEFAULTS.prefix),
    /** @default "5m0s" */
    pollInterval: goDuration.default(LONGHORN_DEFAULTS.pollInterval),
    /** @default true */
    allowRecurringJobWhileVolumeDetached: z.boolean().default(LONGHORN_DEFAULTS.allowRecurringJobWhileVolumeDetached),
    /** @default [] */
    recurringJobs: z.array(recurringJobSchema).default(LONGHORN_DEFAULTS.recurringJobs),
    /** @default [] */
    storageClasses: z.array(storageClassSchema).default(LONGHORN_DEFAULTS.storageClasses),
    /** Existing PVCs that join a group (their volumes then run the group's jobs), e.g. `{traefik-only: [{namespace, name}]}`. @default {} */
    groupPvcs: z
      .record(
        z
          .string()
          .regex(LONGHORN_GROUP, "must be a Longhorn group name: letters, digits, '_', '.', '-' (2+ characters)"),
        z.array(z.strictObject({ namespace: dnsLabel(), name: dnsSubdomain })),
      )
      .default(LONGHORN_DEFAULTS.groupPvcs),
  })
  .superRefine((lh, ctx) => {
    uniqueBy(lh.recurringJobs, (j) => j.name, "recurring job", ctx, ["recurringJobs"]);
    uniqueBy(lh.storageClasses, (s) => s.name, "storage class", ctx, ["storageClasses"]);
    lh.recurringJobs.forEach((j, i) => {
      const at = (f: string) => ["recurringJobs", i, f];
      if (j.retain === undefined && !LONGHORN_NO_RETAIN_TASKS.includes(j.task)) {
        ctx.addIssue({
          code: "custom",
          path: at("retain"),
          message: `is required for task "${j.task}" (an integer >= 1: how many ${j.task.startsWith("backup") ? "backups" : "snapshots"} to keep)`,
        });
      }
      if (j.fullBackupInterval !== undefined) {
        if (!LONGHORN_BACKUP_TASKS.includes(j.task)) {
          ctx.addIssue({
            code: "custom",
            path: at("fullBackupInterval"),
            message: `applies only to backup tasks (backup, backup-force-create), not "${j.task}"`,
          });
        } else if (j.retain !== undefined && j.retain <= j.fullBackupInterval) {
          ctx.addIssue({
            code: "custom",
            path: at("retain"),
            message: `must be greater than fullBackupInterval (${j.fullBackupInterval}): with retain ${j.retain} the kept backups include ${j.retain < j.fullBackupInterval ? "at times no full backup at all" : "only one full backup"}, so every restore point depends on a single chain of shared blocks and one bad block can break all of them; set retain to at least ${j.fullBackupInterval + 1}`,
          });
        }
      }
    });
    const jobNames = new Set(lh.recurringJobs.map((j) => j.name));
    const groups = new Set(lh.recurringJobs.flatMap((j) => j.groups));
    for (const g of Object.keys(lh.groupPvcs)) {
      if (g !== "default" && !groups.has(g)) {
        ctx.addIssue({
          code: "custom",
          path: ["groupPvcs", g],
          message: `names group "${g}", which no recurring job is in, so these PVCs would never be backed up${suggest(g, [...groups])}`,
        });
      }
    }
    lh.storageClasses.forEach((sc, i) => {
      sc.recurringJobs.forEach((name, k) => {
        if (!jobNames.has(name)) {
          ctx.addIssue({
            code: "custom",
            path: ["storageClasses", i, "recurringJobs", k],
            message: `names recurring job "${name}", which is not defined in longhorn.recurringJobs${suggest(name, [...jobNames])}`,
          });
        }
      });
      sc.recurringJobGroups.forEach((g, k) => {
        if (g !== "default" && !groups.has(g)) {
          ctx.addIssue({
            code: "custom",
            path: ["storageClasses", i, "recurringJobGroups", k],
            message: `names group "${g}", which no recurring job is in, so new volumes of this class would never be backed up${suggest(g, [...groups])}`,
          });
        }
      });
      if (sc.recurringJobs.length === 0 && sc.recurringJobGroups.length === 0) {
        ctx.addIssue({
          code: "custom",
          path: ["storageClasses", i],
          message: "names no recurringJobs and no recurringJobGroups; volumes of this class would join no job",
        });
      }
    });
  });

/** The longhorn section, parsed and defaulted. */
export type LonghornConfig = z.output<typeof longhornSchema>;
/** The longhorn section as written: every key with a default may be left out. */
export type LonghornInput = z.input<typeof longhornSchema>;
/** One recurring job, parsed and defaulted. */
export type RecurringJobConfig = z.output<typeof recurringJobSchema>;
/** One storage class, parsed and defaulted. */
export type StorageClassConfig = z.output<typeof storageClassSchema>;

/** The longhorn section with every default of the schema applied (LONGHORN_DEFAULTS), in its jobs and classes too. */
export function longhornWithDefaults(l: LonghornInput): LonghornConfig {
  const d = LONGHORN_DEFAULTS;
  return {
    ...l,
    version: l.version ?? d.version,
    namespace: l.namespace ?? d.namespace,
    target: l.target ?? d.target,
    prefix: l.prefix ?? d.prefix,
    pollInterval: l.pollInterval ?? d.pollInterval,
    allowRecurringJobWhileVolumeDetached:
      l.allowRecurringJobWhileVolumeDetached ?? d.allowRecurringJobWhileVolumeDetached,
    recurringJobs:
      l.recurringJobs?.map((j) => ({
        ...j,
        concurrency: j.concurrency ?? job.concurrency,
        groups: j.groups ?? job.groups,
        labels: j.labels ?? job.labels,
        pvcs: j.pvcs ?? job.pvcs,
      })) ?? d.recurringJobs,
    storageClasses:
      l.storageClasses?.map((sc) => ({
        ...sc,
        recurringJobs: sc.recurringJobs ?? storage.recurringJobs,
        recurringJobGroups: sc.recurringJobGroups ?? storage.recurringJobGroups,
        reclaimPolicy: sc.reclaimPolicy ?? storage.reclaimPolicy,
        numberOfReplicas: sc.numberOfReplicas ?? storage.numberOfReplicas,
        parameters: sc.parameters ?? storage.parameters,
      })) ?? d.storageClasses,
    groupPvcs: l.groupPvcs ?? d.groupPvcs,
  };
}
