/**
 * The first lines of every restore command a person pastes on a workstation: an rclone remote named
 * `hub` defined entirely by environment variables (rclone's `RCLONE_CONFIG_<REMOTE>_<OPTION>`
 * convention, so no config file is written), filled from `pulumi stack output`. The workstation needs
 * rclone and the Pulumi CLI logged in to this stack's backend, nothing else.
 */
import type { HubConnection } from "./hubConnection.js";
import { rcloneS3Provider } from "./rclone.js";

/** Stack outputs a restore reads the hub location from. */
export const HUB_LOCATION_OUTPUTS = { endpoint: "hubEndpoint", region: "hubRegion", bucket: "hubBucket" } as const;

/** The two stack outputs that hold the key a class's restore reads with. */
export interface RestoreKeyOutputs {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** The restore key outputs of one data class: `<class>RestoreAccessKeyId` / `<class>RestoreSecretAccessKey`. */
export function restoreKeyOutputs(dataClass: string): RestoreKeyOutputs {
  return { accessKeyId: `${dataClass}RestoreAccessKeyId`, secretAccessKey: `${dataClass}RestoreSecretAccessKey` };
}

/**
 * Shell lines that define the rclone remote `hub` and `BUCKET` from the stack outputs. Run them in the
 * project directory (where `pulumi stack output` finds the stack).
 */
export function hubRemoteSetup(hub: HubConnection, keys: RestoreKeyOutputs): string[] {
  return hubRemoteLines(
    hub,
    `"$(pulumi stack output ${keys.accessKeyId} --show-secrets)"`,
    `"$(pulumi stack output ${keys.secretAccessKey} --show-secrets)"`,
  );
}

/**
 * The same remote `hub` with a key given as shell words (a literal user name, a `$(pulumi stack output …)`),
 * e.g. a Pi hub's admin login.
 */
export function hubRemoteLines(hub: HubConnection, accessKeyId: string, secretAccessKey: string): string[] {
  return [
    '# rclone remote "hub" from the stack outputs (run in this project\'s directory, logged in to its Pulumi backend)',
    `export RCLONE_CONFIG_HUB_TYPE=s3 RCLONE_CONFIG_HUB_PROVIDER=${rcloneS3Provider(hub.server)} RCLONE_CONFIG_HUB_FORCE_PATH_STYLE=${hub.pathStyle} RCLONE_CONFIG_HUB_NO_CHECK_BUCKET=true`,
    `export RCLONE_CONFIG_HUB_ENDPOINT="$(pulumi stack output ${HUB_LOCATION_OUTPUTS.endpoint})" RCLONE_CONFIG_HUB_REGION="$(pulumi stack output ${HUB_LOCATION_OUTPUTS.region})"`,
    `export RCLONE_CONFIG_HUB_ACCESS_KEY_ID=${accessKeyId}`,
    `export RCLONE_CONFIG_HUB_SECRET_ACCESS_KEY=${secretAccessKey}`,
    `BUCKET="$(pulumi stack output ${HUB_LOCATION_OUTPUTS.bucket})"`,
  ];
}

/**
 * Shell lines that thaw one object of a GLACIER / DEEP_ARCHIVE class and wait until it reads: ask
 * S3 to restore a copy for 2 days (`rclone backend restore`, Standard tier; an object still in
 * STANDARD reports a harmless error), then retry the download every 10 minutes until the copy is
 * there (a download of a frozen object fails at once with InvalidObjectState).
 */
export function thawThenDownload(remotePath: string, localPath: string, delay: string): string[] {
  return [
    `# Objects older than the archive age are frozen: start the thaw (${delay}), then wait for it`,
    `rclone backend restore "${remotePath}" -o priority=Standard -o lifetime=2 || true`,
    `until rclone copyto "${remotePath}" "${localPath}"; do echo "waiting for the thaw of ${remotePath}..."; sleep 600; done`,
  ];
}
