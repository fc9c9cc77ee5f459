/** The bucket mirrors' part of plan.md. */
import { hubOf, type StackConfig } from "../config.js";
import { describeCron } from "../core/cron.js";
import { hubConnection, s3Url } from "../core/hubConnection.js";
import { names } from "../core/names.js";
import type { PlanSection } from "../core/planTypes.js";
import { mirrorPrefix } from "./logic.js";

/** The bucket-mirror section of plan.md. */
export function mirrorsPlan(stack: StackConfig): PlanSection {
  const mirrors = stack.buckets?.mirrors ?? [];
  if (mirrors.length === 0) return { title: "Object-store buckets", rows: [], details: "Not configured.", restore: "" };
  const hub = hubConnection(hubOf(stack));
  return {
    title: "Object-store buckets",
    rows: mirrors.map((m) => ({
      what: `bucket \`${m.source.bucket}\` at ${m.source.endpoint}`,
      how: `rclone sync S3→S3, then \`rclone check --one-way\` and an object-count comparison (the run fails on any mismatch); CronJob ${m.source.credentialsSecret.namespace}/${names.mirrorCronJob(m.name)}, source credentials from Secret ${m.source.credentialsSecret.namespace}/${m.source.credentialsSecret.name}`,
      when: describeCron(m.schedule),
      retention:
        "a mirror: deletions at the source are mirrored at the next run; older versions per the hub's lifecycle",
      where: s3Url(hub, mirrorPrefix(m)),
    })),
    details:
      mirrors.length === 0
        ? "Not configured."
        : "The source Secret must have the keys `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY`, as Rook's ObjectBucketClaim Secrets do.",
    restore: mirrors
      .map((m) =>
        [
          `**${m.name}**: sync the mirror back into a (new) source bucket with credentials that can write it:`,
          "",
          "```sh",
          `rclone sync hub:${hub.bucket}/${mirrorPrefix(m)} src:${m.source.bucket}`,
          "```",
        ].join("\n"),
      )
      .join("\n\n"),
  };
}
