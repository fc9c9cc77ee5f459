/**
 * The audit's part of plan.md: what the audit checks for each class, which of this stack's alerts
 * answers each alert of the common hand-made set (side by side), and the PVCs left out on purpose.
 */
import { PVC_INVENTORY_KEY } from "../core/schema.js";
import type { AuditSpec } from "./auditSpec.js";
import { mirrorRecordKey, OFFSITE_RECORD } from "./hubReader.mjs";

/** Hours/minutes for a person. */
function every(seconds: number): string {
  return seconds % 3600 === 0 ? `${seconds / 3600} h` : `${Math.round(seconds / 60)} min`;
}

/** One row per class: what the audit reads at the destination and what makes a restore point valid. */
export function auditChecks(spec: AuditSpec): { cls: string; reads: string; valid: string }[] {
  const out: { cls: string; reads: string; valid: string }[] = [];
  if (spec.longhorn) {
    const jobs = spec.longhorn.jobs.map((j) => `\`${j.name}\``).join(", ");
    out.push({
      cls: "Longhorn",
      reads: `every Volume in \`${spec.longhorn.namespace}\` labelled for a backup job (${jobs}) or its groups (StorageClasses: ${spec.longhorn.storageClasses.map((s) => `\`${s.name}\``).join(", ") || "none"}); its \`volume.cfg\` and newest \`backup_<name>.cfg\` under \`${spec.longhorn.prefix}backupstore/volumes/\`; BackupTarget \`status.available\``,
      valid:
        "the backup volume names a last backup whose config exists, is finished (CreatedTime set) and belongs to the volume; backups kept ≥ the job's retain",
    });
  }
  if (spec.postgres) {
    out.push({
      cls: "PostgreSQL",
      reads: `\`${spec.postgres.prefix}<db>/latest.json\`, the record it names and the dump's listing, for ${spec.postgres.dumps.map((d) => `\`${d}\``).join(", ")}`,
      valid: "latest.json, the record (complete) and the stored object agree on key, size and sha256",
    });
  }
  if (spec.etcd) {
    out.push({
      cls: "etcd",
      reads: `the newest \`<snapshot>.json\` record per node under \`${spec.etcd.prefix}\`; expected nodes: those matching ${Object.entries(
        spec.etcd.nodeSelector,
      )
        .map(([k, v]) => `\`${k}=${v}\``)
        .join(", ")}`,
      valid: "the record names its node and its size equals the stored snapshot's",
    });
  }
  if (spec.velero) {
    out.push({
      cls: "Velero",
      reads: `\`${spec.velero.prefix}backups/<schedule>-<timestamp>/velero-backup.json\` of the newest backups of ${spec.velero.schedules.map((s) => `\`${s.name}\``).join(", ")}`,
      valid: "phase Completed, labelled with its schedule, with its tarball present",
    });
  }
  for (const m of spec.mirrors ?? [])
    out.push({
      cls: `Mirror \`${m.name}\``,
      reads: `\`${mirrorRecordKey(m.prefix)}\`, the record mirror.sh leaves after a verified run`,
      valid:
        "the record is complete (age is not alerted on: a source bucket may not change; `npm run status` shows it)",
    });
  if (spec.offsite) {
    out.push({
      cls: "Off-site",
      reads: `\`${OFFSITE_RECORD}\`, the record offsite-sync.sh leaves at the copy's root after a run${spec.offsite.encryption ? ", and the key-check file" : ""}`,
      valid: spec.offsite.encryption
        ? "the record is complete and the key-check file decrypts with the configured key"
        : "the record is complete",
    });
  }
  if (spec.usage)
    out.push({
      cls: "Hub bucket",
      reads: `listing of \`${spec.bucket}\` (LIST requests only), bytes per storage class`,
      valid: "(quota and projected cost)",
    });
  return out;
}

/** The 14 alerts homelab operators commonly write by hand, and which alerts of this stack answer each. */
export const HAND_MADE_ALERTS: readonly {
  name: string;
  condition: string;
  counterparts: readonly (string | RegExp)[];
  needs: string;
}[] = [
  {
    name: "EtcdBackupFailed",
    condition: "etcd backup CronJob failed",
    counterparts: ["EtcdBackupFailed"],
    needs: "`etcd`",
  },
  {
    name: "EtcdBackupStale",
    condition: "no successful etcd backup in > 25 h",
    counterparts: ["EtcdBackupStale", "BackupRestorePointStale"],
    needs: "`etcd`",
  },
  {
    name: "PostgreSQLBackupFailed",
    condition: "a postgres-backup job failed",
    counterparts: ["PostgresBackupFailed"],
    needs: "`postgres`",
  },
  {
    name: "PostgreSQLBackupStale",
    condition: "no successful dump in > 25 h",
    counterparts: ["PostgresBackupStale", "BackupRestorePointStale"],
    needs: "`postgres`",
  },
  {
    name: "LonghornRecurringJobFailed",
    condition: "a recurring job failed",
    counterparts: ["LonghornBackupError", "BackupRestorePointStale"],
    needs: "`longhorn`",
  },
  {
    name: "LonghornSnapshotCount",
    condition: "a volume has fewer restore points than kept",
    counterparts: ["LonghornBackupsBelowRetain"],
    needs: "`longhorn` with a backup job",
  },
  {
    name: "LonghornBackupTargetUnreachable",
    condition: "backup target unreachable",
    counterparts: ["LonghornBackupTargetUnavailable"],
    needs: "`longhorn` with a backup job",
  },
  {
    name: "BackupS3BucketQuotaHigh",
    condition: "bucket above its size limit",
    counterparts: ["BackupBucketQuotaExceeded"],
    needs: "`alerts.bucketQuotaGiB`",
  },
  {
    name: "BackupCostHigh",
    condition: "projected monthly cost high",
    counterparts: ["BackupMonthlyCostHigh"],
    needs: "`alerts.monthlyCostUsd` (AWS hub)",
  },
  {
    name: "BackupJobOOMKilled",
    condition: "backup container OOMKilled",
    counterparts: ["BackupJobOOMKilled"],
    needs: "a backup CronJob",
  },
  {
    name: "BackupJobTimeout",
    condition: "backup job active too long",
    counterparts: ["BackupJobRunningTooLong", "BackupJobDeadlineExceeded"],
    needs: "`alerts.jobRunningTooLongMinutes`",
  },
  {
    name: "BackupRestorationTested",
    condition: "no restore test in 30 days",
    counterparts: [/RestoreDrillStale$|DrillStale$/],
    needs: "a restore drill (`drills` or `postgres.restoreDrill`)",
  },
  {
    name: "VeleroBackupFailed",
    condition: "a Velero backup failed",
    counterparts: ["VeleroBackupFailed"],
    needs: "`velero`",
  },
  {
    name: "VeleroBackupSizeHigh",
    condition: "a Velero backup above a size",
    counterparts: ["BackupTooLarge"],
    needs: "`alerts.backupSizeGiB.velero`",
  },
];

/** For each hand-made alert: the alerts of this stack (by name) that answer it, or what is missing. */
export function counterparts(
  present: ReadonlySet<string>,
): { name: string; condition: string; answeredBy: string[]; needs: string }[] {
  return HAND_MADE_ALERTS.map((h) => ({
    name: h.name,
    condition: h.condition,
    answeredBy: h.counterparts.flatMap((c) =>
      typeof c === "string" ? (present.has(c) ? [c] : []) : [...present].filter((p) => c.test(p)).sort(),
    ),
    needs: h.needs,
  }));
}

/** Markdown for plan.md. */
export function auditPlanDetails(spec: AuditSpec, intervalSeconds: number, present: ReadonlySet<string>): string {
  const rows = auditChecks(spec).map((c) => `| ${c.cls} | ${c.reads} | ${c.valid} |`);
  const side = counterparts(present).map(
    (c) =>
      `| ${c.name} | ${c.condition} | ${c.answeredBy.length ? c.answeredBy.map((a) => `\`${a}\``).join(", ") : `not configured: needs ${c.needs}`} |`,
  );
  const ignore = spec.coverage?.ignore ?? [];
  return [
    `### What the audit checks at the destination`,
    "",
    `The audit exporter reads the hub (and the off-site copy) every ${every(intervalSeconds)} with a key that can list the bucket, read metadata only and put nothing but its PVC inventory, and the Kubernetes API with get/list only. After each audit that read the cluster it writes that inventory (every PVC, its storage class and size, the class covering it or none) to \`${spec.pvcInventory ?? PVC_INVENTORY_KEY}\` on the hub, where \`npm run status\` reads which PVCs nothing backs up with the cluster gone; the drills leave their results beside it under \`status/drills/\`. An item the stack expects but the destination never held fires \`BackupRestorePointMissing\`; a stale one \`BackupRestorePointStale\`; an inconsistent one \`BackupRestorePointInvalid\`.`,
    "",
    "| Class | Reads | A restore point counts when |",
    "| --- | --- | --- |",
    ...rows,
    "",
    "### Common hand-made alerts and their counterparts here",
    "",
    "| Hand-made alert | Fires when | Answered by |",
    "| --- | --- | --- |",
    ...side,
    "",
    "### PVCs without a backup",
    "",
    spec.coverage
      ? `Every PVC that no Longhorn backup job, group or StorageClass and no Velero file-system backup covers fires \`PersistentVolumeClaimNotBackedUp\`, except those in \`alerts.coverage.ignore\`: ${ignore.length ? ignore.map((i) => `\`${i}\``).join(", ") : "none"}.`
      : "Coverage is not checked.",
  ].join("\n");
}
