/**
 * The FTP bridge's section of plan.md: what the bridge is, where its keys live, and how to read its
 * data back (through the bridge, the only thing that understands what it stored on FTP).
 */
import type { FtpBridgeConfig } from "../config.js";
import type { PlanSection } from "../core/planTypes.js";
import { BRIDGE_NAME, BRIDGE_SECRET } from "./logic.js";

/** Local port the restore commands forward to the bridge. */
export const BRIDGE_LOCAL_PORT = 19000;

/** The shell lines that make the bridge reachable from a workstation as the rclone remote `bridge`. */
export function bridgeRemoteSetup(cfg: FtpBridgeConfig): string[] {
  const secret = (key: string) =>
    `"$(kubectl -n ${cfg.namespace} get secret ${BRIDGE_SECRET} -o jsonpath='{.data.${key}}' | base64 -d)"`;
  return [
    `# the bridge's S3 API on localhost:${BRIDGE_LOCAL_PORT} (leave it running in the background while you read)`,
    `kubectl -n ${cfg.namespace} port-forward svc/${BRIDGE_NAME} ${BRIDGE_LOCAL_PORT}:${cfg.port} >/dev/null &`,
    "sleep 3",
    `export RCLONE_CONFIG_BRIDGE_TYPE=s3 RCLONE_CONFIG_BRIDGE_PROVIDER=Other RCLONE_CONFIG_BRIDGE_ENDPOINT=http://127.0.0.1:${BRIDGE_LOCAL_PORT}`,
    `export RCLONE_CONFIG_BRIDGE_REGION=${cfg.region} RCLONE_CONFIG_BRIDGE_FORCE_PATH_STYLE=true RCLONE_CONFIG_BRIDGE_NO_CHECK_BUCKET=true`,
    `export RCLONE_CONFIG_BRIDGE_ACCESS_KEY_ID=${secret("s3_access_key")}`,
    `export RCLONE_CONFIG_BRIDGE_SECRET_ACCESS_KEY=${secret("s3_secret_key")}`,
  ];
}

/** The plan section; "Not configured." without the ftpBridge section. */
export function ftpBridgePlan(cfg: FtpBridgeConfig | undefined, longhornUsesIt: boolean): PlanSection {
  const title = "FTP bridge (S3 API in front of FTP)";
  if (!cfg) return { title, rows: [], details: "Not configured.", restore: "" };
  const ftp = `ftp://${cfg.ftp.user}@${cfg.ftp.host}:${cfg.ftp.port}${cfg.ftp.path}`;
  const details = [
    `**What it is.** Deployment and Service \`${cfg.namespace}/${BRIDGE_NAME}\` (${cfg.replicas} replica${cfg.replicas === 1 ? "" : "s"}, image \`${cfg.image}\`):`,
    `an S3 API on \`http://${BRIDGE_NAME}.${cfg.namespace}.svc.cluster.local:${cfg.port}\` (bucket \`${cfg.bucket}\`, region \`${cfg.region}\`) that stores every object as a file on ${ftp}.`,
    longhornUsesIt
      ? "Longhorn's BackupTarget points at it (`longhorn.target: ftpBridge`), so Longhorn backs up to FTP-only storage."
      : "Nothing in this stack points at it yet (`longhorn.target` is not `ftpBridge`).",
    "",
    cfg.encryption
      ? [
          "**Its keys.** The bridge encrypts every object before it reaches the FTP server with a 32-byte key",
          "(`homelab-backup:ftpBridgeEncryptionKey`, else generated): `pulumi stack output ftpBridgeEncryptionKey --show-secrets`.",
          `The cluster keeps it in Secret \`${cfg.namespace}/${BRIDGE_SECRET}\` (key \`encryption_key\`), beside the S3 key pair the bridge accepts`,
          "(`s3_access_key`, `s3_secret_key`, generated) and the FTP login. The files on the FTP server are unreadable without the key and",
          "without the bridge: keep a copy of the key outside the homelab. If the cluster is lost, deploy the stack again with the same",
          "`ftpBridgeEncryptionKey` and the bridge reads the old files.",
        ].join(" ")
      : "**Not encrypted** (`ftpBridge.encryption: false`): the FTP provider can read every backup.",
  ].join("\n");
  const restore = [
    "Longhorn restores through the bridge by itself (Longhorn UI → Backup → Restore). To read the stored objects from a",
    "workstation with kubectl (pointed at the cluster), rclone and base64, go through the bridge, which decrypts:",
    "",
    "```sh",
    ...bridgeRemoteSetup(cfg),
    `rclone lsf -R "bridge:${cfg.bucket}/" | head`,
    `rclone copy "bridge:${cfg.bucket}/longhorn/" ./bridge-restore/longhorn/`,
    "kill %1   # stop the port-forward",
    "```",
  ].join("\n");
  return { title, rows: [], details, restore };
}
