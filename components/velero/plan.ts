/** Velero's part of plan.md. */
import { VELERO_AWS_PLUGIN_EMPTY_TAGGING } from "../core/versions.js";
import { ALERTS_DEFAULTS } from "../alerts/schema.js";
import { hubOf, type StackConfig } from "../config.js";
import { describeCron, formatSeconds } from "../core/cron.js";
import { formatGoDuration } from "../core/duration.js";
import { hubConnection, s3Url } from "../core/hubConnection.js";
import { names } from "../core/names.js";
import type { PlanSection } from "../core/planTypes.js";
import {
  effectiveTtlSeconds,
  steadyStateBackups,
  ttlShorterThanInterval,
  VELERO_PREFIX,
  veleroSchedules,
} from "./logic.js";
import { defaultVolumeNamespaceMatcher, usesNodeAgent } from "./fsBackup.js";
import { veleroVolumesFitRule } from "./alerts.js";
import { regexAlternatives } from "../alerts/ruleHelpers.js";
import { cronGaps } from "../core/cron.js";

/** The Velero section of the plan. */
export function veleroPlan(stack: StackConfig): PlanSection {
  const velero = stack.velero;
  if (!velero) return { title: "Kubernetes objects (Velero)", rows: [], details: "Not configured.", restore: "" };
  const hub = hubConnection(hubOf(stack));
  const built = veleroSchedules(velero);
  const rows = built.map((s) => {
    const state = steadyStateBackups(s.cron, s.ttl);
    const ns = s.includedNamespaces ? `namespaces ${s.includedNamespaces.join(", ")}` : "all namespaces";
    const what =
      s.volumeScope === "none" ? "Kubernetes objects" : `Kubernetes objects + pod volumes (Kopia: ${s.copies})`;
    return {
      what: `${what}: ${ns}, except ${velero.excludedNamespaces.join(", ") || "none"}${velero.excludedResources.length ? `; without ${velero.excludedResources.join(", ")}` : ""}`,
      how: `Velero Schedule ${velero.namespace}/${s.name} → BackupStorageLocation ${names.veleroStorageLocation}`,
      when: describeCron(s.cron),
      retention: `ttl ${formatGoDuration(effectiveTtlSeconds(s.ttl))} (${state.min === state.max ? state.max : `${state.min}–${state.max}`} backups at steady state)`,
      where: s3Url(hub, `${VELERO_PREFIX}/backups/`),
    };
  });
  const table = [
    "| schedule | cron | ttl | backups kept (min–max) | pod volumes copied |",
    "| --- | --- | --- | --- | --- |",
    ...built.map((s) => {
      const st = steadyStateBackups(s.cron, s.ttl);
      return `| ${s.name} | \`${s.cron}\` | ${formatGoDuration(effectiveTtlSeconds(s.ttl))} | ${st.min}–${st.max} | ${s.copies} |`;
    }),
  ].join("\n");
  const warnings = velero.schedules
    .filter((s) => ttlShorterThanInterval(s.cron, s.ttl))
    .map(
      (s) =>
        `\n\n**Warning:** schedule \`${s.name}\` keeps backups ${formatSeconds(effectiveTtlSeconds(s.ttl))} but runs up to ${formatSeconds(cronGaps(s.cron).maxGapSeconds)} apart: there are times with no backup of it.`,
    );
  const details = [
    table,
    `\n\nVelero deletes expired backups hourly, so one more backup than the maximum may exist for up to an hour.`,
    velero.install
      ? ` Velero is installed by this stack (Helm, with the AWS plugin \`${VELERO_AWS_PLUGIN_EMPTY_TAGGING.image}\`${usesNodeAgent(velero.fsBackup) ? " and the node agent" : ""}).`
      : " Velero must already be installed with the AWS object-store plugin (`install: false`).",
    VELERO_AWS_PLUGIN_EMPTY_TAGGING.sendsEmptyTaggingHeader && stack.hub && stack.hub.kind !== "aws"
      ? ` This plugin release sends an empty \`x-amz-tagging\` header on every upload, which some S3 servers refuse (velero-io/velero#9931; fixed in ${VELERO_AWS_PLUGIN_EMPTY_TAGGING.fixedIn}). MinIO and Silo ignore it and Ceph RGW accepts it${stack.hub.kind === "s3" ? "; the conformance check after `pulumi up` uploads as the plugin does, header included, and fails the update if this server refuses it" : ""}.${stack.hub.kind === "pi" && stack.hub.server === "rustfs" ? " Whether RustFS accepts it is not verified by this program: check that the first backup completes (`velero backup describe`)." : ""}`
      : "",
    ...warnings,
    fitEstimate(stack, built),
  ].join("");
  const first = velero.schedules[0]?.name ?? "<schedule>";
  const restore = [
    "```sh",
    "velero backup get                                   # Completed backups, newest first",
    `velero restore create --from-schedule ${first} --include-namespaces <namespace> --wait`,
    ...velero.schedules.slice(1).map((s) => `velero restore create --from-schedule ${s.name} --wait`),
    "velero restore create --from-backup <backup-name> --wait   # a specific backup",
    "velero restore describe <restore-name> --details",
    "```",
    velero.excludedResources.length
      ? `\nNot in these backups: ${velero.excludedResources.join(", ")} (restore them from their source, e.g. GitOps).`
      : "",
  ].join("\n");
  return { title: "Kubernetes objects (Velero)", rows, details, restore };
}

/**
 * How much pod-volume data the Schedules copy, and whether it fits the hub: volume sizes live in the
 * cluster, so the plan gives the query that estimates it now and names the alert that watches it.
 */
function fitEstimate(stack: StackConfig, built: ReturnType<typeof veleroSchedules>): string {
  const velero = stack.velero!;
  const scope = defaultVolumeNamespaceMatcher(built, velero.excludedNamespaces, regexAlternatives);
  if (!scope) return "";
  const query = `sum(max by (namespace, persistentvolumeclaim) (kubelet_volume_stats_used_bytes{${scope}}))`;
  const rule = veleroVolumesFitRule(stack);
  return [
    "",
    "",
    `**What the pod-volume copy costs.** The first full copy is about the used bytes of every PVC whose volumes are copied by default (\`${scope}\`; annotated volumes elsewhere come on top). Estimate it now in Prometheus:`,
    "",
    "```promql",
    query,
    "```",
    "",
    rule
      ? `Alert \`${rule.rule.alert}\` fires when it exceeds ${stack.alerts?.hubDiskUsagePercent ?? ALERTS_DEFAULTS.hubDiskUsagePercent}% of the hub's data disk (\`${stack.hub?.kind === "pi" ? stack.hub.dataDir : ""}\`): such a copy can never fit, and a full hub stops every other class.`
      : "Compare it with the free space of the hub yourself: this hub exports no disk metrics the cluster scrapes (a Pi hub with `hub.monitoring` does).",
  ].join("\n");
}
