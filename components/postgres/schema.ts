/** The postgres section: databases, dump window and restore drill. Part of the stack file schema (components/config.ts composes the sections). */
import { z } from "zod";
import { parseGoDuration } from "../core/duration.js";
import { names } from "../core/names.js";
import {
  checkNameFits,
  CRONJOB_NAME_MAX,
  derivingName,
  type DerivedName,
  JOB_NAME_MAX,
  cron,
  dnsLabel,
  goDuration,
  hhmm,
  pinnedImage,
  port,
  posInt,
  secretRef,
  suggest,
  uniqueBy,
} from "../core/schema.js";
import { VERSIONS } from "../core/versions.js";

/** Default of `lockTimeout`: longer than the seconds a typical migration holds its lock, far below the job's hour. */
export const DEFAULT_LOCK_TIMEOUT = "2m";

/**
 * How long pg_dump may wait for the ACCESS SHARE lock on a table before the dump fails naming it (a Go
 * duration, handed to pg_dump --lock-wait-timeout). 0 would mean "wait until the job's deadline kills
 * the dump", which is what this setting exists to prevent.
 */
const lockTimeout = goDuration.superRefine((v, ctx) => {
  const s = parseGoDuration(v);
  if (s === undefined) return;
  if (s < 0.001)
    ctx.addIssue({
      code: "custom",
      message: `must be at least 1ms; 0 would let a held lock stall the dump until the job's deadline`,
    });
  else if (s >= 3600)
    ctx.addIssue({ code: "custom", message: `must be shorter than the dump job's one-hour deadline, not ${v}` });
});

export const DEFAULT_CHECK =
  "SELECT count(*) FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema')";

/**
 * Every default of the postgres section, in one place: the schema's `.default()`s below and the
 * components built without the schema (PostgresDumpJob, PostgresRestoreDrill, through
 * `databaseWithDefaults` and `restoreDrillWithDefaults`) read them here.
 */
export const POSTGRES_DEFAULTS = {
  image: VERSIONS.postgresImage,
  retentionDays: 7,
  lockTimeout: DEFAULT_LOCK_TIMEOUT,
  window: { start: "03:00", end: "05:00" },
  /** Of each database. */
  database: { port: 5432, user: "postgres", mode: "database" },
  restoreDrill: { schedule: "0 6 * * 0", checks: [DEFAULT_CHECK] as string[] },
} as const;

/**
 * The Kubernetes names made from a database's `name`: the dump's CronJob, the Job of a restore the
 * plan starts (`pg-restore-<name>-$(date +%s)`, components/postgres/logic.ts), and the drill's CronJob
 * when the drill covers the database.
 */
export function postgresDerivedNames(drilled: boolean): DerivedName[] {
  return [
    { kind: "CronJob", of: names.postgresDumpCronJob, max: CRONJOB_NAME_MAX },
    // $(date +%s) is 10 digits until the year 2286.
    { kind: "Job", of: (n) => names.postgresRestoreJob(n, "1".repeat(10)), max: JOB_NAME_MAX },
    ...(drilled ? [{ kind: "CronJob", of: names.postgresRestoreDrillCronJob, max: CRONJOB_NAME_MAX }] : []),
  ];
}

export const databaseSchema = z.strictObject({
  /** Names the dump's CronJob, the restore Job and the drill's CronJob: one length limit, the tightest (postgresDerivedNames). */
  name: derivingName,
  namespace: dnsLabel(),
  host: z.string().regex(/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/, "must be a service or host name"),
  /** @default 5432 */
  port: port.default(POSTGRES_DEFAULTS.database.port),
  /** The database pg_dump reads (and the restore drill checks). @default the database's `name` */
  database: z.string().min(1).optional(),
  /** @default "postgres" */
  user: z.string().min(1).default(POSTGRES_DEFAULTS.database.user),
  passwordSecret: secretRef,
  /** 5-field cron, UTC. @default a slot in the section's `window` (components/postgres/logic.ts dumpSchedules) */
  schedule: cron.optional(),
  /** `database`: pg_dump of one database; `cluster`: pg_dumpall of the whole server. @default "database" */
  mode: z.enum(["database", "cluster"]).default(POSTGRES_DEFAULTS.database.mode),
  /** @default the section's `image` */
  image: pinnedImage.optional(),
  /** Overrides the section's lockTimeout for this database. @default the section's `lockTimeout` */
  lockTimeout: lockTimeout.optional(),
});

export const restoreDrillSchema = z.strictObject({
  /** @default "0 6 * * 0" */
  schedule: cron.default(POSTGRES_DEFAULTS.restoreDrill.schedule),
  /** @default every database of the section's `databases` */
  databases: z.array(z.string()).optional(),
  /** @default [DEFAULT_CHECK]: at least one table outside the system schemas */
  checks: z
    .array(z.string().min(1))
    .min(1, "must list at least one SQL check")
    .default(POSTGRES_DEFAULTS.restoreDrill.checks),
});

export const postgresSchema = z
  .strictObject({
    /** The image every database is dumped with unless it names its own. @default VERSIONS.postgresImage (components/core/versions.ts) */
    image: pinnedImage.default(POSTGRES_DEFAULTS.image),
    /** @default 7 */
    retentionDays: posInt(1).default(POSTGRES_DEFAULTS.retentionDays),
    /** @default "2m" */
    lockTimeout: lockTimeout.default(POSTGRES_DEFAULTS.lockTimeout),
    /** UTC window the dumps without a `schedule` are spread across. @default { start: "03:00", end: "05:00" } */
    window: z.strictObject({ start: hhmm, end: hhmm }).default(POSTGRES_DEFAULTS.window),
    databases: z.array(databaseSchema).min(1, "must list at least one database"),
    restoreDrill: restoreDrillSchema.optional(),
  })
  .superRefine((pg, ctx) => {
    uniqueBy(pg.databases, (d) => d.name, "database", ctx, ["databases"]);
    if (pg.window.start >= pg.window.end) {
      ctx.addIssue({
        code: "custom",
        path: ["window", "start"],
        message: `must be earlier than window.end (${pg.window.start} >= ${pg.window.end}); a window that crosses midnight is not supported`,
      });
    }
    const dbNames = pg.databases.map((d) => d.name);
    pg.restoreDrill?.databases?.forEach((n, i) => {
      if (!dbNames.includes(n))
        ctx.addIssue({
          code: "custom",
          path: ["restoreDrill", "databases", i],
          message: `names database "${n}", which is not in postgres.databases${suggest(n, dbNames)}`,
        });
    });
    // Every CronJob named after a database must fit Kubernetes' limit: the dump's always, the drill's when the drill covers it.
    const drilled = new Set(pg.restoreDrill ? (pg.restoreDrill.databases ?? dbNames) : []);
    pg.databases.forEach((d, i) =>
      checkNameFits(ctx, ["databases", i, "name"], d.name, postgresDerivedNames(drilled.has(d.name))),
    );
  })
  .transform((pg) => ({
    ...pg,
    databases: pg.databases.map((d) => databaseWithDefaults(d, pg)),
    restoreDrill:
      pg.restoreDrill &&
      restoreDrillWithDefaults(
        pg.restoreDrill,
        pg.databases.map((d) => d.name),
      ),
  }));

/** One database as written: every key with a default may be left out. */
export type DatabaseInput = z.input<typeof databaseSchema>;
/** One database, parsed and defaulted (`database`, `image` and `lockTimeout` resolved). */
export type DatabaseConfig = z.output<typeof databaseSchema> & { database: string; image: string; lockTimeout: string };
/** The restore drill as written. */
export type RestoreDrillInput = z.input<typeof restoreDrillSchema>;
/** The restore drill, parsed and defaulted (`databases` resolved). */
export type RestoreDrillConfig = z.output<typeof restoreDrillSchema> & { databases: string[] };

/**
 * One database with every default of the schema applied: its own keys (POSTGRES_DEFAULTS.database),
 * then what it takes from its section, `image` and `lockTimeout` (the section's defaults when alone).
 */
export function databaseWithDefaults(
  db: DatabaseInput,
  section: { readonly image?: string; readonly lockTimeout?: string } = {},
): DatabaseConfig {
  const d = POSTGRES_DEFAULTS.database;
  return {
    ...db,
    port: db.port ?? d.port,
    user: db.user ?? d.user,
    mode: db.mode ?? d.mode,
    database: db.database ?? db.name,
    image: db.image ?? section.image ?? POSTGRES_DEFAULTS.image,
    lockTimeout: db.lockTimeout ?? section.lockTimeout ?? POSTGRES_DEFAULTS.lockTimeout,
  };
}

/** The restore drill with every default of the schema applied; `databases` defaults to `allDatabases`. */
export function restoreDrillWithDefaults(
  drill: RestoreDrillInput,
  allDatabases: readonly string[],
): RestoreDrillConfig {
  return {
    ...drill,
    schedule: drill.schedule ?? POSTGRES_DEFAULTS.restoreDrill.schedule,
    databases: drill.databases ?? [...allDatabases],
    checks: drill.checks ?? POSTGRES_DEFAULTS.restoreDrill.checks,
  };
}

/** The postgres section, parsed and defaulted. */
export type PostgresConfig = z.output<typeof postgresSchema>;
