/** The alerts' part of plan.md: every alert with its threshold and why. */
import type { StackConfig } from "../config.js";
import type { PlanSection } from "../core/planTypes.js";
import { runbookUrl } from "./ruleHelpers.js";
import { alertInfos } from "./rules.js";

/** The plan section: every alert with its threshold and why. */
export function alertsPlan(stack: StackConfig): PlanSection {
  const seen = new Set<string>();
  const rows: string[] = [];
  for (const i of alertInfos(stack)) {
    const key = `${i.alert}|${i.watches}|${i.firesWhen}`;
    if (seen.has(key)) continue;
    seen.add(key);
    rows.push(
      `| [${i.alert}](${runbookUrl(i.alert)}) | ${i.severity} | ${i.watches} | ${i.firesWhen} | ${i.why} |`.replace(
        /\n/g,
        " ",
      ),
    );
  }
  const a = stack.alerts;
  const details = [
    `PrometheusRule in \`${a?.namespace ?? "monitoring"}\` with labels ${
      Object.entries(a?.ruleLabels ?? {})
        .map(([k, v]) => `\`${k}: ${v}\``)
        .join(", ") || "none"
    }. Staleness thresholds follow each schedule's longest gap plus how long a run may take; a backup that never succeeded fires once it is older than its threshold.`,
    "",
    "| Alert | Severity | Watches | Fires when | Why this threshold |",
    "| --- | --- | --- | --- | --- |",
    ...rows,
  ].join("\n");
  return { title: "Alerts", rows: [], details, restore: "" };
}
