/** etcd's part of plan.md. */
import { hubOf, PREFIXES, type StackConfig } from "../config.js";
import { describeCron } from "../core/cron.js";
import { hubConnection, s3Url } from "../core/hubConnection.js";
import { names } from "../core/names.js";
import type { PlanSection } from "../core/planTypes.js";
import { etcdRestoreRunbook } from "./logic.js";

/** The etcd section of the plan. */
export function etcdPlan(stack: StackConfig): PlanSection {
  const etcd = stack.etcd;
  if (!etcd) return { title: "etcd snapshots", rows: [], details: "Not configured.", restore: "" };
  const hub = hubConnection(hubOf(stack));
  const selector = Object.entries(etcd.nodeSelector)
    .map(([k, v]) => `${k}=${v}`)
    .join(", ");
  return {
    title: "etcd snapshots",
    rows: [
      {
        what: `k3s etcd snapshots (${etcd.snapshotDir} on a control-plane node)`,
        how: `k3s takes the snapshots; CronJob ${etcd.namespace}/${names.etcdCronJob} copies each finished one (stable size and age, sha256, staged upload, size check, server-side copy, JSON record)`,
        when: describeCron(etcd.schedule),
        retention: `${etcd.retentionDays} days (hub lifecycle on ${PREFIXES.etcd})`,
        where: `${s3Url(hub, PREFIXES.etcd)}<node>/`,
      },
    ],
    details: [
      `The offload job runs on one node matching \`${selector}\` per run and copies only snapshots k3s has already written there:`,
      "make sure k3s snapshots are enabled (`--etcd-snapshot-schedule-cron`, k3s default `0 */12 * * *`) and that one is taken before the offload runs.",
      `A snapshot still being written (name \`.part\`/\`.tmp\`, modified in the last 60 s, or size changing) waits for the next run; snapshots older than ${etcd.retentionDays} days are never re-sent.`,
      `Uploads are staged under \`${PREFIXES.etcd}.partial/\`; the writer cannot delete, so the hub lifecycle expires them too.`,
    ].join(" "),
    restore: etcdRestoreRunbook(hub, etcd.snapshotDir),
  };
}
