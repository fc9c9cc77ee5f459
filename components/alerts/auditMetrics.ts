/**
 * The audit exporter's metric names (components/alerts/audit.mjs serves them; its `M` must equal
 * this object, which test/alerts/auditRules.test.ts checks) and the audit's defaults.
 */
export const AUDIT_METRICS = {
  timestamp: "homelab_backup_audit_last_restore_point_timestamp_seconds",
  size: "homelab_backup_audit_last_restore_point_size_bytes",
  valid: "homelab_backup_audit_last_restore_point_valid",
  found: "homelab_backup_audit_restore_point_found",
  count: "homelab_backup_audit_restore_points",
  expectedCount: "homelab_backup_audit_expected_restore_points",
  firstSeen: "homelab_backup_audit_first_restore_point_timestamp_seconds",
  itemError: "homelab_backup_audit_item_error",
  bucketBytes: "homelab_backup_audit_bucket_bytes",
  bucketObjects: "homelab_backup_audit_bucket_objects",
  targetAvailable: "homelab_backup_audit_longhorn_backup_target_available",
  pvcUncovered: "homelab_backup_audit_pvc_uncovered",
  pvcs: "homelab_backup_audit_pvcs",
  lastRun: "homelab_backup_audit_last_run_timestamp_seconds",
  lastRunSuccess: "homelab_backup_audit_last_run_success",
  duration: "homelab_backup_audit_duration_seconds",
} as const;

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

/** The exporter's runtime: Node (the version the tests run the exporter with), Alpine variant with busybox sh. */
export const AUDIT_NODE_IMAGE = "node:20.19.5-alpine3.22";
