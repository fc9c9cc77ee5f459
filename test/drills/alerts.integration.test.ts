/**
 * The drills' alert rules, checked by the real promtool: `check rules`, then `test rules` with
 * kube-state-metrics series of drill Jobs in which every drill's failure, staleness and
 * RTO-above-target alert fires and stays silent, and the measured RTO is the newest successful Job's
 * duration (not an older, slower one). Thresholds worked out by hand: weekly drill, 1 h deadline,
 * restoreTestMaxAgeDays 7 → max(7 d, 7 d + 10 min + 1 h) = 7 d 1 h 10 min = 609000 s.
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { drillAlertRules, drillRtoQueries, type DrillTarget } from "../../components/drills/alerts.js";

const run = promisify(execFile);
const H = 3600;
const D = 86_400;
const NS = "homelab-drills";

const targets: DrillTarget[] = [
  {
    cls: "etcd",
    namespace: NS,
    cronJob: "drill-etcd",
    schedule: "30 7 * * 0",
    activeDeadlineSeconds: H,
    what: "etcd restore drill",
    rtoTargetSeconds: 900,
  },
  {
    cls: "velero",
    namespace: NS,
    cronJob: "drill-velero",
    schedule: "30 6 * * 0",
    activeDeadlineSeconds: H,
    what: "Velero restore drill",
  },
];
const STALE = 609_000;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "drill-rules-"));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** A series held at `value` from `fromS` on (absent before), sampled every 10 min up to `untilS`. */
function held(fromS: number, value: number, untilS: number): string {
  const steps = Math.round(untilS / 600);
  const before = Math.round(fromS / 600);
  return [before > 0 ? `_x${before}` : "", `${value}x${steps - before}`].filter(Boolean).join(" ");
}

describe("drill alert rules under promtool", () => {
  it("pass check rules, and every drill alert fires and stays silent when it should", async () => {
    const built = drillAlertRules(targets, { restoreTestMaxAgeDays: 7 });
    const groups = [{ name: "homelab-backup.drills", rules: built.map((b) => b.rule) }];
    // The dashboard's RTO queries must be valid PromQL too: check them as recording rules.
    const recording = {
      name: "dashboard",
      rules: drillRtoQueries(targets).map((qr, i) => ({ record: `homelab_backup:drill_rto_${i}`, expr: qr.expr })),
    };
    const rulesFile = path.join(dir, "rules.json");
    await writeFile(rulesFile, JSON.stringify({ groups: [...groups, recording] }));
    await run("promtool", ["check", "rules", rulesFile]);

    const until = 12 * D;
    const own = (job: string, cj: string) =>
      `kube_job_owner{namespace="${NS}", job_name="${job}", owner_kind="CronJob", owner_name="${cj}", owner_is_controller="true"}`;
    const series: { series: string; values: string }[] = [];
    const job = (name: string, cj: string, start: number, end: number | undefined, failed: boolean) => {
      series.push({ series: own(name, cj), values: held(start, 1, until) });
      series.push({
        series: `kube_job_status_start_time{namespace="${NS}", job_name="${name}"}`,
        values: held(start, start, until),
      });
      if (end !== undefined && !failed)
        series.push({
          series: `kube_job_status_completion_time{namespace="${NS}", job_name="${name}"}`,
          values: held(end, end, until),
        });
      if (end !== undefined && failed)
        series.push({
          series: `kube_job_failed{namespace="${NS}", job_name="${name}", condition="true"}`,
          values: held(end, 1, until),
        });
    };
    // etcd drill: succeeds in 10 min at 1 h, fails on day 2, succeeds in 20 min on day 3.
    job("drill-etcd-1", "drill-etcd", 1 * H, 1 * H + 600, false);
    job("drill-etcd-2", "drill-etcd", 2 * D, 2 * D + 300, true);
    job("drill-etcd-3", "drill-etcd", 3 * D, 3 * D + 1200, false);
    series.push({ series: `kube_cronjob_created{namespace="${NS}", cronjob="drill-etcd"}`, values: held(0, 0, until) });
    series.push({
      series: `kube_cronjob_status_last_successful_time{namespace="${NS}", cronjob="drill-etcd"}`,
      values: `${held(1 * H + 600, 1 * H + 600, 3 * D + 1200)} ${3 * D + 1200}x${Math.round((until - 3 * D - 1200) / 600)}`,
    });
    // velero drill: created at 0, never succeeds.
    series.push({
      series: `kube_cronjob_created{namespace="${NS}", cronjob="drill-velero"}`,
      values: held(0, 0, until),
    });

    const labels = (alert: string, extra: Record<string, string>) => {
      const b = built.find((x) => x.rule.alert === alert)!;
      const l = { ...b.rule.labels, ...extra };
      const fill = (t: string) =>
        t.replace(/\{\{ \$labels\.(\w+) \}\}/g, (_, k) => l[k as keyof typeof l] ?? `<no ${k}>`);
      return {
        exp_labels: l,
        exp_annotations: Object.fromEntries(Object.entries(b.rule.annotations).map(([k, v]) => [k, fill(v)])),
      };
    };
    const etcd = { namespace: NS, cronjob: "drill-etcd" };
    const velero = { namespace: NS, cronjob: "drill-velero" };
    const at = (s: number) => `${Math.round(s / 60)}m`;
    const cases = [
      { eval_time: at(1 * D), alertname: "EtcdRestoreDrillFailed", exp_alerts: [] },
      {
        eval_time: at(2 * D + 1200),
        alertname: "EtcdRestoreDrillFailed",
        exp_alerts: [labels("EtcdRestoreDrillFailed", { ...etcd, job_name: "drill-etcd-2" })],
      },
      { eval_time: at(3 * D + 1800), alertname: "EtcdRestoreDrillFailed", exp_alerts: [] },
      // RTO 600 s < 900 s target after the first success; 1200 s > 900 s after the third.
      { eval_time: at(1 * D), alertname: "RestoreTimeAboveTarget", exp_alerts: [] },
      {
        eval_time: at(3 * D + 1800),
        alertname: "RestoreTimeAboveTarget",
        exp_alerts: [labels("RestoreTimeAboveTarget", etcd)],
      },
      { eval_time: at(3 * D + 1200 + STALE - 600), alertname: "EtcdRestoreDrillStale", exp_alerts: [] },
      {
        eval_time: at(3 * D + 1200 + STALE + 600),
        alertname: "EtcdRestoreDrillStale",
        exp_alerts: [labels("EtcdRestoreDrillStale", etcd)],
      },
      // Never succeeded: stale once the CronJob is older than the threshold.
      { eval_time: at(STALE - 600), alertname: "VeleroRestoreDrillStale", exp_alerts: [] },
      {
        eval_time: at(STALE + 600),
        alertname: "VeleroRestoreDrillStale",
        exp_alerts: [labels("VeleroRestoreDrillStale", velero)],
      },
      { eval_time: at(STALE + 600), alertname: "VeleroRestoreDrillFailed", exp_alerts: [] },
    ];
    const testFile = path.join(dir, "rules.test.json");
    await writeFile(
      testFile,
      JSON.stringify({
        rule_files: [rulesFile],
        evaluation_interval: "10m",
        tests: [
          {
            interval: "10m",
            input_series: series,
            alert_rule_test: cases,
            promql_expr_test: [
              {
                expr: "homelab_backup:drill_rto_0",
                eval_time: at(1 * D),
                exp_samples: [{ labels: "homelab_backup:drill_rto_0", value: 600 }],
              },
              {
                expr: "homelab_backup:drill_rto_0",
                eval_time: at(3 * D + 1800),
                exp_samples: [{ labels: "homelab_backup:drill_rto_0", value: 1200 }],
              },
            ],
          },
        ],
      }),
    );
    const res = await run("promtool", ["test", "rules", testFile]).catch((e) => e);
    expect(res.stdout + (res.stderr ?? ""), String(res.stderr)).toContain("SUCCESS");
  }, 120_000);
});
