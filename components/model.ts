/**
 * The stack resolved once, for what several places read: the hub's identities and their rights, every
 * job that writes to or reads from the hub with the identity and prefixes it uses, every restore drill
 * with what it reads, and every alert rule. components/stack.ts builds the hub from it, components/plan.ts
 * lists its rights (test/hub/planRights.integration.test.ts), and test/program/model.integration.test.ts
 * checks that its parts refer to each other correctly.
 */
import { stackRuleGroups } from "./alerts/stackRules.js";
import type { StackWatches } from "./core/watch.js";
import { etcdWatch } from "./etcd/logic.js";
import { mirrorWatch } from "./mirror/logic.js";
import { offsiteJobWatch } from "./offsite/logic.js";
import { drillWatch, dumpSchedules, dumpWatch } from "./postgres/logic.js";
import type { AlertRule } from "./alerts/ruleHelpers.js";
import { hubOf, offsiteOf, type StackConfig } from "./config.js";
import type { WriterName } from "./core/hubConnection.js";
import { names } from "./core/names.js";
import { PREFIXES } from "./core/schema.js";
import { drillReadPrefixes, drillRecordOf, drillTargets } from "./drills/logic.js";
import type { DrillClass } from "./drills/schema.js";
import { writerPolicies } from "./hub/iam.js";
import { hubWritersInUse, type HubRights } from "./hub/rights.js";
import { LONGHORN_BACKUP_TASKS } from "./longhorn/schema.js";
import { mirrorPrefix } from "./mirror/logic.js";
import { veleroSchedules } from "./velero/logic.js";

/** One job of the stack that uses the hub. */
export interface ModelJob {
  readonly cls: "longhorn" | "postgres" | "etcd" | "velero" | "buckets" | "offsite";
  /** What runs it: a CronJob, a Longhorn RecurringJob, a Velero Schedule, or the Pi hub's systemd timer. */
  readonly kind: "CronJob" | "RecurringJob" | "Schedule" | "timer";
  readonly namespace: string;
  readonly name: string;
  /** The hub identity it uses. */
  readonly identity: WriterName;
  readonly access: "write" | "read";
  /** The bucket prefixes it writes or reads ("" is the whole bucket). */
  readonly prefixes: readonly string[];
}

/** One restore drill: its CronJob and what it reads from the hub with which identity. */
export interface ModelDrill {
  readonly cls: DrillClass;
  readonly namespace: string;
  readonly cronJob: string;
  /** The hub identity it reads with, when it reads the hub itself (Longhorn's drill restores through Longhorn). */
  readonly identity?: WriterName;
  readonly reads: readonly string[];
  /** Where it leaves its last result for `npm run status` (status/drills/<cls>/<item>.json). */
  readonly record: { readonly item: string; readonly key: string };
}

export interface StackModel {
  /** The hub's identities and rights, when the stack has a hub. */
  readonly hub?: HubRights & { readonly bucket: string };
  readonly jobs: readonly ModelJob[];
  readonly drills: readonly ModelDrill[];
  /** Every backup CronJob's watch: the components' CronJobs get these schedules, the alerts read them. */
  readonly watches: StackWatches;
  /** Every alerting rule, as the PrometheusRule holds it. */
  readonly alerts: readonly AlertRule[];
}

/** The hub's rights for a stack that has a hub. */
export function hubRights(stack: StackConfig): HubRights {
  const hub = hubOf(stack);
  const offsitePrefixes = offsiteOf(stack)?.prefixes;
  const drillPrefixes = stack.drills ? drillReadPrefixes(stack.drills, offsitePrefixes) : undefined;
  const inUse = hubWritersInUse(stack).map((w) => w.name);
  const all = writerPolicies(hub.bucket, { offsitePrefixes, drillPrefixes, longhornPrefix: stack.longhorn?.prefix });
  return { inUse, offsitePrefixes, drillPrefixes, policies: Object.fromEntries(inUse.map((w) => [w, all[w]])) };
}

/** The jobs of a stack that use the hub. */
function hubJobs(stack: StackConfig): ModelJob[] {
  const out: ModelJob[] = [];
  const lh = stack.longhorn;
  if (lh && lh.target === "hub")
    for (const j of lh.recurringJobs.filter((x) => (LONGHORN_BACKUP_TASKS as readonly string[]).includes(x.task)))
      out.push({
        cls: "longhorn",
        kind: "RecurringJob",
        namespace: lh.namespace,
        name: j.name,
        identity: "longhorn",
        access: "write",
        prefixes: [lh.prefix ?? PREFIXES.longhorn],
      });
  for (const db of stack.postgres?.databases ?? [])
    out.push({
      cls: "postgres",
      kind: "CronJob",
      namespace: db.namespace,
      name: names.postgresDumpCronJob(db.name),
      identity: "postgres",
      access: "write",
      prefixes: [PREFIXES.postgres],
    });
  if (stack.etcd)
    out.push({
      cls: "etcd",
      kind: "CronJob",
      namespace: stack.etcd.namespace,
      name: names.etcdCronJob,
      identity: "etcd",
      access: "write",
      prefixes: [PREFIXES.etcd],
    });
  for (const s of stack.velero ? veleroSchedules(stack.velero) : [])
    out.push({
      cls: "velero",
      kind: "Schedule",
      namespace: stack.velero!.namespace,
      name: s.name,
      identity: "velero",
      access: "write",
      prefixes: [PREFIXES.velero],
    });
  for (const m of stack.buckets?.mirrors ?? [])
    out.push({
      cls: "buckets",
      kind: "CronJob",
      namespace: m.source.credentialsSecret.namespace,
      name: names.mirrorCronJob(m.name),
      identity: "buckets",
      access: "write",
      prefixes: [mirrorPrefix(m)],
    });
  const offsite = offsiteOf(stack);
  if (offsite)
    out.push({
      cls: "offsite",
      kind: offsite.runOn === "cluster" ? "CronJob" : "timer",
      namespace: offsite.runOn === "cluster" ? offsite.namespace : "",
      name: offsite.runOn === "cluster" ? names.offsiteCronJob : "homelab-backup-offsite",
      identity: "offsite",
      access: "read",
      prefixes: offsite.prefixes && offsite.prefixes.length > 0 ? offsite.prefixes : [""],
    });
  return out;
}

/** What each drill reads from the hub itself (the same prefixes drillReadPrefixes grants the drills identity). */
function drillReads(cls: DrillClass, stack: StackConfig): Pick<ModelDrill, "identity" | "reads"> {
  const offsitePrefixes = offsiteOf(stack)?.prefixes;
  switch (cls) {
    case "postgres":
      // The PostgreSQL drill restores the newest dump with the dump writer's key (components/stack.ts).
      return { identity: "postgres", reads: [PREFIXES.postgres] };
    case "velero":
      return { identity: "drills", reads: [PREFIXES.velero] };
    case "etcd":
      return { identity: "drills", reads: [PREFIXES.etcd] };
    case "buckets":
      return { identity: "drills", reads: [PREFIXES.buckets] };
    case "offsite":
      return { identity: "drills", reads: offsitePrefixes && offsitePrefixes.length > 0 ? offsitePrefixes : [""] };
    case "longhorn":
      return { reads: [] };
  }
}

/** Every backup CronJob's watch, from the values its component gives the CronJob. */
export function stackWatches(stack: StackConfig): StackWatches {
  const pg = stack.postgres;
  // Databases without a schedule of their own are spread over the window (postgres/logic.ts).
  const schedules = pg ? dumpSchedules(pg) : new Map<string, string>();
  const offsite = offsiteOf(stack);
  return {
    dumps: new Map((pg?.databases ?? []).map((db) => [db.name, dumpWatch(db, schedules.get(db.name)!)])),
    postgresDrills: new Map(
      (pg?.restoreDrill?.databases ?? []).map((name) => [
        name,
        drillWatch(
          pg!.databases.find((d) => d.name === name)!,
          pg!.restoreDrill!.schedule,
        ),
      ]),
    ),
    etcd: stack.etcd ? etcdWatch(stack.etcd.namespace, stack.etcd.schedule) : undefined,
    mirrors: new Map((stack.buckets?.mirrors ?? []).map((m) => [m.name, mirrorWatch(m)])),
    offsiteJob: offsite?.runOn === "cluster" ? offsiteJobWatch(offsite) : undefined,
  };
}

/** Resolves the stack once. */
export function resolveStack(stack: StackConfig): StackModel {
  const watches = stackWatches(stack);
  return {
    watches,
    hub: stack.hub ? { ...hubRights(stack), bucket: stack.hub.bucket } : undefined,
    jobs: stack.hub ? hubJobs(stack) : [],
    drills: drillTargets(stack).map((t) => ({
      cls: t.cls,
      namespace: t.namespace,
      cronJob: t.cronJob,
      ...drillReads(t.cls, stack),
      record: drillRecordOf(t),
    })),
    alerts: stack.alerts ? stackRuleGroups(stack, watches).flatMap((g) => g.rules) : [],
  };
}
