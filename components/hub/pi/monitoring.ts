/**
 * A hub you can see (`hub.monitoring`, default on): node exporter on the hub (the Debian package
 * prometheus-node-exporter, or the NixOS module option), and prometheus-operator ScrapeConfig
 * objects so that the cluster's Prometheus scrapes it: node exporter (disk, and the off-site copy's
 * textfile metrics) and Silo's own Prometheus metrics (`minio_*`, served on the S3 port). RustFS
 * exports no Prometheus metrics (OTLP push only), so a RustFS hub is scraped for node exporter alone.
 *
 * Pure data: the component turns these into resources; alerts and the plan read the same values.
 */
import type { HubServer } from "../releases.js";

/** node exporter's port on the hub (the Debian package's and the NixOS module's default). */
export const NODE_EXPORTER_PORT = 9100;

/**
 * The textfile directory the Debian package's node exporter reads by default
 * (/usr/share/doc/prometheus-node-exporter/README.textfile in the package).
 */
export const DEBIAN_TEXTFILE_DIR = "/var/lib/prometheus/node-exporter";

/** Silo's metrics paths (MinIO's v2 metrics, kept by the fork): cluster and per-bucket usage. */
export const SILO_METRICS_PATHS = { cluster: "/minio/v2/metrics/cluster", bucket: "/minio/v2/metrics/bucket" } as const;

/** What the cluster's Prometheus scrapes on the hub. */
export interface HubScrapeTarget {
  /** ScrapeConfig name (and the `job` label Prometheus gives its series). */
  readonly name: string;
  readonly target: string;
  readonly metricsPath: string;
  readonly scheme: "HTTP" | "HTTPS";
  /** For people: what the series are for. */
  readonly purpose: string;
}

/** `host:port`, bracketing an IPv6 address. */
function hostPort(host: string, port: number): string {
  return `${host.includes(":") && !host.startsWith("[") ? `[${host}]` : host}:${port}`;
}

/** The hub's scrape targets: node exporter always, Silo's metrics on a Silo hub; none when monitoring is off. */
export function hubScrapeTargets(hub: {
  host: string;
  port: number;
  tls: boolean;
  server: HubServer;
  monitoring: boolean;
}): HubScrapeTarget[] {
  if (!hub.monitoring) return [];
  const targets: HubScrapeTarget[] = [
    {
      name: "homelab-backup-hub-node",
      target: hostPort(hub.host, NODE_EXPORTER_PORT),
      metricsPath: "/metrics",
      scheme: "HTTP",
      purpose: "node exporter: the data disk's usage and the off-site copy's textfile metrics",
    },
  ];
  if (hub.server === "silo") {
    const scheme = hub.tls ? "HTTPS" : "HTTP";
    targets.push(
      {
        name: "homelab-backup-hub-silo",
        target: hostPort(hub.host, hub.port),
        metricsPath: SILO_METRICS_PATHS.cluster,
        scheme,
        purpose: "Silo's cluster metrics (minio_cluster_*, minio_node_*)",
      },
      {
        name: "homelab-backup-hub-silo-bucket",
        target: hostPort(hub.host, hub.port),
        metricsPath: SILO_METRICS_PATHS.bucket,
        scheme,
        purpose: "Silo's per-bucket usage (minio_bucket_usage_total_bytes, for alerts.bucketQuotaGiB)",
      },
    );
  }
  return targets;
}

/** A prometheus-operator ScrapeConfig (monitoring.coreos.com/v1alpha1) for one target. */
export function scrapeConfigObject(
  t: HubScrapeTarget,
  namespace: string,
  labels: Readonly<Record<string, string>>,
): Record<string, unknown> {
  return {
    apiVersion: "monitoring.coreos.com/v1alpha1",
    kind: "ScrapeConfig",
    metadata: { name: t.name, namespace, labels: { ...labels, "app.kubernetes.io/part-of": "homelab-backup" } },
    spec: {
      metricsPath: t.metricsPath,
      scheme: t.scheme,
      scrapeInterval: "60s",
      staticConfigs: [{ targets: [t.target], labels: { homelab_backup_hub: "true" } }],
    },
  };
}

/** What the plan says about RustFS and metrics. */
export const RUSTFS_METRICS_NOTE =
  "RustFS exports no Prometheus metrics (it pushes OpenTelemetry/OTLP only, to RUSTFS_OBS_ENDPOINT), so the cluster's Prometheus scrapes only node exporter on this hub: " +
  "the disk alert and the off-site alerts work, but there is no server-side metric (no bucket usage, so alerts.bucketQuotaGiB has nothing to read, and no request or error rates). " +
  "The audit that lists what landed in the bucket still judges staleness for every class.";
