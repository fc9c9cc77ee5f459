/**
 * A Raspberry Pi (or any 64-bit Linux box with systemd) as the backup hub: its S3 server, installed
 * and started over SSH. Debian: preflight → install the pinned S3 server (Silo or RustFS,
 * sha256-checked) as a systemd service → node exporter (`hub.monitoring`). NixOS: the server, node
 * exporter and off-site timer come from the rendered NixOS module (uploaded beside the scripts for the
 * user to import), so the steps are preflight → put the credentials file where the module reads it;
 * nothing is written outside the module's own directory. The bucket and the writers' identities are
 * not configured here: BackupHub (components/hub/backupHub.ts) configures them through the server's S3
 * and admin APIs with the S3Hub resources an s3 hub uses, with the admin login and the writers' secrets
 * made here (under the names the mcli-based configure step used, so their values stay). Every step is a repository script (components/hub/) uploaded with CopyToRemote and
 * run by a remote Command whose triggers are the script's content hash and the stack values it
 * reads, so an unchanged hub changes nothing. Secrets travel on stdin only. Destroying the component
 * removes nothing from the hub: a backup server is not torn down by a `pulumi destroy` of its
 * configuration.
 */
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { remote } from "@pulumi/command";
import { contentHash, readScript } from "../../core/files.js";
import { WRITERS, type WriterName } from "../../core/hubConnection.js";
import { renderNixosModule, type NixosArrivals, type NixosOffsite } from "./nixos.js";
import {
  ADMIN_USER,
  hubSteps,
  piHubFiles,
  piHubSettings,
  serverEnvFile,
  serverUnit,
  stagingCommand,
  stepCommand,
  stepTriggers,
  STEP_SCRIPTS,
  type Step,
} from "./piHubSteps.js";
import { hubWithDefaults, type PiHubInput } from "../schema.js";

export interface PiHubArgs {
  /** The hub section of the stack file (kind pi); each key left out takes the schema's default (HUB_DEFAULTS in components/hub/schema.ts). */
  readonly hub: PiHubInput;
  /** Private key of the SSH user `hub.ssh.user` (homelab-backup:hubSshPrivateKey). */
  readonly sshPrivateKey: pulumi.Input<string>;
  /** The server's admin password (homelab-backup:hubAdminPassword). @default generated, 40 characters */
  readonly adminPassword?: pulumi.Input<string>;
  /** The writers the stack uses (components/hub/rights.ts); each gets a generated secret key. */
  readonly writers: readonly WriterName[];
  /** NixOS hubs: the off-site copy the module runs (script, settings, calendar). @default none */
  readonly nixosOffsite?: NixosOffsite;
  /** NixOS hubs: the arrivals check the module runs (script, bucket directory, EnvironmentFile). @default none */
  readonly nixosArrivals?: NixosArrivals;
}

export class PiHub extends pulumi.ComponentResource {
  /** The server's admin (root) user. */
  public readonly adminUser: pulumi.Output<string>;
  /** The server's admin password (secret). */
  public readonly adminPassword: pulumi.Output<string>;
  /** Each writer's secret key (secret), for the S3Hub that creates the writer's user on the server. */
  public readonly writerSecrets: Readonly<Partial<Record<WriterName, pulumi.Output<string>>>>;
  /** The last installation step: the server runs once it is done, so the API configuration waits for it. */
  public readonly serverReady: pulumi.Resource;
  /** NixOS hubs: the rendered NixOS module (also uploaded beside the scripts). */
  public readonly nixosModule: pulumi.Output<string | undefined>;

  constructor(name: string, args: PiHubArgs, opts?: pulumi.ComponentResourceOptions) {
    // The registered inputs show what the hub is built from; the SSH key stays out of them (a component
    // cannot mark an input secret for the policy analyzer, so it would reach it as plain text).
    const { sshPrivateKey: _key, ...shown } = args;
    const hub = hubWithDefaults(args.hub);
    super("homelab-backup:index:PiHub", name, { ...shown, hub }, opts);
    const s = piHubSettings(hub);

    // The key is a secret input: secretness hoists to the whole connection, so host and user are hidden in diffs too.
    const connection = {
      host: s.host,
      port: s.sshPort,
      user: s.sshUser,
      privateKey: pulumi.secret(args.sshPrivateKey),
    };

    const adminPassword = args.adminPassword
      ? pulumi.secret(args.adminPassword)
      : new random.RandomPassword(`${name}-admin-password`, { length: 40, special: false }, { parent: this }).result;
    // Only the writers the stack uses get a secret, in WRITERS order. The names are the ones these
    // passwords always had, so a hub configured by the mcli step keeps every writer's secret.
    const inUse = WRITERS.filter((w) => args.writers.includes(w));
    const writerSecrets = Object.fromEntries(
      inUse.map((w) => [
        w,
        new random.RandomPassword(`${name}-${w}-secret-key`, { length: 40, special: false }, { parent: this }).result,
      ]),
    ) as Record<WriterName, pulumi.Output<string>>;

    const module =
      s.os === "nixos"
        ? renderNixosModule(
            readScript("hub/pi/hub.nix"),
            {
              server: s.server,
              version: hub.version,
              sha256: hub.sha256,
              dataDir: s.dataDir,
              port: s.port,
              consolePort: s.consolePort,
              region: s.region,
              tls: s.tls,
              monitoring: s.monitoring,
              textfileCollectorDir: s.textfileCollectorDir,
              sshUser: s.sshUser,
            },
            args.nixosOffsite,
            args.nixosArrivals,
          )
        : undefined;

    const staging = new remote.Command(
      `${name}-staging`,
      { connection, create: stagingCommand(s), addPreviousOutputInEnv: false },
      { parent: this },
    );
    const uploads = new Map<string, remote.CopyToRemote>();
    for (const file of piHubFiles(s, module)) {
      const base = file.path.slice(file.path.lastIndexOf("/") + 1);
      uploads.set(
        base,
        new remote.CopyToRemote(
          `${name}-file-${base.replace(/\.[a-z]+$/, "")}`,
          {
            connection,
            source: new pulumi.asset.StringAsset(file.content),
            remotePath: file.path,
            triggers: [contentHash(file.content)],
          },
          { parent: this, dependsOn: [staging] },
        ),
      );
    }
    const upload = (base: string) => uploads.get(base)!;

    // Standard input of the steps that take secrets: the credentials file (install, credentials).
    const envFile = pulumi.secret(pulumi.output(adminPassword).apply((p) => serverEnvFile(s.server, ADMIN_USER, p)));
    const stdinOf: Partial<Record<Step, pulumi.Output<string>>> = { install: envFile, credentials: envFile };

    let previous: pulumi.Resource | undefined;
    for (const step of hubSteps(s)) {
      const files = [upload(STEP_SCRIPTS[step]), ...(step === "install" ? [upload(serverUnit(s).name)] : [])];
      const cmd = new remote.Command(
        `${name}-${step}`,
        {
          connection,
          create: stepCommand(step, s),
          ...(stdinOf[step] ? { stdin: stdinOf[step] } : {}),
          triggers: stepTriggers(step, hub),
          addPreviousOutputInEnv: false,
        },
        {
          parent: this,
          dependsOn: [...(previous ? [previous] : []), ...files],
          // The analyzer receives inputs unwrapped: this option is how it (and the state) knows stdin is secret.
          ...(stdinOf[step] ? { additionalSecretOutputs: ["stdin"] } : {}),
        },
      );
      previous = cmd;
    }

    this.serverReady = previous!;
    this.adminUser = pulumi.output(ADMIN_USER);
    this.adminPassword = pulumi.secret(adminPassword);
    this.writerSecrets = Object.fromEntries(inUse.map((w) => [w, pulumi.secret(writerSecrets[w])]));

    this.nixosModule = pulumi.output(module);
    this.registerOutputs({
      adminUser: this.adminUser,
      adminPassword: this.adminPassword,
      writerSecrets: this.writerSecrets,
      nixosModule: this.nixosModule,
    });
  }
}
