/** The etcd section: snapshot offload schedule and where the snapshots are. Part of the stack file schema (components/config.ts composes the sections). */
import { z } from "zod";
import { absolutePath, cron, dnsLabel, hostName, posInt, stringMap } from "../core/schema.js";

/** The defaults of each toleration (ETCD_DEFAULTS.toleration). */
const TOLERATION_DEFAULTS = { operator: "Exists" } as const;

const tolerationSchema = z.strictObject({
  key: z.string(),
  /** @default "Exists" */
  operator: z.enum(["Exists", "Equal"]).default(TOLERATION_DEFAULTS.operator),
  value: z.string().optional(),
  effect: z.enum(["NoSchedule", "PreferNoSchedule", "NoExecute"]).optional(),
});

/** One toleration of the etcd job, parsed and defaulted. */
export type EtcdToleration = z.output<typeof tolerationSchema>;

/**
 * Every default of the etcd section, in one place: the schema's `.default()`s below and the components
 * built without the schema (EtcdOffload through `etcdWithDefaults`, TalosEtcdSnapshot) read them here.
 */
export const ETCD_DEFAULTS = {
  distribution: "k3s",
  schedule: "0 2 * * *",
  snapshotDir: "/var/lib/rancher/k3s/server/db/snapshots",
  retentionDays: 7,
  nodeSelector: { "node-role.kubernetes.io/control-plane": "true" } as Record<string, string>,
  tolerations: [
    { key: "node-role.kubernetes.io/control-plane", operator: "Exists", effect: "NoSchedule" },
    { key: "node-role.kubernetes.io/master", operator: "Exists", effect: "NoSchedule" },
  ] as EtcdToleration[],
  /** Of each toleration. */
  toleration: TOLERATION_DEFAULTS,
  namespace: "kube-system",
} as const;

export const etcdSchema = z.strictObject({
  /** k3s: copy the snapshots k3s takes (host path); talos: take them through the Talos API. @default "k3s" */
  distribution: z.enum(["k3s", "talos"]).default(ETCD_DEFAULTS.distribution),
  /** Extension, talos only: the control-plane node to ask. @default whichever the talosconfig endpoint reaches */
  talosNode: hostName.optional(),
  /** 5-field cron, UTC. @default "0 2 * * *" */
  schedule: cron.default(ETCD_DEFAULTS.schedule),
  /** k3s: where k3s writes its snapshots on the control-plane node. @default "/var/lib/rancher/k3s/server/db/snapshots" */
  snapshotDir: absolutePath.default(ETCD_DEFAULTS.snapshotDir),
  /** k3s: snapshots older than this many days are not copied. @default 7 */
  retentionDays: posInt(1).default(ETCD_DEFAULTS.retentionDays),
  /** k3s: where the job runs (a node that holds the snapshots). @default { "node-role.kubernetes.io/control-plane": "true" } */
  nodeSelector: stringMap.default(ETCD_DEFAULTS.nodeSelector),
  /** Extension: tolerations so the job can run on tainted control-plane nodes. @default NoSchedule of control-plane and master */
  tolerations: z.array(tolerationSchema).default(ETCD_DEFAULTS.tolerations),
  /** Extension: the namespace of the CronJob. @default "kube-system" */
  namespace: dnsLabel().default(ETCD_DEFAULTS.namespace),
});

/** The etcd section, parsed and defaulted. */
export type EtcdConfig = z.output<typeof etcdSchema>;
/** The etcd section as written: every key with a default may be left out. */
export type EtcdInput = z.input<typeof etcdSchema>;

/** The etcd section with every default of the schema applied (ETCD_DEFAULTS). */
export function etcdWithDefaults(e: EtcdInput): EtcdConfig {
  const d = ETCD_DEFAULTS;
  return {
    ...e,
    distribution: e.distribution ?? d.distribution,
    schedule: e.schedule ?? d.schedule,
    snapshotDir: e.snapshotDir ?? d.snapshotDir,
    retentionDays: e.retentionDays ?? d.retentionDays,
    nodeSelector: e.nodeSelector ?? d.nodeSelector,
    tolerations: e.tolerations?.map((t) => ({ ...t, operator: t.operator ?? d.toleration.operator })) ?? d.tolerations,
    namespace: e.namespace ?? d.namespace,
  };
}
