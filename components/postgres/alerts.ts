/** Alert rules of PostgreSQL dumps and restore drills (composed by components/alerts/rules.ts). */
import type { StackConfig } from "../config.js";
import { formatSeconds } from "../core/cron.js";
import { DEFAULT_STARTING_DEADLINE_SECONDS } from "../core/cronJob.js";
import { names } from "../core/names.js";
import {
  cronJobRules,
  cronJobStaleSeconds,
  cronWhy,
  JOB_ACTIVE_DEADLINES,
  jobAllowanceText,
  type Built,
} from "../alerts/ruleHelpers.js";

/** The schedule of a database's dump: its own, or a daily time inside the window (same longest gap: 24 h). */
function dumpCron(stack: StackConfig, db: { schedule?: string }): string {
  if (db.schedule) return db.schedule;
  const [h, m] = stack.postgres!.window.start.split(":").map(Number);
  return `${m} ${h} * * *`;
}

/** Failure and staleness of every dump and every restore drill. */
export function postgresAlertRules(stack: StackConfig, alerts: { restoreTestMaxAgeDays: number }): Built[] {
  const out: Built[] = [];
  const pg = stack.postgres;
  if (pg) {
    const g = "homelab-backup.postgres";
    for (const db of pg.databases) {
      const cron = dumpCron(stack, db);
      out.push(
        ...cronJobRules({
          group: g,
          cls: "postgres",
          failedAlert: "PostgresBackupFailed",
          staleAlert: "PostgresBackupStale",
          failedSeverity: "warning",
          staleSeverity: "critical",
          what: `PostgreSQL dump of \`${db.name}\``,
          namespace: db.namespace,
          cronJob: names.postgresDumpCronJob(db.name),
          cron,
          threshold: cronJobStaleSeconds(cron, JOB_ACTIVE_DEADLINES.postgresDump),
          why:
            cronWhy(cron) + (db.schedule ? "" : ` (spread in the ${pg.window.start}–${pg.window.end} window: daily)`),
        }),
      );
    }
    const drill = pg.restoreDrill;
    if (drill) {
      const maxAge = alerts.restoreTestMaxAgeDays * 86_400;
      const fromCron = cronJobStaleSeconds(drill.schedule, JOB_ACTIVE_DEADLINES.restoreDrill);
      const threshold = Math.max(maxAge, fromCron);
      const why =
        threshold === maxAge
          ? `alerts.restoreTestMaxAgeDays (${alerts.restoreTestMaxAgeDays} d); the drill's own cadence would allow ${formatSeconds(fromCron)}`
          : `${cronWhy(drill.schedule, DEFAULT_STARTING_DEADLINE_SECONDS + JOB_ACTIVE_DEADLINES.restoreDrill, jobAllowanceText(JOB_ACTIVE_DEADLINES.restoreDrill))}: longer than restoreTestMaxAgeDays (${alerts.restoreTestMaxAgeDays} d), which the schedule could never meet`;
      for (const name of drill.databases) {
        const db = pg.databases.find((d) => d.name === name)!;
        out.push(
          ...cronJobRules({
            group: g,
            cls: "postgres",
            failedAlert: "PostgresRestoreDrillFailed",
            staleAlert: "PostgresRestoreDrillStale",
            failedSeverity: "critical",
            staleSeverity: "warning",
            what: `PostgreSQL restore drill of \`${name}\``,
            namespace: db.namespace,
            cronJob: names.postgresRestoreDrillCronJob(name),
            cron: drill.schedule,
            threshold,
            why,
          }),
        );
      }
    }
  }
  return out;
}
