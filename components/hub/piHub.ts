/**
 * A Raspberry Pi (or any 64-bit Linux box with systemd) as the backup hub, provisioned over SSH:
 * preflight → install the pinned S3 server as a systemd service → configure the bucket and one
 * user + policy per writer. Every step is a repository script (components/hub/) uploaded with
 * CopyToRemote and run by a remote Command whose triggers are the script's content hash and the
 * stack values it reads, so an unchanged hub changes nothing. Secrets travel on stdin only.
 * Destroying the component removes nothing from the hub: a backup server is not torn down by a
 * `pulumi destroy` of its configuration.
 */
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { remote } from "@pulumi/command";
import type { HubConfig } from "../config.js";
import { contentHash } from "../core/files.js";
import { WRITERS, type WriterCredentials, type WriterName } from "../core/hubConnection.js";
import {
  ADMIN_USER,
  configureStdin,
  piHubFiles,
  piHubSettings,
  serverEnvFile,
  STAGING_DIR,
  stepCommand,
  stepTriggers,
  STEP_SCRIPTS,
  writerAccessKey,
} from "./piHubSteps.js";
import type { PrefixLifecycle } from "./retention.js";

export interface PiHubArgs {
  /** The hub section of the stack file (kind pi). */
  readonly hub: HubConfig;
  /** Private key of the SSH user `hub.ssh.user` (homelab-backup:hubSshPrivateKey). */
  readonly sshPrivateKey: pulumi.Input<string>;
  /** The server's admin password (homelab-backup:hubAdminPassword). @default generated, 40 characters */
  readonly adminPassword?: pulumi.Input<string>;
  /** One lifecycle rule per bucket prefix (components/hub/retention.ts prefixLifecycles). */
  readonly lifecycles: PrefixLifecycle[];
  /** IAM-grammar policy document per writer, created as a MinIO policy and attached to that writer's user. */
  readonly writerPolicies: Record<WriterName, object>;
}

export class PiHub extends pulumi.ComponentResource {
  /** The server's admin (root) user. */
  public readonly adminUser: pulumi.Output<string>;
  /** The server's admin password (secret). */
  public readonly adminPassword: pulumi.Output<string>;
  /** Per-writer S3 credentials, usable once the configure step has created the users. */
  public readonly writers: Record<WriterName, WriterCredentials>;

  constructor(name: string, args: PiHubArgs, opts?: pulumi.ComponentResourceOptions) {
    super("homelab-backup:index:PiHub", name, args, opts);
    const s = piHubSettings(args.hub);

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
    const writerSecrets = Object.fromEntries(
      WRITERS.map((w) => [
        w,
        new random.RandomPassword(`${name}-${w}-secret-key`, { length: 40, special: false }, { parent: this }).result,
      ]),
    ) as Record<WriterName, pulumi.Output<string>>;

    const staging = new remote.Command(
      `${name}-staging`,
      // Owner-only: the scripts run as root through sudo, so nobody else may change them.
      { connection, create: `mkdir -p ${STAGING_DIR} && chmod 0700 ${STAGING_DIR}`, addPreviousOutputInEnv: false },
      { parent: this },
    );
    const uploads = new Map<string, remote.CopyToRemote>();
    for (const file of piHubFiles(args.hub)) {
      const base = file.path.slice(STAGING_DIR.length + 1);
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

    const preflight = new remote.Command(
      `${name}-preflight`,
      {
        connection,
        create: stepCommand("preflight", s),
        triggers: stepTriggers("preflight", args.hub),
        addPreviousOutputInEnv: false,
      },
      { parent: this, dependsOn: [upload(STEP_SCRIPTS.preflight)] },
    );

    const install = new remote.Command(
      `${name}-install`,
      {
        connection,
        create: stepCommand("install", s),
        stdin: pulumi.secret(pulumi.output(adminPassword).apply((p) => serverEnvFile(s.server, ADMIN_USER, p))),
        triggers: stepTriggers("install", args.hub),
        addPreviousOutputInEnv: false,
      },
      { parent: this, dependsOn: [preflight, upload(STEP_SCRIPTS.install), upload(`${s.server}.service`)] },
    );

    const writerInputs = pulumi
      .all(writerSecrets)
      .apply((secrets) => WRITERS.map((w) => ({ writer: w, secretKey: secrets[w], policy: args.writerPolicies[w] })));
    const configure = new remote.Command(
      `${name}-configure`,
      {
        connection,
        create: stepCommand("configure", s, args.lifecycles),
        stdin: pulumi.secret(pulumi.all([adminPassword, writerInputs]).apply(([p, w]) => configureStdin(p, w))),
        triggers: stepTriggers("configure", args.hub, args.lifecycles, args.writerPolicies),
        addPreviousOutputInEnv: false,
      },
      { parent: this, dependsOn: [install, upload(STEP_SCRIPTS.configure)] },
    );

    this.adminUser = pulumi.output(ADMIN_USER);
    this.adminPassword = pulumi.secret(adminPassword);
    // Tied to the configure step, so that whoever uses a writer's credentials waits until its user exists.
    this.writers = Object.fromEntries(
      WRITERS.map((w) => [
        w,
        {
          accessKeyId: pulumi.secret(configure.id.apply(() => writerAccessKey(w))),
          secretAccessKey: pulumi.secret(pulumi.all([configure.id, writerSecrets[w]]).apply(([, k]) => k)),
        },
      ]),
    ) as Record<WriterName, WriterCredentials>;

    this.registerOutputs({ adminUser: this.adminUser, adminPassword: this.adminPassword, writers: this.writers });
  }
}
