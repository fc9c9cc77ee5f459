/**
 * Every alert rule of the stack, composed from the areas' rules (`components/<area>/alerts.ts`) in
 * one order: the same `groups` object is the PrometheusRule `spec.groups` and the plain rules file
 * promtool reads.
 */
import type { StackConfig } from "../config.js";
import type { StackWatches } from "../core/watch.js";
import { drillAlertRules } from "../drills/alerts.js";
import { drillTargets } from "../drills/logic.js";
import { etcdAlertRules } from "../etcd/alerts.js";
import { hubAlertRules } from "../hub/alerts.js";
import { longhornAlertRules } from "../longhorn/alerts.js";
import { mirrorAlertRules } from "../mirror/alerts.js";
import { offsiteAlertRules } from "../offsite/alerts.js";
import { postgresAlertRules } from "../postgres/alerts.js";
import { veleroAlertRules } from "../velero/alerts.js";
import { jobAlertRules } from "./jobAlerts.js";
import type { AlertInfo, AlertRule, Built, RuleGroup } from "./ruleHelpers.js";

function build(stack: StackConfig, watches: StackWatches): Built[] {
  const alerts = stack.alerts ?? { restoreTestMaxAgeDays: 30, hubDiskUsagePercent: 85, bucketQuotaGiB: undefined };
  return [
    ...longhornAlertRules(stack),
    ...postgresAlertRules(stack, watches, alerts),
    ...etcdAlertRules(watches),
    ...veleroAlertRules(stack),
    ...mirrorAlertRules(stack, watches),
    ...offsiteAlertRules(stack, watches),
    ...jobAlertRules(stack),
    ...hubAlertRules(stack, alerts),
    ...drillAlertRules(drillTargets(stack), alerts),
  ];
}

/** The rule file `groups` (and PrometheusRule `spec.groups`) of the stack, one group per data class. */
export function alertRuleGroups(stack: StackConfig, watches: StackWatches): RuleGroup[] {
  const groups = new Map<string, AlertRule[]>();
  for (const b of build(stack, watches)) groups.set(b.group, [...(groups.get(b.group) ?? []), b.rule]);
  return [...groups.entries()].map(([name, rules]) => ({ name, rules }));
}

/** Every alert (one entry per rule) with its threshold and the reason for it. */
export function alertInfos(stack: StackConfig, watches: StackWatches): AlertInfo[] {
  return build(stack, watches).map((b) => b.info);
}

/** The distinct alert names of the stack, in rule order. */
export function alertNames(stack: StackConfig, watches: StackWatches): string[] {
  return [...new Set(build(stack, watches).map((b) => b.rule.alert))];
}
