/**
 * The plan's "Restore readiness" table: per class, which drill proves it, when it last ran and how
 * long it took (read live: the plan is rendered before any drill runs, so it names the exact series
 * and the dashboard panel that hold them), the RTO target, and where the drill restores to.
 * Classes that are backed up but have no drill are listed too: nothing proves they restore.
 */
import { describeCron, formatSeconds } from "../core/cron.js";
import type { DrillTarget } from "./alerts.js";
import { drillRecordOf, veleroScratchNamespace } from "./logic.js";
import type { DrillClass, DrillsConfig } from "./schema.js";

const CLASS_NAMES: Record<DrillClass, string> = {
  postgres: "PostgreSQL databases",
  velero: "Kubernetes objects (Velero)",
  longhorn: "Longhorn volumes",
  etcd: "etcd snapshots",
  offsite: "Off-site encrypted copy",
  buckets: "Object-store buckets",
};

/** Where each drill restores: somewhere harmless, never over the live copy. */
function restoresInto(t: DrillTarget, drills: DrillsConfig | undefined): string {
  switch (t.cls) {
    case "postgres":
      return "a scratch PostgreSQL server inside the drill pod (unix socket only), removed with the pod";
    case "velero":
      return `scratch namespaces ${drills!.velero!.namespaces.map((n) => `\`${veleroScratchNamespace(n)}\``).join(", ")} (no pods, volumes, Services or Ingresses; controllers scaled to 0), deleted after the check`;
    case "longhorn":
      return `a new 1-replica Longhorn volume per PVC (${drills!.longhorn!.pvcs.map((p) => `\`${p}\``).join(", ")}), read by a pod in \`${drills!.namespace}\` through a read-only PersistentVolume, then deleted`;
    case "etcd":
      return "an empty directory in the drill pod, served by a throw-away etcd on loopback, removed with the pod";
    case "offsite":
      return `the drill pod's scratch directory: ${drills!.offsite!.sampleFiles} random files downloaded and decrypted from FTP with only the login and key, hashed against the hub, deleted`;
    case "buckets":
      return `nowhere: ${drills!.buckets!.sampleObjects} random objects streamed from the source and the hub copy and hashed`;
  }
}

/** The readiness table (markdown) for the drill targets, with a row per undrilled configured class. */
export function restoreReadiness(
  targets: readonly DrillTarget[],
  drills: DrillsConfig | undefined,
  configured: readonly DrillClass[],
): string {
  const header =
    "| Class | Drill | Last drill | Measured RTO | RTO target | Restores into |\n| --- | --- | --- | --- | --- | --- |";
  const rows = targets.map((t) => {
    const at = `${t.namespace}/${t.cronJob}`;
    return [
      CLASS_NAMES[t.cls],
      `${t.what}: CronJob \`${at}\`, ${describeCron(t.schedule)}`,
      `\`kube_cronjob_status_last_successful_time{namespace="${t.namespace}", cronjob="${t.cronJob}"}\`; an alert fires when it is missing or old. Without the cluster: \`${drillRecordOf(t).key}\` on the hub, which the drill writes when it ends, passed or failed (\`npm run status\` reads it)`,
      `duration of the newest successful Job of \`${at}\` (kube-state-metrics), dashboard panel "Restore time (RTO) per class"; the drill's own start-to-checked time in its hub record`,
      t.rtoTargetSeconds === undefined
        ? "none set (`rtoTarget`)"
        : `${formatSeconds(t.rtoTargetSeconds)} (alert RestoreTimeAboveTarget)`,
      restoresInto(t, drills),
    ];
  });
  const drilled = new Set(targets.map((t) => t.cls));
  for (const cls of configured) {
    if (!drilled.has(cls))
      rows.push([
        CLASS_NAMES[cls],
        "**no drill**: nothing proves this class restores (add `drills." + cls + "`)",
        "never",
        "unknown",
        "none",
        "—",
      ]);
  }
  return [
    header,
    ...rows.map((r) => `| ${r.map((c) => c.replace(/\|/g, "\\|").replace(/\n/g, " ")).join(" | ")} |`),
  ].join("\n");
}
