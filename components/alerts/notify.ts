/**
 * Where the stack's alerts go (`alerts.notify`, `alerts.heartbeat`): one Alertmanager route limited to
 * this stack's alerts, as a prometheus-operator AlertmanagerConfig (monitoring.coreos.com/v1alpha1),
 * with every credential read from a Secret the stack writes from its Pulumi secrets.
 *
 * Two facts shape it:
 * - The operator rewrites the first-level route: it drops any `namespace` matcher and adds
 *   `namespace: <the AlertmanagerConfig's namespace>` (the CRD's `route.matchers` description,
 *   test/fixtures/crds/prometheus-operator/alertmanagerconfigs.monitoring.coreos.com.yaml;
 *   prometheus-operator v0.93.0 pkg/alertmanager/amcfg.go `namespaceEnforcer.processRoute`). Backup
 *   alerts carry the namespace of what they watch, so `routableLabels` sets `namespace` to the alerts
 *   namespace on every rule; the watched one is `backup_namespace`, which each rule sets itself, only
 *   from a label its expression keeps (ruleHelpers.ts TARGET_NAMESPACE_LABEL; a CronJob rule's static
 *   `namespace` becomes it in stackRules.ts). Prometheus expands rule labels with the sample's labels
 *   (a label expanding to "" is dropped), and annotations still see the sample's own `namespace`
 *   (prometheus/prometheus rules/alerting.go, AlertingRule.Eval).
 * - ntfy has no Alertmanager receiver; it accepts Alertmanager's generic webhook when templating is on:
 *   `?template=yes` (alias `tpl`, header `X-Template`), with Go text/template `title`/`message` query
 *   parameters filled from the JSON body; `\n` in the message becomes a newline; `call`, `template`
 *   and `define` are refused (binwiederhier/ntfy server/server.go `replaceTemplate`,
 *   `templateDisallowedRegex`, `parsePublishParams`; docs/publish.md "Message templating", since
 *   v2.10.0). An access token goes in `Authorization: Bearer`.
 */

import { commonLabels } from "../core/names.js";

/** `alerts.notify` as the stack file writes it. */
export interface NotifyConfig {
  readonly ntfy?: { readonly url: string; readonly topic: string };
  readonly slack?: { readonly channel: string };
  readonly email?: {
    readonly to: string;
    readonly from: string;
    readonly smarthost: string;
    readonly username?: string;
    readonly requireTls?: boolean;
  };
}

/** `alerts.heartbeat`: how often Alertmanager pings the external URL. */
export interface HeartbeatConfig {
  readonly repeatInterval: string;
}

/** Keys of the notification Secret (values come from the alerts* secret config keys). */
export const NOTIFY_SECRET_KEYS = {
  ntfyUrl: "ntfy-url",
  ntfyToken: "ntfy-token",
  slackWebhookUrl: "slack-webhook-url",
  smtpPassword: "smtp-password",
  heartbeatUrl: "heartbeat-url",
} as const;

/**
 * How kube-prometheus-stack's Alertmanager picks AlertmanagerConfigs, by default: chart
 * prometheus-community/helm-charts tag kube-prometheus-stack-88.5.3, values.yaml
 * `alertmanager.alertmanagerSpec.alertmanagerConfigSelector: {}` and
 * `alertmanagerConfigNamespaceSelector: {}`, rendered as such by templates/alertmanager/alertmanager.yaml;
 * an empty LabelSelector selects every object, and a non-nil namespace selector every namespace
 * (prometheus-operator v0.93.0 pkg/apis/monitoring/v1/alertmanager_types.go: nil means "only its own
 * namespace"). So the stack's AlertmanagerConfig needs no label; a user who narrowed either selector
 * must make it select the AlertmanagerConfig's labels and namespace (the plan says which).
 */
export const KPS_DEFAULT_ALERTMANAGER_SELECTORS = {
  alertmanagerConfigSelector: {},
  alertmanagerConfigNamespaceSelector: {},
} as const;

/** Labels of the AlertmanagerConfig (and the PrometheusRule): the stack's common labels and `alerts.ruleLabels`. */
export function alertmanagerConfigLabels(ruleLabels: Readonly<Record<string, string>>): Record<string, string> {
  return { ...commonLabels("alerts"), ...ruleLabels };
}

/** The label every rule of the stack carries, and the route matches on. */
export const ROUTE_LABEL = "homelab_backup";
export const HEARTBEAT_ALERT = "BackupAlertingHeartbeat";

/** ntfy title and message templates over Alertmanager's webhook body (version 4 payload). */
export const NTFY_TITLE_TEMPLATE =
  '{{if eq .status "firing"}}Backup alert{{else}}Resolved{{end}}: {{.commonLabels.alertname}}';
export const NTFY_MESSAGE_TEMPLATE =
  "{{range .alerts}}[{{.status}}] {{.annotations.summary}}\\n{{.annotations.description}}\\n{{end}}";

/** The ntfy publish URL Alertmanager posts its webhook to: topic, templating on, title and message. */
export function ntfyWebhookUrl(url: string, topic: string): string {
  const base = url.replace(/\/+$/, "");
  const params = new URLSearchParams({
    template: "yes",
    title: NTFY_TITLE_TEMPLATE,
    message: NTFY_MESSAGE_TEMPLATE,
    tags: "floppy_disk",
  });
  return `${base}/${encodeURIComponent(topic)}?${params.toString()}`;
}

/** Labels added to every rule when notifications are on (see the header): no template, nothing an expression may drop. */
export function routableLabels(alertsNamespace: string): Record<string, string> {
  return { namespace: alertsNamespace, [ROUTE_LABEL]: "true" };
}

const secretRef = (name: string, key: string) => ({ name, key });

export interface AlertmanagerConfigArgs {
  readonly notify?: NotifyConfig;
  readonly heartbeat?: HeartbeatConfig;
  /** Whether alertsNtfyToken is set (ntfy servers that allow anonymous publishing need none). */
  readonly ntfyToken: boolean;
  /** Name of the Secret holding NOTIFY_SECRET_KEYS. */
  readonly secretName: string;
}

/** Receiver names, in route order. */
export function receiverNames(args: Pick<AlertmanagerConfigArgs, "notify" | "heartbeat">): string[] {
  const n = args.notify ?? {};
  return [
    ...(args.heartbeat ? ["heartbeat"] : []),
    ...(n.ntfy ? ["ntfy"] : []),
    ...(n.slack ? ["slack"] : []),
    ...(n.email ? ["email"] : []),
  ];
}

/** The AlertmanagerConfig `spec`: only references to the Secret, never a credential. */
export function alertmanagerConfigSpec(args: AlertmanagerConfigArgs): Record<string, unknown> {
  const n = args.notify ?? {};
  const s = args.secretName;
  const receivers: Record<string, unknown>[] = [{ name: "none" }];
  const routes: Record<string, unknown>[] = [];
  if (args.heartbeat) {
    receivers.push({
      name: "heartbeat",
      webhookConfigs: [{ urlSecret: secretRef(s, NOTIFY_SECRET_KEYS.heartbeatUrl), sendResolved: false }],
    });
    // First and final: the heartbeat goes only to the heartbeat URL, as often as repeatInterval.
    routes.push({
      receiver: "heartbeat",
      matchers: [{ name: "alertname", value: HEARTBEAT_ALERT, matchType: "=" }],
      groupWait: "0s",
      groupInterval: "1m",
      repeatInterval: args.heartbeat.repeatInterval,
      continue: false,
    });
  }
  const notifyRoutes: string[] = [];
  if (n.ntfy) {
    receivers.push({
      name: "ntfy",
      webhookConfigs: [
        {
          urlSecret: secretRef(s, NOTIFY_SECRET_KEYS.ntfyUrl),
          sendResolved: true,
          ...(args.ntfyToken
            ? {
                httpConfig: {
                  authorization: { type: "Bearer", credentials: secretRef(s, NOTIFY_SECRET_KEYS.ntfyToken) },
                },
              }
            : {}),
        },
      ],
    });
    notifyRoutes.push("ntfy");
  }
  if (n.slack) {
    receivers.push({
      name: "slack",
      slackConfigs: [
        {
          apiURL: secretRef(s, NOTIFY_SECRET_KEYS.slackWebhookUrl),
          channel: n.slack.channel,
          sendResolved: true,
          title: '{{ if eq .Status "firing" }}Backup alert{{ else }}Resolved{{ end }}: {{ .CommonLabels.alertname }}',
          text: "{{ range .Alerts }}*{{ .Annotations.summary }}*\n{{ .Annotations.description }}\n{{ end }}",
        },
      ],
    });
    notifyRoutes.push("slack");
  }
  if (n.email) {
    receivers.push({
      name: "email",
      emailConfigs: [
        {
          to: n.email.to,
          from: n.email.from,
          smarthost: n.email.smarthost,
          authUsername: n.email.username ?? n.email.from,
          authPassword: secretRef(s, NOTIFY_SECRET_KEYS.smtpPassword),
          requireTLS: n.email.requireTls ?? true,
          sendResolved: true,
        },
      ],
    });
    notifyRoutes.push("email");
  }
  for (const r of notifyRoutes) routes.push({ receiver: r, continue: true });
  return {
    route: {
      receiver: "none",
      matchers: [{ name: ROUTE_LABEL, value: "true", matchType: "=" }],
      groupBy: ["alertname", "class", "item", "backup_namespace"],
      groupWait: "30s",
      groupInterval: "5m",
      repeatInterval: "12h",
      routes,
    },
    receivers,
  };
}

/** Which secret config key each Secret key comes from (the contract's names). */
export const NOTIFY_SECRET_SOURCES: Record<(typeof NOTIFY_SECRET_KEYS)[keyof typeof NOTIFY_SECRET_KEYS], string> = {
  [NOTIFY_SECRET_KEYS.ntfyUrl]: "alerts.notify.ntfy (url + topic: a topic on a public server is a password)",
  [NOTIFY_SECRET_KEYS.ntfyToken]: "homelab-backup:alertsNtfyToken",
  [NOTIFY_SECRET_KEYS.slackWebhookUrl]: "homelab-backup:alertsSlackWebhookUrl",
  [NOTIFY_SECRET_KEYS.smtpPassword]: "homelab-backup:alertsSmtpPassword",
  [NOTIFY_SECRET_KEYS.heartbeatUrl]: "homelab-backup:alertsHeartbeatUrl",
};
