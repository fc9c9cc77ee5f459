/** Alert rules of PostgreSQL dumps and restore drills (composed by components/alerts/rules.ts). */
import type { StackConfig } from "../config.js";
import { formatSeconds } from "../core/cron.js";
import { cronJobRules, cronJobStaleSeconds, type Built } from "../alerts/ruleHelpers.js";
import type { StackWatches } from "../core/watch.js";
import { watchWhy } from "../alerts/ruleHelpers.js";

/** Failure and staleness of every dump and every restore drill. */
export function postgresAlertRules(
  stack: StackConfig,
  watches: StackWatches,
  alerts: { restoreTestMaxAgeDays: number },
): Built[] {
  const out: Built[] = [];
  const pg = stack.postgres;
  if (pg) {
    const g = "homelab-backup.postgres";
    for (const db of pg.databases) {
      // The watch of the CronJob the dump job got (spread over the window when a database has no schedule).
      const watch = watches.dumps.get(db.name)!;
      out.push(
        ...cronJobRules({
          group: g,
          cls: "postgres",
          failedAlert: "PostgresBackupFailed",
          staleAlert: "PostgresBackupStale",
          failedSeverity: "warning",
          staleSeverity: "critical",
          what: `PostgreSQL dump of \`${db.name}\``,
          watch,
          why:
            watchWhy(watch) + (db.schedule ? "" : ` (spread in the ${pg.window.start}–${pg.window.end} window: daily)`),
        }),
      );
    }
    const drill = pg.restoreDrill;
    if (drill) {
      const maxAge = alerts.restoreTestMaxAgeDays * 86_400;
      const drillWatches = new Map(drill.databases.map((name) => [name, watches.postgresDrills.get(name)!]));
      const fromCron = cronJobStaleSeconds([...drillWatches.values()][0]);
      const threshold = Math.max(maxAge, fromCron);
      const why =
        threshold === maxAge
          ? `alerts.restoreTestMaxAgeDays (${alerts.restoreTestMaxAgeDays} d); the drill's own cadence would allow ${formatSeconds(fromCron)}`
          : `${watchWhy([...drillWatches.values()][0])}: longer than restoreTestMaxAgeDays (${alerts.restoreTestMaxAgeDays} d), which the schedule could never meet`;
      for (const name of drill.databases) {
        out.push(
          ...cronJobRules({
            group: g,
            cls: "postgres",
            failedAlert: "PostgresRestoreDrillFailed",
            staleAlert: "PostgresRestoreDrillStale",
            failedSeverity: "critical",
            staleSeverity: "warning",
            what: `PostgreSQL restore drill of \`${name}\``,
            watch: drillWatches.get(name)!,
            threshold,
            why,
          }),
        );
      }
    }
  }
  return out;
}
