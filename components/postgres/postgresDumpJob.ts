import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import {
  backupCronJobSpec,
  rcloneInitContainer,
  scriptsVolume,
  SCRIPTS_MOUNT,
  TMP_MOUNT,
  TOOLS_MOUNT,
  TOOLS_VOLUME,
} from "../core/cronJob.js";
import { contentHash, readScript } from "../core/files.js";
import type { HubConnection, WriterCredentials } from "../core/hubConnection.js";
import { commonLabels } from "../core/names.js";
import {
  DEFAULT_ZSTD_LEVEL,
  DUMP_CPU_LIMIT,
  dumpEnv,
  POSTGRES_ALPINE_UID,
  restoreRunbook,
  S3_SECRET_KEYS,
} from "./logic.js";
import { CronJobWatch } from "../core/watch.js";
import { dumpSchedules, dumpWatch } from "./logic.js";
import { databaseWithDefaults, POSTGRES_DEFAULTS, type DatabaseInput } from "./schema.js";

export interface PostgresDumpJobArgs {
  /** One entry of `postgres.databases`; each key left out takes the schema's default (POSTGRES_DEFAULTS in ./schema.ts). */
  readonly database: DatabaseInput;
  /** 5-field UTC cron (the stack's: dumpSchedules()). @default the database's `schedule`, else the start of the default window, "0 3 * * *" */
  readonly schedule?: string;
  /** Where dumps land. */
  readonly hub: HubConnection;
  /** The hub's postgres writer: may write only under postgres-backups/. */
  readonly credentials: WriterCredentials;
  /** zstd level of the dump (1..19). @default 1 */
  readonly zstdLevel?: number;
}

/** The container command: ACTION=dump (the CronJob), or restore, list or swap (Jobs made from it by the runbook). */
export const DUMP_COMMAND = [
  "/bin/bash",
  "-c",
  'case "$ACTION" in dump) exec /scripts/dump.sh ;; restore) exec /scripts/restore.sh ;; list) exec /scripts/restore.sh --list ;; swap) exec /scripts/restore.sh --swap ;; *) echo "ACTION must be dump, restore, list or swap" >&2; exit 64 ;; esac',
];

/**
 * A CronJob in the database's namespace that streams pg_dump (or pg_dumpall) | zstd to the hub with
 * the stock postgres image, rclone copied in by an init container, its scripts from a ConfigMap, the
 * S3 credentials from its own Secret and the database password from the Secret that already exists.
 */
export class PostgresDumpJob extends pulumi.ComponentResource {
  /** Name of the CronJob. */
  public readonly cronJobName: pulumi.Output<string>;
  /** Namespace of the CronJob (the database's). */
  public readonly namespace: pulumi.Output<string>;
  /** The stack's name of the database (the dump's identity). */
  public readonly databaseName: pulumi.Output<string>;
  /** One command that restores the newest dump into a new database. */
  public readonly restoreCommand: pulumi.Output<string>;
  /** What watches the CronJob (namespace, name, its real schedule, deadlines, metric): read by alerts and plan. */
  public readonly watches: pulumi.Output<CronJobWatch[]>;

  constructor(name: string, args: PostgresDumpJobArgs, opts?: pulumi.ComponentResourceOptions) {
    super("homelab-backup:index:PostgresDumpJob", name, {}, opts);
    const db = databaseWithDefaults(args.database);
    const ns = db.namespace;
    // Alone in a section that sets nothing else, the database gets the schedule the stack would give it.
    const schedule =
      args.schedule ?? dumpSchedules({ window: POSTGRES_DEFAULTS.window, databases: [db] }).get(db.name)!;
    const watch = dumpWatch(db, schedule);
    const jobName = watch.cronJob;
    const labels = { ...commonLabels("postgres-dump"), "homelab-backup/database": db.name };
    const scripts = { "dump.sh": readScript("postgres/dump.sh"), "restore.sh": readScript("postgres/restore.sh") };

    const configMap = new k8s.core.v1.ConfigMap(
      `${name}-scripts`,
      { metadata: { name: `${jobName}-scripts`, namespace: ns, labels }, data: scripts },
      { parent: this },
    );
    const secret = new k8s.core.v1.Secret(
      `${name}-s3`,
      {
        metadata: { name: `${jobName}-s3`, namespace: ns, labels },
        type: "Opaque",
        stringData: {
          [S3_SECRET_KEYS.accessKeyId]: pulumi.secret(args.credentials.accessKeyId),
          [S3_SECRET_KEYS.secretAccessKey]: args.credentials.secretAccessKey,
        },
      },
      { parent: this },
    );
    const cronJob = new k8s.batch.v1.CronJob(
      `${name}-cronjob`,
      {
        metadata: { name: jobName, namespace: ns, labels },
        spec: backupCronJobSpec({
          schedule: watch.schedule,
          activeDeadlineSeconds: watch.activeDeadlineSeconds,
          podLabels: { ...labels, "homelab-backup/scripts-hash": contentHash(...Object.values(scripts)) },
          runAsUser: POSTGRES_ALPINE_UID,
          initContainers: [rcloneInitContainer()],
          containers: [
            {
              name: "pg-dump",
              image: db.image,
              command: DUMP_COMMAND,
              env: dumpEnv(db, args.hub, `${jobName}-s3`, args.zstdLevel ?? DEFAULT_ZSTD_LEVEL),
              resources: {
                requests: { cpu: "250m", memory: "128Mi" },
                limits: { cpu: String(DUMP_CPU_LIMIT), memory: "256Mi" },
              },
              volumeMounts: [TMP_MOUNT, TOOLS_MOUNT, SCRIPTS_MOUNT],
            },
          ],
          volumes: [TOOLS_VOLUME, scriptsVolume(`${jobName}-scripts`)],
        }),
      },
      { parent: this, dependsOn: [configMap, secret] },
    );

    this.cronJobName = cronJob.metadata.name;
    this.namespace = cronJob.metadata.namespace.apply((n) => n ?? ns);
    this.databaseName = pulumi.output(db.name);
    this.restoreCommand = pulumi.output(restoreRunbook(db, args.hub));
    this.watches = pulumi.output([watch]);
    this.registerOutputs({
      watches: this.watches,
      cronJobName: this.cronJobName,
      namespace: this.namespace,
      databaseName: this.databaseName,
      restoreCommand: this.restoreCommand,
    });
  }
}
