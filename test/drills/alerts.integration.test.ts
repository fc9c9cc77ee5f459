/**
 * The drills' alert rules, checked by the real promtool: `check rules`, then `test rules` with
 * kube-state-metrics series of drill Jobs (test/support/drillAlertScenarios.ts) in which every drill
 * class's failure and staleness alert, and the RTO-above-target alert, fires and stays silent, and the
 * measured RTO is the newest successful Job's duration (not an older, slower one).
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { drillRtoQueries } from "../../components/drills/alerts.js";
import {
  DRILL_TARGETS,
  SCENARIO_CLASSES,
  at,
  drillAlertScenario,
  provenDrillAlerts,
} from "../support/drillAlertScenarios.js";

const run = promisify(execFile);
const D = 86_400;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "drill-rules-"));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("drill alert rules under promtool", () => {
  it("the scenario fires and silences the failure and staleness alert of every drill class, and the RTO alert", () => {
    const { built, cases } = drillAlertScenario();
    const own = built.map((b) => b.rule.alert).filter((a) => a !== "RestoreTimeAboveTarget");
    expect(new Set(own).size).toBe(SCENARIO_CLASSES.length * 2);
    expect(provenDrillAlerts(cases)).toEqual([...new Set([...own, "RestoreTimeAboveTarget"])].sort());
  });

  it("pass check rules, and every drill alert fires and stays silent when it should", async () => {
    const { built, series, cases } = drillAlertScenario();
    const groups = [{ name: "homelab-backup.drills", rules: built.map((b) => b.rule) }];
    // The dashboard's RTO queries must be valid PromQL too: check them as recording rules.
    const etcdOnly = DRILL_TARGETS.filter((t) => t.cls === "etcd");
    const recording = {
      name: "dashboard",
      rules: drillRtoQueries(etcdOnly).map((qr, i) => ({ record: `homelab_backup:drill_rto_${i}`, expr: qr.expr })),
    };
    const rulesFile = path.join(dir, "rules.json");
    await writeFile(rulesFile, JSON.stringify({ groups: [...groups, recording] }));
    await run("promtool", ["check", "rules", rulesFile]);

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
