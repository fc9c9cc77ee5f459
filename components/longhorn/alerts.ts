/** Alert rules of Longhorn backups (composed into the stack's rules by components/alerts/rules.ts). */
import type { StackConfig } from "../config.js";
import { cronGaps, formatSeconds } from "../core/cron.js";
import { LONGHORN_RUN_ALLOWANCE_SECONDS, rule, TARGET_NAMESPACE_LABEL, type Built } from "../alerts/ruleHelpers.js";
import { hasLastBackupAtMetric, LONGHORN_LAST_BACKUP_AT_SINCE } from "./schema.js";

/**
 * Which labels the rules may template, per metric (longhorn/longhorn-manager `metrics_collector/`, tags
 * v1.9.2, v1.10.1, v1.11.0, v1.12.1): `longhorn_backup_state` carries only volume, backup and
 * recurring_job (`backup_collector.go`), so a backup's PVC namespace is not known to it;
 * `longhorn_volume_last_backup_at` (v1.11.0+, `volume_collector.go`) carries node, volume, pvc and
 * pvc_namespace, the PVC's namespace being the watched one (`backup_namespace` when routed, notify.ts).
 */
const PVC_NAMESPACE = { [TARGET_NAMESPACE_LABEL]: "{{ $labels.pvc_namespace }}" };

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
      const info = {
        watches: "every Longhorn volume",
        thresholdSeconds: threshold,
        why,
      };
      if (hasLastBackupAtMetric(lh.version)) {
        const text = {
          summary: "Longhorn volume has no recent backup",
          description: `Longhorn volume {{ $labels.volume }} (PVC {{ $labels.pvc_namespace }}/{{ $labels.pvc }}) has no completed backup for more than ${formatSeconds(threshold)}, or none at all for that long. Check that the volume is in a backup recurring job or group and attached, and the Longhorn backup target.`,
        };
        const firesWhen = `last backup older than ${formatSeconds(threshold)}, or none for ${formatSeconds(threshold)} (longhorn_volume_last_backup_at)`;
        out.push(
          rule(
            g,
            "LonghornVolumeBackupStale",
            "critical",
            "longhorn",
            `time() - max by (volume, pvc, pvc_namespace) (longhorn_volume_last_backup_at > 0) > ${threshold}`,
            text,
            { ...info, firesWhen },
            undefined,
            PVC_NAMESPACE,
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
            { ...info, firesWhen },
            formatSeconds(threshold),
            { stale: "never_succeeded", ...PVC_NAMESPACE },
          ),
        );
      } else {
        // Before v1.11.0 (LONGHORN_LAST_BACKUP_AT_SINCE) no metric holds a volume's backup time. Every
        // Backup object is a series of longhorn_backup_state named by volume and backup (a backup's name
        // is unique), so a completed backup that did not exist `threshold` ago is a new one: a volume
        // with completed backups but no new one within the threshold is stale. A volume with no backup
        // left at all, and a Prometheus with less history than the threshold, are the audit's
        // (BackupRestorePointMissing / BackupRestorePointStale read the hub, components/alerts/auditRules.ts).
        out.push(
          rule(
            g,
            "LonghornVolumeBackupStale",
            "critical",
            "longhorn",
            `max by (volume) (longhorn_backup_state == 3) unless on (volume) max by (volume) ((longhorn_backup_state == 3) unless on (volume, backup) (longhorn_backup_state offset ${threshold}s))`,
            {
              summary: "Longhorn volume has no recent backup",
              description: `Longhorn volume {{ $labels.volume }} has completed backups but no new one for more than ${formatSeconds(threshold)}. Check that the volume is in a backup recurring job or group and attached, and the Longhorn backup target.`,
            },
            {
              ...info,
              firesWhen: `no backup completed within the last ${formatSeconds(threshold)} (longhorn_backup_state; Longhorn ${lh.version} has no longhorn_volume_last_backup_at, v${LONGHORN_LAST_BACKUP_AT_SINCE}+); a volume without any backup: the audit`,
            },
          ),
        );
      }
    }
  }
  return out;
}
