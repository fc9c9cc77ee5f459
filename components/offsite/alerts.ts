/** Alert rules of the off-site copy, on the hub or in the cluster (composed by components/alerts/rules.ts). */
import { offsiteOf, type StackConfig } from "../config.js";
import { cronGaps, formatSeconds } from "../core/cron.js";
import { metrics, names } from "../core/names.js";
import { cronJobRules, cronWhy, OFFSITE_HUB_RUN_ALLOWANCE_SECONDS, rule, type Built } from "../alerts/ruleHelpers.js";
import type { StackWatches } from "../core/watch.js";

/** Failure and staleness of the off-site copy: CronJob status in the cluster, textfile metrics on the hub. */
export function offsiteAlertRules(stack: StackConfig, watches: StackWatches): Built[] {
  const out: Built[] = [];
  const offsite = offsiteOf(stack);
  if (offsite?.runOn === "cluster" && watches.offsiteJob) {
    out.push(
      ...cronJobRules({
        group: "homelab-backup.offsite",
        cls: "offsite",
        failedAlert: "OffsiteBackupFailed",
        staleAlert: "OffsiteBackupStale",
        failedSeverity: "warning",
        staleSeverity: "critical",
        what: "Off-site encrypted copy",
        watch: watches.offsiteJob,
      }),
    );
  } else if (offsite) {
    const g = "homelab-backup.offsite";
    const threshold = cronGaps(offsite.schedule).maxGapSeconds + OFFSITE_HUB_RUN_ALLOWANCE_SECONDS;
    const why = cronWhy(
      offsite.schedule,
      OFFSITE_HUB_RUN_ALLOWANCE_SECONDS,
      `${formatSeconds(OFFSITE_HUB_RUN_ALLOWANCE_SECONDS)} for the upload (the hub's timer has no deadline)`,
    );
    out.push(
      rule(
        g,
        "OffsiteBackupFailed",
        "warning",
        "offsite",
        `min by (instance) (${metrics.offsiteLastRunSuccess}) == 0`,
        {
          summary: "Off-site encrypted copy failed",
          description: `The last off-site copy run on the hub ({{ $labels.instance }}) failed. See \`journalctl -u ${names.offsiteUnit}.service\` on the hub.`,
        },
        {
          watches: `systemd timer ${names.offsiteUnit} on the hub (textfile metrics)`,
          firesWhen: `${metrics.offsiteLastRunSuccess} == 0`,
          why: "the last run failed; the next successful run clears it",
        },
      ),
    );
    const text = {
      summary: "Off-site encrypted copy is stale",
      description: `The hub's off-site copy (\`${offsite.schedule}\` UTC) has not succeeded for more than ${formatSeconds(threshold)}, or never did for that long (or the hub's node-exporter textfile metrics are missing). See \`systemctl status ${names.offsiteUnit}.timer\` on the hub.`,
    };
    const info = {
      watches: `systemd timer ${names.offsiteUnit} on the hub (textfile metrics)`,
      firesWhen: `last success older than ${formatSeconds(threshold)}, or none for ${formatSeconds(threshold)}`,
      thresholdSeconds: threshold,
      why,
    };
    out.push(
      rule(
        g,
        "OffsiteBackupStale",
        "critical",
        "offsite",
        `time() - max by (instance) (${metrics.offsiteLastSuccess} > 0) > ${threshold}`,
        text,
        info,
      ),
    );
    out.push(
      rule(
        g,
        "OffsiteBackupStale",
        "critical",
        "offsite",
        `(max by (instance) (${metrics.offsiteLastSuccess}) == 0) or absent(${metrics.offsiteLastSuccess})`,
        text,
        info,
        formatSeconds(threshold),
        { stale: "never_succeeded" },
      ),
    );
  }
  return out;
}
