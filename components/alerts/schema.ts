/** The alerts section: where the PrometheusRule goes and its thresholds. Part of the stack file schema (components/config.ts composes the sections). */
import { z } from "zod";
import { dnsLabel, posInt, stringMap } from "../core/schema.js";

export const alertsSchema = z.strictObject({
  namespace: dnsLabel().default("monitoring"),
  ruleLabels: stringMap.default({ release: "kube-prometheus-stack" }),
  grafanaDashboard: z.boolean().default(true),
  bucketQuotaGiB: z.number().positive("must be a positive number of GiB").optional(),
  hubDiskUsagePercent: z
    .number()
    .min(1, "must be a percentage between 1 and 100")
    .max(100, "must be a percentage between 1 and 100")
    .default(85),
  restoreTestMaxAgeDays: posInt(1).default(30),
});

/** The alerts section, parsed and defaulted. */
export type AlertsConfig = z.output<typeof alertsSchema>;
