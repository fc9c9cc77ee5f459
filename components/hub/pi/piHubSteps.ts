/**
 * The Raspberry Pi hub, as data: which files it gets, the commands that run the provisioning
 * scripts over SSH, what each step's triggers are, and what travels on standard input. The
 * component (components/hub/pi/piHub.ts) only turns these into resources.
 *
 * Idempotent steps run in order, each a script from components/hub/ uploaded to a staging directory.
 * They only install and start the server: the bucket and the writers' identities are configured
 * afterwards through the server's S3 and admin APIs, by the same S3Hub resources as an s3 hub
 * (components/hub/backupHub.ts). Debian (`hub.os: debian`): preflight.sh (checks, changes nothing),
 * install-server.sh (Silo or RustFS from its pinned release asset, sha256-checked, as a systemd unit,
 * with a root-only credentials file), install-node-exporter.sh (`hub.monitoring`). NixOS
 * (`hub.os: nixos`): the NixOS module (components/hub/pi/nixos.ts) installs the server, so the steps
 * are preflight.sh and nixos-credentials.sh (the credentials file the module reads), and every file
 * goes to the module's own directory. Non-secret settings go on the command line as environment
 * assignments (visible in a diff); secrets go on standard input only.
 */
import type { HubConfig } from "../../config.js";
import { contentHash, readScript, shellQuote } from "../../core/files.js";
import type { WriterName } from "../../core/hubConnection.js";
import { HUB_DEFAULTS } from "../schema.js";
import { fillTemplate } from "../../core/systemd.js";
import { NIXOS_MODULE_FILE, NIXOS_PATHS } from "./nixos.js";
import { assetsArg, serverRelease, type HubServer, type PinnedRelease } from "../releases.js";

/** Where the scripts and the unit are uploaded on a Debian hub, relative to the SSH user's home (SFTP and the remote shell both start there). */
export const STAGING_DIR = "homelab-backup";

/** The server's admin (root) user name. */
export const ADMIN_USER = "homelab-admin";

/** The script of each step. */
export const STEP_SCRIPTS = {
  preflight: "preflight.sh",
  install: "install-server.sh",
  monitoring: "install-node-exporter.sh",
  credentials: "nixos-credentials.sh",
} as const;
export type Step = keyof typeof STEP_SCRIPTS;

/** The steps of a hub, in order. */
export function hubSteps(s: Pick<PiHubSettings, "os" | "monitoring">): Step[] {
  return s.os === "nixos"
    ? ["preflight", "credentials"]
    : ["preflight", "install", ...(s.monitoring ? (["monitoring"] as const) : [])];
}

/** The S3 access key id of a writer on a pi hub (the name the mcli-based configure step gave its user, kept so those users are adopted). */
export function writerAccessKey(writer: WriterName): string {
  return `${writer}-backup`;
}

/** The canned policy of a writer on a pi hub (the name the mcli-based configure step gave it, kept so it is replaced in place and stays attached). */
export function writerPolicyName(writer: WriterName): string {
  return `homelab-backup-${writer}`;
}

/** The hub section resolved for a pi hub: every field the provisioning needs, defaults applied. */
export interface PiHubSettings {
  readonly server: HubServer;
  readonly os: "debian" | "nixos";
  /** The server release installed (pinned, or the stack's version with its sha256). */
  readonly release: PinnedRelease;
  readonly host: string;
  readonly sshUser: string;
  readonly sshPort: number;
  readonly dataDir: string;
  readonly bucket: string;
  readonly region: string;
  readonly port: number;
  readonly consolePort: number;
  readonly tls: boolean;
  /** `hub.allowPlainHttp`: the stack accepts plain HTTP when `tls` is false. */
  readonly allowPlainHttp: boolean;
  readonly monitoring: boolean;
  readonly textfileCollectorDir: string;
  readonly objectLock?: { mode: "GOVERNANCE" | "COMPLIANCE"; days: number };
}

/**
 * Why this hub section cannot be provisioned as a pi hub (empty when it can). The stack schema
 * already checks most of it; this adds what the unit file and the scripts need: a data directory
 * that systemd can take unquoted (no spaces, `%` or quotes), and a server this project installs.
 */
export function piHubErrors(hub: HubConfig): string[] {
  const errors: string[] = [];
  if (hub.kind !== "pi") errors.push(`hub.kind is "${hub.kind}", not "pi"`);
  if (!hub.host) errors.push("hub.host is required for a pi hub");
  if (!hub.ssh?.user) errors.push("hub.ssh.user is required for a pi hub");
  if (!hub.dataDir) errors.push("hub.dataDir is required for a pi hub (a directory on an already mounted disk)");
  else if (!/^\/[A-Za-z0-9._/-]+$/.test(hub.dataDir) || hub.dataDir.split("/").includes("..")) {
    errors.push(
      `hub.dataDir "${hub.dataDir}" must be an absolute path of letters, digits, '.', '_', '-' and '/' (it goes unquoted into the systemd unit)`,
    );
  } else if (hub.dataDir.replace(/\/+$/, "") === "") errors.push("hub.dataDir must not be the root filesystem");
  if (hub.server !== "silo" && hub.server !== "rustfs")
    errors.push(`hub.server "${hub.server}" cannot be installed (silo or rustfs)`);
  if (hub.objectLock && hub.server !== "silo") errors.push(`hub.objectLock needs server "silo", not "${hub.server}"`);
  if (hub.version?.toLowerCase() === "latest") errors.push('hub.version must be a pinned release, never "latest"');
  return errors;
}

/** The settings of a pi hub, or an error naming every problem. */
export function piHubSettings(hub: HubConfig): PiHubSettings {
  const errors = piHubErrors(hub);
  if (errors.length) throw new Error(`cannot provision the pi hub: ${errors.join("; ")}`);
  const server = hub.server as HubServer;
  return {
    server,
    os: hub.os,
    release: serverRelease(server, hub.version, hub.sha256),
    host: hub.host!,
    sshUser: hub.ssh!.user,
    sshPort: hub.ssh!.port ?? HUB_DEFAULTS.ssh.port,
    dataDir: hub.dataDir!.replace(/(.)\/+$/, "$1"),
    bucket: hub.bucket,
    region: hub.region,
    port: hub.port,
    consolePort: hub.consolePort,
    tls: hub.tls,
    allowPlainHttp: hub.allowPlainHttp ?? HUB_DEFAULTS.allowPlainHttp,
    monitoring: hub.monitoring,
    textfileCollectorDir: hub.textfileCollectorDir,
    ...(hub.objectLock ? { objectLock: hub.objectLock } : {}),
  };
}

/** Where a hub's files are uploaded: the SSH user's home on Debian, the module's own directory on NixOS. */
export function stagingDir(s: Pick<PiHubSettings, "os">): string {
  return s.os === "nixos" ? NIXOS_PATHS.staging : STAGING_DIR;
}

/** The server's systemd unit (Debian hubs), rendered from components/hub/<server>.service. */
export function serverUnit(s: PiHubSettings): { name: string; content: string } {
  // ProtectHome would hide a data directory under /home or /root from the service.
  const underHome = /^\/(home|root|run\/user)(\/|$)/.test(s.dataDir);
  const common = {
    DATA_DIR: s.dataDir,
    PORT: String(s.port),
    CONSOLE_PORT: String(s.consolePort),
    PROTECT_HOME: underHome ? "no" : "yes",
  };
  if (s.server === "silo") {
    const content = fillTemplate(readScript("hub/pi/silo.service"), {
      ...common,
      REGION: s.region,
      CERTS_ARGS: s.tls ? " --certs-dir /etc/silo/certs" : "",
      // Metrics without a bearer token, so the cluster's Prometheus can scrape them (they hold no data).
      METRICS_ENV: s.monitoring ? 'Environment="MINIO_PROMETHEUS_AUTH_TYPE=public"\n' : "",
    });
    return { name: "silo.service", content };
  }
  const content = fillTemplate(readScript("hub/pi/rustfs.service"), {
    ...common,
    TLS_ENV: s.tls ? 'Environment="RUSTFS_TLS_PATH=/etc/rustfs/tls"\n' : "",
  });
  return { name: "rustfs.service", content };
}

/** A file the hub gets: `path` as uploaded (relative to the SSH user's home on Debian, absolute on NixOS). */
export interface HubFile {
  readonly path: string;
  readonly content: string;
}

/**
 * Every file the component uploads to the hub (the same list it creates CopyToRemote resources
 * from, and the render writes to files/): the scripts of the hub's steps, plus the server's unit on
 * Debian (install-server.sh copies it to /etc/systemd/system/) or the NixOS module on NixOS (for the
 * user to import; nothing installs it). Credentials travel on standard input (see `serverEnvFile`),
 * so no secret is ever a file here.
 */
export function piHubFiles(s: PiHubSettings, nixosModule?: string): HubFile[] {
  const dir = stagingDir(s);
  const scripts = hubSteps(s).map((step) => ({
    path: `${dir}/${STEP_SCRIPTS[step]}`,
    content: readScript(`hub/pi/${STEP_SCRIPTS[step]}`),
  }));
  if (s.os === "nixos") {
    if (nixosModule === undefined) throw new Error("a NixOS hub needs its rendered module");
    return [...scripts, { path: `${dir}/${NIXOS_MODULE_FILE}`, content: nixosModule }];
  }
  const unit = serverUnit(s);
  return [...scripts, { path: `${dir}/${unit.name}`, content: unit.content }];
}

/**
 * Why a value cannot be the admin password (undefined when it can). The EnvironmentFile holds it in
 * single quotes, where systemd takes everything literally up to the next quote; MinIO needs 8+ characters.
 */
export function adminPasswordError(password: string): string | undefined {
  if (password.length < 8)
    return "hubAdminPassword must be at least 8 characters (MinIO refuses shorter root passwords)";
  if (/['\n\r\0]/.test(password))
    return "hubAdminPassword must not contain a single quote, a newline or a NUL character";
  // It signs the admin API's requests as a SigV4 secret key and sits in the EnvironmentFile: printable ASCII is safe in both.
  if (/[^\x20-\x7e]/.test(password)) return "hubAdminPassword must be printable ASCII";
  return undefined;
}

/**
 * The server's EnvironmentFile (/etc/default/<server> on Debian, NIXOS_PATHS.envFile on NixOS): the
 * admin credentials, the only secret on the hub's disk (root-only 0600). Silo keeps MinIO's names.
 */
export function serverEnvFile(server: HubServer, user: string, password: string): string {
  const err = adminPasswordError(password);
  if (err) throw new Error(err);
  const [u, p] =
    server === "silo" ? ["MINIO_ROOT_USER", "MINIO_ROOT_PASSWORD"] : ["RUSTFS_ACCESS_KEY", "RUSTFS_SECRET_KEY"];
  return `# Written by homelab-backup; root-only.\n${u}='${user}'\n${p}='${password}'\n`;
}

/** The non-secret inputs of each step, as the environment its script reads. */
export function stepEnvironment(step: Step, s: PiHubSettings): Record<string, string> {
  switch (step) {
    case "preflight":
      return { HUB_DATA_DIR: s.dataDir, HUB_SERVER: s.server, HUB_OS: s.os };
    case "install":
      return {
        HUB_SERVER: s.server,
        HUB_VERSION: s.release.version,
        HUB_SERVER_ASSETS: assetsArg(s.release),
        HUB_DATA_DIR: s.dataDir,
        HUB_PORT: String(s.port),
        HUB_TLS: String(s.tls),
      };
    case "monitoring":
      return { HUB_TEXTFILE_DIR: s.textfileCollectorDir };
    case "credentials":
      return {
        HUB_SERVER: s.server,
        HUB_PORT: String(s.port),
        HUB_TLS: String(s.tls),
        HUB_ENV_FILE: NIXOS_PATHS.envFile,
        HUB_MODULE_FILE: NIXOS_MODULE_FILE,
      };
  }
}

/**
 * The remote command of a step: `env K='v' ... bash <staging>/<script>`, through `sudo -n` unless
 * the SSH user is root (the preflight runs unprivileged: it only reads). `-n` makes sudo fail at
 * once instead of waiting for a password nobody can type.
 */
export function stepCommand(step: Step, s: PiHubSettings): string {
  const env = Object.entries(stepEnvironment(step, s)).map(([k, v]) => `${k}=${shellQuote(v)}`);
  const sudo = step !== "preflight" && s.sshUser !== "root" ? "sudo -n " : "";
  return `${sudo}env ${env.join(" ")} bash ${stagingDir(s)}/${STEP_SCRIPTS[step]}`;
}

/**
 * The command that creates the staging directory. Debian: in the SSH user's home, owner-only (the
 * scripts run as root through sudo, so nobody else may change them). NixOS: inside the module's own
 * directory, owned by the SSH user, created as root (the module declares the same with tmpfiles).
 */
export function stagingCommand(s: PiHubSettings): string {
  if (s.os !== "nixos") return `mkdir -p ${STAGING_DIR} && chmod 0700 ${STAGING_DIR}`;
  const sudo = s.sshUser !== "root" ? "sudo -n " : "";
  const base = NIXOS_PATHS.staging.slice(0, NIXOS_PATHS.staging.lastIndexOf("/"));
  return `${sudo}install -d -m 0711 -o root -g root ${base} && ${sudo}install -d -m 0700 -o ${s.sshUser} ${NIXOS_PATHS.staging}`;
}

/**
 * What re-runs a step: the content hash of its script (and of the unit for the install step) plus
 * exactly the stack values it reads. Secrets are not here; they travel on stdin, and a change of
 * stdin re-runs the step by itself.
 */
export function stepTriggers(step: Step, hub: HubConfig): string[] {
  const s = piHubSettings(hub);
  const script = contentHash(readScript(`hub/pi/${STEP_SCRIPTS[step]}`));
  const env = Object.entries(stepEnvironment(step, s)).map(([k, v]) => `${k}=${v}`);
  switch (step) {
    case "install":
      return [script, contentHash(serverUnit(s).content), ...env];
    default:
      return [script, ...env];
  }
}
