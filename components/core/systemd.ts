/**
 * systemd units for jobs that run on the hub. The stack file speaks 5-field cron (the dialect of
 * every other schedule in the stack); systemd timers speak their own calendar syntax and silently
 * ignore a cron string (a unit written as `OnCalendar=0 6 * * *` never fires). This module converts one
 * into the other exactly, and renders the unit templates kept under scripts/.
 */
import { assertCron } from "./cron.js";

const MONTH_NAMES = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const DAY_NAMES = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];
const SYSTEMD_DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

interface FieldSpec {
  readonly min: number;
  readonly max: number;
  readonly names?: string[];
  /** Offset of names[0]: 1 for months (JAN = 1), 0 for days (SUN = 0). */
  readonly nameBase?: number;
}

const FIELDS: FieldSpec[] = [
  { min: 0, max: 59 },
  { min: 0, max: 23 },
  { min: 1, max: 31 },
  { min: 1, max: 12, names: MONTH_NAMES, nameBase: 1 },
  // 7 is Sunday too (cron's alias); folded into 0 below.
  { min: 0, max: 7, names: DAY_NAMES, nameBase: 0 },
];

function atom(text: string, f: FieldSpec): number {
  const upper = text.toUpperCase();
  const named = f.names?.indexOf(upper) ?? -1;
  const n = named >= 0 ? named + (f.nameBase ?? 0) : /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(n) || n < f.min || n > f.max) throw new Error(`"${text}" is out of range ${f.min}-${f.max}`);
  return n;
}

/** The set of values one cron field selects (lists, ranges, steps, names; `*` and `?` select all). */
export function expandCronField(field: string, index: number): number[] {
  const f = FIELDS[index];
  const out = new Set<number>();
  for (const part of field.split(",")) {
    const [range, stepText] = part.split("/");
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1) throw new Error(`bad step in "${part}"`);
    let lo: number;
    let hi: number;
    if (range === "*" || range === "?") {
      lo = f.min;
      hi = index === 4 ? 6 : f.max;
    } else if (range.includes("-")) {
      const [a, b] = range.split("-");
      lo = atom(a, f);
      hi = atom(b, f);
      if (hi < lo) throw new Error(`range "${range}" ends before it starts`);
    } else {
      lo = atom(range, f);
      // `N/step` means N to the end of the field, as in robfig/cron and cron-parser.
      hi = stepText === undefined ? lo : index === 4 ? 6 : f.max;
    }
    for (let v = lo; v <= hi; v += step) out.add(index === 4 && v === 7 ? 0 : v);
  }
  return [...out].sort((a, b) => a - b);
}

/** Whether a dom/dow field leaves the day unrestricted for cron's OR rule (only `*` and `?` do, as cron-parser reads it). */
function unrestricted(field: string): boolean {
  return field === "*" || field === "?";
}

/** `1,2,3,5` → `1..3,5` (systemd ranges), zero-padded to `width`. */
function compactList(values: number[], width: number): string {
  const pad = (n: number) => String(n).padStart(width, "0");
  const parts: string[] = [];
  for (let i = 0; i < values.length;) {
    let j = i;
    while (j + 1 < values.length && values[j + 1] === values[j] + 1) j++;
    if (j - i >= 2) parts.push(`${pad(values[i])}..${pad(values[j])}`);
    else for (let k = i; k <= j; k++) parts.push(pad(values[k]));
    i = j + 1;
  }
  return parts.join(",");
}

function calendarField(values: number[], f: FieldSpec, width: number): string {
  const all = f.max - f.min + 1;
  return values.length === all ? "*" : compactList(values, width);
}

function weekdays(values: number[]): string {
  // Monday-first so that ranges read the systemd way (Mon..Fri); Sunday stays a separate item.
  const order = [1, 2, 3, 4, 5, 6, 0].filter((d) => values.includes(d));
  const parts: string[] = [];
  for (let i = 0; i < order.length;) {
    let j = i;
    const pos = (d: number) => (d + 6) % 7;
    while (j + 1 < order.length && pos(order[j + 1]) === pos(order[j]) + 1) j++;
    if (j - i >= 2) parts.push(`${SYSTEMD_DAYS[order[i]]}..${SYSTEMD_DAYS[order[j]]}`);
    else for (let k = i; k <= j; k++) parts.push(SYSTEMD_DAYS[order[k]]);
    i = j + 1;
  }
  return parts.join(",");
}

/**
 * The systemd `OnCalendar=` expressions (in UTC) that fire exactly when the 5-field cron `cron` does.
 * One expression, except when both day-of-month and day-of-week are restricted: cron then runs on
 * days matching EITHER field, and systemd's calendar (which ANDs them) needs one expression per
 * field; a timer with several OnCalendar= lines fires at the earliest of them.
 */
export function toSystemdCalendar(cron: string): string[] {
  assertCron(cron);
  const fields = cron.trim().split(/\s+/);
  const [minute, hour, dom, month, dow] = fields.map((f, i) => expandCronField(f, i));
  const time = `${calendarField(hour, FIELDS[1], 2)}:${calendarField(minute, FIELDS[0], 2)}:00`;
  const mon = calendarField(month, FIELDS[3], 2);
  const days = calendarField(dom, FIELDS[2], 2);
  const allWeek = dow.length === 7;
  const onDom = `*-${mon}-${days} ${time} UTC`;
  const onDow = `${allWeek ? "" : `${weekdays(dow)} `}*-${mon}-* ${time} UTC`;
  const domStar = unrestricted(fields[2]);
  const dowStar = unrestricted(fields[4]);
  if (domStar && dowStar) return [`*-${mon}-* ${time} UTC`];
  if (dowStar) return [onDom];
  if (domStar) return [onDow];
  return [onDow, onDom];
}

/**
 * Fills `@NAME@` placeholders of a unit template. Every placeholder must have a value and every value
 * must be used, so a template and its caller cannot drift apart silently.
 */
export function fillTemplate(template: string, values: Record<string, string>): string {
  const used = new Set<string>();
  const out = template.replace(/@([A-Z][A-Z0-9_]*)@/g, (_, key: string) => {
    if (!(key in values)) throw new Error(`template placeholder @${key}@ has no value`);
    used.add(key);
    return values[key];
  });
  const unused = Object.keys(values).filter((k) => !used.has(k));
  if (unused.length) throw new Error(`template has no placeholder for ${unused.map((k) => `@${k}@`).join(", ")}`);
  return out;
}

/**
 * A timer unit from its template: the template's single `OnCalendar=@ON_CALENDAR@` line becomes one
 * `OnCalendar=` line per expression of `toSystemdCalendar(cron)`; other placeholders come from `values`.
 */
export function renderTimerUnit(template: string, cron: string, values: Record<string, string> = {}): string {
  const line = /^OnCalendar=@ON_CALENDAR@$/m;
  if (!line.test(template)) throw new Error("timer template has no OnCalendar=@ON_CALENDAR@ line");
  const calendars = toSystemdCalendar(cron);
  const withCalendar = template.replace(line, calendars.map((c) => `OnCalendar=${c}`).join("\n"));
  return fillTemplate(withCalendar, values);
}

/**
 * A value for a unit file's `Environment="KEY=value"`: `%` is a specifier and `\` and `"` are
 * C-style escapes in systemd's quoting, so all three are escaped.
 */
export function systemdEnvironmentLine(key: string, value: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) throw new Error(`"${key}" is not an environment variable name`);
  if (/[\n\r]/.test(value)) throw new Error(`environment value of ${key} contains a newline`);
  const escaped = `${key}=${value}`.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/%/g, "%%");
  return `Environment="${escaped}"`;
}
