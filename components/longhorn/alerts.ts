/** Alert rules of Longhorn backups (composed into the stack's rules by components/alerts/rules.ts). */
import type { StackConfig } from "../config.js";
import { cronGaps, formatSeconds } from "../core/cron.js";
import { LONGHORN_RUN_ALLOWANCE_SECONDS, rule, type Built } from "../alerts/ruleHelpers.js";

/** Backups in Error state and volumes whose last backup is older than the longest gap of the backup jobs allows. */
export function longhornAlertRules(stack: StackConfig): Built[] {
  const out: Built[] = [];
  // Longhorn: the CronJobs Longhorn creates can report success after failed backups (#13587), so
  // the signals are the Backup objects in Error and the per-volume time of the last backup.
  const lh = stack.longhorn;
  if (lh) {
    const g = "homelab-backup.longhorn";
    out.push(
      rule(
        g,
        "LonghornBackupError",
        "warning",
        "longhorn",
        `max by (volume, backup, recurring_job) (longhorn_backup_state == 4)`,
        {
          summary: "Longhorn backup in Error state",
          description:
            'Backup {{ $labels.backup }} of Longhorn volume {{ $labels.volume }} (recurring job "{{ $labels.recurring_job }}") is in Error state. Longhorn deletes failed backups after failed-backup-ttl (24 h by default); check the backup target and longhorn-manager logs.',
        },
        {
          watches: "Longhorn Backup objects",
          firesWhen: "longhorn_backup_state == 4 (Error)",
          why: "a backup that failed is a missed restore point, whatever the recurring-job CronJob reported",
        },
      ),
    );
    const backupJobs = lh.recurringJobs.filter((j) => j.task === "backup" || j.task === "backup-force-create");
    if (backupJobs.length > 0) {
      const longest = backupJobs.reduce((a, b) =>
        cronGaps(b.cron).maxGapSeconds > cronGaps(a.cron).maxGapSeconds ? b : a,
      );
      const threshold = cronGaps(longest.cron).maxGapSeconds + LONGHORN_RUN_ALLOWANCE_SECONDS;
      const why = `longest gap of the backup jobs (\`${longest.name}\`: \`${longest.cron}\`, ${formatSeconds(cronGaps(longest.cron).maxGapSeconds)}) + ${formatSeconds(LONGHORN_RUN_ALLOWANCE_SECONDS)} for the backup to finish (Longhorn jobs have no deadline)`;
      const text = {
        summary: "Longhorn volume has no recent backup",
        description: `Longhorn volume {{ $labels.volume }} (PVC {{ $labels.pvc_namespace }}/{{ $labels.pvc }}) has no completed backup for more than ${formatSeconds(threshold)}, or none at all for that long. Check that the volume is in a backup recurring job or group and attached, and the Longhorn backup target.`,
      };
      const info = {
        watches: "every Longhorn volume",
        firesWhen: `last backup older than ${formatSeconds(threshold)}, or none for ${formatSeconds(threshold)}`,
        thresholdSeconds: threshold,
        why,
      };
      out.push(
        rule(
          g,
          "LonghornVolumeBackupStale",
          "critical",
          "longhorn",
          `time() - max by (volume, pvc, pvc_namespace) (longhorn_volume_last_backup_at > 0) > ${threshold}`,
          text,
          info,
        ),
      );
      // 0 means "never backed up"; `for` spares a brand-new volume until its first backup is due.
      out.push(
        rule(
          g,
          "LonghornVolumeBackupStale",
          "critical",
          "longhorn",
          `max by (volume, pvc, pvc_namespace) (longhorn_volume_last_backup_at) == 0`,
          text,
          info,
          formatSeconds(threshold),
          { stale: "never_succeeded" },
        ),
      );
    }
  }
  return out;
}
