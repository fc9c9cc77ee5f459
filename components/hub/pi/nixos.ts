/**
 * A NixOS hub (`hub.os: nixos`), as data: the NixOS module the render writes to files/ (from the
 * template components/hub/pi/hub.nix), and where `pulumi up` may write on such a hub. On NixOS,
 * /etc/systemd, /usr/local and /etc/nixos belong to the system configuration: the module declares
 * the server, node exporter and the off-site timer, and over SSH the program writes only inside the
 * module's own directory (`NIXOS_STATE_DIR`): the server's credentials file and the off-site copy's
 * rclone config, both root-only.
 *
 * The module uses the upstream NixOS modules `services.minio` (with the Silo package: Silo keeps
 * MinIO's CLI, variables and on-disk format), `services.rustfs` and `services.prometheus.exporters.node`
 * (nixpkgs nixos/modules/services/web-servers/{minio,rustfs}.nix, .../monitoring/prometheus/exporters).
 */
import type { HubConfig, OffsiteConfig } from "../../config.js";
import { readScript } from "../../core/files.js";
import type { HubConnection } from "../../core/hubConnection.js";
import { fillTemplate, toSystemdCalendar } from "../../core/systemd.js";
import { offsiteSyncEnv, offsiteTextfilePath } from "../../offsite/logic.js";
import { serverRelease, type HubServer, type PinnedRelease } from "../releases.js";

/** The module's own directory on the hub: everything `pulumi up` writes on a NixOS hub is under it. */
export const NIXOS_STATE_DIR = "/var/lib/homelab-backup";

/** Paths under the module's directory. */
/** The arrivals check as a NixOS hub's module runs it (components/hub/pi/hub.nix). */
export interface NixosArrivals {
  /** The content of hub-arrivals.sh, the same script a Debian hub runs. */
  readonly script: string;
  /** The bucket's directory (read-only to the service). */
  readonly dir: string;
  /** The EnvironmentFile `pulumi up` writes (root-only, in the module's own directory). */
  readonly envFile: string;
  /** OnCalendar= of the timer. */
  readonly onCalendar: string;
}

export const NIXOS_PATHS = {
  /** The server's EnvironmentFile (admin credentials), root-only 0600, outside the Nix store. */
  envFile: `${NIXOS_STATE_DIR}/server.env`,
  /** Where the SSH user uploads the scripts `pulumi up` runs (owned by that user, 0700). */
  staging: `${NIXOS_STATE_DIR}/staging`,
  /** The off-site copy's rclone config (root-only). */
  offsiteDir: `${NIXOS_STATE_DIR}/offsite`,
  rcloneConfig: `${NIXOS_STATE_DIR}/offsite/rclone.conf`,
  /** The arrivals check's EnvironmentFile (settings and notify credentials), root-only 0600. */
  arrivalsEnv: `${NIXOS_STATE_DIR}/arrivals.env`,
  /** Tools the module installs into the system profile. */
  rclone: "/run/current-system/sw/bin/rclone",
} as const;

/** Paths a NixOS hub's remote commands must never write (the system configuration's). */
export const NIXOS_FORBIDDEN_PATHS = ["/etc/systemd", "/usr/local", "/etc/nixos"] as const;

/** The file name of the rendered module under files/. */
export const NIXOS_MODULE_FILE = "homelab-backup-hub.nix";

/** A Nix double-quoted string literal holding exactly `value` (`\`, `"` and `${` escaped). */
export function nixString(value: string): string {
  return `"${value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\$\{/g, "\\${").replace(/\n/g, "\\n").replace(/\r/g, "\\r").replace(/\t/g, "\\t")}"`;
}

/** A Nix literal for plain data: strings, integers, booleans, null, lists and attribute sets. */
export function nixValue(value: unknown, indent = ""): string {
  if (value === null || value === undefined) return "null";
  if (typeof value === "string") return nixString(value);
  if (typeof value === "boolean") return value ? "true" : "false";
  if (typeof value === "number") {
    if (!Number.isInteger(value)) throw new Error(`${value} is not an integer`);
    return String(value);
  }
  const inner = `${indent}  `;
  if (Array.isArray(value))
    return value.length === 0
      ? "[ ]"
      : `[\n${value.map((v) => `${inner}${nixValue(v, inner)}`).join("\n")}\n${indent}]`;
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 0) return "{ }";
  const key = (k: string) => (/^[A-Za-z_][A-Za-z0-9_'-]*$/.test(k) ? k : nixString(k));
  return `{\n${entries.map(([k, v]) => `${inner}${key(k)} = ${nixValue(v, inner)};`).join("\n")}\n${indent}}`;
}

/**
 * A multi-line text as a Nix expression, one double-quoted string per line, so the module shows the
 * script readably and holds it byte for byte (no indented-string whitespace stripping).
 */
export function nixText(text: string, indent = ""): string {
  const lines = text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
  return `builtins.concatStringsSep "" [\n${lines.map((l) => `${indent}  ${nixString(l)}`).join("\n")}\n${indent}]`;
}

function releaseValue(r: PinnedRelease) {
  return { version: r.version, binary: r.binary, source: r.source, assets: r.assets };
}

/** The off-site copy on a NixOS hub: its script (verbatim), environment and timer calendar. */
export interface NixosOffsite {
  /** The content of offsite-sync.sh, the same script a Debian hub runs. */
  readonly script: string;
  /** OFFSITE_* settings of the script (RCLONE is set by the module). */
  readonly environment: Readonly<Record<string, string>>;
  /** OnCalendar= expressions (UTC), converted from the cron schedule. */
  readonly onCalendar: readonly string[];
}

/** What the module needs from the stack file. */
export interface NixosHubSettings {
  readonly server: HubServer;
  readonly version?: string;
  readonly sha256?: Partial<Record<"arm64" | "amd64", string>>;
  readonly dataDir: string;
  readonly port: number;
  readonly consolePort: number;
  readonly region: string;
  readonly tls: boolean;
  readonly monitoring: boolean;
  readonly textfileCollectorDir: string;
  readonly sshUser: string;
}

/** The NixOS module for a hub, from components/hub/pi/hub.nix. */
export function renderNixosModule(
  template: string,
  s: NixosHubSettings,
  offsite?: NixosOffsite,
  arrivals?: NixosArrivals,
): string {
  const releases = { [s.server]: releaseValue(serverRelease(s.server, s.version, s.sha256)) };
  const offsiteValue = offsite
    ? `{\n    script = ${nixText(offsite.script, "    ")};\n    environment = ${nixValue(offsite.environment, "    ")};\n    onCalendar = ${nixValue(offsite.onCalendar, "    ")};\n  }`
    : "null";
  const arrivalsValue = arrivals
    ? `{\n    script = ${nixText(arrivals.script, "    ")};\n    dir = ${nixString(arrivals.dir)};\n    envFile = ${nixString(arrivals.envFile)};\n    onCalendar = ${nixString(arrivals.onCalendar)};\n  }`
    : "null";
  return fillTemplate(template, {
    STATE_DIR: nixString(NIXOS_STATE_DIR),
    SERVER: nixString(s.server),
    DATA_DIR: nixString(s.dataDir),
    PORT: String(s.port),
    CONSOLE_PORT: String(s.consolePort),
    REGION: nixString(s.region),
    TLS: nixValue(s.tls),
    MONITORING: nixValue(s.monitoring),
    TEXTFILE_DIR: nixString(s.textfileCollectorDir),
    SSH_USER: nixString(s.sshUser),
    RELEASES: nixValue(releases, "  "),
    OFFSITE: offsiteValue,
    ARRIVALS: arrivalsValue,
  });
}

/**
 * The off-site copy as a NixOS hub's module runs it: offsite-sync.sh verbatim, its settings with the
 * rclone config in the module's directory, and the timer calendar converted from the cron schedule.
 */
export function nixosOffsite(config: OffsiteConfig, hub: HubConnection, hubConfig: HubConfig): NixosOffsite {
  const { RCLONE: _rclone, ...environment } = offsiteSyncEnv(config, hub, {
    rcloneConfig: NIXOS_PATHS.rcloneConfig,
    textfile: offsiteTextfilePath(hubConfig),
    rclone: NIXOS_PATHS.rclone,
  });
  return { script: readScript("offsite/offsite-sync.sh"), environment, onCalendar: toSystemdCalendar(config.schedule) };
}
