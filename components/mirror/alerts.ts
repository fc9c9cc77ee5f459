/** Alert rules of the bucket mirrors (composed by components/alerts/rules.ts). */
import type { StackConfig } from "../config.js";
import { cronJobRules, type Built } from "../alerts/ruleHelpers.js";
import type { StackWatches } from "../core/watch.js";

/** Failure and staleness of every mirror CronJob. */
export function mirrorAlertRules(stack: StackConfig, watches: StackWatches): Built[] {
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
        watch: watches.mirrors.get(m.name)!,
      }),
    );
  }
  return out;
}
