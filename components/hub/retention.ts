/**
 * How long the hub keeps what each data class writes: one lifecycle rule per bucket prefix, the same
 * for both hub kinds (S3 lifecycle on AWS, ILM on MinIO/RustFS).
 *
 * Who expires what:
 * - postgres-backups/ and etcd-snapshots/: their writers are append-only (no DeleteObject), so the hub's
 *   lifecycle is the only thing that ever removes a dump or snapshot: it expires them after the class's
 *   retentionDays. Their `.partial/` staging prefixes (the scripts stream there, then copy server-side
 *   to the final key) expire after one day, because the writer cannot delete its own staging object.
 * - longhorn/ and velero/: Longhorn and Velero prune their own backups (retain, ttl); an expiry rule
 *   would delete blocks that live backups still reference (Longhorn forbids lifecycle expiry on its
 *   backupstore). They get no expiry, only removal of noncurrent versions.
 * - buckets/: mirrors of other stores; the mirror itself decides what disappears. No expiry.
 * - status/: the audit's PVC inventory and the drills' last results (components/core/schema.ts
 *   STATUS_PREFIXES), overwritten in place every audit (hourly) and every drill. Their writers cannot
 *   delete, so the current version stays (status reads its age); without a rule every overwritten
 *   version would stay forever on a versioned bucket: they go after the same grace as every class's.
 */
import type * as aws from "@pulumi/aws";
import { PREFIXES, STATUS_PREFIX } from "../core/schema.js";
import type { StackConfig } from "../config.js";
import { stackArchivePlan } from "./archive.js";
import { longhornObjectPrefix } from "./iam.js";
import { parseGoDuration } from "../core/duration.js";

export interface PrefixLifecycle {
  /** Key prefix the rule applies to, e.g. `postgres-backups/` or `postgres-backups/.partial/`. */
  prefix: string;
  /** Days after creation when the current version expires; absent for classes that prune themselves. */
  expireDays?: number;
  /** Days a version stays recoverable after it stopped being current (overwritten, deleted or expired). */
  noncurrentDays: number;
  /** Move objects to a colder storage class after N days (AWS hubs with `hub.archive` only). */
  archive?: { afterDays: number; storageClass: string };
}

/**
 * How long a version that stopped being current (deleted by Longhorn/Velero, overwritten, or expired)
 * stays recoverable: one week to notice a deletion or an overwrite by a leaked key.
 */
export const NONCURRENT_GRACE_DAYS = 7;

/** Staging objects of the append-only writers: gone one day after an interrupted upload. */
export const PARTIAL_EXPIRE_DAYS = 1;

/** Incomplete multipart uploads are aborted after this many days on every prefix. */
export const ABORT_MULTIPART_DAYS = 1;

/** The staging prefix under an append-only class's prefix. */
export function partialPrefix(prefix: string): string {
  return `${prefix}.partial/`;
}

/**
 * The archive transition of the class under `prefix`: only what components/hub/archive.ts decides
 * moves (the move pays, and the class may be frozen); undefined otherwise.
 */
export function archiveFor(stack: StackConfig, prefix: string): PrefixLifecycle["archive"] {
  const plan = stackArchivePlan(stack);
  if (!plan || stack.hub?.kind !== "aws" || !stack.hub.archive) return undefined;
  const decision = plan.decisions.find((d) => d.prefix === prefix);
  if (!decision?.moves) return undefined;
  return { afterDays: stack.hub.archive.afterDays, storageClass: stack.hub.archive.storageClass };
}

/** The lifecycle rules of the configured classes, one per prefix. */
export function prefixLifecycles(stack: StackConfig): PrefixLifecycle[] {
  const out: PrefixLifecycle[] = [];
  const appendOnly = (prefix: string, retentionDays: number) => {
    const archive = archiveFor(stack, prefix);
    out.push({
      prefix,
      expireDays: retentionDays,
      noncurrentDays: NONCURRENT_GRACE_DAYS,
      ...(archive ? { archive } : {}),
    });
    out.push({ prefix: partialPrefix(prefix), expireDays: PARTIAL_EXPIRE_DAYS, noncurrentDays: PARTIAL_EXPIRE_DAYS });
  };
  if (stack.longhorn && stack.longhorn.target === "hub")
    out.push({ prefix: longhornObjectPrefix(stack.longhorn.prefix), noncurrentDays: NONCURRENT_GRACE_DAYS });
  if (stack.postgres) appendOnly(PREFIXES.postgres, stack.postgres.retentionDays);
  if (stack.etcd) appendOnly(PREFIXES.etcd, stack.etcd.retentionDays);
  if (stack.velero) {
    const archive = archiveFor(stack, PREFIXES.velero);
    out.push({ prefix: PREFIXES.velero, noncurrentDays: NONCURRENT_GRACE_DAYS, ...(archive ? { archive } : {}) });
  }
  if (stack.buckets && stack.buckets.mirrors.length > 0)
    out.push({ prefix: PREFIXES.buckets, noncurrentDays: NONCURRENT_GRACE_DAYS });
  if (writesStatusRecords(stack)) out.push({ prefix: STATUS_PREFIX, noncurrentDays: NONCURRENT_GRACE_DAYS });
  return out;
}

/**
 * Does anything of the stack write status records: the audit exporter (its PVC inventory) or a restore
 * drill (its result)? The same sections that build them (components/stack.ts).
 */
export function writesStatusRecords(stack: StackConfig): boolean {
  const drills = stack.drills && Object.keys(stack.drills).some((k) => k !== "namespace" && k !== "postgres");
  return !!(stack.alerts?.audit.enabled || drills || (stack.postgres?.restoreDrill?.databases.length ?? 0) > 0);
}

/** The longest Velero ttl, in whole days (rounded up), or undefined without Velero schedules. */
export function veleroMaxTtlDays(stack: StackConfig): number | undefined {
  const days = (stack.velero?.schedules ?? []).map((s) => Math.ceil((parseGoDuration(s.ttl) ?? 0) / 86_400));
  return days.length ? Math.max(...days) : undefined;
}

/**
 * The longest default Object Lock the bucket takes, in days: the shortest retention of a class in days
 * (PostgreSQL and etcd retentionDays, the shortest Velero ttl, rounded down). A lock outlives
 * lifecycle expiry: a longer one would keep every expired restore point, and every block Longhorn or
 * Velero deletes, on the hub until it ends (the policy pack's `s3-bucket-protected` holds the same rule).
 * Longhorn is left out: its retention is a count of backups, not days. Undefined when no class has a
 * retention in days.
 */
export function objectLockMaximumDays(stack: StackConfig): number | undefined {
  const ttls = (stack.velero?.schedules ?? []).map((s) => Math.floor((parseGoDuration(s.ttl) ?? 0) / 86_400));
  const days = [stack.postgres?.retentionDays, stack.etcd?.retentionDays, ...ttls].filter(
    (d): d is number => d !== undefined && d > 0,
  );
  return days.length ? Math.min(...days) : undefined;
}

/** The S3 lifecycle rule of one prefix: expiry, noncurrent versions, multipart clean-up, archive. */
export function awsLifecycleRule(l: PrefixLifecycle): aws.types.input.s3.BucketLifecycleConfigurationRule {
  return {
    id: l.prefix.replace(/[^A-Za-z0-9.-]+/g, "-").replace(/^-+|-+$/g, ""),
    status: "Enabled",
    filter: { prefix: l.prefix },
    // Rules without a day expiry remove delete markers left with no versions behind them; rules with
    // one do that by themselves, and S3 refuses both settings in one rule.
    expiration: l.expireDays !== undefined ? { days: l.expireDays } : { expiredObjectDeleteMarker: true },
    noncurrentVersionExpiration: { noncurrentDays: l.noncurrentDays },
    abortIncompleteMultipartUpload: { daysAfterInitiation: ABORT_MULTIPART_DAYS },
    ...(l.archive ? { transitions: [{ days: l.archive.afterDays, storageClass: l.archive.storageClass }] } : {}),
  };
}
