/** Policy 7 (advisory): every backed-up class has an alert. */
import type { StackValidationPolicy } from "@pulumi/policy";
import { metrics, names } from "../components/core/names.js";
import { isObj } from "./support.js";
import { str } from "./support.js";
import { Obj } from "./support.js";
import { HELM_TYPES } from "./images.js";
import { VELERO_SCHEDULE } from "./velero.js";
import { LONGHORN_RECURRING_JOB } from "./longhorn.js";

export const PROMETHEUS_RULE = /^kubernetes:monitoring\.coreos\.com\/v1:PrometheusRule$/;
export const LONGHORN_BACKUP_TASKS = new Set(["backup", "backup-force-create", "system-backup"]);

export interface RuleLike {
  readonly alert?: string;
  readonly record?: string;
  readonly expr: string;
}

export function rulesIn(v: unknown, out: RuleLike[], depth = 0): void {
  if (depth > 40) return;
  if (Array.isArray(v)) return v.forEach((x) => rulesIn(x, out, depth + 1));
  if (!isObj(v)) return;
  if (
    (typeof v.alert === "string" || typeof v.record === "string") &&
    (typeof v.expr === "string" || typeof v.expr === "number")
  ) {
    out.push({ alert: str(v.alert), record: str(v.record), expr: String(v.expr) });
    return;
  }
  for (const x of Object.values(v)) rulesIn(x, out, depth + 1);
}

/** Alert expressions of the stack, each with the recording rules it uses expanded in. */
export function alertTexts(resources: readonly { type: string; props: Obj }[]): string[] {
  const rules: RuleLike[] = [];
  for (const r of resources) {
    if (PROMETHEUS_RULE.test(r.type)) rulesIn(r.props?.spec, rules);
    else if (HELM_TYPES.has(r.type)) rulesIn(r.props?.values, rules);
  }
  const records = rules.filter((r) => r.record);
  return rules
    .filter((r) => r.alert)
    .map((r) => {
      let text = r.expr;
      for (let round = 0; round < 5; round++) {
        const used = records.filter((rec) => text.includes(rec.record!) && !text.includes(`(${rec.expr})`));
        if (used.length === 0) break;
        text += used.map((rec) => ` (${rec.expr})`).join("");
      }
      return text;
    });
}

/** True when an alert text names `name` or has a `=~` matcher (anchored, as in PromQL) that matches it. */
export function textMentions(text: string, name: string): boolean {
  if (text.includes(name)) return true;
  for (const m of text.matchAll(/=~\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|`([^`]*)`)/g)) {
    const source = (m[1] ?? m[2] ?? m[3] ?? "").replace(/\\\\/g, "\\");
    try {
      if (new RegExp(`^(?:${source})$`).test(name)) return true;
    } catch {
      // An expression JavaScript cannot compile (RE2-only syntax) just does not count as a mention.
    }
  }
  return false;
}

export function cronJobClass(name: string): string {
  if (name.startsWith("pg-restore-drill-")) return "postgres restore drill";
  if (name.startsWith("pg-dump-")) return "postgres";
  if (name === names.etcdCronJob) return "etcd";
  if (name.startsWith("bucket-mirror-")) return "buckets";
  if (name === names.offsiteCronJob) return "offsite";
  return "backup";
}

/** What must be watched, and whether some alert does. */
export function unalertedBackups(
  resources: readonly { type: string; name: string; props: Obj }[],
): { resource: string; message: string }[] {
  const texts = alertTexts(resources);
  const out: { resource: string; message: string }[] = [];
  const anyMentions = (n: string) => texts.some((t) => textMentions(t, n));
  for (const r of resources) {
    const props = isObj(r.props) ? r.props : {};
    const objName = str(props.metadata?.name) ?? r.name;
    if (r.type === "kubernetes:batch/v1:CronJob") {
      if (!anyMentions(objName)) {
        out.push({
          resource: r.name,
          message: `no alert watches CronJob ${objName} (${cronJobClass(objName)}): add an alert whose expr names it, e.g. kube_cronjob_status_last_successful_time{cronjob="${objName}"}`,
        });
      }
    } else if (VELERO_SCHEDULE.test(r.type)) {
      const covered =
        anyMentions(objName) || texts.some((t) => t.includes("velero_backup_") && !/schedule\s*=\s*["']/.test(t));
      if (!covered)
        out.push({
          resource: r.name,
          message: `no alert watches Velero Schedule ${objName}: add an alert on velero_backup_last_successful_timestamp{schedule="${objName}"}`,
        });
    } else if (HELM_TYPES.has(r.type) && isObj(props.values?.schedules)) {
      // The Velero chart names each Schedule `<release fullname>-<key>`.
      for (const [key, sched] of Object.entries<any>(props.values.schedules)) {
        if (!isObj(sched) || sched.disabled === true) continue;
        const covered =
          anyMentions(key) || texts.some((t) => t.includes("velero_backup_") && !/schedule\s*=\s*["']/.test(t));
        if (!covered)
          out.push({
            resource: r.name,
            message: `no alert watches the Velero schedule ${key} of Helm release ${str(props.name) ?? r.name}: add an alert on velero_backup_last_successful_timestamp`,
          });
      }
    } else if (
      LONGHORN_RECURRING_JOB.test(r.type) &&
      !r.type.endsWith("Patch") &&
      LONGHORN_BACKUP_TASKS.has(String(props.spec?.task))
    ) {
      const covered =
        anyMentions(objName) ||
        texts.some((t) => t.includes("longhorn_volume_last_backup_at") || t.includes("longhorn_backup_state"));
      if (!covered)
        out.push({
          resource: r.name,
          message: `no alert watches Longhorn RecurringJob ${objName}: add an alert on longhorn_volume_last_backup_at or longhorn_backup_state`,
        });
    } else if (r.type === "command:remote:CopyToRemote" && String(props.remotePath ?? "").includes(names.offsiteUnit)) {
      // The hub's timer ships several units: one verdict for the class is enough.
      if (
        !texts.some((t) => t.includes("homelab_backup_offsite_")) &&
        !out.some((v) => v.message.startsWith("no alert watches the off-site"))
      ) {
        out.push({
          resource: r.name,
          message: `no alert watches the off-site copy on the hub (${props.remotePath}): add an alert on ${metrics.offsiteLastSuccess}`,
        });
      }
    }
  }
  return out;
}

export const backupsAlertedPolicy: StackValidationPolicy = {
  name: "backups-alerted",
  description:
    "Every data class the stack backs up (CronJobs, Velero Schedules, Longhorn backup jobs, the hub's off-site copy) is watched by at least one alert.",
  enforcementLevel: "advisory",
  validateStack: (args, report) => {
    for (const v of unalertedBackups(args.resources))
      report(v.message, args.resources.find((r) => r.name === v.resource)?.urn);
  },
};
