/** The postgres section: databases, dump window and restore drill. Part of the stack file schema (components/config.ts composes the sections). */
import { z } from "zod";
import { parseGoDuration } from "../core/duration.js";
import { names } from "../core/names.js";
import {
  checkDerivedCronJobName,
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

export const databaseSchema = z.strictObject({
  name: dnsLabel(40),
  namespace: dnsLabel(),
  host: z.string().regex(/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/, "must be a service or host name"),
  port: port.default(5432),
  database: z.string().min(1).optional(),
  user: z.string().min(1).default("postgres"),
  passwordSecret: secretRef,
  schedule: cron.optional(),
  mode: z.enum(["database", "cluster"]).default("database"),
  image: pinnedImage.optional(),
  /** Overrides the section's lockTimeout for this database. */
  lockTimeout: lockTimeout.optional(),
});

export const DEFAULT_CHECK =
  "SELECT count(*) FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema')";

export const postgresSchema = z
  .strictObject({
    image: pinnedImage.default(VERSIONS.postgresImage),
    retentionDays: posInt(1).default(7),
    lockTimeout: lockTimeout.default(DEFAULT_LOCK_TIMEOUT),
    window: z.strictObject({ start: hhmm, end: hhmm }).default({ start: "03:00", end: "05:00" }),
    databases: z.array(databaseSchema).min(1, "must list at least one database"),
    restoreDrill: z
      .strictObject({
        schedule: cron.default("0 6 * * 0"),
        databases: z.array(z.string()).optional(),
        checks: z.array(z.string().min(1)).min(1, "must list at least one SQL check").default([DEFAULT_CHECK]),
      })
      .optional(),
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
    pg.databases.forEach((d, i) => {
      checkDerivedCronJobName(ctx, ["databases", i, "name"], d.name, names.postgresDumpCronJob(d.name));
      if (drilled.has(d.name))
        checkDerivedCronJobName(ctx, ["databases", i, "name"], d.name, names.postgresRestoreDrillCronJob(d.name));
    });
  })
  .transform((pg) => ({
    ...pg,
    databases: pg.databases.map((d) => ({
      ...d,
      database: d.database ?? d.name,
      image: d.image ?? pg.image,
      lockTimeout: d.lockTimeout ?? pg.lockTimeout,
    })),
    restoreDrill: pg.restoreDrill && {
      ...pg.restoreDrill,
      databases: pg.restoreDrill.databases ?? pg.databases.map((d) => d.name),
    },
  }));

/** The postgres section, parsed and defaulted. */
export type PostgresConfig = z.output<typeof postgresSchema>;
