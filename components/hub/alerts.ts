/** Alert rules of the Pi hub (composed by components/alerts/rules.ts). */
import type { StackConfig } from "../config.js";
import { q, regexAlternatives, rule, type Built } from "../alerts/ruleHelpers.js";

/** Ancestors of the hub's dataDir (itself included, `/` excluded): one of them is its mount point. */
export function dataDirMountpoints(dataDir: string): string[] {
  const parts = dataDir.split("/").filter(Boolean);
  return parts.map((_, i) => "/" + parts.slice(0, parts.length - i).join("/"));
}

/** The Pi hub's data disk filling up, and the bucket above its quota. */
export function hubAlertRules(
  stack: StackConfig,
  alerts: { hubDiskUsagePercent: number; bucketQuotaGiB?: number },
): Built[] {
  const out: Built[] = [];
  const hub = stack.hub;
  if (hub?.kind === "pi" && hub.dataDir) {
    const g = "homelab-backup.hub";
    const mp = `mountpoint=~${q(regexAlternatives(dataDirMountpoints(hub.dataDir)))}`;
    const pct = alerts.hubDiskUsagePercent;
    out.push(
      rule(
        g,
        "BackupHubDiskUsageHigh",
        "warning",
        "hub",
        `max by (instance, mountpoint) (100 * (1 - node_filesystem_avail_bytes{${mp}} / node_filesystem_size_bytes{${mp}})) > ${pct}`,
        {
          summary: "Backup hub disk almost full",
          description: `The filesystem {{ $labels.mountpoint }} on {{ $labels.instance }}, which holds the hub's data (${hub.dataDir}), is more than ${pct}% full. Shorten retention or add disk before backups start failing.`,
        },
        {
          watches: `the hub's data disk (${hub.dataDir})`,
          firesWhen: `used > ${pct}% for 15m`,
          why: "alerts.hubDiskUsagePercent",
        },
        "15m",
      ),
    );
    if (alerts.bucketQuotaGiB !== undefined && hub.server === "silo" && hub.monitoring) {
      const bytes = Math.round(alerts.bucketQuotaGiB * 1024 ** 3);
      out.push(
        rule(
          g,
          "BackupBucketQuotaExceeded",
          "warning",
          "hub",
          `max by (bucket) (minio_bucket_usage_total_bytes{bucket=${q(hub.bucket)}}) > ${bytes}`,
          {
            summary: "Backup bucket above its quota",
            description: `Bucket {{ $labels.bucket }} holds more than ${alerts.bucketQuotaGiB} GiB (alerts.bucketQuotaGiB).`,
          },
          {
            watches: `bucket \`${hub.bucket}\` (Silo /minio/v2/metrics/bucket)`,
            firesWhen: `minio_bucket_usage_total_bytes > ${alerts.bucketQuotaGiB} GiB for 15m`,
            why: "alerts.bucketQuotaGiB",
          },
          "15m",
        ),
      );
    }
  }
  return out;
}
