/**
 * The encrypted off-site copy (rclone crypt over FTP(S), seed 000) and the bucket mirrors (rclone
 * S3→S3, seed 002): every value their scripts, units and plan sections need, computed from the stack
 * file alone. The components only put these values into resources.
 */
import { offsiteOf, PREFIXES, type HubConfig, type MirrorConfig, type OffsiteConfig, type StackConfig } from "../config.js";
import { describeCron } from "../core/cron.js";
import { shellQuote } from "../core/files.js";
import { hubConnection, s3Url, type HubConnection } from "../core/hubConnection.js";
import { metrics, names } from "../core/names.js";
import type { PlanSection } from "../core/planTypes.js";
import { fillTemplate, renderTimerUnit, systemdEnvironmentLine, toSystemdCalendar } from "../core/systemd.js";
import { VERSIONS } from "../core/versions.js";

/** Where the off-site copy lives on the hub. */
export const OFFSITE_HUB_PATHS = {
  /** Scripts (offsite-sync.sh, write-config.sh), root-owned. */
  libDir: "/usr/local/lib/homelab-backup/offsite",
  /** The rclone config, root-only (0700 directory, 0600 file). */
  configDir: "/etc/homelab-backup/offsite",
  rcloneConfig: "/etc/homelab-backup/offsite/rclone.conf",
  unitDir: "/etc/systemd/system",
  /** The pinned rclone (VERSIONS.rclone), installed by install-rclone.sh. */
  rclone: "/usr/local/bin/rclone",
} as const;

/** Scripts the off-site copy installs on the hub or mounts into its job. */
export const OFFSITE_SCRIPTS = ["offsite-sync.sh", "write-config.sh"] as const;
/** The scripts of the in-cluster job. */
export const OFFSITE_JOB_SCRIPTS = ["offsite-job.sh", "offsite-sync.sh", "write-config.sh"] as const;

/** rclone's S3 `provider` for the hub's server (quirks such as MinIO's differ per provider). */
export function rcloneS3Provider(server: HubConnection["server"]): string {
  return server === "aws" ? "AWS" : server === "minio" ? "Minio" : "Other";
}

/** The prefixes the copy syncs, space-separated for the script; empty means the whole bucket. */
export function offsitePrefixList(config: OffsiteConfig): string {
  return (config.prefixes ?? []).join(" ");
}

/** The FTP and encryption settings: all that a restore needs besides the key and the password. */
function offsiteFtpEnv(config: OffsiteConfig): Record<string, string> {
  return {
    OFFSITE_FTP_HOST: config.ftp.host,
    OFFSITE_FTP_PORT: String(config.ftp.port),
    OFFSITE_FTP_USER: config.ftp.user,
    OFFSITE_FTP_PATH: config.ftp.path,
    OFFSITE_FTP_EXPLICIT_TLS: String(config.ftp.explicitTls),
    OFFSITE_ENCRYPTION: String(config.encryption.enabled),
    OFFSITE_FILENAME_ENCRYPTION: config.encryption.filenameEncryption,
  };
}

/** The non-secret settings of write-config.sh (the same on the hub and in the cluster). */
export function offsiteConfigEnv(config: OffsiteConfig, hub: HubConnection): Record<string, string> {
  return {
    ...offsiteFtpEnv(config),
    OFFSITE_S3_ENDPOINT: hub.endpoint,
    OFFSITE_S3_REGION: hub.region,
    OFFSITE_S3_PROVIDER: rcloneS3Provider(hub.server),
    OFFSITE_S3_PATH_STYLE: String(hub.pathStyle),
  };
}

/** The settings of offsite-sync.sh. `textfile` only on the hub (in the cluster the Job status is the record). */
export function offsiteSyncEnv(config: OffsiteConfig, hub: HubConnection, where: { rcloneConfig?: string; textfile?: string; rclone: string }): Record<string, string> {
  return {
    ...(where.rcloneConfig ? { OFFSITE_RCLONE_CONFIG: where.rcloneConfig } : {}),
    OFFSITE_BUCKET: hub.bucket,
    OFFSITE_PREFIXES: offsitePrefixList(config),
    OFFSITE_ENCRYPTION: String(config.encryption.enabled),
    ...(where.textfile ? { OFFSITE_TEXTFILE: where.textfile } : {}),
    RCLONE: where.rclone,
  };
}

/**
 * What write-config.sh reads on stdin, in its order: FTP password, encryption key (empty when
 * encryption is off), hub S3 access key id, hub S3 secret. Rejects values with line breaks, which
 * would shift every later secret by one line.
 */
export function offsiteSecretsStdin(ftpPassword: string, encryptionKey: string | undefined, accessKeyId: string, secretAccessKey: string): string {
  const lines = [ftpPassword, encryptionKey ?? "", accessKeyId, secretAccessKey];
  if (lines.some((l) => /[\r\n]/.test(l))) throw new Error("an off-site secret contains a line break");
  return `${lines.join("\n")}\n`;
}

/** The textfile the hub's copy writes for node-exporter. */
export function offsiteTextfilePath(hubConfig: HubConfig): string {
  return `${hubConfig.textfileCollectorDir.replace(/\/$/, "")}/${names.offsiteTextfile}`;
}

export interface OffsiteUnits {
  readonly serviceName: string;
  readonly timerName: string;
  readonly service: string;
  readonly timer: string;
  /** The timer's OnCalendar= expressions (UTC). */
  readonly onCalendar: string[];
}

/**
 * The hub's systemd service and timer from the templates in scripts/offsite. `libDir` and `rclone`
 * default to the hub's paths (a test renders them against a temp dir for systemd-analyze verify).
 */
export function renderOffsiteUnits(
  templates: { service: string; timer: string },
  config: OffsiteConfig,
  hub: HubConnection,
  hubConfig: HubConfig,
  paths: { libDir?: string; rclone?: string; rcloneConfig?: string } = {},
): OffsiteUnits {
  const libDir = paths.libDir ?? OFFSITE_HUB_PATHS.libDir;
  const env = offsiteSyncEnv(config, hub, {
    rcloneConfig: paths.rcloneConfig ?? OFFSITE_HUB_PATHS.rcloneConfig,
    textfile: offsiteTextfilePath(hubConfig),
    rclone: paths.rclone ?? OFFSITE_HUB_PATHS.rclone,
  });
  const service = fillTemplate(templates.service, {
    LIB_DIR: libDir,
    ENVIRONMENT: Object.entries(env).map(([k, v]) => systemdEnvironmentLine(k, v)).join("\n"),
    TEXTFILE_DIR: hubConfig.textfileCollectorDir,
  });
  const timer = renderTimerUnit(templates.timer, config.schedule, { CRON: config.schedule, UNIT: names.offsiteUnit });
  return { serviceName: `${names.offsiteUnit}.service`, timerName: `${names.offsiteUnit}.timer`, service, timer, onCalendar: toSystemdCalendar(config.schedule) };
}

/** `cmd` run as root on the hub: directly when the SSH user is root, else through non-interactive sudo. */
export function asRoot(sshUser: string | undefined, cmd: string): string {
  return sshUser === "root" ? `sh -c ${shellQuote(cmd)}` : `sudo -n sh -c ${shellQuote(cmd)}`;
}

/** `KEY='value' ...` for a shell command line (non-secret values only). */
export function envAssignments(env: Record<string, string>): string {
  return Object.entries(env)
    .map(([k, v]) => `${k}=${shellQuote(v)}`)
    .join(" ");
}

/**
 * The command that downloads and decrypts the whole off-site copy into ./offsite-restore with only
 * the encryption key and the FTP login (components/offsite/restore-offsite.sh, run from a checkout of
 * this repository with rclone installed). It names the secrets, it never contains them.
 */
export function offsiteRestoreCommand(config: OffsiteConfig): string {
  const env = offsiteFtpEnv(config);
  const key = config.encryption.enabled ? `OFFSITE_ENCRYPTION_KEY="$(pulumi stack output offsiteEncryptionKey --show-secrets)" ` : "";
  return `${envAssignments(env)} ${key}OFFSITE_FTP_PASSWORD="$(pulumi config get homelab-backup:offsiteFtpPassword)" sh components/offsite/restore-offsite.sh ./offsite-restore`;
}

function ftpUrl(config: OffsiteConfig): string {
  const path = config.ftp.path.startsWith("/") ? config.ftp.path : `/${config.ftp.path}`;
  return `${config.ftp.explicitTls ? "ftpes" : "ftp"}://${config.ftp.user}@${config.ftp.host}:${config.ftp.port}${path}`;
}

/** The off-site section of plan.md. */
export function offsitePlan(stack: StackConfig): PlanSection {
  const config = offsiteOf(stack);
  if (!config) return { title: "Off-site encrypted copy", rows: [], details: "Not configured.", restore: "" };
  const hub = hubConnection(stack.hub);
  const prefixes = config.prefixes ?? Object.values(PREFIXES);
  const enc = config.encryption.enabled ? `rclone crypt (file names: ${config.encryption.filenameEncryption})` : "NOT encrypted (encryption.enabled: false)";
  const runner =
    config.runOn === "hub"
      ? `systemd timer \`${names.offsiteUnit}.timer\` on the hub (${toSystemdCalendar(config.schedule).map((c) => `OnCalendar=${c}`).join(", ")}, Persistent=true)`
      : `CronJob ${config.namespace}/${names.offsiteCronJob}`;
  const rows = [
    {
      what: `hub prefixes ${prefixes.map((p) => `\`${p}\``).join(", ")}`,
      how: `rclone ${VERSIONS.rclone} sync, compared by size (FTP keeps no mtime), ${enc}, over ${config.ftp.explicitTls ? "FTPS (explicit TLS)" : "plain FTP"}; ${runner}`,
      when: describeCron(config.schedule),
      retention: "a mirror of the hub: what the hub's lifecycle removes disappears off-site at the next run",
      where: ftpUrl(config),
    },
  ];
  const record =
    config.runOn === "hub"
      ? `Each run writes \`${offsiteTextfilePath(stack.hub)}\` for node-exporter: \`${metrics.offsiteLastSuccess}\`, \`${metrics.offsiteLastRun}\`, \`${metrics.offsiteLastRunSuccess}\` (0 on a failed run, the last success kept), \`${metrics.offsiteBytes}\`, \`${metrics.offsiteFiles}\`.`
      : `Each run is a Job of CronJob \`${config.namespace}/${names.offsiteCronJob}\`; its status is the record (kube-state-metrics).`;
  const keyText = config.encryption.enabled
    ? [
        "**The encryption key** is the only way to read the copy. It is a Pulumi secret: `pulumi stack output offsiteEncryptionKey --show-secrets`",
        "(set by `homelab-backup:offsiteEncryptionKey`, else generated). Keep a copy outside the homelab (password manager, paper): if the",
        "homelab and its Pulumi state are lost together, the off-site copy is unreadable without it.",
        "The copy holds a key-check file: a run with a different key stops instead of uploading everything a second time.",
      ].join(" ")
    : "The copy is not encrypted: the FTP provider can read every backup.";
  return {
    title: "Off-site encrypted copy",
    rows,
    details: `${keyText}\n\n${record} Source: ${s3Url(hub, "")} read with the offsite reader's credentials.`,
    restore: [
      "Needs only the encryption key and the FTP login, from any machine with rclone and a checkout of this repository:",
      "",
      "```sh",
      offsiteRestoreCommand(config),
      "```",
      "",
      "`restore-offsite.sh --list` lists the copy; a second argument restores one path only (e.g. `postgres-backups/wiki`).",
      "A wrong key fails before anything is downloaded. Then copy the restored files back to the hub, e.g.",
      `\`rclone copy ./offsite-restore hub:${hub.bucket}/\`.`,
    ].join("\n"),
  };
}

/** Where a mirror lands on the hub: `buckets/<name>/`. */
export function mirrorPrefix(mirror: MirrorConfig): string {
  return `${PREFIXES.buckets}${mirror.name}/`;
}

/** The non-secret settings of scripts/mirror/mirror.sh. */
export function mirrorEnv(mirror: MirrorConfig, hub: HubConnection): Record<string, string> {
  return {
    MIRROR_SOURCE_ENDPOINT: mirror.source.endpoint,
    MIRROR_SOURCE_BUCKET: mirror.source.bucket,
    MIRROR_SOURCE_REGION: mirror.source.region ?? "us-east-1",
    MIRROR_HUB_ENDPOINT: hub.endpoint,
    MIRROR_HUB_BUCKET: hub.bucket,
    MIRROR_HUB_REGION: hub.region,
    MIRROR_HUB_PROVIDER: rcloneS3Provider(hub.server),
    MIRROR_HUB_PATH_STYLE: String(hub.pathStyle),
    MIRROR_HUB_PREFIX: mirrorPrefix(mirror),
  };
}

/** The bucket-mirror section of plan.md. */
export function mirrorsPlan(stack: StackConfig): PlanSection {
  const mirrors = stack.buckets?.mirrors ?? [];
  const hub = hubConnection(stack.hub);
  return {
    title: "Object-store buckets",
    rows: mirrors.map((m) => ({
      what: `bucket \`${m.source.bucket}\` at ${m.source.endpoint}`,
      how: `rclone sync S3→S3, then \`rclone check --one-way\` and an object-count comparison (the run fails on any mismatch); CronJob ${m.source.credentialsSecret.namespace}/${names.mirrorCronJob(m.name)}, source credentials from Secret ${m.source.credentialsSecret.namespace}/${m.source.credentialsSecret.name}`,
      when: describeCron(m.schedule),
      retention: "a mirror: deletions at the source are mirrored at the next run; older versions per the hub's lifecycle",
      where: s3Url(hub, mirrorPrefix(m)),
    })),
    details: mirrors.length === 0 ? "Not configured." : "The source Secret must have the keys `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY`, as Rook's ObjectBucketClaim Secrets do.",
    restore: mirrors
      .map((m) =>
        [
          `**${m.name}**: sync the mirror back into a (new) source bucket with credentials that can write it:`,
          "",
          "```sh",
          `rclone sync hub:${hub.bucket}/${mirrorPrefix(m)} src:${m.source.bucket}`,
          "```",
        ].join("\n"),
      )
      .join("\n\n"),
  };
}
