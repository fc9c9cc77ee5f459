/** Longhorn's part of plan.md: what each recurring job backs up, when, how long, and how to restore. */
import YAML from "yaml";
import { PREFIXES } from "../core/schema.js";
import { hubOf, LONGHORN_BACKUP_TASKS, type RecurringJobConfig, type StackConfig } from "../config.js";
import { describeCron, formatSeconds } from "../core/cron.js";
import { hubConnection, s3Url } from "../core/hubConnection.js";
import { names } from "../core/names.js";
import type { PlanRow, PlanSection } from "../core/planTypes.js";
import { hasLastBackupAtMetric, LONGHORN_LAST_BACKUP_AT_SINCE } from "./schema.js";
import {
  backupTargetUrl,
  DETACHED_SETTING,
  LONGHORN_CREDENTIAL_SECRET,
  longhornRestoreObjects,
  pvcCoverage,
  pvcLabelPatches,
  SOURCE_LABEL,
  storageClassSelector,
  worstCaseRestorePoints,
  type JobCoverage,
} from "./logic.js";

function targetOf(stack: StackConfig): { url: string; where: string; via: string } {
  const lh = stack.longhorn!;
  if (lh.target === "ftpBridge" && stack.ftpBridge) {
    const b = stack.ftpBridge;
    const url = backupTargetUrl(b.bucket, b.region, PREFIXES.longhorn);
    return {
      url,
      where: `s3://${b.bucket}/${PREFIXES.longhorn} on the s3-to-ftp bridge → ftp://${b.ftp.host}:${b.ftp.port}${b.ftp.path}${b.encryption ? " (encrypted by the bridge)" : ""}`,
      via: "the in-cluster s3-to-ftp bridge",
    };
  }
  const hub = hubConnection(hubOf(stack));
  const prefix = stack.longhorn?.prefix ?? PREFIXES.longhorn;
  return {
    url: backupTargetUrl(hub.bucket, hub.region, prefix),
    where: s3Url(hub, prefix),
    via: hub.kind === "aws" ? "Amazon S3" : `${hub.server} at ${hub.endpoint}`,
  };
}

function members(c: JobCoverage): string {
  const parts: string[] = [];
  if (c.groups.length)
    parts.push(
      `groups ${c.groups.map((g) => `\`${g}\``).join(", ")}${c.groups.includes("default") ? " (default = every volume with no job label)" : ""}`,
    );
  if (c.pvcs.length) parts.push(`PVCs ${c.pvcs.join(", ")}`);
  if (c.storageClasses.length)
    parts.push(`new volumes of StorageClass ${c.storageClasses.map((s) => `\`${s}\``).join(", ")}`);
  return parts.length ? parts.join("; ") : "no volume (no group, PVC or StorageClass)";
}

function retentionText(job: RecurringJobConfig): string {
  const rp = worstCaseRestorePoints(job);
  if (rp.restorePoints === 0) return "nothing kept (maintenance task)";
  const unit = LONGHORN_BACKUP_TASKS.includes(job.task) ? "backups" : "snapshots";
  const span = rp.spanSeconds > 0 ? ` (≈ ${formatSeconds(rp.spanSeconds)} back at worst)` : "";
  return `last ${rp.restorePoints} ${unit} per volume${span}`;
}

function howText(job: RecurringJobConfig): string {
  const base = `Longhorn RecurringJob \`${job.name}\` (${job.task}, up to ${job.concurrency} volume${job.concurrency === 1 ? "" : "s"} at once)`;
  if (!LONGHORN_BACKUP_TASKS.includes(job.task)) return `${base}; stays in the cluster`;
  const n = job.fullBackupInterval ?? 0;
  const mode =
    n === 0 ? "incremental (changed blocks only)" : n === 1 ? "full every run" : `incremental, full every ${n} runs`;
  return `${base}, ${mode}`;
}

/**
 * What removing the section does. The target, the setting and the Secret are retained
 * (components/longhorn/longhornBackupTarget.ts, KEEP_IN_CLUSTER), so this says what stays and how to
 * detach the target by hand.
 */
function removalText(ns: string): string {
  const bt = names.longhornBackupTarget;
  const secret = LONGHORN_CREDENTIAL_SECRET;
  return [
    `Removing the \`longhorn\` section (or \`pulumi destroy\`) deletes this stack's RecurringJobs and StorageClasses and takes its labels off the PVCs, so none of its recurring jobs runs any more.`,
    `**Longhorn keeps its backup target, settings and credentials**: \`BackupTarget/${bt}\` still points at the target, the Setting keeps its value and the Secret \`${ns}/${secret}\` stays (Pulumi lets go of them without deleting or resetting anything), and existing backups stay where they are.`,
    `To stop backups to that target by hand: \`kubectl -n ${ns} patch backuptargets.longhorn.io ${bt} --type merge -p '{"spec":{"backupTargetURL":"","credentialSecret":""}}'\`, then \`kubectl -n ${ns} delete secret ${secret}\`; Longhorn's default for the Setting is \`false\`: \`kubectl -n ${ns} patch settings.longhorn.io ${DETACHED_SETTING} --type merge -p '{"value":"false"}'\`.`,
  ].join(" ");
}

/** The Longhorn section of plan.md. */
export function longhornPlan(stack: StackConfig): PlanSection {
  const lh = stack.longhorn;
  if (!lh) return { title: "Longhorn volumes", rows: [], details: "Not configured.", restore: "" };
  const target = targetOf(stack);
  const coverage = pvcCoverage(lh);
  const rows: PlanRow[] = lh.recurringJobs.map((job, i) => ({
    what: `Longhorn volumes: ${members(coverage[i])}`,
    how: howText(job),
    when: describeCron(job.cron),
    retention: retentionText(job),
    where: LONGHORN_BACKUP_TASKS.includes(job.task)
      ? target.where
      : job.task === "system-backup"
        ? target.where
        : "in the cluster (Longhorn snapshots on the replicas' disks)",
  }));
  const d: string[] = [];
  d.push(
    `Backup target: \`BackupTarget/${names.longhornBackupTarget}\` in \`${lh.namespace}\` is patched (server-side apply) to \`${target.url}\` via ${target.via}, polled every ${lh.pollInterval}; credentials in Secret \`${lh.namespace}/${LONGHORN_CREDENTIAL_SECRET}\`.`,
    "",
    `Setting \`${DETACHED_SETTING}\` = \`${lh.allowRecurringJobWhileVolumeDetached}\`${lh.allowRecurringJobWhileVolumeDetached ? "" : " — **detached volumes are skipped by every recurring job** (only a warning in Longhorn's log)"}.`,
    "",
    removalText(lh.namespace),
  );
  if (lh.recurringJobs.length) {
    d.push(
      "",
      "| Job | Task | Schedule | Keeps | Full backups kept (worst–best) | Volumes |",
      "| --- | --- | --- | --- | --- | --- |",
    );
    lh.recurringJobs.forEach((job, i) => {
      const rp = worstCaseRestorePoints(job);
      const full =
        rp.fullBackupsAtWorst === undefined
          ? "n/a"
          : job.fullBackupInterval
            ? `${rp.fullBackupsAtWorst}–${rp.fullBackupsAtBest}`
            : "0 (incremental only after the first)";
      const c = coverage[i];
      const vols = [
        ...c.pvcs,
        ...c.pvcsViaGroups.map((p) => `${p} (via group)`),
        ...c.storageClasses.map((s) => `class ${s}`),
        ...(c.groups.includes("default") ? ["default group"] : []),
      ];
      d.push(
        `| \`${job.name}\` | ${job.task} | \`${job.cron}\` | ${rp.restorePoints} | ${full} | ${(vols.join(", ") || "—").replace(/\|/g, "\\|")} |`,
      );
    });
  } else {
    d.push("", "No recurring jobs: Longhorn takes no backup on its own.");
  }
  const patches = pvcLabelPatches(lh);
  if (patches.length) {
    d.push(
      "",
      "PVC labels (each with `recurring-job.longhorn.io/source: enabled`, without which Longhorn ignores them):",
      "",
    );
    for (const p of patches)
      d.push(
        `- \`${p.namespace}/${p.name}\`: ${Object.keys(p.labels)
          .filter((k) => k !== SOURCE_LABEL)
          .map((k) => `\`${k}\``)
          .join(", ")}`,
      );
  }
  if (lh.storageClasses.length) {
    d.push("", "StorageClasses (new volumes join their jobs when created; existing volumes are not relabelled):", "");
    for (const sc of lh.storageClasses)
      d.push(
        `- \`${sc.name}\`: ${sc.numberOfReplicas} replicas, reclaimPolicy ${sc.reclaimPolicy}, recurringJobSelector \`${storageClassSelector(sc)}\``,
      );
  }
  d.push(
    "",
    hasLastBackupAtMetric(lh.version)
      ? `Longhorn ${lh.version} (\`longhorn.version\`): staleness is watched per volume with \`longhorn_volume_last_backup_at\` (v${LONGHORN_LAST_BACKUP_AT_SINCE}+).`
      : `Longhorn ${lh.version} (\`longhorn.version\`) has no \`longhorn_volume_last_backup_at\` (v${LONGHORN_LAST_BACKUP_AT_SINCE}+): \`LonghornVolumeBackupStale\` fires for a volume whose newest completed backup (\`longhorn_backup_state\`) is older than its threshold; a volume with no backup at all is the audit's (\`alerts.audit\`: BackupRestorePointMissing/Stale read the hub).`,
  );
  const idle = coverage.filter((c) => c.reachesNothing);
  if (idle.length)
    d.push(
      "",
      `**Warning:** ${idle.map((c) => `\`${c.job}\``).join(", ")} reach${idle.length === 1 ? "es" : ""} no volume through this stack (no PVC, StorageClass or \`default\` group); volumes must be labelled by hand.`,
    );
  const ns = lh.namespace;
  const objects = longhornRestoreObjects({
    longhornNamespace: ns,
    volume: "$NEW",
    backupUrl: "$URL",
    sizeBytes: "$SIZE",
    pvcNamespace: "$NS",
    pvc: "$PVC",
    storageClass: "$SC",
    accessMode: "$MODE",
    replicas: 2,
  });
  const restore = [
    "Restore one PVC to its original name, following Longhorn's restore-from-backup flow with a statically bound volume (longhorn.io docs, *Restore from a Backup* and *Examples: CSI Persistent Volume*). The old volume is kept until the restored one is checked.",
    "",
    "```sh",
    "NS=<namespace> PVC=<pvc>",
    "kubectl -n $NS scale deployment,statefulset -l <the workload's labels> --replicas=0   # nothing may use the PVC",
    "OLD_PV=$(kubectl -n $NS get pvc $PVC -o jsonpath='{.spec.volumeName}')",
    "SC=$(kubectl -n $NS get pvc $PVC -o jsonpath='{.spec.storageClassName}')",
    "MODE=$(kubectl -n $NS get pvc $PVC -o jsonpath='{.spec.accessModes[0]}')",
    `VOLUME=$(kubectl get pv $OLD_PV -o jsonpath='{.spec.csi.volumeHandle}')`,
    `kubectl -n ${ns} get backups.longhorn.io -l backup-volume=$VOLUME --sort-by=.status.snapshotCreatedAt \\`,
    "  -o custom-columns=NAME:.metadata.name,CREATED:.status.snapshotCreatedAt,STATE:.status.state,BYTES:.status.volumeSize",
    "BACKUP=<name from the list: the newest Completed one, or an older one>",
    `URL=$(kubectl -n ${ns} get backups.longhorn.io $BACKUP -o jsonpath='{.status.url}')`,
    `SIZE=$(kubectl -n ${ns} get backups.longhorn.io $BACKUP -o jsonpath='{.status.volumeSize}')`,
    "NEW=$VOLUME-restored-$(date +%Y%m%d%H%M)",
    "# Keep the old data until the restore is checked: Retain, then release the name.",
    `kubectl patch pv $OLD_PV -p '{"spec":{"persistentVolumeReclaimPolicy":"Retain"}}'`,
    "kubectl -n $NS delete pvc $PVC",
    "kubectl apply -f - <<EOF",
    ...objects.flatMap((o, i) => [...(i > 0 ? ["---"] : []), ...toYaml(o)]),
    "EOF",
    `kubectl -n ${ns} wait volumes.longhorn.io/$NEW --for=jsonpath='{.status.restoreRequired}'=false --timeout=6h`,
    "kubectl -n $NS get pvc $PVC   # Bound to $NEW-pv",
    "```",
    "",
    "Scale the workload back up and check the data. Then delete the old volume: `kubectl delete pv $OLD_PV` and, in Longhorn, `kubectl -n " +
      ns +
      " delete volumes.longhorn.io $VOLUME` (its backups stay on the target).",
    "",
    `Cluster lost: install Longhorn, then \`pulumi up\` patches \`BackupTarget/${names.longhornBackupTarget}\` to \`${target.url}\` again; wait for \`kubectl -n ${ns} get backupvolumes.longhorn.io\` to list the volumes, then restore each PVC as above (there is no old PVC or PV to release).`,
  ].join("\n");
  return { title: "Longhorn volumes", rows, details: d.join("\n"), restore };
}

/** One object as YAML lines, for a heredoc in the plan. */
function toYaml(o: Record<string, unknown>): string[] {
  // Every value quoted: the heredoc fills "$SIZE" with digits, which the CRD wants as a string.
  return YAML.stringify(o, { defaultStringType: "QUOTE_DOUBLE", defaultKeyType: "PLAIN" }).trimEnd().split("\n");
}
