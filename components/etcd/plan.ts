/** etcd's part of plan.md: k3s (copy k3s' own snapshots) or Talos (snapshot through the Talos API). */
import { PREFIXES } from "../core/schema.js";
import { hubOf, type StackConfig } from "../config.js";
import { describeCron } from "../core/cron.js";
import { hubConnection, s3Url } from "../core/hubConnection.js";
import { names } from "../core/names.js";
import type { PlanSection } from "../core/planTypes.js";
import { READ_DELAY, stackArchivePlan } from "../hub/archive.js";
import { k3sRestoreRunbook, talosRestoreRunbook, type EtcdRestoreOptions } from "./restore.js";
import { TALOS_ETCD_BACKUP_ROLE, TALOS_SNAPSHOT_LABEL, TALOSCTL, talosMachineConfigPatch } from "./talos.js";

/** Restore options from hub.archive: a thaw when etcd snapshots move to GLACIER/DEEP_ARCHIVE. */
export function etcdRestoreOptions(stack: StackConfig): EtcdRestoreOptions {
  const archive = stackArchivePlan(stack);
  const etcd = archive?.decisions.find((d) => d.prefix === PREFIXES.etcd);
  if (!etcd?.thaw || stack.hub?.kind !== "aws" || !stack.hub.archive) return {};
  return { thawDelay: READ_DELAY[stack.hub.archive.storageClass] };
}

/** The etcd section of the plan. */
export function etcdPlan(stack: StackConfig): PlanSection {
  const etcd = stack.etcd;
  if (!etcd) return { title: "etcd snapshots", rows: [], details: "Not configured.", restore: "" };
  const hub = hubConnection(hubOf(stack));
  const opts = etcdRestoreOptions(stack);
  const retention = `${etcd.retentionDays} days (hub lifecycle on ${PREFIXES.etcd})`;
  if (etcd.distribution === "talos") {
    return {
      title: "etcd snapshots",
      rows: [
        {
          what: "Talos etcd (a consistent snapshot of the whole cluster)",
          how: `CronJob ${etcd.namespace}/${names.etcdCronJob} runs talosctl ${TALOSCTL.version} (sha256-pinned) with Talos ServiceAccount ${etcd.namespace}/${names.etcdCronJob}-talos (role ${TALOS_ETCD_BACKUP_ROLE} only) to take the snapshot through the Talos API; checks etcd's sha256 trailer, staged upload, size check, server-side copy, JSON record`,
          when: describeCron(etcd.schedule),
          retention,
          where: `${s3Url(hub, PREFIXES.etcd)}${TALOS_SNAPSHOT_LABEL}/`,
        },
      ],
      details: [
        `**The cluster must allow it.** Talos gives the job its client certificate only when the control-plane machine configuration allows role \`${TALOS_ETCD_BACKUP_ROLE}\` in namespace \`${etcd.namespace}\`; until then the job's pod waits for the Secret Talos writes. The machine-config patch:`,
        "",
        talosMachineConfigPatch(etcd.namespace),
        "",
        `The job needs no host path and no privilege: it runs as nobody on any node and reaches the Talos API through the \`talos.default\` Service${etcd.talosNode ? `, asking node \`${etcd.talosNode}\`` : ""}. It downloads talosctl from the Talos release page on each run and refuses it unless its sha256 matches.`,
      ].join("\n"),
      restore: talosRestoreRunbook(hub, opts),
    };
  }
  const selector = Object.entries(etcd.nodeSelector)
    .map(([k, v]) => `${k}=${v}`)
    .join(", ");
  return {
    title: "etcd snapshots",
    rows: [
      {
        what: `k3s etcd snapshots (${etcd.snapshotDir} on a control-plane node)`,
        how: `k3s takes the snapshots; CronJob ${etcd.namespace}/${names.etcdCronJob} copies each finished one (stable size and age, sha256 and etcd's sha256 trailer, staged upload, size check, server-side copy, JSON record)`,
        when: describeCron(etcd.schedule),
        retention,
        where: `${s3Url(hub, PREFIXES.etcd)}<node>/`,
      },
    ],
    details: [
      `The offload job runs on one node matching \`${selector}\` per run and copies only snapshots k3s has already written there:`,
      "make sure k3s snapshots are enabled (`--etcd-snapshot-schedule-cron`, k3s default `0 */12 * * *`) and that one is taken before the offload runs.",
      `A snapshot still being written (name \`.part\`/\`.tmp\`, modified in the last 60 s, or size changing) waits for the next run; snapshots older than ${etcd.retentionDays} days are never re-sent.`,
      `Uploads are staged under \`${PREFIXES.etcd}.partial/\`; the writer cannot delete, so the hub lifecycle expires them too.`,
    ].join(" "),
    restore: k3sRestoreRunbook(hub, etcd.snapshotDir, opts),
  };
}
