/** The etcd section: snapshot offload schedule and where the snapshots are. Part of the stack file schema (components/config.ts composes the sections). */
import { z } from "zod";
import { absolutePath, cron, dnsLabel, hostName, posInt, stringMap } from "../core/schema.js";

export const etcdSchema = z.strictObject({
  /** k3s: copy the snapshots k3s takes (host path); talos: take them through the Talos API. */
  distribution: z.enum(["k3s", "talos"]).default("k3s"),
  /** Extension, talos only: the control-plane node to ask (default: whichever the talosconfig endpoint reaches). */
  talosNode: hostName.optional(),
  schedule: cron.default("0 2 * * *"),
  snapshotDir: absolutePath.default("/var/lib/rancher/k3s/server/db/snapshots"),
  retentionDays: posInt(1).default(7),
  nodeSelector: stringMap.default({ "node-role.kubernetes.io/control-plane": "true" }),
  /** Extension: tolerations so the job can run on tainted control-plane nodes. */
  tolerations: z
    .array(
      z.strictObject({
        key: z.string(),
        operator: z.enum(["Exists", "Equal"]).default("Exists"),
        value: z.string().optional(),
        effect: z.enum(["NoSchedule", "PreferNoSchedule", "NoExecute"]).optional(),
      }),
    )
    .default([
      { key: "node-role.kubernetes.io/control-plane", operator: "Exists", effect: "NoSchedule" },
      { key: "node-role.kubernetes.io/master", operator: "Exists", effect: "NoSchedule" },
    ]),
  /** Extension: the namespace of the CronJob. */
  namespace: dnsLabel().default("kube-system"),
});

/** The etcd section, parsed and defaulted. */
export type EtcdConfig = z.output<typeof etcdSchema>;
