/**
 * Alerts and plan name the schedule each CronJob really runs on. The AWS k3s fixture spreads 15
 * databases over a 03:00–04:10 window, so their dump CronJobs run at 03:00, 03:04, … 04:05: every
 * rule that watches a CronJob, and every plan row about it, must quote that CronJob's own
 * `spec.schedule` (read from the recorded CronJob, not recomputed here).
 */
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { readStackFile, render, type RenderResult } from "../../tools/render.js";
import { REPO } from "../support/stackFiles.js";

let result: RenderResult;
const schedules = new Map<string, string>();

beforeAll(async () => {
  result = await render(readStackFile(path.join(REPO, "test/fixtures/Pulumi.aws-k3s.yaml")));
  for (const r of result.resources) {
    if (r.type === "kubernetes:batch/v1:CronJob") {
      schedules.set(`${r.inputs.metadata.namespace}/${r.inputs.metadata.name}`, r.inputs.spec.schedule);
    }
  }
}, 240_000);

describe("alert and plan text name each CronJob's own schedule", () => {
  it("the fixture spreads its dumps: the CronJobs do not all share one schedule", () => {
    const dumps = [...schedules].filter(([k]) => k.includes("/pg-dump-")).map(([, s]) => s);
    expect(dumps.length).toBeGreaterThanOrEqual(4);
    expect(new Set(dumps).size).toBe(dumps.length);
  });

  it("every rule that watches a CronJob quotes that CronJob's schedule in its description", () => {
    const rule = result.resources.find((r) => r.type === "kubernetes:monitoring.coreos.com/v1:PrometheusRule")!;
    let checked = 0;
    for (const group of rule.inputs.spec.groups) {
      for (const r of group.rules) {
        const quoted = /\(schedule `([^`]+)` UTC\)/.exec(r.annotations.description)?.[1];
        if (!quoted || !r.labels.cronjob) continue;
        // With alerts.notify the rule's namespace is the alerts namespace; the watched one is backup_namespace.
        const key = `${r.labels.backup_namespace ?? r.labels.namespace}/${r.labels.cronjob}`;
        expect(schedules.has(key), `${r.alert} watches ${key}, which the stack does not create`).toBe(true);
        expect(quoted, `${r.alert} on ${key}`).toBe(schedules.get(key));
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(15);
  });

  it("every plan row about a CronJob's alert quotes that CronJob's schedule", () => {
    let checked = 0;
    for (const line of result.plan.split("\n")) {
      const m = /\| CronJob ([\w.-]+\/[\w.-]+) \|.*longest gap of `([^`]+)`/.exec(line);
      if (!m) continue;
      expect(m[2], line).toBe(schedules.get(m[1]));
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(15);
  });
});
