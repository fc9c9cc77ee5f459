/** rclone settings shared by every job and host script that talks to the hub. */
import type { HubConnection } from "./hubConnection.js";

/**
 * rclone's S3 `provider` for the hub's server: `AWS`, `Minio`, or `Other` for RustFS. The provider
 * selects per-server quirks (e.g. MinIO's), so every rclone remote on the hub uses this one mapping.
 */
export function rcloneS3Provider(server: HubConnection["server"]): string {
  return server === "aws" ? "AWS" : server === "minio" ? "Minio" : "Other";
}
