/**
 * The alerts as they leave Prometheus and enter Alertmanager, for the example stack and every fixture
 * stack, each rendered with alerts.notify set (a fixture without it gets an ntfy receiver):
 * - promtool (test/support/routedAlerts.ts): every alert kind fires under promtool, and its labels and
 *   annotations are templated only from labels its expression keeps (generated exp_labels and
 *   exp_annotations, non-empty for every templated label);
 * - amtool (Debian prometheus-alertmanager 0.25): the alertmanager.yml prometheus-operator makes of the
 *   stack's AlertmanagerConfig (test/support/alertmanagerModel.ts) passes `amtool check-config`, and
 *   `amtool config routes test` sends every alert found above to the receivers of alerts.notify (all of
 *   them: continue) and the heartbeat to its own receiver only;
 * - kube-prometheus-stack's default Alertmanager selects the AlertmanagerConfig, and the plan says so.
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NOTIFY_NAME } from "../../components/alerts/backupAlerts.js";
import {
  alertmanagerConfigLabels,
  alertmanagerConfigSpec,
  HEARTBEAT_ALERT,
  KPS_DEFAULT_ALERTMANAGER_SELECTORS,
  receiverNames,
} from "../../components/alerts/notify.js";
import { alertsPlan } from "../../components/alerts/plan.js";
import type { RuleGroup } from "../../components/alerts/ruleHelpers.js";
import { stackRuleGroups } from "../../components/alerts/stackRules.js";
import { parseStackConfig, type StackConfig } from "../../components/config.js";
import { stackWatches } from "../../components/model.js";
import { readStackFile } from "../../tools/render.js";
import { operatorAlertmanagerYaml, selects } from "../support/alertmanagerModel.js";
import { raisedAlerts, type RaisedAlerts } from "../support/routedAlerts.js";
import { EXAMPLE_STACK, REPO } from "../support/stackFiles.js";

const FIXTURES = path.join(REPO, "test/fixtures");
const STACK_FILES = [
  EXAMPLE_STACK,
  ...readdirSync(FIXTURES)
    .filter((f) => /^Pulumi\..+\.yaml$/.test(f))
    .map((f) => path.join(FIXTURES, f)),
];

/** The stack file's config, with an ntfy receiver where alerts.notify is unset: the rules as routed. */
function routedStack(file: string): { stack: StackConfig; injected: boolean } {
  const config = { ...readStackFile(file).config };
  const key = "homelab-backup:alerts";
  const alerts = JSON.parse(config[key] ?? "{}");
  const injected = alerts.notify === undefined;
  if (injected) alerts.notify = { ntfy: { url: "https://ntfy.example.org", topic: "homelab-backup" } };
  config[key] = JSON.stringify(alerts);
  return { stack: parseStackConfig(config), injected };
}

interface StackRun {
  readonly file: string;
  readonly stack: StackConfig;
  readonly groups: RuleGroup[];
  readonly result: RaisedAlerts;
}

const runs: StackRun[] = [];
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "routing-"));
  for (const file of STACK_FILES) {
    const { stack } = routedStack(file);
    const groups = stackRuleGroups(stack, stackWatches(stack));
    runs.push({ file: path.basename(file), stack, groups, result: await raisedAlerts(groups) });
  }
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** amtool's exit code, stdout (the receivers) and everything it printed. */
function amtool(args: string[]): Promise<{ code: number; stdout: string; out: string }> {
  return new Promise((resolve, reject) =>
    execFile("amtool", args, { cwd: dir }, (err, stdout, stderr) => {
      if (err && (err as NodeJS.ErrnoException).code === "ENOENT")
        return reject(new Error("amtool is not installed (Debian package prometheus-alertmanager)"));
      resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, out: `${stdout}${stderr}` });
    }),
  );
}

describe("alert labels as routed", () => {
  it("every alert kind of every stack fires under promtool, with labels and annotations templated only from labels its expression keeps", () => {
    let kinds = 0;
    for (const run of runs) {
      const all = [...new Set(run.groups.flatMap((g) => g.rules.map((r) => r.alert)))];
      expect(run.result.issues.map((i) => `${run.file} ${i.alert}[${i.ruleIndex}]: ${i.message}`)).toEqual([]);
      for (const [alert, r] of run.result.assertions) expect(r.code, `${run.file} ${alert}:\n${r.out}`).toBe(0);
      // Every kind has a firing case, so every templated label was checked non-empty.
      expect(all.filter((a) => !run.result.raised.some((x) => x.alert === a))).toEqual([]);
      for (const a of run.result.raised)
        for (const [k, v] of Object.entries(a.labels)) expect(v, `${run.file} ${a.alert} ${k}`).not.toBe("");
      kinds += all.length;
    }
    // 4 stacks; the example stack alone has 40 kinds.
    expect(kinds).toBeGreaterThanOrEqual(80);
    console.log(
      `alert kinds: ${runs.map((r) => `${r.file} ${new Set(r.result.raised.map((x) => x.alert)).size}`).join(", ")}; promtool test cases: ${runs.reduce((n, r) => n + r.result.testCases, 0)}`,
    );
  });

  it("Longhorn staleness carries the PVC's namespace as backup_namespace; the Error alert (no pvc_namespace on longhorn_backup_state) carries none", () => {
    const example = runs.find((r) => r.file === path.basename(EXAMPLE_STACK))!.result.raised;
    const stale = example.filter((a) => a.alert === "LonghornVolumeBackupStale");
    expect(stale.length).toBeGreaterThan(0);
    for (const a of stale) expect(a.labels.backup_namespace).toBe(a.sample.pvc_namespace);
    for (const a of example.filter((x) => x.alert === "LonghornBackupError"))
      expect(a.labels).not.toHaveProperty("backup_namespace");
    for (const a of example) expect(a.labels.namespace).toBe(runs[0].stack.alerts!.namespace);
  });

  it("a rule templating backup_namespace from $labels.namespace after `max by (volume, ...)` fails (the check is real)", async () => {
    const run = runs[0];
    const broken = run.groups.map((g) => ({
      ...g,
      rules: g.rules.map((r) =>
        r.alert === "LonghornVolumeBackupStale"
          ? { ...r, labels: { ...r.labels, backup_namespace: "{{ $labels.namespace }}" } }
          : r,
      ),
    }));
    const longhorn = broken.filter((g) => g.rules.some((r) => r.alert === "LonghornVolumeBackupStale"));
    const r = await raisedAlerts(longhorn);
    expect(r.issues.map((i) => i.message).join("\n")).toContain("backup_namespace templates $labels.namespace");
  });
});

describe("routing under amtool", () => {
  it("every alert the stacks raise reaches the receivers of alerts.notify, and the heartbeat only its own", async () => {
    let cases = 0;
    for (const run of runs) {
      const a = run.stack.alerts!;
      const spec = alertmanagerConfigSpec({
        notify: a.notify,
        heartbeat: a.heartbeat,
        ntfyToken: run.stack.secrets.alertsNtfyToken !== undefined,
        secretName: NOTIFY_NAME,
      });
      const file = `${run.file}.alertmanager.json`;
      await writeFile(
        path.join(dir, file),
        JSON.stringify(operatorAlertmanagerYaml(spec, { namespace: a.namespace, name: NOTIFY_NAME }), null, 1),
      );
      const check = await amtool(["check-config", file]);
      expect(check.code, check.out).toBe(0);
      expect(check.out).toContain("SUCCESS");
      const prefix = `${a.namespace}/${NOTIFY_NAME}/`;
      const notifyReceivers = receiverNames({ notify: a.notify })
        .filter((n) => n !== "heartbeat")
        .map((n) => prefix + n);
      expect(notifyReceivers.length).toBeGreaterThan(0);
      const seen = new Set<string>();
      for (const alert of run.result.raised) {
        const labels = { alertname: alert.alert, ...alert.labels };
        const key = JSON.stringify(Object.entries(labels).sort());
        if (seen.has(key)) continue;
        seen.add(key);
        const r = await amtool([
          "config",
          "routes",
          "test",
          `--config.file=${file}`,
          ...Object.entries(labels).map(([k, v]) => `${k}=${JSON.stringify(v)}`),
        ]);
        expect(r.code, r.out).toBe(0);
        const got = r.stdout.trim().split(",");
        expect(got, `${run.file} ${alert.alert} ${key}`).toEqual(
          alert.alert === HEARTBEAT_ALERT ? [`${prefix}heartbeat`] : notifyReceivers,
        );
        cases++;
      }
      if (a.heartbeat) expect(run.result.raised.some((x) => x.alert === HEARTBEAT_ALERT)).toBe(true);
    }
    // An alert without the route label stays on kube-prometheus-stack's "null" receiver.
    const r = await amtool([
      "config",
      "routes",
      "test",
      `--config.file=${runs[0].file}.alertmanager.json`,
      "alertname=KubeJobFailed",
      `namespace=${runs[0].stack.alerts!.namespace}`,
    ]);
    expect(r.stdout.trim()).toBe("null");
    console.log(`amtool config routes test cases: ${cases}`);
    expect(cases).toBeGreaterThanOrEqual(80);
  });

  it("a route without the operator's namespace matcher would not be the one tested (the model is real)", async () => {
    const run = runs[0];
    const a = run.stack.alerts!;
    const spec = alertmanagerConfigSpec({
      notify: a.notify,
      heartbeat: a.heartbeat,
      ntfyToken: false,
      secretName: NOTIFY_NAME,
    });
    const file = "other-namespace.alertmanager.json";
    await writeFile(
      path.join(dir, file),
      JSON.stringify(operatorAlertmanagerYaml(spec, { namespace: "elsewhere", name: NOTIFY_NAME })),
    );
    const alert = run.result.raised.find((x) => x.alert !== HEARTBEAT_ALERT)!;
    const r = await amtool([
      "config",
      "routes",
      "test",
      `--config.file=${file}`,
      `alertname=${alert.alert}`,
      ...Object.entries(alert.labels).map(([k, v]) => `${k}=${JSON.stringify(v)}`),
    ]);
    expect(r.stdout.trim()).toBe("null");
  });
});

describe("kube-prometheus-stack selects the AlertmanagerConfig", () => {
  it("the chart's default selectors select its labels and namespace, and the plan names both selectors and every label", () => {
    for (const run of runs) {
      const a = run.stack.alerts!;
      const labels = alertmanagerConfigLabels(a.ruleLabels);
      expect(selects(KPS_DEFAULT_ALERTMANAGER_SELECTORS.alertmanagerConfigSelector, labels)).toBe(true);
      // Non-nil (`{}`): every namespace, the AlertmanagerConfig's too.
      expect(
        selects(KPS_DEFAULT_ALERTMANAGER_SELECTORS.alertmanagerConfigNamespaceSelector, {
          "kubernetes.io/metadata.name": a.namespace,
        }),
      ).toBe(true);
      const plan = alertsPlan(run.stack, stackWatches(run.stack)).details;
      expect(plan).toContain("`alertmanager.alertmanagerSpec.alertmanagerConfigSelector: {}`");
      expect(plan).toContain("`alertmanagerConfigNamespaceSelector: {}`");
      for (const [k, v] of Object.entries(labels)) expect(plan).toContain(`\`${k}: ${v}\``);
      expect(plan).toContain(`match namespace \`${a.namespace}\``);
    }
    // A narrowed selector the labels do not satisfy is refused (the model can say no).
    expect(selects({ matchLabels: { role: "example-config" } }, alertmanagerConfigLabels({}))).toBe(false);
  });
});
