/**
 * `hub.archive`: which data classes move to a colder S3 storage class, and when the stack is refused.
 *
 * S3 facts this relies on (Amazon S3 API Reference, `Transition`; Amazon S3 User Guide, "Constraints
 * and considerations for transitions" and "Understanding archive retrieval options"):
 * - Minimum storage duration, charged in full when an object leaves earlier: STANDARD_IA 30 days,
 *   GLACIER_IR and GLACIER (Flexible Retrieval) 90 days, DEEP_ARCHIVE 180 days.
 * - A lifecycle transition to STANDARD_IA is accepted only for objects at least 30 days old; the
 *   others accept any day count.
 * - STANDARD_IA and GLACIER_IR objects read like STANDARD ones (milliseconds). GLACIER and
 *   DEEP_ARCHIVE objects cannot be read until a RestoreObject request has finished: GLACIER 1–5 min
 *   (Expedited), 3–5 h (Standard), 5–12 h (Bulk); DEEP_ARCHIVE within 12 h (Standard), 48 h (Bulk).
 *
 * The rules (the stack file contract): a class moves only when its objects stay in the colder class at
 * least the minimum duration (so the move pays); GLACIER and DEEP_ARCHIVE are refused for classes that
 * are read back unless `allowThaw`, and then the restore commands thaw first; an archive that moves no
 * class is refused. Longhorn, Velero and bucket mirrors read their own objects (Longhorn's backup-store
 * sync and incremental restores, Velero's backup sync and Kopia maintenance), so no thaw command can
 * precede those reads: they may only move to classes that read instantly.
 */

import { parseGoDuration } from "../core/duration.js";
import { PREFIXES } from "../core/schema.js";

export const ARCHIVE_STORAGE_CLASSES = ["GLACIER", "GLACIER_IR", "DEEP_ARCHIVE", "STANDARD_IA"] as const;
export type ArchiveStorageClass = (typeof ARCHIVE_STORAGE_CLASSES)[number];

/** Days S3 charges an object in the class for, even when it is deleted earlier. */
export const MINIMUM_STORAGE_DAYS: Record<ArchiveStorageClass, number> = {
  STANDARD_IA: 30,
  GLACIER_IR: 90,
  GLACIER: 90,
  DEEP_ARCHIVE: 180,
};

/** The youngest object age S3 accepts in a lifecycle transition to the class. */
export const MINIMUM_TRANSITION_AGE_DAYS: Record<ArchiveStorageClass, number> = {
  STANDARD_IA: 30,
  GLACIER_IR: 0,
  GLACIER: 0,
  DEEP_ARCHIVE: 0,
};

/** Classes whose objects must be restored (thawed) before any read. */
export const THAW_STORAGE_CLASSES: readonly ArchiveStorageClass[] = ["GLACIER", "DEEP_ARCHIVE"];

/** How long a read of an object in the class waits (Standard retrieval tier for the archive classes). */
export const READ_DELAY: Record<ArchiveStorageClass, string> = {
  STANDARD_IA: "none (milliseconds; retrieval is billed per GB)",
  GLACIER_IR: "none (milliseconds; retrieval is billed per GB)",
  GLACIER: "3–5 hours thaw (Standard tier; Expedited 1–5 minutes at a higher price)",
  DEEP_ARCHIVE: "up to 12 hours thaw (Standard tier)",
};

export interface ArchiveSettings {
  readonly afterDays: number;
  readonly storageClass: ArchiveStorageClass;
  readonly allowThaw?: boolean;
}

/** One data class as the archive rules see it. */
export interface ArchiveCandidate {
  /** Short name for messages and the plan, e.g. `postgres`. */
  readonly name: string;
  /** Its bucket prefix, e.g. `postgres-backups/`. */
  readonly prefix: string;
  /** Longest time one of its objects is kept, in days; undefined when no day figure bounds it. */
  readonly keepDays?: number;
  /** Shortest time one of its objects is kept, in days (a prefix can hold several retentions). */
  readonly shortestKeepDays?: number;
  /** Its own software reads its stored objects (no restore command can thaw them first). */
  readonly readsItself: boolean;
  /** Why no day figure bounds its retention (when keepDays is undefined). */
  readonly unboundedBecause?: string;
}

export interface ArchiveDecision {
  readonly name: string;
  readonly prefix: string;
  readonly moves: boolean;
  /** Why it moves or stays, for the plan. */
  readonly reason: string;
  /** Restores of this class must thaw objects first (GLACIER/DEEP_ARCHIVE with allowThaw). */
  readonly thaw: boolean;
  /** Objects of a shorter retention in the same prefix that leave before the minimum duration. */
  readonly earlyDeletionWarning?: string;
}

export interface ArchivePlan {
  readonly decisions: ArchiveDecision[];
  /** Problems that refuse the stack; each is a sentence about `hub.archive`. */
  readonly errors: string[];
}

const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? "" : "s"}`;

/** Which classes move, which stay and why, and what refuses the stack. */
export function planArchive(archive: ArchiveSettings, candidates: readonly ArchiveCandidate[]): ArchivePlan {
  const { afterDays, storageClass } = archive;
  const allowThaw = archive.allowThaw ?? false;
  const minDays = MINIMUM_STORAGE_DAYS[storageClass];
  const needsThaw = THAW_STORAGE_CLASSES.includes(storageClass);
  const errors: string[] = [];
  const minAge = MINIMUM_TRANSITION_AGE_DAYS[storageClass];
  if (afterDays < minAge) {
    errors.push(
      `afterDays ${afterDays} is too early for ${storageClass}: S3 accepts a transition to ${storageClass} only for objects at least ${minAge} days old; set afterDays to ${minAge} or more`,
    );
  }

  const decisions = candidates.map((c): ArchiveDecision => {
    const base = { name: c.name, prefix: c.prefix, thaw: false };
    if (needsThaw && c.readsItself) {
      return {
        ...base,
        moves: false,
        reason: `stays in STANDARD: ${c.name} reads its own stored objects, which ${storageClass} would make unreadable until thawed`,
      };
    }
    if (c.keepDays === undefined) {
      return {
        ...base,
        moves: false,
        reason: `stays in STANDARD: ${c.unboundedBecause ?? "no day figure bounds its retention"}`,
      };
    }
    const daysInClass = c.keepDays - afterDays;
    if (daysInClass < minDays) {
      return {
        ...base,
        moves: false,
        reason:
          daysInClass <= 0
            ? `stays in STANDARD: kept ${plural(c.keepDays, "day")}, gone before day ${afterDays}`
            : `stays in STANDARD: kept ${plural(c.keepDays, "day")}, so only ${plural(daysInClass, "day")} in ${storageClass}, under its ${minDays}-day minimum charge (the move would cost more than staying)`,
      };
    }
    const short = c.shortestKeepDays;
    const earlyDeletionWarning =
      short !== undefined && short > afterDays && short - afterDays < minDays
        ? `objects kept ${plural(short, "day")} move at day ${afterDays} and leave before ${storageClass}'s ${minDays}-day minimum: each is charged ${minDays} days`
        : undefined;
    return {
      ...base,
      moves: true,
      thaw: needsThaw,
      reason: `moves to ${storageClass} at day ${afterDays}, kept until day ${c.keepDays} (${plural(daysInClass, "day")} there, ≥ ${minDays}-day minimum)`,
      ...(earlyDeletionWarning ? { earlyDeletionWarning } : {}),
    };
  });

  const moving = decisions.filter((d) => d.moves);
  if (needsThaw && !allowThaw && moving.length > 0) {
    errors.push(
      `${storageClass} makes ${moving.map((d) => `\`${d.prefix}\``).join(", ")} unreadable until a thaw of ${READ_DELAY[storageClass].replace(/ thaw.*/, "")} finishes, and restores read them: ` +
        `set allowThaw: true to accept that (restore commands then start the thaw and wait for it), or use GLACIER_IR, which reads instantly`,
    );
  }
  if (moving.length === 0) {
    errors.push(
      `archive to ${storageClass} after ${plural(afterDays, "day")} pays off for no class: ` +
        decisions.map((d) => `${d.name} ${d.reason.replace(/^stays in STANDARD: /, "")}`).join("; ") +
        `. Remove hub.archive, or pick a class and afterDays that leave objects at least ${minDays} days in ${storageClass}`,
    );
  }
  return { decisions, errors };
}

/** The timeline of one class's objects, for the plan ("STANDARD days 0–30, GLACIER_IR days 30–365"). */
export function archiveTimeline(
  decision: ArchiveDecision,
  archive: ArchiveSettings,
  keepDays: number | undefined,
): string {
  const end = keepDays === undefined ? "until pruned" : `until day ${keepDays}`;
  if (!decision.moves) return `STANDARD ${end}`;
  return `STANDARD days 0–${archive.afterDays}, ${archive.storageClass} ${end}`;
}

/** The sections of a stack the archive rules read (components/config.ts StackConfig fits it). */
export interface ArchiveStackView {
  readonly hub?: { readonly kind: string; readonly archive?: ArchiveSettings };
  readonly longhorn?: unknown;
  readonly postgres?: { readonly retentionDays: number };
  readonly etcd?: { readonly retentionDays: number };
  readonly velero?: { readonly schedules: readonly { readonly ttl: string }[] };
  readonly buckets?: { readonly mirrors: readonly unknown[] };
}

/** The data classes of a stack as the archive rules see them (only the configured ones). */
export function archiveCandidatesOf(stack: ArchiveStackView): ArchiveCandidate[] {
  const out: ArchiveCandidate[] = [];
  if (stack.longhorn)
    out.push({
      name: "longhorn",
      prefix: PREFIXES.longhorn,
      readsItself: true,
      unboundedBecause:
        "Longhorn keeps a count of backups whose blocks later backups share, so no day figure bounds an object's life",
    });
  if (stack.postgres)
    out.push({
      name: "postgres",
      prefix: PREFIXES.postgres,
      keepDays: stack.postgres.retentionDays,
      shortestKeepDays: stack.postgres.retentionDays,
      readsItself: false,
    });
  if (stack.etcd)
    out.push({
      name: "etcd",
      prefix: PREFIXES.etcd,
      keepDays: stack.etcd.retentionDays,
      shortestKeepDays: stack.etcd.retentionDays,
      readsItself: false,
    });
  if (stack.velero) {
    const ttls = stack.velero.schedules.map((s) => Math.ceil((parseGoDuration(s.ttl) || 720 * 3600) / 86_400));
    out.push({
      name: "velero",
      prefix: PREFIXES.velero,
      ...(ttls.length ? { keepDays: Math.max(...ttls), shortestKeepDays: Math.min(...ttls) } : {}),
      readsItself: true,
      unboundedBecause: "no Velero schedule",
    });
  }
  if (stack.buckets && stack.buckets.mirrors.length > 0)
    out.push({
      name: "buckets",
      prefix: PREFIXES.buckets,
      readsItself: false,
      unboundedBecause: "a mirror keeps what its source keeps",
    });
  return out;
}

/** The archive plan of a stack, or undefined without `hub.archive` on an AWS hub. */
export function stackArchivePlan(stack: ArchiveStackView): ArchivePlan | undefined {
  if (stack.hub?.kind !== "aws" || !stack.hub.archive) return undefined;
  return planArchive(stack.hub.archive, archiveCandidatesOf(stack));
}
