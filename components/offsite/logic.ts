/**
 * The encrypted off-site copy (rclone crypt over FTP(S)) and the bucket mirrors (rclone
 * S3→S3): every value their scripts, units and plan sections need, computed from the stack
 * file alone. The components only put these values into resources.
 */
import { type HubConfig, type OffsiteConfig } from "../config.js";
import { TOOLS_MOUNT } from "../core/cronJob.js";
import { RCLONE_REMOTES_SCRIPT, shellQuote } from "../core/files.js";
import { type HubConnection } from "../core/hubConnection.js";
import { names } from "../core/names.js";
import { fillTemplate, renderTimerUnit, systemdEnvironmentLine, toSystemdCalendar } from "../core/systemd.js";
import { rcloneS3Provider } from "../core/rclone.js";
import { cronJobWatch, type CronJobWatch } from "../core/watch.js";

/** Where the off-site copy lives on the hub. */
export const OFFSITE_HUB_PATHS = {
  /** The timer's script (offsite-sync.sh), root-owned. */
  libDir: "/usr/local/lib/homelab-backup/offsite",
  /** The rclone config, root-only (0700 directory, 0600 file). */
  configDir: "/etc/homelab-backup/offsite",
  rcloneConfig: "/etc/homelab-backup/offsite/rclone.conf",
  unitDir: "/etc/systemd/system",
  /** The pinned rclone (VERSIONS.rclone), installed by install-rclone.sh. */
  rclone: "/usr/local/bin/rclone",
} as const;

/**
 * activeDeadlineSeconds of the in-cluster copy: the first copy of a full bucket over FTP is long; a
 * killed run resumes where it stopped (sync is incremental), and Forbid keeps runs from overlapping.
 */
export const OFFSITE_JOB_ACTIVE_DEADLINE_SECONDS = 23 * 3600;

/** What watches the in-cluster copy's CronJob (built by OffsiteCronJob, read by the alert rules). */
export function offsiteJobWatch(config: Pick<OffsiteConfig, "namespace" | "schedule">): CronJobWatch {
  return cronJobWatch(config.namespace, names.offsiteCronJob, config.schedule, OFFSITE_JOB_ACTIVE_DEADLINE_SECONDS);
}

/** Scripts a Debian hub installs for its timer (the service runs offsite-sync.sh, which reads the config). */
export const OFFSITE_SCRIPTS = ["offsite-sync.sh"] as const;
/** The script that writes the off-site copy's rclone config, as a path under components/. */
export const OFFSITE_WRITE_CONFIG = "offsite/write-config.sh";
/**
 * What writes the rclone config, as paths under components/: write-config.sh and the remotes it sources
 * from ../core/. On the hub, staged in this layout and run from there at `pulumi up`, never installed.
 */
export const OFFSITE_CONFIG_SCRIPTS = [OFFSITE_WRITE_CONFIG, RCLONE_REMOTES_SCRIPT] as const;
/** The scripts of the in-cluster job, as paths under components/ (its scripts volume keeps that layout). */
export const OFFSITE_JOB_SCRIPTS = [
  "offsite/offsite-job.sh",
  "offsite/offsite-sync.sh",
  ...OFFSITE_CONFIG_SCRIPTS,
] as const;

/** The prefixes the copy syncs, space-separated for the script; empty means the whole bucket. */
export function offsitePrefixList(config: OffsiteConfig): string {
  return (config.prefixes ?? []).join(" ");
}

/**
 * The FTP and encryption settings: all that a restore needs besides the key and the password, and what
 * rclone_offsite_remotes (components/core/rclone-remotes.sh) reads besides them.
 */
export function offsiteFtpEnv(config: OffsiteConfig): Record<string, string> {
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
export function offsiteSyncEnv(
  config: OffsiteConfig,
  hub: HubConnection,
  where: { rcloneConfig?: string; textfile?: string; rclone: string },
): Record<string, string> {
  return {
    ...(where.rcloneConfig ? { OFFSITE_RCLONE_CONFIG: where.rcloneConfig } : {}),
    OFFSITE_BUCKET: hub.bucket,
    OFFSITE_PREFIXES: offsitePrefixList(config),
    OFFSITE_ENCRYPTION: String(config.encryption.enabled),
    ...(where.textfile ? { OFFSITE_TEXTFILE: where.textfile } : {}),
    RCLONE: where.rclone,
  };
}

/** Where the in-cluster job finds rclone: copied from the pinned rclone image by the init container (core/cronJob.ts). */
const OFFSITE_JOB_RCLONE = `${TOOLS_MOUNT.mountPath}/rclone`;

/** The in-cluster job's plain environment: offsite-job.sh runs write-config.sh, then offsite-sync.sh, with it. */
export function offsiteJobEnv(config: OffsiteConfig, hub: HubConnection): Record<string, string> {
  return {
    ...offsiteConfigEnv(config, hub),
    ...offsiteSyncEnv(config, hub, { rclone: OFFSITE_JOB_RCLONE }),
    TMPDIR: "/tmp",
    HOME: "/tmp",
  };
}

/** The in-cluster job's secret environment, kept in its Secret: what write-config.sh reads besides the plain settings. */
export function offsiteJobSecretKeys(config: Pick<OffsiteConfig, "encryption">): string[] {
  return [
    "OFFSITE_FTP_PASSWORD",
    "OFFSITE_S3_ACCESS_KEY_ID",
    "OFFSITE_S3_SECRET_ACCESS_KEY",
    ...(config.encryption.enabled ? ["OFFSITE_ENCRYPTION_KEY"] : []),
  ];
}

/**
 * What write-config.sh reads on stdin, in its order: FTP password, encryption key (empty when
 * encryption is off), hub S3 access key id, hub S3 secret. Rejects values with line breaks, which
 * would shift every later secret by one line.
 */
export function offsiteSecretsStdin(
  ftpPassword: string,
  encryptionKey: string | undefined,
  accessKeyId: string,
  secretAccessKey: string,
): string {
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
 * The hub's systemd service and timer from the templates in components/offsite. `libDir` and `rclone`
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
    ENVIRONMENT: Object.entries(env)
      .map(([k, v]) => systemdEnvironmentLine(k, v))
      .join("\n"),
    TEXTFILE_DIR: hubConfig.textfileCollectorDir,
  });
  const timer = renderTimerUnit(templates.timer, config.schedule, { CRON: config.schedule, UNIT: names.offsiteUnit });
  return {
    serviceName: `${names.offsiteUnit}.service`,
    timerName: `${names.offsiteUnit}.timer`,
    service,
    timer,
    onCalendar: toSystemdCalendar(config.schedule),
  };
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
  const key = config.encryption.enabled
    ? `OFFSITE_ENCRYPTION_KEY="$(pulumi stack output offsiteEncryptionKey --show-secrets)" `
    : "";
  return `${envAssignments(env)} ${key}OFFSITE_FTP_PASSWORD="$(pulumi config get homelab-backup:offsiteFtpPassword)" sh components/offsite/restore-offsite.sh ./offsite-restore`;
}
