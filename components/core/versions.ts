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
  /** velero-plugin-for-aws: not v1.14.2 against S3-compatible stores (velero #9951). */
  veleroAwsPluginImage: "velero/velero-plugin-for-aws:v1.14.1",
  /** s3-to-ftp bridge: the pinned release (listens on 9000, serves /health). */
  s3ToFtpImage: "ghcr.io/lerenn/s3-to-ftp:v1.2.1",
  /** Busybox-free shell tools for the etcd offload job. */
  alpineImage: "alpine:3.22.2",
  /** Pi hub servers and their admin client: components/hub/releases.ts (release assets with their sha256). */
  /** rclone on the Pi hub (off-site copy). */
  rclone: "v1.71.2",
} as const;
