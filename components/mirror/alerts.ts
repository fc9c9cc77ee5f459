/** Alert rules of the bucket mirrors (composed by components/alerts/rules.ts). */
import type { StackConfig } from "../config.js";
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

/** Failure and staleness of every mirror CronJob. */
export function mirrorAlertRules(stack: StackConfig): Built[] {
  const out: Built[] = [];
  const mirrors = stack.buckets?.mirrors ?? [];
  for (const m of mirrors) {
    out.push(
      ...cronJobRules({
        group: "homelab-backup.buckets",
        cls: "buckets",
        failedAlert: "BucketMirrorFailed",
        staleAlert: "BucketMirrorStale",
        failedSeverity: "warning",
        staleSeverity: "critical",
        what: `Mirror of bucket \`${m.source.bucket}\` (\`${m.name}\`)`,
        namespace: m.source.credentialsSecret.namespace,
        cronJob: names.mirrorCronJob(m.name),
        cron: m.schedule,
        threshold: cronJobStaleSeconds(m.schedule, JOB_ACTIVE_DEADLINES.mirror),
        why: cronWhy(
          m.schedule,
          DEFAULT_STARTING_DEADLINE_SECONDS + JOB_ACTIVE_DEADLINES.mirror,
          jobAllowanceText(JOB_ACTIVE_DEADLINES.mirror),
        ),
      }),
    );
  }
  return out;
}
