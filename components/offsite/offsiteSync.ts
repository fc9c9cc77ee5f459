/**
 * The encrypted second copy of the hub bucket on an FTP(S) server: rclone crypt
 * over FTP, run by a systemd timer on the hub (runOn: hub) or by a CronJob (runOn: cluster). The
 * timer's OnCalendar= lines are converted from the cron schedule, so the copy actually runs.
 */
import * as k8s from "@pulumi/kubernetes";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { HubConfig, OffsiteConfig } from "../config.js";
import {
  backupCronJobSpec,
  rcloneInitContainer,
  SCRIPTS_MOUNT,
  scriptsVolume,
  TMP_MOUNT,
  TOOLS_MOUNT,
  TOOLS_VOLUME,
} from "../core/cronJob.js";
import { contentHash, readScript } from "../core/files.js";
import { asRoot, installTimerOnHub, sameFilesOnReplace, stageFilesOnHub } from "../core/hubHost.js";
import type { HubConnection, WriterCredentials } from "../core/hubConnection.js";
import { commonLabels, names } from "../core/names.js";
import {
  envAssignments,
  OFFSITE_HUB_PATHS,
  OFFSITE_JOB_SCRIPTS,
  OFFSITE_SCRIPTS,
  offsiteConfigEnv,
  offsiteRestoreCommand,
  offsiteSecretsStdin,
  offsiteSyncEnv,
  renderOffsiteUnits,
} from "./logic.js";
import { VERSIONS } from "../core/versions.js";
import { toSystemdCalendar } from "../core/systemd.js";
import { NIXOS_PATHS, NIXOS_STATE_DIR } from "../hub/pi/nixos.js";
import { CronJobWatch } from "../core/watch.js";
import { offsiteJobWatch } from "./logic.js";

export interface OffsiteSyncArgs {
  /** The offsite section of the stack file, runOn resolved (`offsiteOf`). */
  readonly config: OffsiteConfig;
  /** The hub's S3 endpoint, bucket and addressing: the source of the copy. */
  readonly hub: HubConnection;
  /** The hub section (SSH access and the textfile collector directory for runOn: hub). */
  readonly hubConfig: HubConfig;
  /** FTP(S) login password (`homelab-backup:offsiteFtpPassword`). */
  readonly ftpPassword: pulumi.Input<string>;
  /** rclone crypt key (`homelab-backup:offsiteEncryptionKey`). @default generated: 32 random bytes, hex */
  readonly encryptionKey?: pulumi.Input<string>;
  /** The hub's offsite reader credentials (read-only on the copied prefixes). */
  readonly reader: WriterCredentials;
  /** SSH private key of the hub (required for runOn: hub). */
  readonly sshPrivateKey?: pulumi.Input<string>;
}

/** The hub directory (relative to the SSH user's home) where files are staged before root installs them. */
const STAGE = ".homelab-backup/offsite";

export class OffsiteSync extends pulumi.ComponentResource {
  /** The crypt key (a secret); undefined when encryption is off. */
  public readonly encryptionKey: pulumi.Output<string> | undefined;
  /** Downloads and decrypts the copy with only the key and the FTP login. */
  public readonly restoreCommand: pulumi.Output<string>;
  /** `homelab-backup-offsite.timer` on the hub, or undefined in the cluster. */
  public readonly timerName: string | undefined;
  /** The timer's OnCalendar= expressions (UTC), or undefined in the cluster. */
  public readonly onCalendar: string[] | undefined;
  /** `<namespace>/offsite-sync` in the cluster, or undefined on the hub. */
  public readonly cronJobName: string | undefined;
  /** What watches the in-cluster CronJob (none on the hub, whose timer reports through textfile metrics). */
  public readonly watches: pulumi.Output<CronJobWatch[]>;

  constructor(name: string, args: OffsiteSyncArgs, opts?: pulumi.ComponentResourceOptions) {
    super("homelab-backup:index:OffsiteSync", name, {}, opts);
    const { config, hub } = args;

    let key: pulumi.Output<string> | undefined;
    if (config.encryption.enabled) {
      key = args.encryptionKey
        ? pulumi.secret(pulumi.output(args.encryptionKey))
        : pulumi.secret(
            new random.RandomBytes(
              `${name}-key`,
              { length: 32 },
              { parent: this, additionalSecretOutputs: ["hex", "base64"] },
            ).hex,
          );
    }
    const stdin = pulumi.secret(
      pulumi
        .all([args.ftpPassword, key ?? "", args.reader.accessKeyId, args.reader.secretAccessKey])
        .apply(([ftp, k, id, secret]) => offsiteSecretsStdin(ftp, k || undefined, id, secret)),
    );

    const watches: CronJobWatch[] = [];
    if (config.runOn === "hub" && args.hubConfig.os === "nixos") {
      // A NixOS hub's module runs the timer and the script (components/hub/pi/hub.nix); over SSH only the
      // rclone config is written, root-only, inside the module's own directory.
      if (!args.sshPrivateKey)
        throw new Error("OffsiteSync: runOn hub needs the hub's SSH private key (homelab-backup:hubSshPrivateKey)");
      const sshUser = args.hubConfig.ssh?.user;
      const connection = {
        host: args.hubConfig.host!,
        port: args.hubConfig.ssh?.port ?? 22,
        user: sshUser,
        privateKey: args.sshPrivateKey,
      };
      const sudo = sshUser === "root" ? "" : "sudo -n ";
      const stage = new command.remote.Command(
        `${name}-stage`,
        {
          connection,
          create: `${sudo}install -d -m 0711 -o root -g root ${NIXOS_STATE_DIR} && ${sudo}install -d -m 0700 -o ${sshUser} ${NIXOS_PATHS.staging}`,
        },
        { parent: this },
      );
      const writeConfig = readScript("offsite/write-config.sh");
      const copy = new command.remote.CopyToRemote(
        `${name}-copy-write-config-sh`,
        {
          connection,
          source: new pulumi.asset.StringAsset(writeConfig),
          remotePath: `${NIXOS_PATHS.staging}/write-config.sh`,
          triggers: [contentHash(writeConfig)],
        },
        { parent: this, dependsOn: [stage] },
      );
      const configEnv = { ...offsiteConfigEnv(config, hub), RCLONE: NIXOS_PATHS.rclone };
      new command.remote.Command(
        `${name}-config`,
        {
          connection,
          create: asRoot(
            sshUser,
            `${envAssignments(configEnv)} sh ${NIXOS_PATHS.staging}/write-config.sh ${NIXOS_PATHS.rcloneConfig}`,
          ),
          delete: asRoot(sshUser, `rm -f ${NIXOS_PATHS.rcloneConfig}`),
          stdin,
          triggers: [contentHash(writeConfig, JSON.stringify(configEnv))],
          logging: "stderr",
        },
        // Create and delete write and remove the same file: the old one goes first (core/hubHost.ts).
        sameFilesOnReplace({
          parent: this,
          dependsOn: [copy],
          // The analyzer receives inputs unwrapped: this option is how it (and the state) knows stdin is secret.
          additionalSecretOutputs: ["stdin"],
        }),
      );
      this.timerName = `${names.offsiteUnit}.timer`;
      this.onCalendar = toSystemdCalendar(config.schedule);
    } else if (config.runOn === "hub") {
      if (!args.sshPrivateKey)
        throw new Error("OffsiteSync: runOn hub needs the hub's SSH private key (homelab-backup:hubSshPrivateKey)");
      const units = renderOffsiteUnits(
        {
          service: readScript("offsite/homelab-backup-offsite.service"),
          timer: readScript("offsite/homelab-backup-offsite.timer"),
        },
        config,
        hub,
        args.hubConfig,
      );
      const sshUser = args.hubConfig.ssh?.user;
      const connection = {
        host: args.hubConfig.host!,
        port: args.hubConfig.ssh?.port ?? 22,
        user: sshUser,
        privateKey: args.sshPrivateKey,
      };

      const files: Record<string, string> = {
        "install-rclone.sh": readScript("offsite/install-rclone.sh"),
        ...Object.fromEntries(OFFSITE_SCRIPTS.map((s) => [s, readScript(`offsite/${s}`)])),
        [units.serviceName]: units.service,
        [units.timerName]: units.timer,
      };
      const copies = stageFilesOnHub(name, connection, STAGE, files, { parent: this });

      const installRclone = new command.remote.Command(
        `${name}-rclone`,
        {
          connection,
          create: asRoot(
            sshUser,
            `RCLONE_INSTALL_DIR=/usr/local/bin bash ${STAGE}/install-rclone.sh ${VERSIONS.rclone}`,
          ),
          triggers: [VERSIONS.rclone, contentHash(files["install-rclone.sh"])],
        },
        { parent: this, dependsOn: copies },
      );

      const configEnv = { ...offsiteConfigEnv(config, hub), RCLONE: OFFSITE_HUB_PATHS.rclone };
      const rcloneConfig = new command.remote.Command(
        `${name}-config`,
        {
          connection,
          // Secrets go on stdin only; write-config.sh obscures the passwords on the hub and writes the file 0600.
          create: asRoot(
            sshUser,
            `${envAssignments(configEnv)} sh ${STAGE}/write-config.sh ${OFFSITE_HUB_PATHS.rcloneConfig}`,
          ),
          delete: asRoot(sshUser, `rm -f ${OFFSITE_HUB_PATHS.rcloneConfig}`),
          stdin,
          triggers: [contentHash(files["write-config.sh"], JSON.stringify(configEnv))],
          logging: "stderr",
        },
        // Create and delete write and remove the same file: the old one goes first (core/hubHost.ts).
        sameFilesOnReplace({
          parent: this,
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
            extraDirs: [args.hubConfig.textfileCollectorDir],
            removeLibDir: true,
          },
          files,
        },
        { parent: this, dependsOn: [...copies, rcloneConfig] },
      );
      this.timerName = units.timerName;
      this.onCalendar = units.onCalendar;
    } else {
      const labels = commonLabels("offsite");
      // The job's own namespace (backup-system by default) exists nowhere else: create it. Server-side
      // apply adopts it when it already exists, and it is kept on destroy because it may hold more.
      const namespace = new k8s.core.v1.Namespace(
        `${name}-namespace`,
        { metadata: { name: config.namespace, labels } },
        { parent: this, retainOnDelete: true },
      );
      const ns = namespace.metadata.name;
      const secret = new k8s.core.v1.Secret(
        `${name}-secret`,
        {
          metadata: { name: `${names.offsiteCronJob}-credentials`, namespace: ns, labels },
          type: "Opaque",
          stringData: {
            OFFSITE_FTP_PASSWORD: pulumi.secret(args.ftpPassword),
            OFFSITE_S3_ACCESS_KEY_ID: pulumi.secret(args.reader.accessKeyId),
            OFFSITE_S3_SECRET_ACCESS_KEY: args.reader.secretAccessKey,
            ...(key ? { OFFSITE_ENCRYPTION_KEY: key } : {}),
          },
        },
        { parent: this },
      );
      const scripts = new k8s.core.v1.ConfigMap(
        `${name}-scripts`,
        {
          metadata: { name: `${names.offsiteCronJob}-scripts`, namespace: ns, labels },
          data: Object.fromEntries(OFFSITE_JOB_SCRIPTS.map((s) => [s, readScript(`offsite/${s}`)])),
        },
        { parent: this },
      );
      const plainEnv = {
        ...offsiteConfigEnv(config, hub),
        ...offsiteSyncEnv(config, hub, { rclone: "/opt/tools/rclone" }),
        TMPDIR: "/tmp",
        HOME: "/tmp",
      };
      const fromSecret = (k: string) => ({
        name: k,
        valueFrom: { secretKeyRef: { name: secret.metadata.name, key: k } },
      });
      const secretEnv = [
        "OFFSITE_FTP_PASSWORD",
        "OFFSITE_S3_ACCESS_KEY_ID",
        "OFFSITE_S3_SECRET_ACCESS_KEY",
        ...(key ? ["OFFSITE_ENCRYPTION_KEY"] : []),
      ].map(fromSecret);
      const watch = offsiteJobWatch(config);
      watches.push(watch);
      new k8s.batch.v1.CronJob(
        `${name}-cronjob`,
        {
          metadata: {
            name: names.offsiteCronJob,
            namespace: ns,
            labels,
            annotations: {
              "homelab-backup/scripts-hash": contentHash(...OFFSITE_JOB_SCRIPTS.map((s) => readScript(`offsite/${s}`))),
            },
          },
          spec: backupCronJobSpec({
            schedule: watch.schedule,
            podLabels: labels,
            activeDeadlineSeconds: watch.activeDeadlineSeconds,
            initContainers: [rcloneInitContainer()],
            containers: [
              {
                name: "offsite",
                image: VERSIONS.alpineImage,
                command: ["sh", `${SCRIPTS_MOUNT.mountPath}/offsite-job.sh`],
                env: [...Object.entries(plainEnv).map(([k, v]) => ({ name: k, value: v })), ...secretEnv],
                resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "1", memory: "512Mi" } },
                volumeMounts: [TMP_MOUNT, TOOLS_MOUNT, SCRIPTS_MOUNT],
              },
            ],
            volumes: [TOOLS_VOLUME, scriptsVolume(`${names.offsiteCronJob}-scripts`)],
          }),
        },
        { parent: this, dependsOn: [scripts, secret] },
      );
      this.cronJobName = `${config.namespace}/${names.offsiteCronJob}`;
    }

    this.encryptionKey = key;
    this.restoreCommand = pulumi.output(offsiteRestoreCommand(config));
    this.watches = pulumi.output(watches);
    this.registerOutputs({
      watches: this.watches,
      encryptionKey: this.encryptionKey,
      restoreCommand: this.restoreCommand,
      timerName: this.timerName,
      onCalendar: this.onCalendar,
      cronJobName: this.cronJobName,
    });
  }
}
