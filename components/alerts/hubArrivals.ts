/**
 * The Pi hub's own dead-man's switch (components/alerts/hub-arrivals.sh, see arrivals.ts): the hub
 * checks from its own timer that new objects keep arriving in its bucket, and reports a silence
 * through the stack's notify channels, independent of the cluster.
 *
 * Debian hubs, as the off-site timer is installed (components/offsite/offsiteHubTimer.ts): the script and
 * the two units are uploaded to a staging directory in the SSH user's home, then installed as root to
 * /usr/local/lib/homelab-backup and /etc/systemd/system and the timer enabled. NixOS hubs: the module
 * declares the service and timer (components/hub/pi/hub.nix), so over SSH only the EnvironmentFile is
 * written, inside the module's own directory. Either way the EnvironmentFile (settings and notify
 * credentials, root-only 0600) travels on standard input, a Pulumi secret, never on a command line.
 */
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { readScript } from "../core/files.js";
import { asRoot, installTimerOnHub, sameFilesOnReplace, stageFilesOnHub } from "../core/hubHost.js";
import { NIXOS_PATHS, NIXOS_STATE_DIR } from "../hub/pi/nixos.js";
import { HUB_DEFAULTS, hubWithDefaults, type PiHubInput } from "../hub/schema.js";
import {
  ARRIVALS_HUB_PATHS,
  arrivalsEnvironment,
  renderArrivalsUnits,
  systemdEnvFile,
  type ArrivalsSecrets,
} from "./arrivals.js";
import { alertsWithDefaults, type AlertsInput } from "./schema.js";

export interface HubArrivalsArgs {
  /** The alerts section (`notify` and `heartbeat.hubMaxAgeMinutes`); each key left out takes the schema's default (ALERTS_DEFAULTS). */
  readonly alerts: AlertsInput;
  /** The hub section (kind pi); each key left out takes the schema's default (HUB_DEFAULTS in components/hub/schema.ts). */
  readonly hub: PiHubInput;
  /** SSH private key of the hub (homelab-backup:hubSshPrivateKey). */
  readonly sshPrivateKey: pulumi.Input<string>;
  /** The channels' credentials (homelab-backup:alertsNtfyToken, alertsSlackWebhookUrl, alertsSmtpPassword); required for the channels `alerts.notify` names. @default {} */
  readonly secrets?: { readonly [K in keyof ArrivalsSecrets]?: pulumi.Input<string> };
  /** What must exist first (the hub: its configure step creates the bucket's directory). Every remote step waits for it. @default [] */
  readonly after?: pulumi.Resource[];
}

/** The hub directory (relative to the SSH user's home) where files are staged before root installs them. */
const STAGE = ".homelab-backup/arrivals";

/** A command that writes its standard input to `file`, root-only 0600 and atomically, in a 0700 directory when it creates one. */
function writeStdinTo(file: string): string {
  const dir = file.slice(0, file.lastIndexOf("/"));
  const base = file.slice(file.lastIndexOf("/") + 1);
  return `umask 077 && mkdir -p ${dir} && t=$(mktemp ${dir}/.${base}.XXXXXX) && { cat >"$t" && chmod 0600 "$t" && mv -f "$t" ${file} || { rm -f "$t"; exit 1; }; }`;
}

export class HubArrivals extends pulumi.ComponentResource {
  /** The timer's unit name on the hub. */
  public readonly timerName: string;

  constructor(name: string, args: HubArrivalsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("homelab-backup:index:HubArrivals", name, {}, opts);
    if (args.hub.kind !== "pi") throw new Error(`HubArrivals: hub.kind is "${args.hub.kind}", not "pi"`);
    const hub = hubWithDefaults(args.hub);
    const alerts = alertsWithDefaults(args.alerts);
    const sshUser = hub.ssh?.user;
    const connection = {
      host: hub.host!,
      port: hub.ssh?.port ?? HUB_DEFAULTS.ssh.port,
      user: sshUser,
      privateKey: pulumi.secret(args.sshPrivateKey),
    };
    const s = args.secrets ?? {};
    const envFile = pulumi.secret(
      pulumi
        .all([s.ntfyToken, s.slackWebhookUrl, s.smtpPassword])
        .apply(([ntfyToken, slackWebhookUrl, smtpPassword]) =>
          systemdEnvFile(arrivalsEnvironment(alerts, hub, { ntfyToken, slackWebhookUrl, smtpPassword })),
        ),
    );
    const units = renderArrivalsUnits(hub);
    const after = args.after ?? [];
    this.timerName = units.timerName;

    if (hub.os === "nixos") {
      // The module runs the timer and the script; only the EnvironmentFile is written, in the module's directory.
      const file = NIXOS_PATHS.arrivalsEnv;
      new command.remote.Command(
        `${name}-env`,
        {
          connection,
          create: asRoot(sshUser, `install -d -m 0711 -o root -g root ${NIXOS_STATE_DIR} && ${writeStdinTo(file)}`),
          delete: asRoot(sshUser, `rm -f ${file}`),
          stdin: envFile,
          addPreviousOutputInEnv: false,
          logging: "stderr",
        },
        // Replaced when the SSH connection changes; create and delete touch the same file (core/hubHost.ts).
        sameFilesOnReplace({
          parent: this,
          dependsOn: after,
          // The analyzer receives inputs unwrapped: this option is how it (and the state) knows stdin is secret.
          additionalSecretOutputs: ["stdin"],
        }),
      );
    } else {
      const files: Record<string, string> = {
        "hub-arrivals.sh": readScript("alerts/hub-arrivals.sh"),
        [units.serviceName]: units.service,
        [units.timerName]: units.timer,
      };
      const copies = stageFilesOnHub(name, connection, STAGE, files, { parent: this, dependsOn: after });
      const env = new command.remote.Command(
        `${name}-env`,
        {
          connection,
          // Settings and credentials on stdin only; written root-only (0600) where the service reads them.
          create: asRoot(sshUser, writeStdinTo(ARRIVALS_HUB_PATHS.envFile)),
          delete: asRoot(sshUser, `rm -f ${ARRIVALS_HUB_PATHS.envFile}`),
          stdin: envFile,
          addPreviousOutputInEnv: false,
          logging: "stderr",
        },
        // Replaced when the SSH connection changes; create and delete touch the same file (core/hubHost.ts).
        sameFilesOnReplace({
          parent: this,
          dependsOn: after,
          // The analyzer receives inputs unwrapped: this option is how it (and the state) knows stdin is secret.
          additionalSecretOutputs: ["stdin"],
        }),
      );
      const { libDir, script, unitDir } = ARRIVALS_HUB_PATHS;
      installTimerOnHub(
        name,
        {
          connection,
          sshUser,
          timer: {
            stageDir: STAGE,
            libDir,
            scripts: { "hub-arrivals.sh": script },
            unitDir,
            serviceName: units.serviceName,
            timerName: units.timerName,
          },
          files,
          addPreviousOutputInEnv: false,
        },
        { parent: this, dependsOn: [...copies, env] },
      );
    }
    this.registerOutputs({ timerName: this.timerName });
  }
}
