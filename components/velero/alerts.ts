/** Alert rules of Velero schedules and backup storage locations (composed by components/alerts/rules.ts). */
import type { StackConfig } from "../config.js";
import { cronGaps, formatSeconds } from "../core/cron.js";
import { names } from "../core/names.js";
import { ALERTS_DEFAULTS } from "../alerts/schema.js";
import { dataDirMountpoints } from "../hub/alerts.js";
import { defaultVolumeNamespaceMatcher, usesNodeAgent } from "./fsBackup.js";
import { veleroSchedules } from "./logic.js";
import {
  cronWhy,
  MAX_FAILURE_WINDOW_SECONDS,
  q,
  regexAlternatives,
  rule,
  VELERO_FS_BACKUP_ALLOWANCE_SECONDS,
  VELERO_OBJECTS_ALLOWANCE_SECONDS,
  type Built,
} from "../alerts/ruleHelpers.js";

/** Failed, partially failed and stale backups of every schedule; an unavailable storage location. */
export function veleroAlertRules(stack: StackConfig): Built[] {
  const out: Built[] = [];
  const velero = stack.velero;
  if (velero) {
    const g = "homelab-backup.velero";
    const allowance = usesNodeAgent(velero.fsBackup)
      ? VELERO_FS_BACKUP_ALLOWANCE_SECONDS
      : VELERO_OBJECTS_ALLOWANCE_SECONDS;
    const allowanceText = usesNodeAgent(velero.fsBackup)
      ? `${formatSeconds(allowance)} (Velero's fs-backup timeout)`
      : `${formatSeconds(allowance)} for an objects-only backup`;
    for (const s of veleroSchedules(velero)) {
      const schedule = names.veleroSchedule(s.name);
      const gap = cronGaps(s.cron).maxGapSeconds;
      const threshold = gap + allowance;
      const window = Math.min(gap, MAX_FAILURE_WINDOW_SECONDS);
      const sel = `{schedule=${q(schedule)}}`;
      out.push(
        rule(
          g,
          "VeleroBackupFailed",
          "warning",
          "velero",
          // increase() drops the metric name: over both counters of one schedule (Velero creates both,
          // /work/shared/notes/velero-prometheus.md §5) it would yield two series with one label set, an
          // evaluation error. The second keeps a `counter` label of its own until the sum.
          `sum by (schedule) (increase(velero_backup_failure_total${sel}[${formatSeconds(window)}]) or label_replace(increase(velero_backup_validation_failure_total${sel}[${formatSeconds(window)}]), "counter", "validation", "", "")) > 0`,
          {
            summary: "Velero backup failed",
            description: `A backup of Velero schedule {{ $labels.schedule }} failed (or failed validation) in the last ${formatSeconds(window)}. See \`velero backup describe\` and \`velero backup logs\` of the latest backup.`,
          },
          {
            watches: `Velero schedule \`${schedule}\``,
            firesWhen: `failure or validation-failure counter increased within ${formatSeconds(window)}`,
            why: `one schedule interval (at most 1 day): the alert lasts until the next run is due`,
          },
          undefined,
          { schedule },
        ),
        rule(
          g,
          "VeleroBackupPartiallyFailed",
          "warning",
          "velero",
          `sum by (schedule) (increase(velero_backup_partial_failure_total${sel}[${formatSeconds(window)}])) > 0`,
          {
            summary: "Velero backup partially failed",
            description: `A backup of Velero schedule {{ $labels.schedule }} ended PartiallyFailed in the last ${formatSeconds(window)}: some items or pod volumes are missing from it. See \`velero backup describe --details\`.`,
          },
          {
            watches: `Velero schedule \`${schedule}\``,
            firesWhen: `partial-failure counter increased within ${formatSeconds(window)}`,
            why: "PartiallyFailed backups do not count as successful, but are easy to miss",
          },
          undefined,
          { schedule },
        ),
      );
      const text = {
        summary: "Velero backup is stale",
        description: `Velero schedule {{ $labels.schedule }} (\`${s.cron}\` UTC) has had no completed backup for more than ${formatSeconds(threshold)}, or none at all for that long.`,
      };
      const info = {
        watches: `Velero schedule \`${schedule}\``,
        firesWhen: `last completed backup older than ${formatSeconds(threshold)}, or none for ${formatSeconds(threshold)}`,
        thresholdSeconds: threshold,
        why: cronWhy(s.cron, allowance, allowanceText),
      };
      out.push(
        rule(
          g,
          "VeleroBackupStale",
          "critical",
          "velero",
          `time() - max by (schedule) (velero_backup_last_successful_timestamp${sel}) > ${threshold}`,
          text,
          info,
          undefined,
          { schedule },
        ),
      );
      // The timestamp is absent until the first success (and last_status reads 1 for a schedule that never ran).
      out.push(
        rule(
          g,
          "VeleroBackupStale",
          "critical",
          "velero",
          `absent(velero_backup_last_successful_timestamp${sel})`,
          text,
          info,
          formatSeconds(threshold),
          { schedule, ...{ stale: "never_succeeded" } },
        ),
      );
    }
    out.push(
      rule(
        g,
        "VeleroBackupStorageLocationUnavailable",
        "critical",
        "velero",
        `min by (backup_location_name) (velero_backup_location_status_gauge) == 0`,
        {
          summary: "Velero backup storage location unavailable",
          description:
            "Velero BackupStorageLocation {{ $labels.backup_location_name }} has been unavailable for 15 minutes: no backup can be written. Check `velero backup-location get` (credentials, plugin, checksumAlgorithm).",
        },
        {
          watches: "Velero BackupStorageLocations",
          firesWhen: "velero_backup_location_status_gauge == 0 for 15m",
          why: "Velero re-validates every minute; 15 minutes rides out a hub restart",
        },
        "15m",
      ),
    );
    const fit = veleroVolumesFitRule(stack);
    if (fit) out.push(fit);
  }
  return out;
}

/**
 * Pod-volume data the Schedules copy by default (kubelet's used bytes of the PVCs in scope) larger
 * than the share of the Pi hub's data disk the hub disk alert allows: the first full Kopia copy could
 * never fit, and a full hub stops every class. Needs the hub's node exporter (hub.monitoring).
 */
export function veleroVolumesFitRule(stack: StackConfig): Built | undefined {
  const velero = stack.velero;
  const hub = stack.hub;
  if (!velero || !usesNodeAgent(velero.fsBackup) || hub?.kind !== "pi" || !hub.dataDir || !hub.monitoring)
    return undefined;
  const scope = defaultVolumeNamespaceMatcher(veleroSchedules(velero), velero.excludedNamespaces, regexAlternatives);
  if (!scope) return undefined;
  const pct = stack.alerts?.hubDiskUsagePercent ?? ALERTS_DEFAULTS.hubDiskUsagePercent;
  const mp = `mountpoint=~${q(regexAlternatives(dataDirMountpoints(hub.dataDir)))}`;
  return rule(
    "homelab-backup.velero",
    "VeleroVolumesExceedHubDisk",
    "warning",
    "velero",
    `sum(max by (namespace, persistentvolumeclaim) (kubelet_volume_stats_used_bytes{${scope}})) > ${pct / 100} * max(node_filesystem_size_bytes{${mp}})`,
    {
      summary: "Velero would copy more pod-volume data than the hub's disk holds",
      description: `The pod volumes Velero's file-system backup copies by default (the used bytes of the PVCs with ${scope}) exceed ${pct}% of the hub's data disk (${hub.dataDir}). The first full copy cannot fit, and a full hub stops every other backup class. Narrow velero.fsBackup (mode: opt-in with namespaces, or annotate volumes out) or add disk.`,
    },
    {
      watches: `PVCs whose volumes Velero copies by default (${scope}) against the hub's data disk`,
      firesWhen: `their used bytes > ${pct}% of the hub disk's size for 1h`,
      why: "alerts.hubDiskUsagePercent: the share of the hub disk the other classes may fill too",
    },
    "1h",
  );
}
