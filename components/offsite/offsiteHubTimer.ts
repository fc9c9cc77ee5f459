/**
 * The encrypted second copy of the hub bucket on an FTP(S) server, run on the hub itself (`runOn: hub`):
 * rclone crypt over FTP from a systemd timer whose OnCalendar= lines are converted from the cron schedule,
 * so the copy actually runs. On a Debian hub the pinned rclone, the scripts and the units are installed over
 * SSH; a NixOS hub's module runs the timer and the script (components/hub/hub.nix), and over SSH only the
 * rclone config is written. The in-cluster variant is OffsiteCronJob (./offsiteCronJob.ts).
 *
 * The config is written by write-config.sh, which sources the remotes from ../core/rclone-remotes.sh: both
 * are staged on the hub in the layout of components/ (OFFSITE_CONFIG_SCRIPTS) and the config command
 * runs when either changes.
 */
import * as path from "node:path";
import * as command from "@pulumi/command";
import type * as types from "@pulumi/command/types";
import * as pulumi from "@pulumi/pulumi";
import type { HubConfig, OffsiteConfig } from "../config.js";
import { HUB_DEFAULTS, hubWithDefaults, type PiHubInput } from "../hub/schema.js";
import { contentHash, readScript } from "../core/files.js";
import { asRoot, installTimerOnHub, sameFilesOnReplace, stageFilesOnHub } from "../core/hubHost.js";
import type { HubConnection, WriterCredentials } from "../core/hubConnection.js";
import { names } from "../core/names.js";
import { toSystemdCalendar } from "../core/systemd.js";
import { VERSIONS } from "../core/versions.js";
import { NIXOS_PATHS, NIXOS_STATE_DIR } from "../hub/pi/nixos.js";
import { OFFSITE_TYPES, offsiteComponentOptions, offsiteEncryptionKey } from "./identity.js";
import {
  envAssignments,
  OFFSITE_CONFIG_SCRIPTS,
  OFFSITE_HUB_PATHS,
  OFFSITE_SCRIPTS,
  OFFSITE_WRITE_CONFIG,
  offsiteConfigEnv,
  offsiteRestoreCommand,
  offsiteSecretsStdin,
  renderOffsiteUnits,
} from "./logic.js";
import { offsiteWithDefaults, type OffsiteInput } from "./schema.js";

export interface OffsiteHubTimerArgs {
  /** The offsite section of the stack file; each key left out takes the schema's default (OFFSITE_DEFAULTS in ./schema.ts). */
  readonly config: OffsiteInput;
  /** The hub's S3 endpoint, bucket and addressing: the source of the copy. */
  readonly hub: HubConnection;
  /** The hub section (kind pi): SSH access, the hub's OS and the textfile collector directory; each key left out takes the schema's default (HUB_DEFAULTS). */
  readonly hubConfig: PiHubInput;
  /** SSH private key of the hub (`homelab-backup:hubSshPrivateKey`). */
  readonly sshPrivateKey: pulumi.Input<string>;
  /** FTP(S) login password (`homelab-backup:offsiteFtpPassword`). */
  readonly ftpPassword: pulumi.Input<string>;
  /** rclone crypt key (`homelab-backup:offsiteEncryptionKey`). @default generated: 32 random bytes, hex */
  readonly encryptionKey?: pulumi.Input<string>;
  /** The hub's offsite reader credentials (read-only on the copied prefixes). */
  readonly reader: WriterCredentials;
}

/** The hub directory (relative to the SSH user's home) where files are staged before root installs them. */
const STAGE = ".homelab-backup/offsite";

/** The scripts that write the config, by path under components/, and the hash that triggers the config command. */
function configScripts(configEnv: Record<string, string>): { files: Record<string, string>; trigger: string } {
  const files = Object.fromEntries(OFFSITE_CONFIG_SCRIPTS.map((rel) => [rel, readScript(rel)]));
  return { files, trigger: contentHash(...Object.values(files), JSON.stringify(configEnv)) };
}

/** What both ways of configuring the hub need. */
interface HubSide {
  readonly name: string;
  readonly parent: pulumi.Resource;
  readonly args: OffsiteHubTimerArgs;
  /** The offsite section, defaulted. */
  readonly config: OffsiteConfig;
  /** The hub section, defaulted. */
  readonly hubConfig: HubConfig;
  readonly connection: types.input.remote.ConnectionArgs;
  readonly sshUser: string | undefined;
  /** write-config.sh's secrets on stdin (offsiteSecretsStdin). */
  readonly stdin: pulumi.Output<string>;
}

export class OffsiteHubTimer extends pulumi.ComponentResource {
  /** The crypt key (a secret); undefined when encryption is off, so the stack exports no key. */
  public readonly encryptionKey: pulumi.Output<string> | undefined;
  /** Downloads and decrypts the copy with only the key and the FTP login. */
  public readonly restoreCommand: pulumi.Output<string>;
  /** `homelab-backup-offsite.timer` on the hub. */
  public readonly timerName: pulumi.Output<string>;
  /** The timer's OnCalendar= expressions (UTC). */
  public readonly onCalendar: pulumi.Output<string[]>;

  constructor(name: string, args: OffsiteHubTimerArgs, opts?: pulumi.ComponentResourceOptions) {
    super(OFFSITE_TYPES.hubTimer, name, {}, offsiteComponentOptions(OFFSITE_TYPES.hubTimer, opts));
    const config = offsiteWithDefaults(args.config, args.hubConfig.kind);
    const hubConfig = hubWithDefaults(args.hubConfig);

    const key = offsiteEncryptionKey(name, config, args.encryptionKey, this);
    const stdin = pulumi.secret(
      pulumi
        .all([args.ftpPassword, key ?? "", args.reader.accessKeyId, args.reader.secretAccessKey])
        .apply(([ftp, k, id, secret]) => offsiteSecretsStdin(ftp, k || undefined, id, secret)),
    );
    const sshUser = hubConfig.ssh?.user;
    const connection = {
      host: hubConfig.host!,
      port: hubConfig.ssh?.port ?? HUB_DEFAULTS.ssh.port,
      user: sshUser,
      privateKey: args.sshPrivateKey,
    };
    const side: HubSide = { name, parent: this, args, config, hubConfig, connection, sshUser, stdin };
    if (hubConfig.os === "nixos") writeNixosConfig(side);
    else installOnDebian(side);

    this.encryptionKey = key;
    this.restoreCommand = pulumi.output(offsiteRestoreCommand(config));
    this.timerName = pulumi.output(`${names.offsiteUnit}.timer`);
    this.onCalendar = pulumi.output(toSystemdCalendar(config.schedule));
    this.registerOutputs({
      encryptionKey: this.encryptionKey,
      restoreCommand: this.restoreCommand,
      timerName: this.timerName,
      onCalendar: this.onCalendar,
    });
  }
}

/**
 * A NixOS hub's module runs the timer and the script (components/hub/hub.nix); over SSH only the rclone
 * config is written, root-only, inside the module's own directory. The scripts that write it are staged
 * under the staging directory in the layout of components/ (`<staging>/offsite/`, `<staging>/core/`).
 */
function writeNixosConfig({ name, parent, args, config, connection, sshUser, stdin }: HubSide): void {
  const sudo = sshUser === "root" ? "" : "sudo -n ";
  const configEnv = { ...offsiteConfigEnv(config, args.hub), RCLONE: NIXOS_PATHS.rclone };
  const scripts = configScripts(configEnv);
  const staged = (rel: string) => `${NIXOS_PATHS.staging}/${rel}`;
  // The SSH user owns the staging directory and creates what is under it.
  const dirs = [...new Set(OFFSITE_CONFIG_SCRIPTS.map((rel) => staged(path.posix.dirname(rel))))].join(" ");
  const stage = new command.remote.Command(
    `${name}-stage`,
    {
      connection,
      create: `${sudo}install -d -m 0711 -o root -g root ${NIXOS_STATE_DIR} && ${sudo}install -d -m 0700 -o ${sshUser} ${NIXOS_PATHS.staging} && mkdir -p -m 0700 ${dirs}`,
    },
    { parent },
  );
  const copies = Object.entries(scripts.files).map(
    ([rel, text]) =>
      new command.remote.CopyToRemote(
        `${name}-copy-${path.posix.basename(rel).replace(/\./g, "-")}`,
        {
          connection,
          source: new pulumi.asset.StringAsset(text),
          remotePath: staged(rel),
          triggers: [contentHash(text)],
        },
        { parent, dependsOn: [stage] },
      ),
  );
  new command.remote.Command(
    `${name}-config`,
    {
      connection,
      create: asRoot(
        sshUser,
        `${envAssignments(configEnv)} sh ${staged(OFFSITE_WRITE_CONFIG)} ${NIXOS_PATHS.rcloneConfig}`,
      ),
      delete: asRoot(sshUser, `rm -f ${NIXOS_PATHS.rcloneConfig}`),
      stdin,
      triggers: [scripts.trigger],
      logging: "stderr",
    },
    // Create and delete write and remove the same file: the old one goes first (core/hubHost.ts).
    sameFilesOnReplace({
      parent,
      dependsOn: copies,
      // The analyzer receives inputs unwrapped: this option is how it (and the state) knows stdin is secret.
      additionalSecretOutputs: ["stdin"],
    }),
  );
}

/** A Debian hub: the pinned rclone, the scripts, the rclone config and the timer, installed over SSH. */
function installOnDebian({ name, parent, args, config, hubConfig, connection, sshUser, stdin }: HubSide): void {
  const { hub } = args;
  const units = renderOffsiteUnits(
    {
      service: readScript("offsite/homelab-backup-offsite.service"),
      timer: readScript("offsite/homelab-backup-offsite.timer"),
    },
    config,
    hub,
    hubConfig,
  );
  const configEnv = { ...offsiteConfigEnv(config, hub), RCLONE: OFFSITE_HUB_PATHS.rclone };
  const scripts = configScripts(configEnv);
  // STAGE is <top>/offsite: the config scripts go to <top>/offsite/ and <top>/core/ (stageFilesOnHub).
  const stagedAs = (rel: string) => path.posix.relative("offsite", rel);
  const files: Record<string, string> = {
    "install-rclone.sh": readScript("offsite/install-rclone.sh"),
    ...Object.fromEntries(OFFSITE_SCRIPTS.map((s) => [s, readScript(`offsite/${s}`)])),
    ...Object.fromEntries(Object.entries(scripts.files).map(([rel, text]) => [stagedAs(rel), text])),
    [units.serviceName]: units.service,
    [units.timerName]: units.timer,
  };
  const copies = stageFilesOnHub(name, connection, STAGE, files, { parent });

  const installRclone = new command.remote.Command(
    `${name}-rclone`,
    {
      connection,
      create: asRoot(sshUser, `RCLONE_INSTALL_DIR=/usr/local/bin bash ${STAGE}/install-rclone.sh ${VERSIONS.rclone}`),
      triggers: [VERSIONS.rclone, contentHash(files["install-rclone.sh"])],
    },
    { parent, dependsOn: copies },
  );

  const rcloneConfig = new command.remote.Command(
    `${name}-config`,
    {
      connection,
      // Secrets go on stdin only; write-config.sh obscures the passwords on the hub and writes the file 0600.
      create: asRoot(
        sshUser,
        `${envAssignments(configEnv)} sh ${STAGE}/${stagedAs(OFFSITE_WRITE_CONFIG)} ${OFFSITE_HUB_PATHS.rcloneConfig}`,
      ),
      delete: asRoot(sshUser, `rm -f ${OFFSITE_HUB_PATHS.rcloneConfig}`),
      stdin,
      triggers: [scripts.trigger],
      logging: "stderr",
    },
    // Create and delete write and remove the same file: the old one goes first (core/hubHost.ts).
    sameFilesOnReplace({
      parent,
      dependsOn: [installRclone],
      // The analyzer receives inputs unwrapped: this option is how it (and the state) knows stdin is secret.
      additionalSecretOutputs: ["stdin"],
    }),
  );

  const lib = OFFSITE_HUB_PATHS.libDir;
  installTimerOnHub(
    name,
    {
      connection,
      sshUser,
      timer: {
        stageDir: STAGE,
        libDir: lib,
        scripts: Object.fromEntries(OFFSITE_SCRIPTS.map((s) => [s, `${lib}/${s}`])),
        unitDir: OFFSITE_HUB_PATHS.unitDir,
        serviceName: units.serviceName,
        timerName: units.timerName,
        extraDirs: [hubConfig.textfileCollectorDir],
        removeLibDir: true,
      },
      files,
    },
    { parent, dependsOn: [...copies, rcloneConfig] },
  );
}
