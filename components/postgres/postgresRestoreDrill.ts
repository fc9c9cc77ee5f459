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
import { drillCheckFiles, drillEnv, POSTGRES_ALPINE_UID, S3_SECRET_KEYS } from "./logic.js";
import { CronJobWatch } from "../core/watch.js";
import { drillWatch } from "./logic.js";
import {
  databaseWithDefaults,
  restoreDrillWithDefaults,
  type DatabaseInput,
  type RestoreDrillInput,
} from "./schema.js";

export interface PostgresRestoreDrillArgs {
  /** `postgres.restoreDrill`; each key left out takes the schema's default (POSTGRES_DEFAULTS.restoreDrill in ./schema.ts). @default {}: every database, "0 6 * * 0", [DEFAULT_CHECK] */
  readonly drill?: RestoreDrillInput;
  /** Every configured database (`postgres.databases`); the drill covers those `drill.databases` names. */
  readonly databases: readonly DatabaseInput[];
  /** Where the dumps are. */
  readonly hub: HubConnection;
  /** The hub's postgres writer (reads the dumps, writes drill/last-success.json and status/drills/postgres/<name>.json). */
  readonly credentials: WriterCredentials;
}

/**
 * Per drilled database, a CronJob in its namespace that restores the newest verified dump into a
 * scratch PostgreSQL server started inside the pod and runs the SQL checks; the CronJob's last
 * successful run is what the restore-test alert watches.
 */
export class PostgresRestoreDrill extends pulumi.ComponentResource {
  /** `<namespace>/<cronjob>` of every drill CronJob, by database name. */
  public readonly cronJobNames: pulumi.Output<Record<string, string>>;
  /** What watches the CronJob (namespace, name, its real schedule, deadlines, metric): read by alerts and plan. */
  public readonly watches: pulumi.Output<CronJobWatch[]>;

  constructor(name: string, args: PostgresRestoreDrillArgs, opts?: pulumi.ComponentResourceOptions) {
    super("homelab-backup:index:PostgresRestoreDrill", name, {}, opts);
    const databases = args.databases.map((d) => databaseWithDefaults(d));
    const drill = restoreDrillWithDefaults(
      args.drill ?? {},
      databases.map((d) => d.name),
    );
    const chosen = drill.databases.map((n) => {
      const db = databases.find((d) => d.name === n);
      if (!db) throw new Error(`postgres.restoreDrill.databases names "${n}", which is not in postgres.databases`);
      return db;
    });
    const files = {
      "restore.sh": readScript("postgres/restore.sh"),
      "restore-drill.sh": readScript("postgres/restore-drill.sh"),
      // Sourced by restore-drill.sh from beside it: it leaves the drill's result at status/drills/postgres/.
      "drill-record.sh": readScript("drills/drill-record.sh"),
      ...drillCheckFiles(drill.checks),
    };
    const hash = contentHash(...Object.entries(files).flat());
    const out: Record<string, pulumi.Output<string>> = {};
    const watches: CronJobWatch[] = [];

    for (const db of chosen) {
      const ns = db.namespace;
      const watch = drillWatch(db, drill.schedule);
      watches.push(watch);
      const jobName = watch.cronJob;
      const labels = { ...commonLabels("postgres-restore-drill"), "homelab-backup/database": db.name };
      const configMap = new k8s.core.v1.ConfigMap(
        `${name}-${db.name}-scripts`,
        { metadata: { name: `${jobName}-scripts`, namespace: ns, labels }, data: files },
        { parent: this },
      );
      const secret = new k8s.core.v1.Secret(
        `${name}-${db.name}-s3`,
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
        `${name}-${db.name}`,
        {
          metadata: { name: jobName, namespace: ns, labels },
          spec: backupCronJobSpec({
            schedule: watch.schedule,
            podLabels: { ...labels, "homelab-backup/scripts-hash": hash },
            runAsUser: POSTGRES_ALPINE_UID,
            activeDeadlineSeconds: watch.activeDeadlineSeconds,
            backoffLimit: 0,
            initContainers: [rcloneInitContainer()],
            containers: [
              {
                name: "restore-drill",
                image: db.image,
                command: ["/bin/bash", "/scripts/restore-drill.sh"],
                env: drillEnv(db, args.hub, `${jobName}-s3`),
                resources: { requests: { cpu: "250m", memory: "256Mi" }, limits: { cpu: "2", memory: "1Gi" } },
                volumeMounts: [TMP_MOUNT, TOOLS_MOUNT, SCRIPTS_MOUNT, { name: "scratch", mountPath: "/var/lib/drill" }],
              },
            ],
            // The scratch server's data directory: as large as the restored database, on the node's disk.
            volumes: [TOOLS_VOLUME, scriptsVolume(`${jobName}-scripts`), { name: "scratch", emptyDir: {} }],
          }),
        },
        { parent: this, dependsOn: [configMap, secret] },
      );
      out[db.name] = pulumi.interpolate`${ns}/${cronJob.metadata.name}`;
    }

    this.cronJobNames = pulumi.output(out);
    this.watches = pulumi.output(watches);
    this.registerOutputs({ cronJobNames: this.cronJobNames, watches: this.watches });
  }
}
