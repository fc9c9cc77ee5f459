/** The velero section: install, schedules and their ttl. Part of the stack file schema (components/config.ts composes the sections). */
import { z } from "zod";
import { cron, dnsLabel, goDuration, uniqueBy } from "../core/schema.js";

export const veleroScheduleSchema = z.strictObject({
  name: dnsLabel(),
  cron,
  ttl: goDuration,
  includedNamespaces: z.array(z.string().min(1)).optional(),
});

export const veleroSchema = z
  .strictObject({
    namespace: dnsLabel().default("velero"),
    install: z.boolean().default(true),
    fsBackup: z.boolean().default(false),
    excludedNamespaces: z.array(z.string().min(1)).default(["kube-system", "kube-node-lease", "kube-public", "velero"]),
    excludedResources: z.array(z.string().min(1)).default([]),
    schedules: z.array(veleroScheduleSchema).default([{ name: "daily", cron: "0 2 * * *", ttl: "720h" }]),
  })
  .superRefine((v, ctx) => uniqueBy(v.schedules, (s) => s.name, "schedule", ctx, ["schedules"]));

/** The velero section, parsed and defaulted. */
export type VeleroConfig = z.output<typeof veleroSchema>;
