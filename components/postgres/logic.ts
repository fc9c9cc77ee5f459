/**
 * PostgreSQL logical dumps: when each database is dumped, the environment of the dump, restore and
 * drill containers, the restore runbook and the plan section. All pure: components stay thin.
 */
import type * as k8s from "@pulumi/kubernetes";
import { PREFIXES } from "../core/schema.js";
import type { DatabaseConfig, PostgresConfig } from "../config.js";
import { fixedMinuteOfDay } from "../core/cron.js";
import { parseGoDuration } from "../core/duration.js";
import { type HubConnection } from "../core/hubConnection.js";
import { DEFAULT_ACTIVE_DEADLINE_SECONDS } from "../core/cronJob.js";
import { names } from "../core/names.js";
import { cronJobWatch, type CronJobWatch } from "../core/watch.js";
import { rcloneS3Provider } from "../core/rclone.js";

type EnvVar = k8s.types.input.core.v1.EnvVar;

/**
 * zstd level of the dumps. zstd runs on several threads, so at this level compression stays ahead of
 * pg_dump and the pipeline runs at pg_dump's speed (figures: test/bench/postgres.bench.ts).
 */
export const DEFAULT_ZSTD_LEVEL = 1;

/** activeDeadlineSeconds of a dump Job: a homelab database dumps in minutes. */
export const DUMP_ACTIVE_DEADLINE_SECONDS = DEFAULT_ACTIVE_DEADLINE_SECONDS;
/** activeDeadlineSeconds of a restore drill Job: it restores a whole dump into a scratch server. */
export const RESTORE_DRILL_ACTIVE_DEADLINE_SECONDS = 4 * 3600;

/** What watches a database's dump CronJob (built by PostgresDumpJob, read by the alert rules). */
export function dumpWatch(db: Pick<DatabaseConfig, "name" | "namespace">, schedule: string): CronJobWatch {
  return cronJobWatch(db.namespace, names.postgresDumpCronJob(db.name), schedule, DUMP_ACTIVE_DEADLINE_SECONDS);
}

/** What watches a database's restore drill CronJob (built by PostgresRestoreDrill). */
export function drillWatch(db: Pick<DatabaseConfig, "name" | "namespace">, schedule: string): CronJobWatch {
  return cronJobWatch(
    db.namespace,
    names.postgresRestoreDrillCronJob(db.name),
    schedule,
    RESTORE_DRILL_ACTIVE_DEADLINE_SECONDS,
  );
}
/**
 * CPU limit of the dump container. zstd gets as many threads: `-T0` would count the node's cores, not
 * the container's limit, and start more workers (and buffers) than the limit lets run.
 */
export const DUMP_CPU_LIMIT = 2;
/** uid/gid of the `postgres` user of the stock postgres alpine image: the dump pod runs as it. */
export const POSTGRES_ALPINE_UID = 70;
/** Keys of the per-database Secret that holds the postgres writer's S3 credentials. */
export const S3_SECRET_KEYS = { accessKeyId: "access-key-id", secretAccessKey: "secret-access-key" } as const;
/**
 * rclone multipart settings: the upload holds about chunk size × concurrency (32 MiB) in buffers. 8M × 4 was
 * the fastest setting measured and the leanest but one (README, Performance; test/bench/postgres.bench.ts --tune).
 */
export const RCLONE_CHUNK_SIZE = "8M";
export const RCLONE_UPLOAD_CONCURRENCY = 4;

const prefixDir = PREFIXES.postgres.replace(/\/$/, "");

/** Key prefix of one database's dumps: `postgres-backups/<name>/`. */
export function dumpPrefix(name: string): string {
  return `${PREFIXES.postgres}${name}/`;
}

/** Identifies one PostgreSQL server: dumps of the same server must not start at the same minute. */
export function serverOf(db: Pick<DatabaseConfig, "namespace" | "host" | "port">): string {
  const host = db.host.includes(".") ? db.host : `${db.host}.${db.namespace}`;
  return `${host}:${db.port}`;
}

function minutes(hhmm: string): number {
  const [h, m] = hhmm.split(":").map(Number);
  return h * 60 + m;
}

/**
 * The schedule of every database. A configured `schedule` is kept as written. The others are spread
 * evenly across `window` (start inclusive, end exclusive), one every floor(window / n) minutes, in an
 * order that interleaves servers round-robin, so that consecutive slots go to different servers and
 * two dumps of one server are at least (number of servers) slots apart. A slot that falls on the
 * minute of a configured dump of the same server moves to the next minute of the window free for that
 * server. Assumption: a dump finishes within its slot spacing (2 h window / 8 databases = 15 min;
 * pg_dump streams tens of MB/s, so that is several GiB); if dumps of one server still overlap, they
 * are only concurrent readers of the server, never wrong.
 * Deterministic: same config, same schedules.
 */
export function dumpSchedules(pg: Pick<PostgresConfig, "window" | "databases">): Map<string, string> {
  const out = new Map<string, string>();
  const start = minutes(pg.window.start);
  const length = minutes(pg.window.end) - start;
  const busy = new Map<string, Set<number>>();
  const mark = (server: string, minute: number) => {
    if (!busy.has(server)) busy.set(server, new Set());
    busy.get(server)!.add(minute);
  };
  for (const db of pg.databases) {
    if (!db.schedule) continue;
    out.set(db.name, db.schedule);
    const fixed = fixedMinuteOfDay(db.schedule);
    if (fixed !== undefined) mark(serverOf(db), fixed);
  }
  const byServer = new Map<string, DatabaseConfig[]>();
  for (const db of pg.databases.filter((d) => !d.schedule)) {
    const s = serverOf(db);
    if (!byServer.has(s)) byServer.set(s, []);
    byServer.get(s)!.push(db);
  }
  const queues = [...byServer.values()];
  const order: DatabaseConfig[] = [];
  for (let round = 0; order.length < queues.reduce((n, q) => n + q.length, 0); round++) {
    for (const q of queues) if (round < q.length) order.push(q[round]);
  }
  order.forEach((db, i) => {
    const server = serverOf(db);
    let offset = Math.floor((i * length) / order.length);
    const taken = busy.get(server);
    for (let tries = 0; taken?.has(start + offset) && tries < length; tries++) offset = (offset + 1) % length;
    const minute = start + offset;
    mark(server, minute);
    out.set(db.name, `${minute % 60} ${Math.floor(minute / 60)} * * *`);
  });
  return out;
}

/** rclone's `hub` remote, configured only by environment; credentials by reference to `secretName`. */
export function rcloneHubEnv(hub: HubConnection, secretName: string): EnvVar[] {
  return [
    { name: "RCLONE_CONFIG_HUB_TYPE", value: "s3" },
    { name: "RCLONE_CONFIG_HUB_PROVIDER", value: rcloneS3Provider(hub.server) },
    { name: "RCLONE_CONFIG_HUB_ENDPOINT", value: hub.endpoint },
    { name: "RCLONE_CONFIG_HUB_REGION", value: hub.region },
    { name: "RCLONE_CONFIG_HUB_FORCE_PATH_STYLE", value: String(hub.pathStyle) },
    {
      name: "RCLONE_CONFIG_HUB_ACCESS_KEY_ID",
      valueFrom: { secretKeyRef: { name: secretName, key: S3_SECRET_KEYS.accessKeyId } },
    },
    {
      name: "RCLONE_CONFIG_HUB_SECRET_ACCESS_KEY",
      valueFrom: { secretKeyRef: { name: secretName, key: S3_SECRET_KEYS.secretAccessKey } },
    },
    { name: "RCLONE_S3_NO_CHECK_BUCKET", value: "true" },
    { name: "RCLONE_S3_CHUNK_SIZE", value: RCLONE_CHUNK_SIZE },
    { name: "RCLONE_S3_UPLOAD_CONCURRENCY", value: String(RCLONE_UPLOAD_CONCURRENCY) },
    { name: "RCLONE_CONFIG", value: "/dev/null" },
  ];
}

/** Environment of the dump container (ACTION=dump; a restore Job created from it sets ACTION=restore). */
export function dumpEnv(
  db: DatabaseConfig,
  hub: HubConnection,
  s3SecretName: string,
  zstdLevel = DEFAULT_ZSTD_LEVEL,
): EnvVar[] {
  return [
    { name: "ACTION", value: "dump" },
    { name: "DUMP_NAME", value: db.name },
    { name: "DUMP_MODE", value: db.mode },
    { name: "HUB_BUCKET", value: hub.bucket },
    { name: "BACKUP_PREFIX", value: prefixDir },
    { name: "ZSTD_LEVEL", value: String(zstdLevel) },
    { name: "ZSTD_THREADS", value: String(DUMP_CPU_LIMIT) },
    // pg_dump --lock-wait-timeout takes a PostgreSQL duration; whole milliseconds are exact.
    { name: "LOCK_TIMEOUT", value: `${Math.max(1, Math.round(parseGoDuration(db.lockTimeout)! * 1000))}ms` },
    { name: "PGHOST", value: db.host },
    { name: "PGPORT", value: String(db.port) },
    { name: "PGUSER", value: db.user },
    // pg_dumpall connects to the maintenance database; `database` defaults to the dump's name, which a
    // whole-server dump need not have.
    { name: "PGDATABASE", value: db.mode === "cluster" ? "postgres" : db.database },
    { name: "PGPASSWORD", valueFrom: { secretKeyRef: { name: db.passwordSecret.name, key: db.passwordSecret.key } } },
    { name: "PGAPPNAME", value: "homelab-backup" },
    { name: "RCLONE", value: "/opt/tools/rclone" },
    // status/drills/postgres/<name>.json (components/drills/drill-record.sh, sourced by restore-drill.sh).
    { name: "DRILL_RECORD_CLASS", value: "postgres" },
    { name: "DRILL_RECORD_ITEM", value: db.name },
    ...rcloneHubEnv(hub, s3SecretName),
  ];
}

/** Environment of a restore drill container for one database. */
export function drillEnv(db: DatabaseConfig, hub: HubConnection, s3SecretName: string): EnvVar[] {
  return [
    { name: "DUMP_NAME", value: db.name },
    { name: "HUB_BUCKET", value: hub.bucket },
    { name: "BACKUP_PREFIX", value: prefixDir },
    // A whole-server dump's checks run in the maintenance database (they may query pg_database,
    // pg_roles); a database dump's checks run in that database.
    { name: "CHECK_DATABASE", value: db.mode === "cluster" ? "postgres" : db.database },
    { name: "DRILL_DIR", value: "/var/lib/drill" },
    { name: "CHECKS_DIR", value: "/scripts" },
    { name: "SCRIPTS_DIR", value: "/scripts" },
    { name: "RCLONE", value: "/opt/tools/rclone" },
    // status/drills/postgres/<name>.json (components/drills/drill-record.sh, sourced by restore-drill.sh).
    { name: "DRILL_RECORD_CLASS", value: "postgres" },
    { name: "DRILL_RECORD_ITEM", value: db.name },
    ...rcloneHubEnv(hub, s3SecretName),
  ];
}

/** ConfigMap keys of the drill's checks: check-001.sql, check-002.sql, ... (run in that order). */
export function drillCheckFiles(checks: readonly string[]): Record<string, string> {
  return Object.fromEntries(
    checks.map((sql, i) => [`check-${String(i + 1).padStart(3, "0")}.sql`, `${sql.trim().replace(/;?$/, ";")}\n`]),
  );
}

/** Default name of the database a restore creates: never the live one. */
export function defaultRestoreTarget(db: DatabaseConfig): string {
  return `${db.database}_restored`;
}

/**
 * A restore Job runs once and may take hours: no retry (a second attempt after a half-applied
 * cluster restore would apply it twice) and its own deadline, not the dump's one hour.
 */
export const RESTORE_JOB = { backoffLimit: 0, activeDeadlineSeconds: 6 * 3600 } as const;

/** What a Job made from the dump CronJob does: restore.sh's actions (components/postgres/restore.sh). */
export type RestoreAction = "restore" | "list" | "swap";

/**
 * The commands that run one restore action as a Job made from the dump CronJob (same image, scripts,
 * password and S3 credentials), with RESTORE_JOB's retry and deadline, then follow its log.
 * `env`: the variables the action takes (TARGET_DATABASE, DUMP_KEY, RESTORE_MODE, PGHOST).
 */
export function restoreJobCommands(
  db: DatabaseConfig,
  action: RestoreAction,
  env: Readonly<Record<string, string>> = {},
): string {
  const cj = names.postgresDumpCronJob(db.name);
  const vars = Object.entries({ ACTION: action, ...env })
    .map(([k, v]) => `${k}=${v}`)
    .join(" ");
  const patch = JSON.stringify({ spec: RESTORE_JOB });
  return [
    `job=${names.postgresRestoreJob(db.name)}`,
    `kubectl -n ${db.namespace} create job --from=cronjob/${cj} "$job" --dry-run=client -o yaml \\`,
    `  | kubectl set env --local -f - ${vars} -o yaml \\`,
    `  | kubectl patch --local -f - --type=merge -p '${patch}' -o yaml \\`,
    `  | kubectl -n ${db.namespace} apply -f -`,
    `kubectl -n ${db.namespace} logs -f "job/$job" --pod-running-timeout=10m`,
  ].join("\n");
}

/**
 * The command that restores the newest dump of `db` (or the dump DUMP_KEY names) into `target`.
 * database mode: into a new database `target` on the same server (refused if it holds tables; needs
 * CREATEDB); cluster mode: `target` is the host of a fresh server to restore roles and databases into.
 */
export function restoreRunbook(
  db: DatabaseConfig,
  hub: HubConnection,
  target: string = db.mode === "cluster" ? "<fresh-server-host>" : defaultRestoreTarget(db),
): string {
  void hub;
  return restoreJobCommands(db, "restore", db.mode === "cluster" ? { PGHOST: target } : { TARGET_DATABASE: target });
}
