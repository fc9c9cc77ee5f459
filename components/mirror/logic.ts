/** Bucket mirrors (rclone S3→S3 onto the hub) as plain data: where each lands and its script's settings. */
import { PREFIXES } from "../core/schema.js";
import type { HubConnection } from "../core/hubConnection.js";
import { names } from "../core/names.js";
import { rcloneS3Provider } from "../core/rclone.js";
import { cronJobWatch, type CronJobWatch } from "../core/watch.js";
import type { MirrorConfig } from "../config.js";
import { mirrorSourceRegion } from "./schema.js";

/** activeDeadlineSeconds of a mirror Job: the first copy of a large bucket takes hours. */
export const MIRROR_ACTIVE_DEADLINE_SECONDS = 6 * 3600;

/** What watches a mirror's CronJob (built by BucketMirror, read by the alert rules). */
export function mirrorWatch(mirror: MirrorConfig): CronJobWatch {
  return cronJobWatch(
    mirror.source.credentialsSecret.namespace,
    names.mirrorCronJob(mirror.name),
    mirror.schedule,
    MIRROR_ACTIVE_DEADLINE_SECONDS,
  );
}

/** Where a mirror lands on the hub: `buckets/<name>/`. */
export function mirrorPrefix(mirror: MirrorConfig): string {
  return `${PREFIXES.buckets}${mirror.name}/`;
}

/** The non-secret settings of components/mirror/mirror.sh. */
export function mirrorEnv(mirror: MirrorConfig, hub: HubConnection): Record<string, string> {
  return {
    MIRROR_SOURCE_ENDPOINT: mirror.source.endpoint,
    MIRROR_SOURCE_BUCKET: mirror.source.bucket,
    MIRROR_SOURCE_REGION: mirrorSourceRegion(mirror),
    MIRROR_HUB_ENDPOINT: hub.endpoint,
    MIRROR_HUB_BUCKET: hub.bucket,
    MIRROR_HUB_REGION: hub.region,
    MIRROR_HUB_PROVIDER: rcloneS3Provider(hub.server),
    MIRROR_HUB_PATH_STYLE: String(hub.pathStyle),
    MIRROR_HUB_PREFIX: mirrorPrefix(mirror),
  };
}
