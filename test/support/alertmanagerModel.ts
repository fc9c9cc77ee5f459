/**
 * A test-side model of what prometheus-operator makes of the stack's AlertmanagerConfig: the
 * alertmanager.yml Alertmanager runs, for `amtool config routes test` and `amtool check-config`.
 *
 * Upstream facts (prometheus-operator/prometheus-operator, tag v0.93.0, the operator of
 * kube-prometheus-stack 88.5.3):
 * - `pkg/alertmanager/amcfg.go` `convertRoute`: the spec's route becomes Alertmanager's route with
 *   snake_case keys; `receiver` (and every child's) is prefixed `<namespace>/<name>/`
 *   (`makeNamespacedString`); matchers with a matchType become `name<op>"value"` strings
 *   (`pkg/apis/monitoring/v1alpha1/alertmanager_config_types.go` `Matcher.String`).
 * - `AddAlertmanagerConfigs`: each AlertmanagerConfig's route is put FIRST among the top route's
 *   `routes`, after the enforcer: `continueToNextRoute` sets `continue: true` on it, and the default
 *   strategy's `namespaceEnforcer.processRoute` appends the matcher `namespace="<its namespace>"`
 *   (`getEnforcer`, default `OnNamespace`). Receivers are converted with `convertReceiver`, named
 *   `makeNamespacedString(name)`.
 * - The top route and the `null` receiver are kube-prometheus-stack's default `alertmanager.config`
 *   (prometheus-community/helm-charts, tag kube-prometheus-stack-88.5.3,
 *   charts/kube-prometheus-stack/values.yaml).
 * Secret references are resolved by the operator from the Secret; here they become placeholder values.
 */

type Obj = Record<string, unknown>;

/** kube-prometheus-stack 88.5.3's default route and receiver (values.yaml `alertmanager.config`). */
export const KPS_DEFAULT_ROUTE = {
  group_by: ["namespace"],
  group_wait: "30s",
  group_interval: "5m",
  repeat_interval: "12h",
  receiver: "null",
  routes: [{ receiver: "null", matchers: ['alertname = "Watchdog"'] }],
};

const snake = (k: string) => (k === "apiURL" ? "api_url" : k.replace(/[A-Z]+/g, (c) => `_${c.toLowerCase()}`));

function matcher(m: { name: string; value: string; matchType?: string }): string {
  // Matcher.String: fmt.Sprintf(`%s%s"%s"`, name, matchType, value)
  return `${m.name}${m.matchType ?? "="}${JSON.stringify(m.value)}`;
}

function convertRoute(r: Obj, prefix: string): Obj {
  const out: Obj = {};
  if (r.receiver) out.receiver = `${prefix}${r.receiver as string}`;
  if (r.groupBy) out.group_by = r.groupBy;
  for (const k of ["groupWait", "groupInterval", "repeatInterval"] as const) if (r[k]) out[snake(k)] = r[k];
  if (r.continue !== undefined) out.continue = r.continue;
  if (r.matchers) out.matchers = (r.matchers as { name: string; value: string; matchType?: string }[]).map(matcher);
  if (r.routes) out.routes = (r.routes as Obj[]).map((c) => convertRoute(c, prefix));
  return out;
}

/** A Secret reference `{name, key}` resolved to a placeholder value of the right shape. */
function secretValue(ref: { name: string; key: string }): string {
  return /url/i.test(ref.key) ? `https://secret.invalid/${ref.name}/${ref.key}` : `secret-${ref.key}`;
}

function isSecretRef(v: unknown): v is { name: string; key: string } {
  return typeof v === "object" && v !== null && "name" in v && "key" in v && Object.keys(v).length === 2;
}

function convertValue(key: string, v: unknown): [string, unknown] {
  // urlSecret → url (webhook_configs), apiURL → api_url (slack), authPassword → auth_password.
  const k = key === "urlSecret" ? "url" : snake(key);
  if (isSecretRef(v)) return [k, secretValue(v)];
  if (Array.isArray(v)) return [k, v.map((x) => (typeof x === "object" && x !== null ? convertObj(x as Obj) : x))];
  if (typeof v === "object" && v !== null) return [k, convertObj(v as Obj)];
  return [k, v];
}

function convertObj(o: Obj): Obj {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => convertValue(k, v)));
}

/** The alertmanager.yml the operator generates from kube-prometheus-stack's default config and this AlertmanagerConfig. */
export function operatorAlertmanagerYaml(spec: Obj, at: { readonly namespace: string; readonly name: string }): Obj {
  const prefix = `${at.namespace}/${at.name}/`;
  const route = convertRoute(spec.route as Obj, prefix);
  // continueToNextRoute + namespaceEnforcer (matchers v2, Alertmanager >= 0.22).
  route.continue = true;
  route.matchers = [...((route.matchers as string[]) ?? []), matcher({ name: "namespace", value: at.namespace })];
  const receivers = (spec.receivers as Obj[]).map((r) => ({ ...convertObj(r), name: `${prefix}${r.name as string}` }));
  return {
    route: { ...KPS_DEFAULT_ROUTE, routes: [route, ...KPS_DEFAULT_ROUTE.routes] },
    receivers: [{ name: "null" }, ...receivers],
  };
}

/** `matchLabels`/`matchExpressions` of a Kubernetes LabelSelector; `{}` selects everything. */
export interface LabelSelector {
  readonly matchLabels?: Record<string, string>;
  readonly matchExpressions?: readonly {
    key: string;
    operator: "In" | "NotIn" | "Exists" | "DoesNotExist";
    values?: string[];
  }[];
}

/** Whether a LabelSelector selects an object with these labels (k8s.io/apimachinery labels.Selector semantics). */
export function selects(sel: LabelSelector, labels: Record<string, string>): boolean {
  return (
    Object.entries(sel.matchLabels ?? {}).every(([k, v]) => labels[k] === v) &&
    (sel.matchExpressions ?? []).every((e) => {
      const has = e.key in labels;
      if (e.operator === "Exists") return has;
      if (e.operator === "DoesNotExist") return !has;
      if (e.operator === "In") return has && (e.values ?? []).includes(labels[e.key]);
      return !has || !(e.values ?? []).includes(labels[e.key]);
    })
  );
}
