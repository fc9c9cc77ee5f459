/** PostgreSQL's part of plan.md: one row per database (and the drill), the window, and the restore commands. */
import { hubOf, type StackConfig } from "../config.js";
import { describeCron, fixedMinuteOfDay, formatMinuteOfDay } from "../core/cron.js";
import { hubConnection, s3Url } from "../core/hubConnection.js";
import { names } from "../core/names.js";
import type { PlanRow, PlanSection } from "../core/planTypes.js";
import { defaultRestoreTarget, dumpPrefix, RESTORE_JOB, restoreJobCommands, restoreRunbook } from "./logic.js";
import { formatSeconds } from "../core/cron.js";
import type { StackWatches } from "../core/watch.js";
import { DEFAULT_ZSTD_LEVEL } from "./logic.js";
import { DUMP_CPU_LIMIT } from "./logic.js";
import { PREFIXES } from "../core/schema.js";

/** The plan section: one row per database (and the drill), the window, and the restore commands. */
export function postgresPlan(stack: StackConfig, watches: StackWatches): PlanSection {
  const pg = stack.postgres!;
  const hub = hubConnection(hubOf(stack));
  const retention = `${pg.retentionDays} days (hub lifecycle)`;
  const rows: PlanRow[] = pg.databases.map((db) => ({
    what: `PostgreSQL \`${db.name}\` (${db.mode === "cluster" ? "whole server" : `database ${db.database}`} on ${db.namespace}/${db.host}:${db.port})`,
    how: `${db.mode === "cluster" ? "pg_dumpall" : "pg_dump"} → zstd -${DEFAULT_ZSTD_LEVEL} (${DUMP_CPU_LIMIT} threads) → S3 multipart upload, staged then copied with an integrity record (CronJob ${db.namespace}/${names.postgresDumpCronJob(db.name)})`,
    when: describeCron(watches.dumps.get(db.name)!.schedule),
    retention,
    where: s3Url(hub, dumpPrefix(db.name)),
  }));
  const drill = pg.restoreDrill;
  if (drill) {
    rows.push({
      what: `Restore drill of ${drill.databases.map((n) => `\`${n}\``).join(", ")}`,
      how: `restore the newest verified dump into a scratch server in the pod, run ${drill.checks.length} SQL check(s) (CronJobs ${drill.databases.map((n) => names.postgresRestoreDrillCronJob(n)).join(", ")})`,
      when: describeCron(drill.schedule),
      retention: "success recorded at drill/last-success.json and by the CronJob's last successful run",
      where: s3Url(hub, `${PREFIXES.postgres}<name>/drill/`),
    });
  }
  const spread = pg.databases.filter((d) => !d.schedule);
  const details = [
    `Dumps are complete or absent: each streams to \`${PREFIXES.postgres}.partial/\` and is copied to \`${PREFIXES.postgres}<name>/<name>-<UTC timestamp>.sql.zst\` only after pg_dump, zstd and the upload all succeeded, the SQL ends with pg_dump's completion trailer and the uploaded size matches. Beside it, \`<dump>.json\` records size, sha256, versions and times; \`latest.json\` then points at it. Staging objects of failed runs expire with the lifecycle.`,
    spread.length > 0
      ? `Window ${pg.window.start}–${pg.window.end} UTC: ${spread.map((d) => `\`${d.name}\` ${formatMinuteOfDay(fixedMinuteOfDay(watches.dumps.get(d.name)!.schedule)!)}`).join(", ")} (evenly spaced, servers interleaved).`
      : "",
  ]
    .filter(Boolean)
    .join("\n\n");
  const restore = [
    `Every restore runs as a Job made from the database's dump CronJob (same image, scripts and credentials), with no retry and its own deadline of ${formatSeconds(RESTORE_JOB.activeDeadlineSeconds)}; the last command follows its log. Each dump is checked against its sha256 record before anything commits.`,
    "",
    ...pg.databases.flatMap((db) =>
      db.mode === "cluster"
        ? [
            `- \`${db.name}\` (whole server): list the dumps, then restore one into a fresh server (roles and databases; add \`DUMP_KEY=<file>\` for an older dump):`,
            fence(restoreJobCommands(db, "list")),
            fence(restoreRunbook(db, hub)),
          ]
        : [
            `- \`${db.name}\`: list the dumps (newest first; the first column is the \`DUMP_KEY\` of an older one):`,
            fence(restoreJobCommands(db, "list")),
            `  Restore the newest (or \`DUMP_KEY=<file>\`) into a new database \`${defaultRestoreTarget(db)}\`, in one transaction; this needs a role with CREATEDB:`,
            fence(restoreRunbook(db, hub)),
            `  Check it, scale the application down, and swap it into place (the old database is kept as \`${db.database}_before_restore_<time>\`):`,
            fence(restoreJobCommands(db, "swap", { TARGET_DATABASE: defaultRestoreTarget(db) })),
            `  Or, when \`${db.user}\` may not create databases: restore over \`${db.database}\` itself as its owner. A safety dump of what it holds now is taken first (label \`pre-restore\`, listed above), and the replacement is one transaction that rolls back to exactly what was there on any failure:`,
            fence(restoreJobCommands(db, "restore", { RESTORE_MODE: "replace" })),
          ],
    ),
  ].join("\n");
  return { title: "PostgreSQL databases", rows, details, restore };
}

/** A sh block indented under a list item. */
function fence(commands: string): string {
  return ["  ```sh", ...commands.split("\n").map((l) => `  ${l}`), "  ```"].join("\n");
}
