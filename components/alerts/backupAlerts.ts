/**
 * BackupAlerts: the PrometheusRule that watches every configured data class (thresholds from
 * components/alerts/rules.ts) and, optionally, a Grafana dashboard ConfigMap for the kube-prometheus-stack sidecar.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { alertsDashboard } from "./dashboard.js";
import { alertNames, alertRuleGroups } from "./rules.js";
import type { AlertsConfig, StackConfig } from "../config.js";
import { commonLabels } from "../core/names.js";

export const PROMETHEUS_RULE_NAME = "homelab-backup-alerts";
export const DASHBOARD_CONFIGMAP_NAME = "homelab-backup-dashboard";

export interface BackupAlertsArgs {
  /** The `homelab-backup:alerts` section (namespace, ruleLabels, grafanaDashboard, thresholds). */
  readonly config: AlertsConfig;
  /** The whole stack: every configured data class gets its alerts. */
  readonly stack: StackConfig;
}

export class BackupAlerts extends pulumi.ComponentResource {
  /** Name of the PrometheusRule. */
  public readonly ruleName: pulumi.Output<string>;
  /** Name of the dashboard ConfigMap, when config.grafanaDashboard. */
  public readonly dashboardName: pulumi.Output<string> | undefined;
  /** Every alert name the rule defines. */
  public readonly alertNames: string[];

  constructor(name: string, args: BackupAlertsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("homelab-backup:index:BackupAlerts", name, {}, opts);
    const stack = { ...args.stack, alerts: args.config };
    const labels = { ...commonLabels("alerts"), ...args.config.ruleLabels };

    const rule = new k8s.apiextensions.CustomResource(
      `${name}-rules`,
      {
        apiVersion: "monitoring.coreos.com/v1",
        kind: "PrometheusRule",
        metadata: { name: PROMETHEUS_RULE_NAME, namespace: args.config.namespace, labels },
        spec: { groups: alertRuleGroups(stack) },
      },
      { parent: this },
    );
    this.ruleName = rule.metadata.name;
    this.alertNames = alertNames(stack);

    if (args.config.grafanaDashboard) {
      const dashboard = new k8s.core.v1.ConfigMap(
        `${name}-dashboard`,
        {
          metadata: {
            name: DASHBOARD_CONFIGMAP_NAME,
            namespace: args.config.namespace,
            labels: { ...commonLabels("alerts"), grafana_dashboard: "1" },
          },
          data: { "homelab-backup.json": JSON.stringify(alertsDashboard(stack), null, 2) },
        },
        { parent: this },
      );
      this.dashboardName = dashboard.metadata.name;
    }

    this.registerOutputs({ ruleName: this.ruleName, dashboardName: this.dashboardName, alertNames: this.alertNames });
  }
}
