/** The alerts section: where the PrometheusRule goes and its thresholds. Part of the stack file schema (components/config.ts composes the sections). */
import { z } from "zod";
import { dnsLabel, posInt, stringMap } from "../core/schema.js";
import { AUDIT_INTERVAL_SECONDS } from "./auditMetrics.js";

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

/**
 * Every default of the alerts section, in one place: the schema's `.default()`s below and the components
 * built without the schema (BackupAlerts, BackupAudit, HubArrivals, through `alertsWithDefaults`) read them
 * here, so a component used as a library behaves as the same component built from an empty section.
 */
export const ALERTS_DEFAULTS = {
  namespace: "monitoring",
  ruleLabels: { release: "kube-prometheus-stack" } as Record<string, string>,
  grafanaDashboard: true,
  hubDiskUsagePercent: 85,
  restoreTestMaxAgeDays: 30,
  coverage: { ignore: [] as string[] },
  email: { requireTls: true },
  heartbeat: { repeatInterval: "5m", hubMaxAgeMinutes: DEFAULT_HUB_MAX_AGE_MINUTES },
  audit: { enabled: true, intervalMinutes: AUDIT_INTERVAL_SECONDS / 60 },
} as const;

export const alertsSchema = z.strictObject({
  /** Namespace of the PrometheusRule, the audit exporter and the notify objects. @default "monitoring" */
  namespace: dnsLabel().default(ALERTS_DEFAULTS.namespace),
  /** Labels of the PrometheusRule and the ServiceMonitors (kube-prometheus-stack selects on `release`). @default { release: "kube-prometheus-stack" } */
  ruleLabels: stringMap.default(ALERTS_DEFAULTS.ruleLabels),
  /** A Grafana dashboard ConfigMap for the kube-prometheus-stack sidecar. @default true */
  grafanaDashboard: z.boolean().default(ALERTS_DEFAULTS.grafanaDashboard),
  bucketQuotaGiB: gib.optional(),
  /** Pi hub: warn when its data disk is fuller than this percentage. @default 85 */
  hubDiskUsagePercent: z
    .number()
    .min(1, "must be a percentage between 1 and 100")
    .max(100, "must be a percentage between 1 and 100")
    .default(ALERTS_DEFAULTS.hubDiskUsagePercent),
  /** Days without a successful PostgreSQL restore drill before its stale alert fires. @default 30 */
  restoreTestMaxAgeDays: posInt(1).default(ALERTS_DEFAULTS.restoreTestMaxAgeDays),
  /** Warn while a backup Job is still running after this many minutes (before its deadline kills it). */
  jobRunningTooLongMinutes: posInt(1).optional(),
  /** Warn when one backup of a class is larger than this many GiB. */
  backupSizeGiB: z.partialRecord(z.enum(SIZE_CLASSES), gib).optional(),
  /** AWS hub: warn when the projected monthly storage cost exceeds this many USD. */
  monthlyCostUsd: z.number().positive("must be a positive number of US dollars").optional(),
  /** PVCs that may stay without any backup (rebuildable data). @default { ignore: [] } */
  coverage: z
    .strictObject({ ignore: z.array(coverageEntry).default(ALERTS_DEFAULTS.coverage.ignore) })
    .default(ALERTS_DEFAULTS.coverage),
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
          /** SMTP login. @default the `from` address */
          username: z.string().min(1).optional(),
          /** STARTTLS (or TLS on port 465) is required. @default true */
          requireTls: z.boolean().default(ALERTS_DEFAULTS.email.requireTls),
        })
        .optional(),
    })
    .optional(),
  /** A dead-man's switch outside the cluster: Alertmanager pings alertsHeartbeatUrl every repeatInterval. */
  heartbeat: z
    .strictObject({
      /** How often Alertmanager pings the heartbeat URL. @default "5m" */
      repeatInterval: promDuration.default(ALERTS_DEFAULTS.heartbeat.repeatInterval),
      /** Pi hub: minutes without any new object before the hub itself reports it (its own timer). @default 1560 */
      hubMaxAgeMinutes: posInt(15).default(ALERTS_DEFAULTS.heartbeat.hubMaxAgeMinutes),
    })
    .optional(),
  /** The audit that reads what landed (extension): on, every 60 minutes. @default { enabled: true, intervalMinutes: 60 } */
  audit: z
    .strictObject({
      enabled: z.boolean().default(ALERTS_DEFAULTS.audit.enabled),
      intervalMinutes: posInt(5).default(ALERTS_DEFAULTS.audit.intervalMinutes),
    })
    .default(ALERTS_DEFAULTS.audit),
});

/** The alerts section, parsed and defaulted. */
export type AlertsConfig = z.output<typeof alertsSchema>;
/** The alerts section as written: every key with a default may be left out. */
export type AlertsInput = z.input<typeof alertsSchema>;

/** The alerts section with every default of the schema applied (ALERTS_DEFAULTS): what the components read. */
export function alertsWithDefaults(a: AlertsInput): AlertsConfig {
  const d = ALERTS_DEFAULTS;
  return {
    ...a,
    namespace: a.namespace ?? d.namespace,
    ruleLabels: a.ruleLabels ?? d.ruleLabels,
    grafanaDashboard: a.grafanaDashboard ?? d.grafanaDashboard,
    hubDiskUsagePercent: a.hubDiskUsagePercent ?? d.hubDiskUsagePercent,
    restoreTestMaxAgeDays: a.restoreTestMaxAgeDays ?? d.restoreTestMaxAgeDays,
    coverage: { ...a.coverage, ignore: a.coverage?.ignore ?? d.coverage.ignore },
    notify: a.notify && {
      ...a.notify,
      email: a.notify.email && { ...a.notify.email, requireTls: a.notify.email.requireTls ?? d.email.requireTls },
    },
    heartbeat: a.heartbeat && {
      ...a.heartbeat,
      repeatInterval: a.heartbeat.repeatInterval ?? d.heartbeat.repeatInterval,
      hubMaxAgeMinutes: a.heartbeat.hubMaxAgeMinutes ?? d.heartbeat.hubMaxAgeMinutes,
    },
    audit: {
      ...a.audit,
      enabled: a.audit?.enabled ?? d.audit.enabled,
      intervalMinutes: a.audit?.intervalMinutes ?? d.audit.intervalMinutes,
    },
  };
}
