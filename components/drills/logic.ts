/**
 * The restore drills as plain data: CronJob names, deadlines, environments, RBAC rules, and what the
 * Velero drill leaves out of a restore so it stays harmless. No resources here (components/drills/
 * restoreDrills.ts builds them; alerts.ts and plan.ts read the same names and deadlines).
 */
import type * as k8s from "@pulumi/kubernetes";
import { parseGoDuration } from "../core/duration.js";
import { names } from "../core/names.js";
import type { HubConnection } from "../core/hubConnection.js";
import { rcloneS3Provider } from "../core/rclone.js";
import { drillRecordKey } from "../core/schema.js";
import type { DrillTarget } from "./alerts.js";
import type { DrillClass, DrillsConfig } from "./schema.js";

type EnvVar = k8s.types.input.core.v1.EnvVar;

/** Secret keys of the hub reader credentials every drill Secret carries. */
export const READER_KEYS = { accessKeyId: "HUB_ACCESS_KEY_ID", secretAccessKey: "HUB_SECRET_ACCESS_KEY" } as const;

/** CronJob name of a drill (the buckets drill has one per mirror, in the mirror's namespace). */
export function drillCronJobName(cls: Exclude<DrillClass, "postgres">, mirror?: string): string {
  return cls === "buckets" ? names.mirrorDrillCronJob(mirror!) : `drill-${cls}`;
}

/** Seconds each drill's Job may run: its own restore timeout plus the checks and the cleanup. */
export function drillActiveDeadlineSeconds(cls: Exclude<DrillClass, "postgres">, drills: DrillsConfig): number {
  switch (cls) {
    case "velero":
      return parseGoDuration(drills.velero!.timeout)! * drills.velero!.namespaces.length + 1800;
    case "longhorn":
      // Each PVC: the volume restore and the reader pod share the timeout; plus deletions.
      return 2 * parseGoDuration(drills.longhorn!.timeout)! * drills.longhorn!.pvcs.length + 1800;
    case "etcd":
      return 3600;
    case "offsite":
    case "buckets":
      return 2 * 3600;
  }
}

/** A signal (activeDeadlineSeconds, node drain) gives the drill this long to delete what it made. */
export const DRILL_TERMINATION_GRACE_SECONDS = 600;

/** rclone's `hub` remote from the environment, reader credentials by reference to `secretName`. */
export function readerHubEnv(hub: HubConnection, secretName: string): EnvVar[] {
  return [
    { name: "HUB_BUCKET", value: hub.bucket },
    { name: "RCLONE_CONFIG_HUB_TYPE", value: "s3" },
    { name: "RCLONE_CONFIG_HUB_PROVIDER", value: rcloneS3Provider(hub.server) },
    { name: "RCLONE_CONFIG_HUB_ENDPOINT", value: hub.endpoint },
    { name: "RCLONE_CONFIG_HUB_REGION", value: hub.region },
    { name: "RCLONE_CONFIG_HUB_FORCE_PATH_STYLE", value: String(hub.pathStyle) },
    // A reader may not create buckets: never let rclone try.
    { name: "RCLONE_CONFIG_HUB_NO_CHECK_BUCKET", value: "true" },
    {
      name: "RCLONE_CONFIG_HUB_ACCESS_KEY_ID",
      valueFrom: { secretKeyRef: { name: secretName, key: READER_KEYS.accessKeyId } },
    },
    {
      name: "RCLONE_CONFIG_HUB_SECRET_ACCESS_KEY",
      valueFrom: { secretKeyRef: { name: secretName, key: READER_KEYS.secretAccessKey } },
    },
  ];
}

/**
 * What the Velero drill does not restore, as Velero resource names, with their Kinds (which the
 * comparison then does not expect): anything that would run a second copy of an application, take a
 * volume, or route traffic to the scratch namespace. Deployments, StatefulSets and CronJobs are
 * restored, scaled to zero / suspended by VELERO_RESOURCE_MODIFIERS.
 */
export const VELERO_EXCLUDED: ReadonlyArray<{ resource: string; kind: string }> = [
  { resource: "pods", kind: "Pod" },
  { resource: "replicasets.apps", kind: "ReplicaSet" },
  { resource: "daemonsets.apps", kind: "DaemonSet" },
  { resource: "jobs.batch", kind: "Job" },
  { resource: "persistentvolumeclaims", kind: "PersistentVolumeClaim" },
  { resource: "persistentvolumes", kind: "PersistentVolume" },
  { resource: "ingresses.networking.k8s.io", kind: "Ingress" },
  { resource: "httproutes.gateway.networking.k8s.io", kind: "HTTPRoute" },
  { resource: "services", kind: "Service" },
  { resource: "endpoints", kind: "Endpoints" },
  { resource: "endpointslices.discovery.k8s.io", kind: "EndpointSlice" },
  { resource: "events", kind: "Event" },
  { resource: "events.events.k8s.io", kind: "Event" },
];

/**
 * Velero resource modifiers (velero docs "Restore Resource Modifiers", version v1, merge patches
 * since v1.13): restored controllers start nothing.
 */
export const VELERO_RESOURCE_MODIFIERS = [
  "version: v1",
  "resourceModifierRules:",
  ...[
    ["deployments.apps", '{"spec":{"replicas":0}}'],
    ["statefulsets.apps", '{"spec":{"replicas":0}}'],
    ["cronjobs.batch", '{"spec":{"suspend":true}}'],
  ].flatMap(([gr, patch]) => [
    "  - conditions:",
    `      groupResource: ${gr}`,
    "    mergePatches:",
    `      - patchData: '${patch}'`,
  ]),
  "",
].join("\n");

/** Environment of velero-drill.sh (the hub remote comes from readerHubEnv). */
export function veleroDrillEnv(
  drills: DrillsConfig,
  veleroNamespace: string,
  veleroPrefix: string,
  modifierConfigMap: string,
): Record<string, string> {
  const v = drills.velero!;
  return {
    DRILL_NAMESPACES: v.namespaces.join(" "),
    VELERO_NAMESPACE: veleroNamespace,
    VELERO_PREFIX: veleroPrefix,
    DRILL_SCRATCH_PREFIX: "drill-",
    DRILL_EXCLUDED_RESOURCES: VELERO_EXCLUDED.map((e) => e.resource).join(" "),
    DRILL_SKIP_KINDS: [...new Set(VELERO_EXCLUDED.map((e) => e.kind))].join(" "),
    DRILL_RESOURCE_MODIFIER: modifierConfigMap,
    DRILL_TIMEOUT_SECONDS: String(parseGoDuration(v.timeout)),
    DRILL_POLL_SECONDS: "10",
    RCLONE: "/opt/tools/rclone",
  };
}

/** The scratch namespace the Velero drill restores `ns` into (velero-drill.sh computes the same). */
export function veleroScratchNamespace(ns: string): string {
  return `drill-${ns}`.slice(0, 63).replace(/-+$/, "");
}

/** Environment of longhorn-drill.sh. */
export function longhornDrillEnv(drills: DrillsConfig, longhornNamespace: string): Record<string, string> {
  const l = drills.longhorn!;
  return {
    DRILL_PVCS: l.pvcs.join(" "),
    DRILL_NAMESPACE: drills.namespace,
    DRILL_READER_IMAGE: l.readerImage,
    LONGHORN_NAMESPACE: longhornNamespace,
    DRILL_TIMEOUT_SECONDS: String(parseGoDuration(l.timeout)),
    DRILL_POLL_SECONDS: "10",
  };
}

type PolicyRule = k8s.types.input.rbac.v1.PolicyRule;

/**
 * The Velero drill's rights: Restores in Velero's namespace (create, watch, delete its own), Backups
 * read-only, the scratch namespaces by name only (read, delete), and read access to the restored
 * objects for the comparison (namespaced kinds, get/list; the scratch namespaces do not exist before
 * the restore, so this cannot be a RoleBinding there).
 */
export function veleroDrillRules(drills: DrillsConfig): { velero: PolicyRule[]; cluster: PolicyRule[] } {
  const scratch = drills.velero!.namespaces.map(veleroScratchNamespace);
  return {
    velero: [
      { apiGroups: ["velero.io"], resources: ["backups"], verbs: ["get", "list"] },
      { apiGroups: ["velero.io"], resources: ["restores"], verbs: ["create", "get", "list", "delete"] },
    ],
    cluster: [
      { apiGroups: [""], resources: ["namespaces"], resourceNames: scratch, verbs: ["get", "delete"] },
      { apiGroups: ["*"], resources: ["*"], verbs: ["get", "list"] },
    ],
  };
}

/**
 * The Longhorn drill's rights: Longhorn Backups read-only and Volumes (create, read, delete) in
 * Longhorn's namespace; PersistentVolumes (create; read and delete — names are per run); the chosen
 * PVCs read-only in their namespaces; pods, their logs and claims in the drill namespace.
 */
export function longhornDrillRules(drills: DrillsConfig): {
  longhorn: PolicyRule[];
  cluster: PolicyRule[];
  drill: PolicyRule[];
  sources: Map<string, PolicyRule[]>;
} {
  const sources = new Map<string, string[]>();
  for (const ref of drills.longhorn!.pvcs) {
    const [ns, name] = ref.split("/");
    sources.set(ns, [...(sources.get(ns) ?? []), name]);
  }
  return {
    longhorn: [
      { apiGroups: ["longhorn.io"], resources: ["backups"], verbs: ["get", "list"] },
      { apiGroups: ["longhorn.io"], resources: ["volumes"], verbs: ["create", "get", "list", "delete"] },
    ],
    cluster: [{ apiGroups: [""], resources: ["persistentvolumes"], verbs: ["create", "get", "delete"] }],
    drill: [
      { apiGroups: [""], resources: ["pods", "persistentvolumeclaims"], verbs: ["create", "get", "delete"] },
      { apiGroups: [""], resources: ["pods/log"], verbs: ["get"] },
    ],
    sources: new Map(
      [...sources].map(([ns, claims]) => [
        ns,
        [{ apiGroups: [""], resources: ["persistentvolumeclaims"], resourceNames: claims, verbs: ["get"] }],
      ]),
    ),
  };
}

/** The hub prefixes each drill reads (the reader credentials need no more). */
export function drillReadPrefixes(drills: DrillsConfig, offsitePrefixes: readonly string[] | undefined): string[] {
  const out: string[] = [];
  if (drills.velero) out.push("velero/");
  if (drills.etcd) out.push("etcd-snapshots/");
  if (drills.buckets) out.push("buckets/");
  if (drills.offsite) out.push(...(offsitePrefixes && offsitePrefixes.length > 0 ? offsitePrefixes : [""]));
  return [...new Set(out)];
}

/** The stack as the drills read it (the drills section, and the sections of the classes they prove). */
export interface DrillStack {
  readonly drills?: DrillsConfig;
  readonly postgres?: {
    readonly databases: ReadonlyArray<{ readonly name: string; readonly namespace: string }>;
    readonly restoreDrill?: { readonly schedule: string; readonly databases: readonly string[] };
  };
  readonly buckets?: {
    readonly mirrors: ReadonlyArray<{
      readonly name: string;
      readonly source: { readonly credentialsSecret: { readonly namespace: string } };
    }>;
  };
}

/** The PostgreSQL drill's CronJob deadline (components/postgres/postgresRestoreDrill.ts sets the same). */
export const POSTGRES_DRILL_ACTIVE_DEADLINE_SECONDS = 4 * 3600;

/**
 * Every drill CronJob the stack runs: what RestoreDrills (and PostgresRestoreDrill) build, and what
 * the alerts, the dashboard and the plan's readiness table read.
 */
export function drillTargets(stack: DrillStack): DrillTarget[] {
  const d = stack.drills;
  const out: DrillTarget[] = [];
  const pgDrill = stack.postgres?.restoreDrill;
  if (pgDrill && stack.postgres) {
    for (const name of pgDrill.databases) {
      const db = stack.postgres.databases.find((x) => x.name === name)!;
      out.push({
        cls: "postgres",
        namespace: db.namespace,
        cronJob: names.postgresRestoreDrillCronJob(name),
        schedule: pgDrill.schedule,
        activeDeadlineSeconds: POSTGRES_DRILL_ACTIVE_DEADLINE_SECONDS,
        what: `PostgreSQL restore drill of \`${name}\``,
        item: name,
        rtoTargetSeconds: rtoSeconds(d?.postgres?.rtoTarget),
      });
    }
  }
  if (!d) return out;
  const ns = d.namespace;
  const add = (cls: Exclude<DrillClass, "postgres">, what: string, entry: { schedule: string; rtoTarget?: string }) =>
    out.push({
      cls,
      namespace: ns,
      cronJob: drillCronJobName(cls),
      schedule: entry.schedule,
      activeDeadlineSeconds: drillActiveDeadlineSeconds(cls, d),
      what,
      rtoTargetSeconds: rtoSeconds(entry.rtoTarget),
    });
  if (d.velero) add("velero", "Velero restore drill", d.velero);
  if (d.longhorn) add("longhorn", "Longhorn restore drill", d.longhorn);
  if (d.etcd) add("etcd", "etcd restore drill", d.etcd);
  if (d.offsite) add("offsite", "off-site restore drill", d.offsite);
  if (d.buckets) {
    for (const m of stack.buckets?.mirrors ?? []) {
      out.push({
        cls: "buckets",
        namespace: m.source.credentialsSecret.namespace,
        cronJob: drillCronJobName("buckets", m.name),
        schedule: d.buckets.schedule,
        activeDeadlineSeconds: drillActiveDeadlineSeconds("buckets", d),
        what: `bucket mirror drill of \`${m.name}\``,
        item: m.name,
        rtoTargetSeconds: rtoSeconds(d.buckets.rtoTarget),
      });
    }
  }
  return out;
}

/** The item a drill's status record is named after: its database or mirror, else its class (one drill per class). */
export function drillRecordItem(t: Pick<DrillTarget, "cls" | "item">): string {
  return t.item ?? t.cls;
}

/** Where a drill leaves its last result for `npm run status` (components/drills/drill-record.sh writes it). */
export function drillRecordOf(t: Pick<DrillTarget, "cls" | "item">): { item: string; key: string } {
  const item = drillRecordItem(t);
  return { item, key: drillRecordKey(t.cls, item) };
}

/** What drill-record.sh reads to name the record: the drill's class and item. */
export function drillRecordEnv(cls: DrillClass, item?: string): Record<string, string> {
  return { DRILL_RECORD_CLASS: cls, DRILL_RECORD_ITEM: drillRecordItem({ cls, item }) };
}

function rtoSeconds(text: string | undefined): number | undefined {
  return text === undefined ? undefined : parseGoDuration(text);
}
