/** Dashboard panels on the audit's metrics: what the destination holds, whatever the tools report. */
import { AUDIT_METRICS as M } from "./auditMetrics.js";

export interface DashboardPanelQueries {
  title: string;
  unit: string;
  type: "table" | "timeseries";
  targets: { expr: string; legend: string }[];
}

/** The audit's panels (with the dashboard's other panels in components/alerts/dashboard.ts). */
export function auditDashboardQueries(opts: { coverage: boolean }): DashboardPanelQueries[] {
  const panels: DashboardPanelQueries[] = [
    {
      title: "Newest restore point at the destination (audit)",
      unit: "dateTimeAsIso",
      type: "table",
      targets: [{ expr: `max by (class, item) (${M.timestamp}) * 1000`, legend: "{{class}} {{item}}" }],
    },
    {
      title: "Age of the newest restore point at the destination (audit)",
      unit: "s",
      type: "timeseries",
      targets: [{ expr: `time() - max by (class, item) (${M.timestamp})`, legend: "{{class}} {{item}}" }],
    },
    {
      title: "Restore points: missing, invalid, unreadable (audit)",
      unit: "short",
      type: "table",
      targets: [
        { expr: `max by (class, item) (${M.found} == 0)`, legend: "missing {{class}} {{item}}" },
        {
          expr: `max by (class, item) (${M.valid} == 0 and on (class, item) ${M.found} == 1)`,
          legend: "invalid {{class}} {{item}}",
        },
        { expr: `max by (class, item) (${M.itemError} == 1)`, legend: "unreadable {{class}} {{item}}" },
      ],
    },
    {
      title: "Hub bucket by storage class (audit)",
      unit: "bytes",
      type: "timeseries",
      targets: [{ expr: `sum by (bucket, storage_class) (${M.bucketBytes})`, legend: "{{bucket}} {{storage_class}}" }],
    },
  ];
  if (opts.coverage) {
    panels.push({
      title: "PVCs without any backup (audit)",
      unit: "short",
      type: "table",
      targets: [
        {
          expr: `max by (namespace, persistentvolumeclaim) (${M.pvcUncovered})`,
          legend: "{{namespace}}/{{persistentvolumeclaim}}",
        },
      ],
    });
  }
  return panels;
}
