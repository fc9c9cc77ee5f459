/**
 * What the audit checks (the exporter's spec.json, components/alerts/audit.mjs), from the stack:
 * which classes, under which prefixes, which items by name, and which Longhorn jobs/groups and
 * StorageClasses cover a volume. Pure data, so it is tested without resources.
 */
import { PREFIXES, PVC_INVENTORY_KEY } from "../core/schema.js";
import { LONGHORN_BACKUP_TASKS, offsiteOf, type StackConfig } from "../config.js";
import { names } from "../core/names.js";
import { veleroSchedules } from "../velero/logic.js";

export interface AuditSpec {
  readonly bucket: string;
  readonly usage: boolean;
  readonly longhorn?: {
    readonly prefix: string;
    readonly namespace: string;
    readonly jobs: { name: string; groups: string[]; retain: number }[];
    readonly storageClasses: { name: string; jobs: string[]; groups: string[] }[];
  };
  readonly postgres?: { readonly prefix: string; readonly dumps: string[] };
  readonly etcd?: { readonly prefix: string; readonly nodeSelector: Record<string, string> };
  readonly velero?: {
    readonly prefix: string;
    /** The built Schedules (components/velero/fsBackup.ts splits one configured schedule by fsBackup mode). */
    readonly schedules: {
      name: string;
      includedNamespaces: string[];
      excludedNamespaces: string[];
      /** Copies every pod volume not opted out (defaultVolumesToFsBackup), or only annotated ones. */
      volumesByDefault: boolean;
    }[];
  };
  readonly mirrors?: { name: string; prefix: string }[];
  readonly offsite?: { readonly remote: string; readonly encryption: boolean };
  readonly coverage?: { readonly ignore: string[] };
  /** Where the audit leaves its PVC inventory for `npm run status` (status/audit/pvcs.json). */
  readonly pvcInventory?: string;
}

/** The remote name the audit reads the off-site copy through (components/core/rclone-remotes.sh). */
export const OFFSITE_REMOTE = "offsite";

/** What the audit checks for this stack. `coverageIgnore` is alerts.coverage.ignore. */
export function auditSpec(stack: StackConfig, coverageIgnore: readonly string[] = []): AuditSpec {
  const lh = stack.longhorn;
  const backupJobs = (lh?.recurringJobs ?? []).filter((j) => LONGHORN_BACKUP_TASKS.includes(j.task));
  const offsite = offsiteOf(stack);
  return {
    bucket: stack.hub!.bucket,
    usage: true,
    // A Longhorn target on the s3-to-ftp bridge is not on the hub: the audit reads the hub only.
    ...(lh && lh.target === "hub" && backupJobs.length > 0
      ? {
          longhorn: {
            prefix: PREFIXES.longhorn,
            namespace: lh.namespace,
            jobs: backupJobs.map((j) => ({ name: j.name, groups: [...j.groups], retain: j.retain ?? 1 })),
            storageClasses: lh.storageClasses.map((s) => ({
              name: s.name,
              jobs: [...s.recurringJobs],
              groups: [...s.recurringJobGroups],
            })),
          },
        }
      : {}),
    ...(stack.postgres
      ? { postgres: { prefix: PREFIXES.postgres, dumps: stack.postgres.databases.map((d) => d.name) } }
      : {}),
    ...(stack.etcd ? { etcd: { prefix: PREFIXES.etcd, nodeSelector: { ...stack.etcd.nodeSelector } } } : {}),
    ...(stack.velero
      ? {
          velero: {
            prefix: PREFIXES.velero,
            schedules: veleroSchedules(stack.velero).map((s) => {
              const template = s.template as { excludedNamespaces?: string[] };
              return {
                name: names.veleroSchedule(s.name),
                includedNamespaces: s.includedNamespaces ?? ["*"],
                excludedNamespaces: [...(template.excludedNamespaces ?? [])],
                volumesByDefault: s.volumeScope === "all" || typeof s.volumeScope === "object",
              };
            }),
          },
        }
      : {}),
    ...(stack.buckets?.mirrors.length
      ? { mirrors: stack.buckets.mirrors.map((m) => ({ name: m.name, prefix: `${PREFIXES.buckets}${m.name}/` })) }
      : {}),
    ...(offsite ? { offsite: { remote: OFFSITE_REMOTE, encryption: offsite.encryption.enabled } } : {}),
    coverage: { ignore: [...coverageIgnore] },
    pvcInventory: PVC_INVENTORY_KEY,
  };
}
