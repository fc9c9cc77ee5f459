/**
 * Cron arithmetic for the 5-field UTC schedules every data class uses. Kubernetes CronJobs, Velero
 * Schedules and Longhorn RecurringJobs all parse schedules with robfig/cron v3 `ParseStandard`
 * (sources in test/fixtures/README.md), so a schedule is valid here only if that parser takes it and
 * means the same by it: the project's validator is checked against robfig/cron itself in
 * test/core/cronRobfig.integration.test.ts. Run times are computed with `cron-parser`; this module
 * narrows it to what robfig accepts and derives the numbers the plan, the alert thresholds and the
 * schedule spreading need.
 */
import { CronExpressionParser } from "cron-parser";

const MONTHS = "JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC";
const DAYS = "SUN|MON|TUE|WED|THU|FRI|SAT";
/** Per field, the characters robfig/cron's standard parser accepts (no `L`, `W`, `#` or `H`). */
const FIELD_SYNTAX: RegExp[] = [
  /^[\d*,/-]+$/,
  /^[\d*,/-]+$/,
  /^[\d*,/?-]+$/,
  new RegExp(`^(?:[\\d*,/-]|${MONTHS})+$`, "i"),
  new RegExp(`^(?:[\\d*,/?-]|${DAYS})+$`, "i"),
];
const FIELD_NAMES = ["minute", "hour", "day of month", "month", "day of week"];
/** robfig/cron's descriptors and the 5-field schedule each stands for (its parser.go parseDescriptor). */
const DESCRIPTORS: Record<string, string> = {
  "@yearly": "0 0 1 1 *",
  "@annually": "0 0 1 1 *",
  "@monthly": "0 0 1 * *",
  "@weekly": "0 0 * * 0",
  "@daily": "0 0 * * *",
  "@midnight": "0 0 * * *",
  "@hourly": "0 * * * *",
};

/**
 * Why the day-of-week field breaks robfig/cron's rules (days 0–6, Sunday 0), or undefined. robfig
 * refuses 7 anywhere in the field ("end of range (7) above maximum (6)"), which cron-parser would take
 * as Sunday; and it reads a single start with a step (`1/2`) as running to 6, where cron-parser runs
 * it to 7 (Sunday too), so that form is refused rather than computed differently.
 */
function dayOfWeekError(field: string): string | undefined {
  for (const part of field.split(",")) {
    const [range, step] = part.split("/");
    for (const bound of range.split("-")) {
      if (/^\d+$/.test(bound) && Number(bound) > 6) {
        return `day of week ${Number(bound)} is not accepted by Kubernetes, Velero or Longhorn (robfig/cron allows 0–6): use 0 for Sunday`;
      }
    }
    if (step !== undefined && /^(\d+|[a-z]{3})$/i.test(range)) {
      return `day of week "${part}" (a start with a step) is read differently by cron implementations: write the range, e.g. "${range}-6/${step}"`;
    }
  }
  return undefined;
}

/**
 * Returns why `expr` is not a valid 5-field cron expression that Kubernetes, Velero and Longhorn all
 * accept and read the same way, or undefined when it is.
 */
export function cronError(expr: string): string | undefined {
  if (typeof expr !== "string" || expr.trim() === "")
    return 'is empty; expected a 5-field cron expression such as "0 3 * * *"';
  const trimmed = expr.trim();
  if (trimmed.startsWith("@")) {
    const standsFor = DESCRIPTORS[trimmed.toLowerCase()];
    return standsFor
      ? `"${expr}": write the 5-field form "${standsFor}" (the plan, the alerts and the schedule checks compute with 5 fields)`
      : `"${expr}" is not a 5-field cron expression (minute hour day-of-month month day-of-week, UTC); @every and other descriptors have no fixed run times`;
  }
  if (/^(CRON_)?TZ=/.test(trimmed))
    return `"${expr}": a TZ= or CRON_TZ= prefix is refused by Kubernetes CronJobs; schedules are in UTC, give the 5 fields only`;
  const fields = trimmed.split(/\s+/);
  if (fields.length !== 5) {
    return `"${expr}" has ${fields.length} field${fields.length === 1 ? "" : "s"}; expected 5 (minute hour day-of-month month day-of-week, UTC)`;
  }
  for (let i = 0; i < 5; i++) {
    if (!FIELD_SYNTAX[i].test(fields[i]))
      return `"${expr}": the ${FIELD_NAMES[i]} field "${fields[i]}" is not standard cron syntax`;
  }
  const dow = dayOfWeekError(fields[4]);
  if (dow) return `"${expr}": ${dow}`;
  try {
    CronExpressionParser.parse(expr, { tz: "UTC" });
  } catch (e) {
    return `"${expr}" is not a valid cron expression: ${(e as Error).message}`;
  }
  return undefined;
}

/** Throws when `expr` is not a valid 5-field cron expression. */
export function assertCron(expr: string): void {
  const err = cronError(expr);
  if (err) throw new Error(`cron ${err}`);
}

/** The next `count` run times of `expr` strictly after `from`, in UTC. */
export function nextRuns(expr: string, from: Date, count: number): Date[] {
  assertCron(expr);
  const it = CronExpressionParser.parse(expr, { tz: "UTC", currentDate: from });
  const out: Date[] = [];
  for (let i = 0; i < count; i++) out.push(it.next().toDate());
  return out;
}

/** Every run of `expr` in [from, to), in UTC. */
export function runsBetween(expr: string, from: Date, to: Date, limit = 200_000): Date[] {
  assertCron(expr);
  const it = CronExpressionParser.parse(expr, { tz: "UTC", currentDate: new Date(from.getTime() - 1), endDate: to });
  const out: Date[] = [];
  while (out.length < limit && it.hasNext()) {
    const d = it.next().toDate();
    if (d.getTime() >= to.getTime()) break;
    out.push(d);
  }
  return out;
}

export interface CronGaps {
  /** Shortest time between two consecutive runs, in seconds. */
  readonly minGapSeconds: number;
  /** Longest time between two consecutive runs, in seconds: what a staleness alert must tolerate. */
  readonly maxGapSeconds: number;
  /** Average number of runs per day over the horizon. */
  readonly runsPerDay: number;
}

/** A fixed reference so that results do not depend on the day the program runs. */
const EPOCH = Date.UTC(2026, 0, 1);
/** Eight years: covers leap days (`0 0 29 2 *`) and yearly schedules. */
const HORIZON_MS = 8 * 366 * 86_400_000;
const MAX_SAMPLES = 12_000;

/**
 * How far the gaps must be sampled to have seen every gap the schedule can produce: a schedule that
 * restricts neither the day of month nor the month repeats every week (two weeks cover every gap,
 * including the one across a week boundary); one restricting the day of month but not February 29
 * repeats within two years; anything else gets the full eight years. cron-parser needs ~0.1 ms a run,
 * so this is what keeps the render of hundreds of daily schedules fast.
 */
function gapHorizonMs(expr: string): number {
  const [, , dom, month] = expr.trim().split(/\s+/);
  if (dom === "*" && month === "*") return 15 * 86_400_000;
  if (!/(^|[,\-/])(29|30|31)([,\-/]|$)/.test(dom) || month === "*") return 2 * 366 * 86_400_000;
  return HORIZON_MS;
}
const gapCache = new Map<string, CronGaps>();

/**
 * Gaps between consecutive runs of `expr`, sampled from 2026-01-01 UTC over the horizon the schedule
 * needs (`gapHorizonMs`, at most eight years) or
 * 12,000 runs, whichever comes first (every-minute schedules reach the run cap after eight days,
 * which still spans every weekly pattern such a schedule can have).
 */
export function cronGaps(expr: string): CronGaps {
  const cached = gapCache.get(expr);
  if (cached) return cached;
  assertCron(expr);
  const horizonMs = gapHorizonMs(expr);
  const it = CronExpressionParser.parse(expr, { tz: "UTC", currentDate: new Date(EPOCH - 1) });
  let prev = it.next().toDate().getTime();
  const first = prev;
  let min = Infinity;
  let max = 0;
  let n = 1;
  while (n < MAX_SAMPLES) {
    const t = it.next().toDate().getTime();
    const gap = (t - prev) / 1000;
    if (gap < min) min = gap;
    if (gap > max) max = gap;
    prev = t;
    n++;
    if (t - EPOCH > horizonMs) break;
  }
  const days = Math.max((prev - first) / 86_400_000, 1 / 1440);
  const result: CronGaps = { minGapSeconds: min, maxGapSeconds: max, runsPerDay: (n - 1) / days };
  gapCache.set(expr, result);
  return result;
}

/** The UTC minute of day (0..1439) of a cron whose minute and hour fields are single numbers, else undefined. */
export function fixedMinuteOfDay(expr: string): number | undefined {
  const [m, h] = expr.trim().split(/\s+/);
  if (!/^\d+$/.test(m) || !/^\d+$/.test(h)) return undefined;
  return Number(h) * 60 + Number(m);
}

/** "HH:MM" for a minute of day. */
export function formatMinuteOfDay(minute: number): string {
  const h = Math.floor(minute / 60) % 24;
  const m = minute % 60;
  return `${String(h).padStart(2, "0")}:${String(m).padStart(2, "0")}`;
}

/** A short human description for the plan: the expression and its cadence. */
export function describeCron(expr: string): string {
  const { maxGapSeconds, runsPerDay } = cronGaps(expr);
  const at = fixedMinuteOfDay(expr);
  const f = expr.trim().split(/\s+/);
  const time = at === undefined ? "" : ` ${formatMinuteOfDay(at)} UTC`;
  if (f[2] === "*" && f[3] === "*" && f[4] === "*" && at !== undefined) return `daily${time} (\`${expr}\`)`;
  if (f[2] === "*" && f[3] === "*" && /^\d$/.test(f[4]) && at !== undefined) {
    const day = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][Number(f[4])];
    return `weekly ${day}${time} (\`${expr}\`)`;
  }
  if (/^\d+$/.test(f[2]) && f[3] === "*" && f[4] === "*" && at !== undefined)
    return `monthly on day ${f[2]}${time} (\`${expr}\`)`;
  if (runsPerDay >= 1)
    return `${+runsPerDay.toFixed(2)}×/day, longest gap ${formatSeconds(maxGapSeconds)} (\`${expr}\`)`;
  return `every ~${formatSeconds(86_400 / runsPerDay)}, longest gap ${formatSeconds(maxGapSeconds)} (\`${expr}\`)`;
}

/** 93600 → "26h", 5400 → "1h30m", 90 → "1m30s". */
export function formatSeconds(total: number): string {
  const s = Math.round(total);
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  let out = "";
  if (d) out += `${d}d`;
  if (h) out += `${h}h`;
  if (m) out += `${m}m`;
  if (sec || !out) out += `${sec}s`;
  return out;
}
