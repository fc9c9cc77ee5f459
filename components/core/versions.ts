/**
 * Every third-party artefact the stack deploys, pinned in one place. Never `latest`: a backup that
 * changes behaviour because an upstream tag moved is a backup nobody tested.
 */
export const VERSIONS = {
  /** Client image for pg_dump/psql; its major must be >= every server's major. */
  postgresImage: "postgres:17.6-alpine3.22",
  /** rclone image: the S3/FTP client copied into job pods by an init container. */
  rcloneImage: "rclone/rclone:1.71.2",
  /** Velero Helm chart (vmware-tanzu/helm-charts) and the app it installs. */
  veleroChart: "12.1.0",
  veleroImage: "velero/velero:v1.18.1",
  /**
   * velero-plugin-for-aws: not v1.14.2 against S3-compatible stores (velero #9951). v1.14.1 sends an
   * empty `x-amz-tagging` header (VELERO_AWS_PLUGIN_EMPTY_TAGGING below).
   */
  veleroAwsPluginImage: "velero/velero-plugin-for-aws:v1.14.1",
  /** s3-to-ftp bridge: the pinned release (listens on 9000, serves /health). */
  s3ToFtpImage: "ghcr.io/lerenn/s3-to-ftp:v1.2.1",
  /** Busybox-free shell tools for the etcd offload job. */
  alpineImage: "alpine:3.22.2",
  /** Pi hub servers and their admin client: components/hub/releases.ts (release assets with their sha256). */
  /** rclone on the Pi hub (off-site copy). */
  rclone: "v1.71.2",
} as const;

/**
 * What the pinned velero-plugin-for-aws puts on every PutObject that some S3 servers refuse. Its
 * `PutObject` sets `Tagging: aws.String(o.tagging)` whether or not the BackupStorageLocation has a
 * `tagging` key (vmware-tanzu/velero-plugin-for-aws, velero-plugin-for-aws/object_store.go, branch
 * release-1.14), and since v1.14.1's SDK update an empty string goes out as an empty `x-amz-tagging`
 * header: Cloudflare R2 answers 501 NotImplemented, Backblaze B2 InvalidArgument, Dell ECS 400
 * (velero-io/velero#9931, #10400). The fix (plugin PR #299, backported to release-1.14 as #309) is in
 * the v1.14.3 release candidates; this program pins release images only, so it stays on v1.14.1 until a
 * final release with the fix is pinned here (test/velero/veleroPlugin.test.ts holds the two together).
 *
 * Per server: AWS ignores the empty header (#10400); MinIO and Silo read tags only from a non-empty
 * header (minio/minio cmd/object-handlers.go PutObjectHandler: `if objTags := r.Header.Get(
 * xhttp.AmzObjectTagging); objTags != ""`); Ceph RGW accepts it (test/hub/s3Hub.integration.test.ts
 * sends it to a real RGW). For every s3 hub, the conformance check after `pulumi up` uploads with the
 * velero writer's key exactly as the plugin does, header included, and fails the update when the
 * server refuses it (components/hub/s3/conformance.ts).
 */
export const VELERO_AWS_PLUGIN_EMPTY_TAGGING = {
  image: VERSIONS.veleroAwsPluginImage,
  sendsEmptyTaggingHeader: true,
  fixedIn: "v1.14.3 (release candidates only when pinned; velero-plugin-for-aws#309)",
} as const;
