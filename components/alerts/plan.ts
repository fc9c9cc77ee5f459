/** The alerts' part of plan.md: every alert with its threshold and why. */
import type { StackConfig } from "../config.js";
import type { StackWatches } from "../core/watch.js";
import type { PlanSection } from "../core/planTypes.js";
import { alertmanagerConfigLabels, KPS_DEFAULT_ALERTMANAGER_SELECTORS } from "./notify.js";
import { runbookUrl } from "./ruleHelpers.js";
import { auditPlanDetails } from "./auditPlan.js";
import { auditSpec } from "./auditSpec.js";
import { auditEnabled, auditIntervalSeconds, stackAlertInfos, stackAlertNames } from "./stackRules.js";

/** The plan section: every alert with its threshold and why. */
export function alertsPlan(stack: StackConfig, watches: StackWatches): PlanSection {
  const seen = new Set<string>();
  const rows: string[] = [];
  for (const i of stackAlertInfos(stack, watches)) {
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
    ...(a && auditEnabled(stack)
      ? [
          "",
          auditPlanDetails(
            auditSpec(stack, a.coverage.ignore),
            auditIntervalSeconds(a),
            new Set(stackAlertNames(stack, watches)),
          ),
        ]
      : []),
    ...(a?.notify || a?.heartbeat ? ["", notifyPlan(stack)] : []),
  ].join("\n");
  return { title: "Alerts", rows: [], details, restore: "" };
}

/** Where alerts go: one line per receiver (credentials named, never shown). */
function notifyPlan(stack: StackConfig): string {
  const a = stack.alerts!;
  const n = a.notify ?? {};
  const acLabels = alertmanagerConfigLabels(a.ruleLabels);
  const lines = [
    "### Notifications",
    "",
    `AlertmanagerConfig \`${a.namespace}/homelab-backup-notify\` routes this stack's alerts only (label \`homelab_backup="true"\`; every rule's \`namespace\` is \`${a.namespace}\`, the watched one is \`backup_namespace\` where the alert has one).`,
    "",
    `kube-prometheus-stack's Alertmanager selects it with the chart's defaults (\`alertmanager.alertmanagerSpec.alertmanagerConfigSelector: ${JSON.stringify(KPS_DEFAULT_ALERTMANAGER_SELECTORS.alertmanagerConfigSelector)}\` and \`alertmanagerConfigNamespaceSelector: ${JSON.stringify(KPS_DEFAULT_ALERTMANAGER_SELECTORS.alertmanagerConfigNamespaceSelector)}\`: every AlertmanagerConfig in every namespace). If you narrowed them, make \`alertmanagerConfigSelector\` match the AlertmanagerConfig's labels ${Object.entries(
      acLabels,
    )
      .map(([k, v]) => `\`${k}: ${v}\``)
      .join(
        ", ",
      )} (set more with \`alerts.ruleLabels\`) and \`alertmanagerConfigNamespaceSelector\` match namespace \`${a.namespace}\`; left unset (null), the namespace selector only looks in the Alertmanager's own namespace.`,
    "",
    ...(n.ntfy
      ? [
          `- ntfy: topic \`${n.ntfy.topic}\` on ${n.ntfy.url}${stack.secrets.alertsNtfyToken ? " (token: `alertsNtfyToken`)" : ""}`,
        ]
      : []),
    ...(n.slack ? [`- Slack: ${n.slack.channel} (webhook: \`alertsSlackWebhookUrl\`)`] : []),
    ...(n.email
      ? [`- e-mail: ${n.email.to} from ${n.email.from} via ${n.email.smarthost} (password: \`alertsSmtpPassword\`)`]
      : []),
    ...(a.heartbeat
      ? [
          `- heartbeat: \`BackupAlertingHeartbeat\` always fires and is sent to \`alertsHeartbeatUrl\` every ${a.heartbeat.repeatInterval}`,
        ]
      : []),
  ];
  return lines.join("\n");
}
