/** The Grafana dashboard of the backup stack, loaded by Grafana's sidecar from a ConfigMap. */
import { offsiteOf, type StackConfig } from "../config.js";
import { metrics } from "../core/names.js";
import { drillRtoQueries } from "../drills/alerts.js";
import { drillTargets } from "../drills/logic.js";
import { hasLastBackupAtMetric } from "../longhorn/schema.js";
import { dataDirMountpoints } from "../hub/alerts.js";
import { auditDashboardQueries } from "./auditDashboard.js";
import { backupCronJobs } from "./jobAlerts.js";
import { jobsOf, q, regexAlternatives } from "./ruleHelpers.js";

export const DASHBOARD_UID = "homelab-backup";

interface Target {
  expr: string;
  legendFormat: string;
  refId: string;
  instant?: boolean;
}

/** The PromQL of every dashboard panel, so tests can check it with promtool. */
export function dashboardQueries(
  stack: StackConfig,
): { title: string; unit: string; type: "table" | "timeseries"; targets: { expr: string; legend: string }[] }[] {
  const cronJobs = backupCronJobs(stack);
  const cjSel = [...cronJobs.entries()].map(
    ([ns, cjs]) => `{namespace=${q(ns)}, cronjob=~${q(regexAlternatives(cjs))}}`,
  );
  const cronMetric = (m: string) => cjSel.map((s) => `${m}${s}`).join(" or ");
  const panels: ReturnType<typeof dashboardQueries> = [];
  const last: { expr: string; legend: string }[] = [];
  const age: { expr: string; legend: string }[] = [];
  if (cjSel.length) {
    last.push({
      expr: `max by (namespace, cronjob) (${cronMetric("kube_cronjob_status_last_successful_time")}) * 1000`,
      legend: "{{namespace}}/{{cronjob}}",
    });
    age.push({
      expr: `time() - max by (namespace, cronjob) (${cronMetric("kube_cronjob_status_last_successful_time")})`,
      legend: "{{namespace}}/{{cronjob}}",
    });
  }
  if (stack.velero) {
    last.push({
      expr: `max by (schedule) (velero_backup_last_successful_timestamp{schedule!=""}) * 1000`,
      legend: "velero {{schedule}}",
    });
    age.push({
      expr: `time() - max by (schedule) (velero_backup_last_successful_timestamp{schedule!=""})`,
      legend: "velero {{schedule}}",
    });
  }
  // longhorn_volume_last_backup_at exists from Longhorn v1.11.0 (components/longhorn/schema.ts); before
  // that no metric holds a backup's time, and the audit's restore-point panels show the volumes' ages.
  if (stack.longhorn && hasLastBackupAtMetric(stack.longhorn.version)) {
    last.push({ expr: `max by (volume) (longhorn_volume_last_backup_at > 0) * 1000`, legend: "longhorn {{volume}}" });
    age.push({ expr: `time() - max by (volume) (longhorn_volume_last_backup_at > 0)`, legend: "longhorn {{volume}}" });
  }
  const offsite = offsiteOf(stack);
  if (offsite?.runOn === "hub") {
    last.push({ expr: `max(${metrics.offsiteLastSuccess}) * 1000`, legend: "offsite (hub)" });
    age.push({ expr: `time() - max(${metrics.offsiteLastSuccess})`, legend: "offsite (hub)" });
  }
  if (last.length) {
    panels.push({ title: "Last successful backup", unit: "dateTimeAsIso", type: "table", targets: last });
    panels.push({ title: "Age of last successful backup", unit: "s", type: "timeseries", targets: age });
  }
  const sizes: { expr: string; legend: string }[] = [];
  if (stack.velero)
    sizes.push({
      expr: `max by (schedule) (velero_backup_tarball_size_bytes{schedule!=""})`,
      legend: "velero {{schedule}}",
    });
  if (stack.longhorn)
    sizes.push({
      expr: `sum by (volume) (longhorn_backup_actual_size_bytes)`,
      legend: "longhorn {{volume}} (all backups)",
    });
  if (offsite?.runOn === "hub") sizes.push({ expr: `max(${metrics.offsiteBytes})`, legend: "offsite last run" });
  const hub = stack.hub;
  if (hub?.kind === "pi" && hub.server === "silo" && hub.monitoring)
    sizes.push({
      expr: `max by (bucket) (minio_bucket_usage_total_bytes{bucket=${q(hub.bucket)}})`,
      legend: "bucket {{bucket}}",
    });
  if (sizes.length) panels.push({ title: "Backup sizes", unit: "bytes", type: "timeseries", targets: sizes });
  const failures: { expr: string; legend: string }[] = [];
  if (cjSel.length) {
    failures.push({
      expr: `sum by (namespace, cronjob) (${jobsOf(cronJobs)} * on (namespace, job_name) group_left () max by (namespace, job_name) (kube_job_failed{condition="true"} == 1))`,
      legend: "failed jobs {{namespace}}/{{cronjob}}",
    });
  }
  if (stack.velero) {
    failures.push({
      expr: `sum by (schedule) (increase(velero_backup_failure_total{schedule!=""}[1d]))`,
      legend: "velero failed {{schedule}}",
    });
    failures.push({
      expr: `sum by (schedule) (increase(velero_backup_partial_failure_total{schedule!=""}[1d]))`,
      legend: "velero partially failed {{schedule}}",
    });
  }
  if (stack.longhorn)
    failures.push({ expr: `count by (volume) (longhorn_backup_state == 4)`, legend: "longhorn error {{volume}}" });
  if (offsite?.runOn === "hub")
    failures.push({ expr: `1 - min(${metrics.offsiteLastRunSuccess})`, legend: "offsite last run failed" });
  if (failures.length) panels.push({ title: "Failures", unit: "short", type: "timeseries", targets: failures });
  const drills = drillTargets(stack);
  if (drills.length)
    panels.push({
      title: "Restore time (RTO) per class",
      unit: "s",
      type: "timeseries",
      targets: drillRtoQueries(drills),
    });
  if (hub?.kind === "pi" && hub.dataDir) {
    const mp = `mountpoint=~${q(regexAlternatives(dataDirMountpoints(hub.dataDir)))}`;
    panels.push({
      title: "Hub disk usage",
      unit: "percent",
      type: "timeseries",
      targets: [
        {
          expr: `max by (instance, mountpoint) (100 * (1 - node_filesystem_avail_bytes{${mp}} / node_filesystem_size_bytes{${mp}}))`,
          legend: "{{instance}} {{mountpoint}}",
        },
      ],
    });
  }
  // What actually landed, from the audit (every class, every hub kind).
  if (stack.alerts?.audit.enabled) panels.push(...auditDashboardQueries({ coverage: true }));
  return panels;
}

/** The Grafana dashboard (JSON model, schemaVersion 39) the sidecar loads from the ConfigMap. */
export function alertsDashboard(stack: StackConfig): Record<string, unknown> {
  const ds = { type: "prometheus", uid: "${datasource}" };
  const panels = dashboardQueries(stack).map((p, i) => {
    const targets: Target[] = p.targets.map((t, k) => ({
      expr: t.expr,
      legendFormat: t.legend,
      refId: String.fromCharCode(65 + k),
      ...(p.type === "table" ? { instant: true } : {}),
    }));
    return {
      id: i + 1,
      title: p.title,
      type: p.type,
      datasource: ds,
      gridPos: { h: 8, w: 12, x: (i % 2) * 12, y: Math.floor(i / 2) * 8 },
      fieldConfig: { defaults: { unit: p.unit }, overrides: [] },
      options:
        p.type === "table"
          ? { showHeader: true }
          : { legend: { displayMode: "table", placement: "bottom" }, tooltip: { mode: "multi" } },
      targets: targets.map((t) => ({ ...t, datasource: ds })),
      ...(p.type === "table" ? { transformations: [{ id: "reduce", options: { reducers: ["lastNotNull"] } }] } : {}),
    };
  });
  return {
    uid: DASHBOARD_UID,
    title: "Homelab backups",
    tags: ["homelab-backup", "backups"],
    timezone: "utc",
    schemaVersion: 39,
    version: 1,
    editable: false,
    time: { from: "now-7d", to: "now" },
    refresh: "5m",
    // No `current`: Grafana then selects the default Prometheus data source (its schema has no empty current value).
    templating: {
      list: [{ name: "datasource", type: "datasource", query: "prometheus", label: "Data source", hide: 0 }],
    },
    annotations: { list: [] },
    panels,
  };
}
