/** Policy 6: a Velero Schedule's ttl outlives the gap between its runs. */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { cronGaps, cronError, formatSeconds } from "../components/core/cron.js";
import { parseGoDuration } from "../components/core/duration.js";
import { isObj } from "./support.js";
import { k8sLabel } from "./support.js";
import { HELM_TYPES } from "./images.js";
import { str } from "./support.js";
import { withStackKey } from "../components/core/stackKey.js";
import { resourceStackKey } from "./stackKeys.js";

export const VELERO_SCHEDULE = /^kubernetes:velero\.io\/v1:Schedule$/;
export const CRON_DESCRIPTORS: Record<string, string> = {
  "@yearly": "0 0 1 1 *",
  "@annually": "0 0 1 1 *",
  "@monthly": "0 0 1 * *",
  "@weekly": "0 0 * * 0",
  "@daily": "0 0 * * *",
  "@midnight": "0 0 * * *",
  "@hourly": "0 * * * *",
};

/**
 * An upper bound of the gap between runs read off the day fields alone (no month restriction: a run
 * at least every 62 days; a weekday list: every 7 days; every day: every 24 hours), or Infinity.
 * Sampling eight years of runs costs ~0.4 s per expression, and most ttls clear this bound at once.
 */
export function cronGapUpperBound(cron: string): number {
  const [, , dom, month, dow] = cron.trim().split(/\s+/);
  const any = (f: string) => f === "*" || f === "?";
  if (!any(month)) return Infinity;
  if (!any(dom)) return 62 * 86_400;
  return any(dow) ? 86_400 : 7 * 86_400;
}

/**
 * Longest gap between runs of a Velero schedule (robfig/cron: 5 fields, descriptors, `@every`,
 * `CRON_TZ=`), or why it cannot be read. With `atMost`, any bound below it is good enough.
 */
export function veleroScheduleMaxGap(schedule: string, atMost?: number): number | string {
  const expr = schedule.trim().replace(/^(CRON_TZ|TZ)=\S+\s+/, "");
  const every = /^@every\s+(\S+)$/.exec(expr);
  if (every) {
    const s = parseGoDuration(every[1]);
    return s !== undefined && s > 0 ? s : `"${schedule}" has an invalid @every duration`;
  }
  const cron = CRON_DESCRIPTORS[expr] ?? expr;
  const err = cronError(cron);
  if (err) return err;
  const bound = cronGapUpperBound(cron);
  return atMost !== undefined && bound < atMost ? bound : cronGaps(cron).maxGapSeconds;
}

/** Problems of one schedule: its ttl must be set, valid, and longer than the longest gap between runs. */
export function veleroScheduleProblems(schedule: unknown, ttl: unknown, at: string): string[] {
  if (typeof schedule !== "string") return [`${at}.schedule is not set`];
  if (ttl === undefined || ttl === null || ttl === "")
    return [`${at}.template.ttl is not set; set how long each backup is kept (a Go duration such as "720h")`];
  const ttlSeconds = parseGoDuration(String(ttl));
  if (ttlSeconds === undefined) return [`${at}.template.ttl "${ttl}" is not a Go duration (e.g. "720h0m0s")`];
  const gap = veleroScheduleMaxGap(schedule, ttlSeconds);
  if (typeof gap === "string") return [`${at}.schedule: ${gap}`];
  if (ttlSeconds <= gap) {
    return [
      `${at}.template.ttl ${ttl} (${formatSeconds(ttlSeconds)}) is not longer than the longest gap between runs of "${schedule}" (${formatSeconds(gap)}): the last backup expires before the next one exists`,
    ];
  }
  return [];
}

export const veleroTtlPolicy: ResourceValidationPolicy = {
  name: "velero-ttl-covers-interval",
  description:
    "Every Velero schedule sets template.ttl, and the ttl is longer than the longest gap between its runs, so a backup always exists.",
  enforcementLevel: "mandatory",
  validateResource: (args, report) => {
    const props = isObj(args.props) ? args.props : {};
    if (VELERO_SCHEDULE.test(args.type)) {
      const label = k8sLabel(args.type, props, args.name);
      // The Schedule's annotation names its entry (`velero.schedules[0]`); the field is its ttl, or its cron.
      const entry = resourceStackKey({ name: args.name, props }) ?? "velero.schedules";
      const base = entry === "velero" ? "velero.schedules" : entry;
      for (const p of veleroScheduleProblems(props.spec?.schedule, props.spec?.template?.ttl, "spec"))
        report(withStackKey(`${label}: ${p}`, `${base}.${p.startsWith("spec.schedule") ? "cron" : "ttl"}`));
      return;
    }
    const chartSchedules =
      HELM_TYPES.has(args.type) && isObj(props.values?.schedules) ? Object.entries<any>(props.values.schedules) : [];
    if (chartSchedules.length === 0) args.notApplicable("no Velero schedule");
    for (const [key, s] of chartSchedules) {
      if (!isObj(s) || s.disabled === true) continue;
      for (const p of veleroScheduleProblems(s.schedule, s.template?.ttl, `values.schedules.${key}`))
        report(`Helm release ${str(props.name) ?? args.name}: ${p}`);
    }
  },
};
