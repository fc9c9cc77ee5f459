/**
 * The Pi hub's own arrivals check (components/alerts/hub-arrivals.sh), as data: whether a stack runs
 * it, its settings as the script reads them (ARRIVALS_*), the root-only EnvironmentFile that holds
 * them with the notify credentials, the Debian units and what a NixOS hub's module declares. The
 * check runs on the hub from its own timer every 15 minutes, independent of the cluster, and reports
 * through the stack's `alerts.notify` channels when no new object arrived in the hub bucket for
 * `alerts.heartbeat.hubMaxAgeMinutes` (default 26 hours).
 */
import type { HubConfig, StackConfig } from "../config.js";
import { readScript } from "../core/files.js";
import { fillTemplate } from "../core/systemd.js";
import { NIXOS_PATHS, type NixosArrivals } from "../hub/pi/nixos.js";
import type { AlertsConfig } from "./schema.js";
import { DEFAULT_HUB_MAX_AGE_MINUTES } from "./schema.js";

/** The systemd unit name (service and timer). */
export const ARRIVALS_UNIT = "homelab-backup-arrivals";

/** The timer's calendar: every 15 minutes (components/alerts/homelab-backup-arrivals.timer). */
export const ARRIVALS_ON_CALENDAR = "*:0/15";

/** How often a lasting silence is reported again (the script's ARRIVALS_REPEAT_MINUTES). */
export const ARRIVALS_REPEAT_MINUTES = 1440;

/** Where the check lives on a Debian Pi hub. */
export const ARRIVALS_HUB_PATHS = {
  /** hub-arrivals.sh, root-owned 0755. */
  libDir: "/usr/local/lib/homelab-backup",
  script: "/usr/local/lib/homelab-backup/hub-arrivals.sh",
  /** The EnvironmentFile the service reads (settings and notify credentials), root-only 0600. */
  envFile: "/etc/homelab-backup/arrivals.env",
  unitDir: "/etc/systemd/system",
} as const;

/** The notify channels the check posts to (`alerts.notify`). */
type Notify = NonNullable<AlertsConfig["notify"]>;

/** Whether the stack runs the arrivals check: a pi hub and at least one `alerts.notify` channel. */
export function arrivalsOnHub(stack: Pick<StackConfig, "hub" | "alerts">): boolean {
  const n = stack.alerts?.notify;
  return stack.hub?.kind === "pi" && !!n && !!(n.ntfy || n.slack || n.email);
}

/** The bucket's directory on the hub, where the server keeps one directory per object (ARRIVALS_DIR). */
export function arrivalsDir(hub: Pick<HubConfig, "dataDir" | "bucket">): string {
  if (!hub.dataDir) throw new Error("the arrivals check needs hub.dataDir");
  return `${hub.dataDir.replace(/(.)\/+$/, "$1")}/${hub.bucket}`;
}

/** The credentials the channels need, from the alerts* secret keys. */
export interface ArrivalsSecrets {
  readonly ntfyToken?: string;
  readonly slackWebhookUrl?: string;
  readonly smtpPassword?: string;
}

/** The ntfy publish URL of the topic (a plain POST: the script sets the title and tags itself). */
export function ntfyTopicUrl(ntfy: NonNullable<Notify["ntfy"]>): string {
  return `${ntfy.url.replace(/\/+$/, "")}/${encodeURIComponent(ntfy.topic)}`;
}

/** curl's SMTP URL for `host:port`: implicit TLS (smtps) on 465, STARTTLS (smtp, ssl-reqd) otherwise. */
export function smtpUrl(smarthost: string): string {
  const port = smarthost.slice(smarthost.lastIndexOf(":") + 1);
  return `${port === "465" ? "smtps" : "smtp"}://${smarthost}`;
}

/** Every ARRIVALS_* variable hub-arrivals.sh reads, the credentials included. */
export function arrivalsEnvironment(
  alerts: AlertsConfig,
  hub: HubConfig,
  secrets: ArrivalsSecrets,
): Record<string, string> {
  const n = alerts.notify ?? {};
  const env: Record<string, string> = {
    ARRIVALS_DIR: arrivalsDir(hub),
    ARRIVALS_MAX_AGE_MINUTES: String(alerts.heartbeat?.hubMaxAgeMinutes ?? DEFAULT_HUB_MAX_AGE_MINUTES),
    ARRIVALS_REPEAT_MINUTES: String(ARRIVALS_REPEAT_MINUTES),
    ARRIVALS_HUB: hub.host ?? "",
  };
  if (n.ntfy) {
    env.ARRIVALS_NTFY_URL = ntfyTopicUrl(n.ntfy);
    if (secrets.ntfyToken) env.ARRIVALS_NTFY_TOKEN = secrets.ntfyToken;
  }
  if (n.slack) {
    if (!secrets.slackWebhookUrl)
      throw new Error("homelab-backup:alertsSlackWebhookUrl is required for alerts.notify.slack");
    env.ARRIVALS_SLACK_WEBHOOK_URL = secrets.slackWebhookUrl;
  }
  if (n.email) {
    if (!secrets.smtpPassword) throw new Error("homelab-backup:alertsSmtpPassword is required for alerts.notify.email");
    env.ARRIVALS_SMTP_URL = smtpUrl(n.email.smarthost);
    env.ARRIVALS_SMTP_FROM = n.email.from;
    env.ARRIVALS_SMTP_TO = n.email.to;
    env.ARRIVALS_SMTP_USER = n.email.username ?? n.email.from;
    env.ARRIVALS_SMTP_PASSWORD = secrets.smtpPassword;
    env.ARRIVALS_SMTP_TLS = n.email.requireTls === false ? "off" : "required";
  }
  return env;
}

/**
 * A systemd EnvironmentFile holding exactly `env`: each value in double quotes, where systemd
 * unescapes `\"`, `\\`, `` \` `` and `\$` and takes everything else literally (no specifiers, no
 * variable expansion). A value with a newline or NUL cannot be held on one line: refused.
 */
export function systemdEnvFile(env: Record<string, string>): string {
  const lines = Object.entries(env).map(([k, v]) => {
    if (!/^[A-Z_][A-Z0-9_]*$/.test(k)) throw new Error(`${k} is not an environment variable name`);
    if (/[\n\r\0]/.test(v)) throw new Error(`${k} must not contain a newline or NUL character`);
    return `${k}="${v.replace(/[\\"`$]/g, (c) => `\\${c}`)}"`;
  });
  return `# Written by homelab-backup; root-only.\n${lines.join("\n")}\n`;
}

/** The Debian units, from the templates in components/alerts (`libDir` is a temp dir in a test). */
export function renderArrivalsUnits(
  hub: Pick<HubConfig, "dataDir" | "bucket">,
  libDir: string = ARRIVALS_HUB_PATHS.libDir,
): { serviceName: string; timerName: string; service: string; timer: string } {
  return {
    serviceName: `${ARRIVALS_UNIT}.service`,
    timerName: `${ARRIVALS_UNIT}.timer`,
    service: fillTemplate(readScript("alerts/homelab-backup-arrivals.service"), {
      LIB_DIR: libDir,
      DATA_DIR: arrivalsDir(hub),
    }),
    timer: readScript("alerts/homelab-backup-arrivals.timer"),
  };
}

export function nixosArrivals(hub: Pick<HubConfig, "dataDir" | "bucket">): NixosArrivals {
  return {
    script: readScript("alerts/hub-arrivals.sh"),
    dir: arrivalsDir(hub),
    envFile: NIXOS_PATHS.arrivalsEnv,
    onCalendar: ARRIVALS_ON_CALENDAR,
  };
}

/** The hub section's paragraph on the arrivals check (undefined when the stack does not run it). */
export function arrivalsPlan(stack: Pick<StackConfig, "hub" | "alerts">): string | undefined {
  if (!arrivalsOnHub(stack)) return undefined;
  const a = stack.alerts!;
  const n = a.notify!;
  const channels = [
    n.ntfy && `ntfy topic \`${n.ntfy.topic}\``,
    n.slack && `Slack ${n.slack.channel}`,
    n.email && `e-mail to ${n.email.to}`,
  ]
    .filter(Boolean)
    .join(", ");
  const maxAge = a.heartbeat?.hubMaxAgeMinutes ?? DEFAULT_HUB_MAX_AGE_MINUTES;
  const where =
    stack.hub!.os === "nixos"
      ? `the NixOS module's \`${ARRIVALS_UNIT}.timer\`; its settings and credentials in \`${NIXOS_PATHS.arrivalsEnv}\`, root-only`
      : `\`${ARRIVALS_UNIT}.timer\`, script \`${ARRIVALS_HUB_PATHS.script}\`; its settings and credentials in \`${ARRIVALS_HUB_PATHS.envFile}\`, root-only`;
  return `Arrivals check (on the hub, independent of the cluster): every 15 minutes the hub itself looks for new objects in \`${arrivalsDir(stack.hub!)}\`; when none arrived for ${maxAge} minutes (\`alerts.heartbeat.hubMaxAgeMinutes\`) it reports through the configured channel (${channels}), again every ${ARRIVALS_REPEAT_MINUTES / 60} hours while it lasts, and once more when objects arrive again (${where}).`;
}
