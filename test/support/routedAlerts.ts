/**
 * Every alert a stack can raise, with the labels and annotations it actually carries, found by the
 * real promtool from the rule groups the stack renders (stackRuleGroups: with alerts.notify set, the
 * routed groups), so that a new alert kind is covered by construction.
 *
 * Two promtool passes per alert kind:
 * 1. The probe: each rule of the kind, stripped of its labels and renamed, is evaluated on series made
 *    up from its own expression (every metric it selects, carrying every label name the expression
 *    mentions, with values that satisfy its matchers, and values from FIRING_VALUES). The alerts the
 *    probe reports carry exactly the labels the expression keeps: Prometheus is the oracle.
 * 2. The assertion: the rules as rendered, on the same series, with `exp_labels`/`exp_annotations`
 *    generated from each rule's own templates expanded over the probe's labels, as Prometheus does
 *    (rules/alerting.go: rule labels over the sample's, a label expanding to "" dropped; annotations
 *    see the sample's labels). `{{ $labels.x }}` of a label the expression drops expands to "": the
 *    caller asserts that none does (`unkept`).
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import type { AlertRule, RuleGroup } from "../../components/alerts/ruleHelpers.js";

type Labels = Record<string, string>;

/** Input spacing: within Prometheus' 5-minute lookback of any evaluation time and any `offset` in whole minutes. */
const INTERVAL_S = 300;
/** Evaluation step; alerts are looked at on the first step past every threshold and `for` of the kind's rules. */
const EVAL_STEP_S = 3600;
const EVAL_STEP = `${EVAL_STEP_S}s`;

const DURATION_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800, y: 31_536_000 };
/** Seconds of a Prometheus duration (`1d4h`, `93600s`). */
function durationSeconds(d: string): number {
  return [...d.matchAll(/(\d+)([smhdwy])/g)].reduce((n, m) => n + Number(m[1]) * DURATION_UNITS[m[2]], 0);
}

/**
 * When to look at a kind's alerts: after the largest time span its rules name (a number of seconds in the
 * expression: staleness thresholds, offsets, range windows; byte counts above ten years are not spans),
 * plus the longest `for`, plus two steps.
 */
function horizonSeconds(rules: readonly AlertRule[]): number {
  let span = 0;
  for (const r of rules) {
    const numbers = [...r.expr.matchAll(/(?<![\w.])(\d+)(s?)(?![\w.])/g)].map((m) => Number(m[1]));
    const windows = [...r.expr.matchAll(/\[(\w+)\]/g)].map((m) => durationSeconds(m[1]));
    const spans = [...numbers.filter((n) => n < 10 * DURATION_UNITS.y), ...windows];
    span = Math.max(span, Math.max(0, ...spans) + (r.for ? durationSeconds(r.for) : 0));
  }
  return (Math.ceil(span / EVAL_STEP_S) + 2) * EVAL_STEP_S;
}

/**
 * Values under which each metric's alerts fire, tried in order (candidate k takes each metric's k-th
 * value, or its last); null leaves the series out (an `absent()` or "never succeeded" branch);
 * "counter" grows by one per sample. A metric missing here fails the probe with its name.
 */
export const FIRING_VALUES: Record<string, readonly (string | null)[]> = {
  kube_cronjob_created: ["0"],
  kube_cronjob_status_last_successful_time: ["0", null],
  kube_job_owner: ["1"],
  kube_job_failed: ["1"],
  kube_job_status_start_time: ["3600"],
  kube_job_status_completion_time: ["1e9"],
  kube_job_status_failed: ["1"],
  kube_job_status_active: ["1"],
  kube_pod_container_status_terminated_reason: ["1"],
  kube_pod_owner: ["1"],
  kubelet_volume_stats_used_bytes: ["1e15"],
  node_filesystem_avail_bytes: ["1"],
  node_filesystem_size_bytes: ["100"],
  minio_bucket_usage_total_bytes: ["1e15"],
  longhorn_backup_state: ["4", "3"],
  longhorn_volume_last_backup_at: ["1", "0"],
  velero_backup_failure_total: ["counter"],
  velero_backup_validation_failure_total: ["counter"],
  velero_backup_partial_failure_total: ["counter"],
  velero_backup_attempt_total: ["1"],
  velero_backup_last_successful_timestamp: ["0", null],
  velero_backup_location_status_gauge: ["0"],
  homelab_backup_offsite_last_run_success: ["0"],
  homelab_backup_offsite_last_success_timestamp_seconds: ["1", "0", null],
  homelab_backup_audit_bucket_bytes: ["1e15"],
  homelab_backup_audit_expected_restore_points: ["2"],
  homelab_backup_audit_restore_points: ["1"],
  // Long before t=0: older than any expected count of gaps.
  homelab_backup_audit_first_restore_point_timestamp_seconds: ["-1e9"],
  homelab_backup_audit_item_error: ["1"],
  homelab_backup_audit_last_restore_point_size_bytes: ["1e15"],
  homelab_backup_audit_last_restore_point_timestamp_seconds: ["0"],
  homelab_backup_audit_last_restore_point_valid: ["0"],
  homelab_backup_audit_last_run_timestamp_seconds: ["0", null],
  homelab_backup_audit_longhorn_backup_target_available: ["0"],
  homelab_backup_audit_pvc_uncovered: ["1"],
  homelab_backup_audit_restore_point_found: ["1", "0"],
};

const KEYWORDS = new Set(["and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring"]);

/** The metrics an expression selects and the label names it mentions, with one value per label that satisfies its matchers. */
export function exprInputs(expr: string): { metrics: string[]; labels: Labels; own: Record<string, Labels> } {
  const strings: string[] = [];
  let t = expr.replace(/"((?:[^"\\]|\\.)*)"/g, (_, s: string) => `§${strings.push(JSON.parse(`"${s}"`)) - 1}§`);
  const str = (i: string) => strings[Number(i)];
  const names = new Set<string>();
  const values: Labels = {};
  const metrics = new Set<string>();
  /** Per metric, the values its own (first) selector asks for: `owner_kind="Job"` on one metric, `"CronJob"` on another. */
  const own: Record<string, Labels> = {};
  t = t.replace(/\[[0-9smhdwy]+\]/g, "");
  t = t.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g, (_, _k, list: string) => {
    for (const n of list.split(",").map((s) => s.trim())) if (n) names.add(n);
    return " ";
  });
  // label_replace(v, "dst", "replacement", "src", "regex")
  for (const m of t.matchAll(/,\s*§(\d+)§\s*,\s*§(\d+)§\s*,\s*§(\d+)§\s*,\s*§(\d+)§\s*\)/g)) {
    for (const n of [str(m[1]), str(m[3])]) if (n) names.add(n);
  }
  t = t.replace(/([a-zA-Z_:][a-zA-Z0-9_:]*)?\s*\{([^}]*)\}/g, (_, metric: string | undefined, body: string) => {
    const mine: Labels = {};
    for (const m of body.matchAll(/(\w+)\s*(=~|!~|!=|=)\s*§(\d+)§/g)) {
      const [, label, op, i] = m;
      const v = str(i);
      if (label === "__name__") {
        for (const alt of v.split("|")) metrics.add(alt);
        continue;
      }
      names.add(label);
      const wanted = op === "=" ? v : op === "=~" ? v.split("|")[0].replace(/\\(.)/g, "$1") : undefined;
      if (wanted !== undefined) {
        mine[label] = wanted;
        if (!(label in values)) values[label] = wanted;
      }
    }
    if (metric) {
      metrics.add(metric);
      own[metric] ??= mine;
    }
    return " SEL ";
  });
  for (const m of t.matchAll(/\b([a-zA-Z_:][a-zA-Z0-9_:]*)\b(\s*\()?/g)) {
    if (m[2] || KEYWORDS.has(m[1]) || m[1] === "SEL" || /^\d/.test(m[1])) continue;
    metrics.add(m[1]);
  }
  // A label copied by label_replace (`"$1"` of `"(.+)"`) takes its source's value, so that joins on it hold.
  for (const m of t.matchAll(/,\s*§(\d+)§\s*,\s*§(\d+)§\s*,\s*§(\d+)§\s*,\s*§(\d+)§\s*\)/g)) {
    const [dst, repl, src, re] = [str(m[1]), str(m[2]), str(m[3]), str(m[4])];
    if (repl === "$1" && re === "(.+)" && !(dst in values) && src in values) values[dst] = values[src];
  }
  for (const n of names) if (!(n in values)) values[n] = `x-${n.replace(/_/g, "-")}`;
  return { metrics: [...metrics].sort(), labels: values, own };
}

function inputSeries(expr: string, candidate: number, horizon: number): { series: string; values: string }[] {
  const { metrics, labels, own } = exprInputs(expr);
  const out: { series: string; values: string }[] = [];
  for (const m of metrics) {
    const c = FIRING_VALUES[m];
    if (!c) throw new Error(`no firing values for metric ${m} (test/support/routedAlerts.ts FIRING_VALUES)`);
    const v = c[Math.min(candidate, c.length - 1)];
    if (v === null) continue;
    const body = Object.entries({ ...labels, ...own[m] })
      .map(([k, x]) => `${k}=${JSON.stringify(x)}`)
      .join(", ");
    const n = horizon / INTERVAL_S + 2;
    out.push({ series: `${m}{${body}}`, values: v === "counter" ? `0+1x${n}` : `${v}x${n}` });
  }
  return out;
}

const candidates = (expr: string) => Math.max(1, ...exprInputs(expr).metrics.map((m) => FIRING_VALUES[m]?.length ?? 1));

const LABEL_REF = /\{\{\s*\$labels\.(\w+)\s*\}\}/g;
const TEMPLATE = /\{\{.*?\}\}/g;

/** Label names a template text refers to (`$labels.x` anywhere in it). */
export function referencedLabels(text: string): string[] {
  return [...text.matchAll(/\$labels\.(\w+)/g)].map((m) => m[1]);
}

/** Templates other than `{{ $labels.x }}` (e.g. `{{ $value | printf "%.2f" }}`), in order: the probe renders these. */
function otherTemplates(text: string): string[] {
  return [...text.matchAll(TEMPLATE)].map((m) => m[0]).filter((s) => !new RegExp(LABEL_REF.source).test(s));
}

/** Go text/template over `$labels` of map[string]string: a missing label is "" (Prometheus template.Expander). */
function expand(text: string, sample: Labels, rendered: string[] = []): string {
  let i = 0;
  return text.replace(TEMPLATE, (s) => {
    const m = new RegExp(`^${LABEL_REF.source}$`).exec(s);
    if (m) return sample[m[1]] ?? "";
    if (i >= rendered.length) throw new Error(`template ${s} is not rendered by the probe`);
    return rendered[i++];
  });
}

export interface RaisedAlert {
  readonly alert: string;
  /** The rule (index among the stack's rules of this alert name) that raised it. */
  readonly ruleIndex: number;
  /** Labels the expression's result keeps (the probe's). */
  readonly sample: Labels;
  /** Labels the alert carries, without alertname. */
  readonly labels: Labels;
  readonly annotations: Labels;
}

export interface RuleIssue {
  readonly alert: string;
  readonly ruleIndex: number;
  readonly message: string;
}

interface PromtoolRun {
  readonly code: number;
  readonly out: string;
}

function promtool(args: string[], cwd: string): Promise<PromtoolRun> {
  return new Promise((resolve, reject) =>
    execFile("promtool", args, { cwd, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err && (err as NodeJS.ErrnoException).code === "ENOENT")
        return reject(new Error("promtool is not installed (Debian package prometheus)"));
      resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, out: `${stdout}${stderr}` });
    }),
  );
}

/** `{a="b", c="d"}` as promtool prints label sets (Go-quoted values). */
function parseLabelSet(s: string): Labels {
  const out: Labels = {};
  for (const m of s.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) out[m[1]] = JSON.parse(`"${m[2]}"`);
  return out;
}

/** The alerts promtool reports as `got` for each failing (test, alertname) check. */
export function parseGot(out: string): Map<string, { labels: Labels; annotations: Labels }[]> {
  const res = new Map<string, { labels: Labels; annotations: Labels }[]>();
  // promtool 2.42 cmd/promtool/unittest.go: "    alertname: X, time: T, \n        exp:[...], \n        got:[...]"
  for (const block of out.split(/\n\s*alertname: /).slice(1)) {
    const name = /^(\w+),/.exec(block)?.[1];
    const got = /got:\s*\[([\s\S]*?)\n\s*\]/.exec(block)?.[1] ?? "";
    const alerts = [...got.matchAll(/Labels:(\{[^}]*\})\s*Annotations:(\{[^}]*\})/g)].map((m) => ({
      labels: parseLabelSet(m[1]),
      annotations: parseLabelSet(m[2]),
    }));
    if (name) res.set(name, alerts);
  }
  return res;
}

interface KindRun {
  raised: RaisedAlert[];
  issues: RuleIssue[];
  assertion: PromtoolRun;
  tests: unknown[];
}

async function oneKind(dir: string, alert: string, rules: AlertRule[]): Promise<KindRun> {
  const probeName = (j: number) => `Probe${j}`;
  const probeRules = rules.map((r, j) => {
    const ann: Labels = {};
    for (const [k, v] of Object.entries(r.annotations)) otherTemplates(v).forEach((s, i) => (ann[`${k}_${i}`] = s));
    return { alert: probeName(j), expr: r.expr, ...(r.for ? { for: r.for } : {}), labels: {}, annotations: ann };
  });
  const horizon = horizonSeconds(rules);
  const at = `${horizon}s`;
  const probeTests = rules.flatMap((r, i) =>
    Array.from({ length: candidates(r.expr) }, (_, k) => ({
      name: `${i}/${k}`,
      interval: `${INTERVAL_S}s`,
      input_series: inputSeries(r.expr, k, horizon),
      alert_rule_test: rules.map((_, j) => ({ eval_time: at, alertname: probeName(j), exp_alerts: [] })),
    })),
  );
  const base = path.join(dir, alert);
  await writeFile(`${base}.probe.rules.json`, JSON.stringify({ groups: [{ name: alert, rules: probeRules }] }));
  await writeFile(
    `${base}.probe.tests.json`,
    JSON.stringify({ rule_files: [`${alert}.probe.rules.json`], evaluation_interval: EVAL_STEP, tests: probeTests }),
  );
  const probe = await promtool(["test", "rules", `${alert}.probe.tests.json`], dir);
  // Every check expects silence, so promtool prints what each test raised: "    name: <test>,\n" then
  // one "alertname:" block per check that got alerts (a silent check prints nothing).
  const perTest = new Map<string, Map<string, { labels: Labels; annotations: Labels }[]>>();
  for (const t of probeTests) perTest.set(t.name, new Map());
  const sections = probe.out.split(/\n\s*name: /);
  for (const sec of sections.slice(1)) {
    const name = /^([^,\n]+),/.exec(sec)?.[1]?.trim();
    // promtool repeats "name: <test>," before each failing check of the test.
    if (name && perTest.has(name)) for (const [k, v] of parseGot(sec)) perTest.get(name)!.set(k, v);
  }

  const raised: RaisedAlert[] = [];
  const issues: RuleIssue[] = [];
  const tests: unknown[] = [];
  rules.forEach((r, i) => {
    const k = Array.from({ length: candidates(r.expr) }, (_, k) => k).find(
      (k) => (perTest.get(`${i}/${k}`)?.get(probeName(i))?.length ?? 0) > 0,
    );
    if (k === undefined) {
      issues.push({
        alert,
        ruleIndex: i,
        message: `the probe raised nothing (add firing values for its metrics): ${r.expr}\n${probe.out.slice(0, 2000)}`,
      });
      return;
    }
    const got = perTest.get(`${i}/${k}`)!;
    const exp: { exp_labels: Labels; exp_annotations: Labels }[] = [];
    rules.forEach((rj, j) => {
      for (const a of got.get(probeName(j)) ?? []) {
        const { alertname: _n, ...sample } = a.labels;
        void _n;
        const labels: Labels = { ...sample };
        for (const [name, tpl] of Object.entries(rj.labels)) {
          const v = expand(tpl, sample);
          if (v === "") delete labels[name];
          else labels[name] = v;
        }
        const annotations: Labels = {};
        for (const [name, tpl] of Object.entries(rj.annotations)) {
          const rendered = otherTemplates(tpl).map((_, x) => a.annotations[`${name}_${x}`] ?? "");
          annotations[name] = expand(tpl, sample, rendered);
        }
        for (const [where, text] of [...Object.entries(rj.labels), ...Object.entries(rj.annotations)]) {
          for (const l of referencedLabels(text))
            if (!sample[l])
              issues.push({
                alert,
                ruleIndex: j,
                message: `${where} templates $labels.${l}, which the expression does not keep (it keeps ${Object.keys(sample).sort().join(", ") || "nothing"}): ${rj.expr}`,
              });
        }
        exp.push({ exp_labels: labels, exp_annotations: annotations });
        if (j === i) raised.push({ alert, ruleIndex: j, sample, labels, annotations });
      }
    });
    tests.push({
      name: `${alert} rule ${i}`,
      interval: `${INTERVAL_S}s`,
      input_series: inputSeries(r.expr, k, horizon),
      alert_rule_test: [{ eval_time: at, alertname: alert, exp_alerts: exp }],
    });
  });
  await writeFile(`${base}.rules.json`, JSON.stringify({ groups: [{ name: alert, rules }] }));
  await writeFile(
    `${base}.tests.json`,
    JSON.stringify({ rule_files: [`${alert}.rules.json`], evaluation_interval: EVAL_STEP, tests }),
  );
  const assertion = await promtool(["test", "rules", `${alert}.tests.json`], dir);
  return { raised, issues, assertion, tests };
}

export interface RaisedAlerts {
  /** Every alert found, one entry per (rule, alert). */
  readonly raised: RaisedAlert[];
  /** Templates of labels the expression does not keep, and rules the probe could not make fire. */
  readonly issues: RuleIssue[];
  /** The assertion pass per alert kind: promtool's exit code and output. */
  readonly assertions: Map<string, PromtoolRun>;
  /** How many promtool test cases (with exp_labels/exp_annotations) the assertion pass ran. */
  readonly testCases: number;
}

/** Runs both passes on every alert kind of `groups` (two promtool runs at a time: the machine has two cores). */
export async function raisedAlerts(groups: readonly RuleGroup[]): Promise<RaisedAlerts> {
  const dir = await mkdtemp(path.join(tmpdir(), "raised-alerts-"));
  try {
    const byKind = new Map<string, AlertRule[]>();
    for (const r of groups.flatMap((g) => g.rules)) byKind.set(r.alert, [...(byKind.get(r.alert) ?? []), r]);
    const kinds = [...byKind.entries()];
    const results: KindRun[] = [];
    const assertions = new Map<string, PromtoolRun>();
    let next = 0;
    const worker = async () => {
      while (next < kinds.length) {
        const [alert, rules] = kinds[next++];
        const r = await oneKind(dir, alert, rules);
        results.push(r);
        assertions.set(alert, r.assertion);
      }
    };
    await Promise.all([worker(), worker()]);
    return {
      raised: results.flatMap((r) => r.raised),
      issues: results.flatMap((r) => r.issues),
      assertions,
      testCases: results.reduce((n, r) => n + r.tests.length, 0),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
