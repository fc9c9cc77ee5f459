/**
 * BackupAlerts: the PrometheusRule that watches every configured data class (thresholds in the
 * areas' alerts.ts, the audit's in auditRules.ts), the audit exporter that reads what landed
 * (BackupAudit), the notification route (an AlertmanagerConfig and its Secret, notify.ts) and,
 * optionally, a Grafana dashboard ConfigMap for the kube-prometheus-stack sidecar.
 */
import type { StackWatches } from "../core/watch.js";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "../config.js";
import type { HubConnection, WriterCredentials } from "../core/hubConnection.js";
import { commonLabels } from "../core/names.js";
import type { OffsiteInput } from "../offsite/schema.js";
import { auditSpec } from "./auditSpec.js";
import { BackupAudit } from "./backupAudit.js";
import { alertsDashboard } from "./dashboard.js";
import { alertmanagerConfigLabels, alertmanagerConfigSpec, NOTIFY_SECRET_KEYS, ntfyWebhookUrl } from "./notify.js";
import { alertsWithDefaults, type AlertsInput } from "./schema.js";
import { auditEnabled, auditIntervalSeconds, stackAlertNames, stackRuleGroups } from "./stackRules.js";

export const PROMETHEUS_RULE_NAME = "homelab-backup-alerts";
export const DASHBOARD_CONFIGMAP_NAME = "homelab-backup-dashboard";
export const NOTIFY_NAME = "homelab-backup-notify";

/** Credentials of the notification receivers (the alerts* secret keys). */
export interface NotifySecrets {
  /** alertsNtfyToken (optional even with ntfy: some servers allow anonymous publishing). */
  readonly ntfyToken?: pulumi.Input<string>;
  /** alertsSlackWebhookUrl. */
  readonly slackWebhookUrl?: pulumi.Input<string>;
  /** alertsSmtpPassword. */
  readonly smtpPassword?: pulumi.Input<string>;
  /** alertsHeartbeatUrl. */
  readonly heartbeatUrl?: pulumi.Input<string>;
}

export interface BackupAlertsArgs {
  /** The `homelab-backup:alerts` section (namespace, ruleLabels, grafanaDashboard, thresholds); each key left out takes the schema's default (ALERTS_DEFAULTS in ./schema.ts). */
  readonly config: AlertsInput;
  /** The whole stack, parsed (`parseStackConfig`): every configured data class gets its alerts. */
  readonly stack: StackConfig;
  /** Every backup CronJob's watch, resolved once with the stack (components/model.ts `stackWatches`). */
  readonly watches: StackWatches;
  /** The audit's access: the hub as the cluster reaches it and the audit reader's key. @default none: no audit */
  readonly audit?: {
    readonly hub: HubConnection;
    readonly reader: WriterCredentials;
    /** The off-site copy to read through its crypt remote. @default none: the audit does not read it */
    readonly offsite?: {
      readonly config: OffsiteInput;
      readonly ftpPassword: pulumi.Input<string>;
      readonly encryptionKey?: pulumi.Input<string>;
    };
  };
  /** Notification credentials; required for the receivers alerts.notify / alerts.heartbeat name. @default {} */
  readonly notifySecrets?: NotifySecrets;
}

export class BackupAlerts extends pulumi.ComponentResource {
  /** Name of the PrometheusRule. */
  public readonly ruleName: pulumi.Output<string>;
  /** Name of the dashboard ConfigMap, when config.grafanaDashboard. */
  public readonly dashboardName: pulumi.Output<string> | undefined;
  /** `namespace/name` of the audit exporter, when the audit runs. */
  public readonly auditName: pulumi.Output<string> | undefined;
  /** Name of the AlertmanagerConfig, when notifications or the heartbeat are configured. */
  public readonly notifyName: pulumi.Output<string> | undefined;
  /** Every alert name the rule defines. */
  public readonly alertNames: string[];

  constructor(name: string, args: BackupAlertsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("homelab-backup:index:BackupAlerts", name, {}, opts);
    const config = alertsWithDefaults(args.config);
    const withAudit = args.audit !== undefined && config.audit.enabled;
    const stack: StackConfig = { ...args.stack, alerts: { ...config, audit: { ...config.audit, enabled: withAudit } } };
    const labels = alertmanagerConfigLabels(config.ruleLabels);

    const rule = new k8s.apiextensions.CustomResource(
      `${name}-rules`,
      {
        apiVersion: "monitoring.coreos.com/v1",
        kind: "PrometheusRule",
        metadata: { name: PROMETHEUS_RULE_NAME, namespace: config.namespace, labels },
        spec: { groups: stackRuleGroups(stack, args.watches) },
      },
      { parent: this },
    );
    this.ruleName = rule.metadata.name;
    this.alertNames = stackAlertNames(stack, args.watches);

    if (withAudit && auditEnabled(stack)) {
      const audit = new BackupAudit(
        `${name}-audit`,
        {
          namespace: config.namespace,
          spec: auditSpec(stack, config.coverage.ignore),
          hub: args.audit!.hub,
          reader: args.audit!.reader,
          offsite: args.audit!.offsite,
          serviceMonitorLabels: config.ruleLabels,
          intervalSeconds: auditIntervalSeconds(config),
        },
        { parent: this },
      );
      this.auditName = audit.deploymentName;
    }

    if (config.notify || config.heartbeat) {
      const s = args.notifySecrets ?? {};
      const need = (v: pulumi.Input<string> | undefined, key: string) => {
        if (v === undefined) throw new Error(`homelab-backup:${key} is required for alerts.notify / alerts.heartbeat`);
        return pulumi.secret(v);
      };
      const n = config.notify;
      const secret = new k8s.core.v1.Secret(
        `${name}-notify-secret`,
        {
          metadata: { name: NOTIFY_NAME, namespace: config.namespace, labels: commonLabels("alerts") },
          type: "Opaque",
          stringData: {
            // The ntfy URL holds the topic: on a public server the topic is the password.
            ...(n?.ntfy
              ? { [NOTIFY_SECRET_KEYS.ntfyUrl]: pulumi.secret(ntfyWebhookUrl(n.ntfy.url, n.ntfy.topic)) }
              : {}),
            ...(n?.ntfy && s.ntfyToken !== undefined
              ? { [NOTIFY_SECRET_KEYS.ntfyToken]: pulumi.secret(s.ntfyToken) }
              : {}),
            ...(n?.slack
              ? { [NOTIFY_SECRET_KEYS.slackWebhookUrl]: need(s.slackWebhookUrl, "alertsSlackWebhookUrl") }
              : {}),
            ...(n?.email ? { [NOTIFY_SECRET_KEYS.smtpPassword]: need(s.smtpPassword, "alertsSmtpPassword") } : {}),
            ...(config.heartbeat
              ? { [NOTIFY_SECRET_KEYS.heartbeatUrl]: need(s.heartbeatUrl, "alertsHeartbeatUrl") }
              : {}),
          },
        },
        { parent: this },
      );
      const amc = new k8s.apiextensions.CustomResource(
        `${name}-notify`,
        {
          apiVersion: "monitoring.coreos.com/v1alpha1",
          kind: "AlertmanagerConfig",
          metadata: { name: NOTIFY_NAME, namespace: config.namespace, labels },
          spec: alertmanagerConfigSpec({
            notify: n,
            heartbeat: config.heartbeat,
            ntfyToken: n?.ntfy !== undefined && s.ntfyToken !== undefined,
            secretName: NOTIFY_NAME,
          }),
        },
        { parent: this, dependsOn: [secret] },
      );
      this.notifyName = amc.metadata.name;
    }

    if (config.grafanaDashboard) {
      const dashboard = new k8s.core.v1.ConfigMap(
        `${name}-dashboard`,
        {
          metadata: {
            name: DASHBOARD_CONFIGMAP_NAME,
            namespace: config.namespace,
            labels: { ...commonLabels("alerts"), grafana_dashboard: "1" },
          },
          data: { "homelab-backup.json": JSON.stringify(alertsDashboard(stack), null, 2) },
        },
        { parent: this },
      );
      this.dashboardName = dashboard.metadata.name;
    }

    this.registerOutputs({
      ruleName: this.ruleName,
      dashboardName: this.dashboardName,
      auditName: this.auditName,
      notifyName: this.notifyName,
      alertNames: this.alertNames,
    });
  }
}
