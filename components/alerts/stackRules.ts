/**
 * Every rule the stack's PrometheusRule holds: the areas' rules (rules.ts), the audit's rules on what
 * actually landed, the long-running-job warning and the heartbeat; with notifications on, every rule
 * carries the labels the AlertmanagerConfig routes on (notify.ts).
 */
import type { AlertsConfig, StackConfig } from "../config.js";
import type { StackWatches } from "../core/watch.js";
import { AUDIT_INTERVAL_SECONDS, S3_PRICE_PER_GB_MONTH_US_EAST_1 } from "./auditMetrics.js";
import { auditItems, longhornBackupGap } from "./auditItems.js";
import { auditRules, heartbeatRule, type AuditAlertInfo } from "./auditRules.js";
import { backupCronJobs } from "./jobAlerts.js";
import { longRunningJobRules } from "./longRunningJobs.js";
import { routableLabels } from "./notify.js";
import { runbookUrl, TARGET_NAMESPACE_LABEL, type AlertInfo, type AlertRule, type RuleGroup } from "./ruleHelpers.js";
import { alertInfos, alertRuleGroups } from "./rules.js";

/** Seconds between two audits, from alerts.audit. */
export function auditIntervalSeconds(config: AlertsConfig | undefined): number {
  return (config?.audit.intervalMinutes ?? AUDIT_INTERVAL_SECONDS / 60) * 60;
}

/** Whether the stack runs the audit exporter. */
export function auditEnabled(stack: StackConfig): boolean {
  // The audit reads the hub: a stack without one (the FTP bridge only) has nothing for it to read.
  return stack.hub !== undefined && (stack.alerts?.audit.enabled ?? false);
}

function auditOutput(stack: StackConfig, watches: StackWatches) {
  const a = stack.alerts!;
  return auditRules({
    runbook: runbookUrl,
    auditIntervalSeconds: auditIntervalSeconds(a),
    items: auditItems(stack, watches),
    longhorn: longhornBackupGap(stack),
    bucket: stack.hub!.bucket,
    bucketQuotaGiB: a.bucketQuotaGiB,
    monthlyCost:
      a.monthlyCostUsd !== undefined && stack.hub?.kind === "aws"
        ? { limitUsd: a.monthlyCostUsd, pricePerGiBMonth: S3_PRICE_PER_GB_MONTH_US_EAST_1, region: "us-east-1" }
        : undefined,
    backupSizeGiB: a.backupSizeGiB,
    coverage: true,
  });
}

/** The PrometheusRule `spec.groups` of the whole stack. */
export function stackRuleGroups(stack: StackConfig, watches: StackWatches): RuleGroup[] {
  const a = stack.alerts;
  const groups: RuleGroup[] = [...alertRuleGroups(stack, watches)];
  // The hub's MinIO quota rule is superseded by the audit's, which holds on every hub kind.
  const audit = auditEnabled(stack);
  if (audit) {
    groups.forEach(
      (g, i) => (groups[i] = { ...g, rules: g.rules.filter((r) => r.alert !== "BackupBucketQuotaExceeded") }),
    );
    groups.push({ name: "homelab-backup.audit", rules: auditOutput(stack, watches).rules as AlertRule[] });
  }
  if (a?.jobRunningTooLongMinutes !== undefined) {
    const built = longRunningJobRules(backupCronJobs(stack), a.jobRunningTooLongMinutes);
    if (built.length) groups.push({ name: "homelab-backup.jobs-running", rules: built.map((b) => b.rule) });
  }
  if (a?.heartbeat) groups.push({ name: "homelab-backup.heartbeat", rules: [heartbeatRule(runbookUrl) as AlertRule] });
  const nonEmpty = groups.filter((g) => g.rules.length > 0);
  if (!a?.notify && !a?.heartbeat) return nonEmpty;
  const extra = routableLabels(a.namespace);
  // A rule about one CronJob names its namespace statically: keep that one as backup_namespace. Any
  // other rule keeps the backup_namespace it sets itself from a label its expression keeps, or has none.
  return nonEmpty.map((g) => ({
    ...g,
    rules: g.rules.map((r) => ({
      ...r,
      labels: {
        ...r.labels,
        ...extra,
        ...(r.labels.namespace ? { [TARGET_NAMESPACE_LABEL]: r.labels.namespace } : {}),
      },
    })),
  }));
}

/** Every alert name of the stack, in rule order. */
export function stackAlertNames(stack: StackConfig, watches: StackWatches): string[] {
  return [...new Set(stackRuleGroups(stack, watches).flatMap((g) => g.rules.map((r) => r.alert)))];
}

/** Plan rows of every rule (areas' and the audit's). */
export function stackAlertInfos(stack: StackConfig, watches: StackWatches): (AlertInfo | AuditAlertInfo)[] {
  const a = stack.alerts;
  const names = new Set(stackAlertNames(stack, watches));
  const out: (AlertInfo | AuditAlertInfo)[] = alertInfos(stack, watches).filter((i) => names.has(i.alert));
  if (auditEnabled(stack)) out.push(...auditOutput(stack, watches).infos);
  if (a?.jobRunningTooLongMinutes !== undefined)
    out.push(...longRunningJobRules(backupCronJobs(stack), a.jobRunningTooLongMinutes).map((b) => b.info));
  if (a?.heartbeat)
    out.push({
      alert: "BackupAlertingHeartbeat",
      severity: "none",
      watches: "Prometheus and Alertmanager themselves",
      firesWhen: "always",
      why: `sent to alertsHeartbeatUrl every ${a.heartbeat.repeatInterval}; its silence means the cluster's alerting is down`,
    });
  return out;
}
