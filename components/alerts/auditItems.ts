/**
 * The items the audit's staleness rules judge, with the same thresholds as the producing tool's own
 * rules: each schedule's longest gap plus how long a run may take (components/alerts/ruleHelpers.ts).
 */
import type { StackWatches } from "../core/watch.js";
import { LONGHORN_BACKUP_TASKS, offsiteOf, type StackConfig } from "../config.js";
import { cronGaps, formatSeconds } from "../core/cron.js";
import { names } from "../core/names.js";
import type { AuditStaleness } from "./auditRules.js";
import {
  cronJobStaleSeconds,
  LONGHORN_RUN_ALLOWANCE_SECONDS,
  OFFSITE_HUB_RUN_ALLOWANCE_SECONDS,
  VELERO_FS_BACKUP_ALLOWANCE_SECONDS,
  VELERO_OBJECTS_ALLOWANCE_SECONDS,
  watchWhy,
} from "./ruleHelpers.js";

const gapText = (cron: string, allowance: number, what: string) =>
  `longest gap of \`${cron}\` (${formatSeconds(cronGaps(cron).maxGapSeconds)}) + ${formatSeconds(allowance)} ${what}`;

/** Longhorn: the longest gap of the backup jobs and the allowance (for the retain rule too). */
export function longhornBackupGap(
  stack: StackConfig,
): { longestGapSeconds: number; allowanceSeconds: number } | undefined {
  const jobs = (stack.longhorn?.recurringJobs ?? []).filter((j) => LONGHORN_BACKUP_TASKS.includes(j.task));
  if (!jobs.length || stack.longhorn?.target !== "hub") return undefined;
  return {
    longestGapSeconds: Math.max(...jobs.map((j) => cronGaps(j.cron).maxGapSeconds)),
    allowanceSeconds: LONGHORN_RUN_ALLOWANCE_SECONDS,
  };
}

export function auditItems(stack: StackConfig, watches: StackWatches): AuditStaleness[] {
  const out: AuditStaleness[] = [];
  const lh = longhornBackupGap(stack);
  if (lh) {
    const t = lh.longestGapSeconds + lh.allowanceSeconds;
    out.push({
      cls: "longhorn",
      what: "Longhorn volumes",
      thresholdSeconds: t,
      why: `longest gap of the backup jobs (${formatSeconds(lh.longestGapSeconds)}) + ${formatSeconds(lh.allowanceSeconds)} for the backup to finish`,
      staleness: true,
    });
  }
  if (stack.postgres) {
    for (const db of stack.postgres.databases) {
      // The dump CronJob's watch: its real schedule (spread in the window) and deadlines.
      const w = watches.dumps.get(db.name)!;
      out.push({
        cls: "postgres",
        item: db.name,
        what: `PostgreSQL dump \`${db.name}\``,
        thresholdSeconds: cronJobStaleSeconds(w),
        why: watchWhy(w),
        staleness: true,
      });
    }
  }
  if (stack.etcd) {
    const w = watches.etcd!;
    out.push({
      cls: "etcd",
      what: "etcd snapshots",
      thresholdSeconds: cronJobStaleSeconds(w),
      why: watchWhy(w),
      staleness: true,
    });
  }
  if (stack.velero) {
    const allowance = stack.velero.fsBackup ? VELERO_FS_BACKUP_ALLOWANCE_SECONDS : VELERO_OBJECTS_ALLOWANCE_SECONDS;
    for (const s of stack.velero.schedules) {
      out.push({
        cls: "velero",
        item: names.veleroSchedule(s.name),
        what: `Velero schedule \`${names.veleroSchedule(s.name)}\``,
        thresholdSeconds: cronGaps(s.cron).maxGapSeconds + allowance,
        why: gapText(s.cron, allowance, stack.velero.fsBackup ? "(fs-backup timeout)" : "for an objects-only backup"),
        staleness: true,
      });
    }
  }
  for (const m of stack.buckets?.mirrors ?? []) {
    const w = watches.mirrors.get(m.name)!;
    out.push({
      cls: "buckets",
      item: m.name,
      what: `mirror \`${m.name}\``,
      thresholdSeconds: cronJobStaleSeconds(w),
      why: watchWhy(w),
      // The newest object of a mirror is as old as the source's newest: age says nothing.
      staleness: false,
    });
  }
  const offsite = offsiteOf(stack);
  if (offsite) {
    const w = watches.offsiteJob;
    const base = w
      ? cronJobStaleSeconds(w)
      : cronGaps(offsite.schedule).maxGapSeconds + OFFSITE_HUB_RUN_ALLOWANCE_SECONDS;
    const why = w ? watchWhy(w) : gapText(offsite.schedule, OFFSITE_HUB_RUN_ALLOWANCE_SECONDS, "for the upload");
    out.push({
      cls: "offsite",
      item: "offsite",
      what: "off-site copy",
      // rclone sync uploads only what changed, so the newest file is the last run that had something
      // new to copy: allow one more day for the first backup after a run to land on the hub.
      thresholdSeconds: base + 86_400,
      why: `${why} + 1d for new backups to reach the hub`,
      staleness: true,
    });
  }
  return out;
}
