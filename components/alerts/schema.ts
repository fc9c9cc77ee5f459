/** The alerts section: where the PrometheusRule goes and its thresholds. Part of the stack file schema (components/config.ts composes the sections). */
import { z } from "zod";
import { dnsLabel, posInt, stringMap } from "../core/schema.js";

/** Classes a backup size limit may name (alerts.backupSizeGiB). */
export const SIZE_CLASSES = ["longhorn", "postgres", "etcd", "velero", "buckets", "offsite"] as const;

const gib = z.number().positive("must be a positive number of GiB");
const email = z.string().regex(/^[^\s@]+@[^\s@]+$/, "must be an e-mail address");
/** Alertmanager/Prometheus duration: `5m`, `1h30m`. */
const promDuration = z
  .string()
  .regex(/^(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?$/, 'must be a duration such as "5m" or "1h"')
  .refine((v) => v !== "", 'must be a duration such as "5m" or "1h"');
/** `namespace` or `namespace/pvc`. */
const coverageEntry = z
  .string()
  .regex(
    /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\/[a-z0-9]([-a-z0-9.]*[a-z0-9])?)?$/,
    'must be a namespace ("scratch") or a namespace/pvc ("media/cache")',
  );

/** Pi hub: minutes without a new object before the hub reports it (alerts.heartbeat.hubMaxAgeMinutes): 26 hours. */
export const DEFAULT_HUB_MAX_AGE_MINUTES = 1560;

export const alertsSchema = z.strictObject({
  namespace: dnsLabel().default("monitoring"),
  ruleLabels: stringMap.default({ release: "kube-prometheus-stack" }),
  grafanaDashboard: z.boolean().default(true),
  bucketQuotaGiB: gib.optional(),
  hubDiskUsagePercent: z
    .number()
    .min(1, "must be a percentage between 1 and 100")
    .max(100, "must be a percentage between 1 and 100")
    .default(85),
  restoreTestMaxAgeDays: posInt(1).default(30),
  /** Warn while a backup Job is still running after this many minutes (before its deadline kills it). */
  jobRunningTooLongMinutes: posInt(1).optional(),
  /** Warn when one backup of a class is larger than this many GiB. */
  backupSizeGiB: z.partialRecord(z.enum(SIZE_CLASSES), gib).optional(),
  /** AWS hub: warn when the projected monthly storage cost exceeds this many USD. */
  monthlyCostUsd: z.number().positive("must be a positive number of US dollars").optional(),
  /** PVCs that may stay without any backup (rebuildable data). */
  coverage: z.strictObject({ ignore: z.array(coverageEntry).default([]) }).default({ ignore: [] }),
  /** Where the stack's alerts go (credentials in the alerts* secret keys). */
  notify: z
    .strictObject({
      ntfy: z
        .strictObject({
          url: z.url({ protocol: /^https?$/ }),
          topic: z
            .string()
            .regex(/^[-_A-Za-z0-9]{1,64}$/, "must be an ntfy topic: letters, digits, '-' and '_' (1-64)"),
        })
        .optional(),
      slack: z
        .strictObject({
          channel: z.string().regex(/^[#@]?[a-z0-9][-_a-z0-9.]*$/, 'must be a Slack channel such as "#k3s-alerts"'),
        })
        .optional(),
      email: z
        .strictObject({
          to: email,
          from: email,
          smarthost: z.string().regex(/^[A-Za-z0-9.-]+:[0-9]+$/, 'must be "host:port"'),
          /** SMTP login; defaults to `from`. */
          username: z.string().min(1).optional(),
          requireTls: z.boolean().default(true),
        })
        .optional(),
    })
    .optional(),
  /** A dead-man's switch outside the cluster: Alertmanager pings alertsHeartbeatUrl every repeatInterval. */
  heartbeat: z
    .strictObject({
      repeatInterval: promDuration.default("5m"),
      /** Pi hub: minutes without any new object before the hub itself reports it (its own timer). */
      hubMaxAgeMinutes: posInt(15).default(DEFAULT_HUB_MAX_AGE_MINUTES),
    })
    .optional(),
  /** The audit that reads what landed (extension). */
  audit: z
    .strictObject({ enabled: z.boolean().default(true), intervalMinutes: posInt(5).default(60) })
    .default({ enabled: true, intervalMinutes: 60 }),
});

/** The alerts section, parsed and defaulted. */
export type AlertsConfig = z.output<typeof alertsSchema>;
