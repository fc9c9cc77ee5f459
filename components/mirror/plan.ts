/** The bucket mirrors' part of plan.md. */
import { hubOf, type MirrorConfig, type StackConfig } from "../config.js";
import { describeCron } from "../core/cron.js";
import { hubConnection, s3Url, type HubConnection } from "../core/hubConnection.js";
import { names } from "../core/names.js";
import type { PlanSection } from "../core/planTypes.js";
import { hubRemoteSetup, restoreKeyOutputs } from "../core/restoreSetup.js";
import { mirrorPrefix } from "./logic.js";
import { mirrorSourceRegion } from "./schema.js";

/** Stack outputs with the key a mirror restore reads the hub with (the buckets writer: read, write and prune under buckets/). */
export const BUCKETS_RESTORE_KEYS = restoreKeyOutputs("buckets");

/**
 * How to put a mirror back into its source: rclone remotes `hub` (stack outputs) and `src` (the source
 * endpoint of the stack, its keys from the source Secret through kubectl), then `rclone sync` hub → source.
 * The source endpoint is often an in-cluster address, so `SRC_ENDPOINT` may be set first (e.g. to a
 * port-forward); `SRC_BUCKET` to restore into another bucket.
 */
export function mirrorRestore(m: MirrorConfig, hub: HubConnection): string {
  const secret = m.source.credentialsSecret;
  const key = (k: string) =>
    `"$(kubectl -n ${secret.namespace} get secret ${secret.name} -o jsonpath='{.data.${k}}' | base64 -d)"`;
  return [
    `**${m.name}**: sync the mirror back into the source bucket \`${m.source.bucket}\` (or set \`SRC_BUCKET\` first for another one its keys can write), from a workstation with rclone, the Pulumi CLI, and kubectl pointed at the cluster (for the source's keys in Secret ${secret.namespace}/${secret.name}). The source endpoint \`${m.source.endpoint}\` is the one the stack names; if this machine cannot reach it, set \`SRC_ENDPOINT\` first (e.g. to a \`kubectl port-forward\` of it):`,
    "",
    "```sh",
    ...hubRemoteSetup(hub, BUCKETS_RESTORE_KEYS),
    '# rclone remote "src": the source\'s S3 endpoint and its keys from the source Secret',
    `SRC_ENDPOINT="\${SRC_ENDPOINT:-${m.source.endpoint}}" SRC_BUCKET="\${SRC_BUCKET:-${m.source.bucket}}"`,
    `export RCLONE_CONFIG_SRC_TYPE=s3 RCLONE_CONFIG_SRC_PROVIDER=Other RCLONE_CONFIG_SRC_FORCE_PATH_STYLE=true RCLONE_CONFIG_SRC_ENDPOINT="$SRC_ENDPOINT" RCLONE_CONFIG_SRC_REGION=${mirrorSourceRegion(m)}`,
    `export RCLONE_CONFIG_SRC_ACCESS_KEY_ID=${key("AWS_ACCESS_KEY_ID")}`,
    `export RCLONE_CONFIG_SRC_SECRET_ACCESS_KEY=${key("AWS_SECRET_ACCESS_KEY")}`,
    `rclone sync "hub:$BUCKET/${mirrorPrefix(m)}" "src:$SRC_BUCKET"`,
    `rclone check "hub:$BUCKET/${mirrorPrefix(m)}" "src:$SRC_BUCKET" --one-way --size-only   # every mirrored object is back`,
    "```",
  ].join("\n");
}

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
    restore: mirrors.map((m) => mirrorRestore(m, hub)).join("\n\n"),
  };
}
