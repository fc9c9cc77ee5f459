/**
 * Velero: how many backups a schedule keeps, the Schedule/BSL specs, and the plan section. All pure.
 */
import { PREFIXES } from "../core/schema.js";
import type { VeleroConfig, VeleroScheduleConfig } from "../config.js";
import { cronGaps, runsBetween } from "../core/cron.js";
import { formatGoDuration, parseGoDuration } from "../core/duration.js";
import { type HubConnection } from "../core/hubConnection.js";
import { names } from "../core/names.js";
import { splitSchedule, type ScheduleSplit } from "./fsBackup.js";

/** Velero's server default TTL, used when a Backup's ttl is 0 (`pkg/cmd/server/config/config.go`). */
export const VELERO_DEFAULT_TTL_SECONDS = 720 * 3600;
/** Velero garbage-collects expired backups hourly, so one extra backup may linger up to this long. */
export const VELERO_GC_SECONDS = 3600;

/** The ttl Velero actually applies, in seconds ("0" means the server default, 720h). */
export function effectiveTtlSeconds(ttl: string): number {
  const s = parseGoDuration(ttl);
  if (s === undefined || s < 0) throw new Error(`ttl ${JSON.stringify(ttl)} is not a valid Go duration`);
  return s === 0 ? VELERO_DEFAULT_TTL_SECONDS : s;
}

export interface SteadyState {
  /** Most backups alive at once (just after a run). */
  readonly max: number;
  /** Fewest backups alive at once (just before a run); 0 means there are times with no backup. */
  readonly min: number;
}

const EPOCH = Date.UTC(2026, 0, 1);

/**
 * Backups kept at steady state: each run lives `ttl` (GC lag ignored). Runs are taken from the cron
 * over one ttl of warm-up and then an observation span (`observationDays`: two weeks for schedules
 * that repeat weekly, else 400 days, 8 days for sub-hourly ones) that covers every pattern; a sliding window counts the live backups just
 * after each run (max) and just before each run (min).
 */
export function steadyStateBackups(cron: string, ttl: string): SteadyState {
  const key = `${cron}|${ttl}`;
  const cached = steadyStateCache.get(key);
  if (cached) return cached;
  const result = computeSteadyState(cron, ttl);
  steadyStateCache.set(key, result);
  return result;
}

const steadyStateCache = new Map<string, SteadyState>();

/**
 * A schedule that restricts neither the day of month nor the month repeats every week, so two weeks
 * of observation see every state; others get 400 days (months of every length, the year boundary).
 */
function observationDays(cron: string): number {
  const [, , dom, month] = cron.trim().split(/\s+/);
  if (dom === "*" && month === "*") return 14;
  return cronGaps(cron).runsPerDay > 24 ? 8 : 400;
}

function computeSteadyState(cron: string, ttl: string): SteadyState {
  const ttlMs = effectiveTtlSeconds(ttl) * 1000;
  const spanMs = observationDays(cron) * 86_400_000;
  const start = EPOCH + ttlMs;
  const runs = runsBetween(cron, new Date(EPOCH), new Date(start + spanMs), 5e6).map((d) => d.getTime());
  let max = 0;
  let min = Infinity;
  let lo = 0; // first run still alive just after run i: s > r - ttl
  let loBefore = 0; // first run still alive just before run i: s >= r - ttl
  for (let i = 0; i < runs.length; i++) {
    const r = runs[i];
    if (r < start) continue;
    while (runs[lo] <= r - ttlMs) lo++;
    while (runs[loBefore] < r - ttlMs) loBefore++;
    max = Math.max(max, i - lo + 1);
    min = Math.min(min, i - loBefore);
  }
  return { max, min: min === Infinity ? 0 : min };
}

/** True when backups expire before the next one exists: there are times with no backup at all. */
export function ttlShorterThanInterval(cron: string, ttl: string): boolean {
  return effectiveTtlSeconds(ttl) < cronGaps(cron).maxGapSeconds;
}

/** The BSL prefix: Velero joins it with "/" itself, so no trailing slash. */
export const VELERO_PREFIX = PREFIXES.velero.replace(/\/+$/, "");

/** BackupStorageLocation `spec.config` for the hub (keys from velero-plugin-for-aws; all strings). */
export function bslConfig(hub: HubConnection): Record<string, string> {
  const config: Record<string, string> = { region: hub.region };
  if (hub.kind !== "aws") {
    config.s3Url = hub.endpoint;
    // CRC32 request checksums (plugin default) break S3-compatible servers: velero #7696.
    config.checksumAlgorithm = "";
  }
  if (hub.pathStyle) config.s3ForcePathStyle = "true";
  return config;
}

/** One Velero Schedule as built: a configured schedule becomes one or two (fsBackup opt-in namespaces). */
export interface BuiltVeleroSchedule {
  /** The Schedule's name (the `schedule` label of Velero's metrics). */
  readonly name: string;
  /** The configured schedule it comes from. */
  readonly configured: string;
  readonly cron: string;
  readonly ttl: string;
  /** What pod-volume data it copies, for the plan. */
  readonly copies: string;
  readonly volumeScope: ScheduleSplit["volumeScope"];
  /** Namespaces it includes (undefined: all but the excluded ones). */
  readonly includedNamespaces?: string[];
  /** The Schedule's `spec.template`. */
  readonly template: Record<string, unknown>;
}

/** Every Velero Schedule the stack builds, in stack-file order. */
export function veleroSchedules(velero: VeleroConfig): BuiltVeleroSchedule[] {
  return velero.schedules.flatMap((s) =>
    splitSchedule(velero.fsBackup, s).map((split) => ({
      name: split.name,
      configured: s.name,
      cron: s.cron,
      ttl: s.ttl,
      copies: split.copies,
      volumeScope: split.volumeScope,
      ...(split.includedNamespaces ? { includedNamespaces: split.includedNamespaces } : {}),
      template: scheduleTemplate(velero, s, split),
    })),
  );
}

/** The Backup template of one Schedule (`split`: which part of the configured schedule it is). */
export function scheduleTemplate(
  velero: VeleroConfig,
  schedule: VeleroScheduleConfig,
  split: ScheduleSplit = splitSchedule(velero.fsBackup, schedule)[0],
): Record<string, unknown> {
  const included = split.includedNamespaces;
  // Velero refuses a backup whose excludes contain one of its includes (FailedValidation): a
  // namespace the schedule names explicitly wins over the default exclusions.
  const excluded = [...velero.excludedNamespaces, ...split.extraExcludedNamespaces].filter(
    (ns) => !included?.includes(ns),
  );
  return {
    ...(included ? { includedNamespaces: included } : {}),
    ...(excluded.length ? { excludedNamespaces: excluded } : {}),
    ...(velero.excludedResources.length ? { excludedResources: velero.excludedResources } : {}),
    storageLocation: names.veleroStorageLocation,
    snapshotVolumes: false,
    // Explicit whenever the node agent runs, so a server-wide default cannot widen an opt-in schedule.
    ...(velero.fsBackup.mode !== "off" ? { defaultVolumesToFsBackup: split.defaultVolumesToFsBackup } : {}),
    ttl: formatGoDuration(effectiveTtlSeconds(schedule.ttl)),
  };
}
