/** The velero section: install, schedules and their ttl. Part of the stack file schema (components/config.ts composes the sections). */
import { z } from "zod";
import { cron, dnsLabel, goDuration, uniqueBy } from "../core/schema.js";
import { normalizeFsBackup, VOLUMES_SCHEDULE_SUFFIX } from "./fsBackup.js";

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
    /** Pod-volume copies (node agent + Kopia): off, `true` (= opt-out), or `{mode: opt-in | opt-out, namespaces}`. */
    fsBackup: z
      .union([
        z.boolean(),
        z.strictObject({ mode: z.enum(["opt-in", "opt-out"]), namespaces: z.array(dnsLabel()).optional() }),
      ])
      .default(false)
      .superRefine((v, ctx) => {
        if (typeof v === "object" && v.mode === "opt-out" && v.namespaces) {
          ctx.addIssue({
            code: "custom",
            path: ["namespaces"],
            message: "applies only to mode opt-in (opt-out copies every namespace's volumes except annotated ones)",
          });
        }
      })
      .transform(normalizeFsBackup),
    excludedNamespaces: z.array(z.string().min(1)).default(["kube-system", "kube-node-lease", "kube-public", "velero"]),
    excludedResources: z.array(z.string().min(1)).default([]),
    schedules: z.array(veleroScheduleSchema).default([{ name: "daily", cron: "0 2 * * *", ttl: "720h" }]),
  })
  .superRefine((v, ctx) => {
    uniqueBy(v.schedules, (s) => s.name, "schedule", ctx, ["schedules"]);
    if (v.fsBackup.mode === "opt-in" && v.fsBackup.namespaces.length > 0) {
      const max = 63 - VOLUMES_SCHEDULE_SUFFIX.length;
      v.schedules.forEach((s, i) => {
        if (s.name.length > max)
          ctx.addIssue({
            code: "custom",
            path: ["schedules", i, "name"],
            message: `must be at most ${max} characters with fsBackup opt-in namespaces (its volumes go to a Schedule named "<name>${VOLUMES_SCHEDULE_SUFFIX}")`,
          });
      });
    }
  });

/** The velero section, parsed and defaulted. */
export type VeleroConfig = z.output<typeof veleroSchema>;
