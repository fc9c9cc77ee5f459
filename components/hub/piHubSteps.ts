/**
 * The Raspberry Pi hub, as data: which files it gets, the commands that run the provisioning
 * scripts over SSH, what each step's triggers are, and what travels on standard input. The
 * component (components/hub/piHub.ts) only turns these into resources.
 *
 * Three idempotent steps run in order, each a script from components/hub/ uploaded into the SSH user's
 * home directory: preflight.sh (checks, changes nothing), install-server.sh (server + systemd unit
 * + root-only credentials file), configure-bucket.sh (bucket, versioning, object lock, lifecycle,
 * one user and policy per writer). Non-secret settings go on the command line as environment
 * assignments (visible in a diff); secrets go on standard input only.
 */
import type { HubConfig } from "../config.js";
import { contentHash, readScript, shellQuote } from "../core/files.js";
import type { WriterName } from "../core/hubConnection.js";
import type { PrefixLifecycle } from "./retention.js";
import { fillTemplate } from "../core/systemd.js";
import { VERSIONS } from "../core/versions.js";

/** Where the scripts and the unit are uploaded, relative to the SSH user's home (SFTP and the remote shell both start there). */
export const STAGING_DIR = "homelab-backup";

/** The server's admin (root) user name. */
export const ADMIN_USER = "homelab-admin";

/** The scripts of the three steps, in order. */
export const STEP_SCRIPTS = {
  preflight: "preflight.sh",
  install: "install-server.sh",
  configure: "configure-bucket.sh",
} as const;
export type Step = keyof typeof STEP_SCRIPTS;

/** The S3 access key id of a writer on a pi hub. */
export function writerAccessKey(writer: WriterName): string {
  return `${writer}-backup`;
}

/** The MinIO policy name of a writer (configure-bucket.sh prefixes `homelab-backup-` to the writer name). */
export function writerPolicyName(writer: WriterName): string {
  return `homelab-backup-${writer}`;
}

/** The hub section resolved for a pi hub: every field the provisioning needs, defaults applied. */
export interface PiHubSettings {
  readonly server: "minio" | "rustfs";
  readonly version: string;
  readonly mcVersion: string;
  readonly host: string;
  readonly sshUser: string;
  readonly sshPort: number;
  readonly dataDir: string;
  readonly bucket: string;
  readonly region: string;
  readonly port: number;
  readonly consolePort: number;
  readonly tls: boolean;
  readonly objectLock?: { mode: "GOVERNANCE" | "COMPLIANCE"; days: number };
}

/**
 * Why this hub section cannot be provisioned as a pi hub (empty when it can). The stack schema
 * already checks most of it; this adds what the unit file and the scripts need: a data directory
 * that systemd can take unquoted (no spaces, `%` or quotes) and object lock only with MinIO.
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
  if (hub.objectLock && hub.server !== "minio") errors.push(`hub.objectLock needs server "minio", not "${hub.server}"`);
  if (hub.version?.toLowerCase() === "latest") errors.push('hub.version must be a pinned release, never "latest"');
  return errors;
}

/** The settings of a pi hub, or an error naming every problem. */
export function piHubSettings(hub: HubConfig): PiHubSettings {
  const errors = piHubErrors(hub);
  if (errors.length) throw new Error(`cannot provision the pi hub: ${errors.join("; ")}`);
  return {
    server: hub.server,
    version: hub.version ?? (hub.server === "rustfs" ? VERSIONS.rustfs : VERSIONS.minio),
    mcVersion: VERSIONS.minioClient,
    host: hub.host!,
    sshUser: hub.ssh!.user,
    sshPort: hub.ssh!.port ?? 22,
    dataDir: hub.dataDir!.replace(/(.)\/+$/, "$1"),
    bucket: hub.bucket,
    region: hub.region,
    port: hub.port,
    consolePort: hub.consolePort,
    tls: hub.tls,
    ...(hub.objectLock ? { objectLock: hub.objectLock } : {}),
  };
}

/** The server's systemd unit, rendered from components/hub/<server>.service. */
export function serverUnit(s: PiHubSettings): { name: string; content: string } {
  // ProtectHome would hide a data directory under /home or /root from the service.
  const underHome = /^\/(home|root|run\/user)(\/|$)/.test(s.dataDir);
  const common = {
    DATA_DIR: s.dataDir,
    PORT: String(s.port),
    CONSOLE_PORT: String(s.consolePort),
    PROTECT_HOME: underHome ? "no" : "yes",
  };
  if (s.server === "minio") {
    const content = fillTemplate(readScript("hub/minio.service"), {
      ...common,
      REGION: s.region,
      CERTS_ARGS: s.tls ? " --certs-dir /etc/minio/certs" : "",
    });
    return { name: "minio.service", content };
  }
  const content = fillTemplate(readScript("hub/rustfs.service"), {
    ...common,
    TLS_ENV: s.tls ? 'Environment="RUSTFS_TLS_PATH=/etc/rustfs/tls"\n' : "",
  });
  return { name: "rustfs.service", content };
}

/** A file the hub gets: `path` relative to the SSH user's home, as uploaded. */
export interface HubFile {
  readonly path: string;
  readonly content: string;
}

/**
 * Every file the component uploads to the hub (the same list it creates CopyToRemote resources
 * from), for the render's files/ directory: the three step scripts and the server's unit.
 * install-server.sh copies the unit to /etc/systemd/system/ and writes the credentials file
 * /etc/default/<server> from standard input (see `serverEnvFile`), so no secret is ever a file here.
 */
export function piHubFiles(hub: HubConfig): HubFile[] {
  const s = piHubSettings(hub);
  const unit = serverUnit(s);
  return [
    ...Object.values(STEP_SCRIPTS).map((script) => ({
      path: `${STAGING_DIR}/${script}`,
      content: readScript(`hub/${script}`),
    })),
    { path: `${STAGING_DIR}/${unit.name}`, content: unit.content },
  ];
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
  // configure-bucket.sh percent-encodes it byte by byte for MC_HOST_hub, which is exact for ASCII only.
  if (/[^\x20-\x7e]/.test(password)) return "hubAdminPassword must be printable ASCII";
  return undefined;
}

/** Content of /etc/default/<server>: the admin credentials, the only secret on the hub's disk (root-only 0600). */
export function serverEnvFile(server: "minio" | "rustfs", user: string, password: string): string {
  const err = adminPasswordError(password);
  if (err) throw new Error(err);
  const [u, p] =
    server === "minio" ? ["MINIO_ROOT_USER", "MINIO_ROOT_PASSWORD"] : ["RUSTFS_ACCESS_KEY", "RUSTFS_SECRET_KEY"];
  return `# Written by homelab-backup (install-server.sh); root-only.\n${u}='${user}'\n${p}='${password}'\n`;
}

/** `HUB_LIFECYCLE` for configure-bucket.sh: space-separated `prefix:expireDays:noncurrentDays` (`-` for no expiry). */
export function lifecycleArg(lifecycles: readonly PrefixLifecycle[]): string {
  return lifecycles
    .map((l) => {
      if (l.archive)
        throw new Error(`lifecycle of ${l.prefix}: storage-class transitions (hub.archive) exist only on AWS hubs`);
      if (!/^[A-Za-z0-9._/-]+$/.test(l.prefix))
        throw new Error(`lifecycle prefix "${l.prefix}" has characters the hub's rule list cannot carry`);
      return `${l.prefix}:${l.expireDays ?? "-"}:${l.noncurrentDays}`;
    })
    .join(" ");
}

/** The non-secret inputs of each step, as the environment its script reads. */
export function stepEnvironment(
  step: Step,
  s: PiHubSettings,
  lifecycles: readonly PrefixLifecycle[] = [],
): Record<string, string> {
  switch (step) {
    case "preflight":
      return { HUB_DATA_DIR: s.dataDir, HUB_SERVER: s.server };
    case "install":
      return {
        HUB_SERVER: s.server,
        HUB_VERSION: s.version,
        HUB_MC_VERSION: s.mcVersion,
        HUB_DATA_DIR: s.dataDir,
        HUB_PORT: String(s.port),
        HUB_TLS: String(s.tls),
      };
    case "configure":
      return {
        HUB_BUCKET: s.bucket,
        HUB_REGION: s.region,
        HUB_PORT: String(s.port),
        HUB_TLS: String(s.tls),
        HUB_ADMIN_USER: ADMIN_USER,
        HUB_OBJECT_LOCK: s.objectLock ? `${s.objectLock.mode} ${s.objectLock.days}` : "",
        HUB_LIFECYCLE: lifecycleArg(lifecycles),
      };
  }
}

/**
 * The remote command of a step: `env K='v' ... bash homelab-backup/<script>`, through `sudo -n`
 * unless the SSH user is root (the preflight runs unprivileged: it only reads). `-n` makes sudo
 * fail at once instead of waiting for a password nobody can type.
 */
export function stepCommand(step: Step, s: PiHubSettings, lifecycles: readonly PrefixLifecycle[] = []): string {
  const env = Object.entries(stepEnvironment(step, s, lifecycles)).map(([k, v]) => `${k}=${shellQuote(v)}`);
  const sudo = step !== "preflight" && s.sshUser !== "root" ? "sudo -n " : "";
  return `${sudo}env ${env.join(" ")} bash ${STAGING_DIR}/${STEP_SCRIPTS[step]}`;
}

/**
 * What re-runs a step: the content hash of its script (and of the unit for the install step) plus
 * exactly the stack values it reads. Secrets are not here; they travel on stdin, and a change of
 * stdin re-runs the step by itself.
 */
export function stepTriggers(
  step: Step,
  hub: HubConfig,
  lifecycles: readonly PrefixLifecycle[] = [],
  writerPolicies?: Partial<Record<WriterName, object>>,
): string[] {
  const s = piHubSettings(hub);
  const script = contentHash(readScript(`hub/${STEP_SCRIPTS[step]}`));
  const env = Object.entries(stepEnvironment(step, s, lifecycles)).map(([k, v]) => `${k}=${v}`);
  switch (step) {
    case "preflight":
      return [script, ...env];
    case "install":
      return [script, contentHash(serverUnit(s).content), ...env];
    case "configure": {
      const policies = Object.entries(writerPolicies ?? {})
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([w, p]) => `${w}=${contentHash(JSON.stringify(p))}`);
      return [script, ...env, ...policies];
    }
  }
}

/** One writer as configure-bucket.sh receives it. */
export interface WriterInput {
  readonly writer: WriterName;
  readonly secretKey: string;
  readonly policy: object;
}

const b64 = (v: string) => Buffer.from(v, "utf8").toString("base64");

/** Standard input of configure-bucket.sh: the admin password and each writer's key, secret and policy, base64 per field. */
export function configureStdin(adminPassword: string, writers: readonly WriterInput[]): string {
  const lines = [`admin ${b64(adminPassword)}`];
  for (const w of writers) {
    lines.push(
      ["writer", b64(w.writer), b64(writerAccessKey(w.writer)), b64(w.secretKey), b64(JSON.stringify(w.policy))].join(
        " ",
      ),
    );
  }
  return `${lines.join("\n")}\n`;
}
