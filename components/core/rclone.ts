/** rclone settings shared by every job and host script that talks to the hub. */
import type { HubConnection } from "./hubConnection.js";

/**
 * rclone's S3 `provider` for the hub's server: `AWS`, `Minio` (MinIO and its fork Silo), `Ceph` (RGW),
 * or `Other` (RustFS, Garage, anything else). The provider selects per-server quirks (e.g. MinIO's), so
 * every rclone remote on the hub uses this one mapping (providers: rclone docs/content/s3.md).
 */
export function rcloneS3Provider(server: HubConnection["server"]): string {
  if (server === "aws") return "AWS";
  if (server === "minio" || server === "silo") return "Minio";
  if (server === "ceph-rgw") return "Ceph";
  return "Other";
}
