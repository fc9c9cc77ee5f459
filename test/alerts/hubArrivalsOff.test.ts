/**
 * The counter-case of hubArrivals.test.ts: the example stack (a Debian Pi hub) without
 * alerts.notify builds nothing of the arrivals check: no component, no upload, no remote command
 * naming it, and plan.md does not mention it.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { parseStackConfig } from "../../components/config.js";
import { renderPlan } from "../../components/plan.js";
import { runProgram, type ProgramRun } from "../../tools/harness.js";
import { remoteActions } from "../support/remoteActions.js";
import { exampleStack } from "../support/stackFiles.js";

const stack = exampleStack();
const { notify: _notify, ...alerts } = JSON.parse(stack.config["homelab-backup:alerts"]);
const config = { ...stack.config, "homelab-backup:alerts": JSON.stringify(alerts) };

let run: ProgramRun;
beforeAll(async () => {
  expect(_notify).toBeDefined();
  run = await runProgram(config, stack.secretKeys);
});

describe("Debian Pi hub without alerts.notify", () => {
  it("creates nothing arrivals-related", async () => {
    expect(run.rec.resources.filter((r) => /arrivals/i.test(`${r.type} ${r.name}`))).toEqual([]);
    const { commands, uploads } = await remoteActions(run.rec);
    expect(commands.length).toBeGreaterThan(3);
    for (const c of commands) expect(c.text, c.name).not.toMatch(/arrivals/);
    for (const u of uploads) expect(u.path).not.toMatch(/arrivals/);
    // The off-site timer is still there: the stack is otherwise the example's.
    expect(uploads.some((u) => u.path.endsWith("homelab-backup-offsite.timer"))).toBe(true);
  });

  it("plan.md does not mention the arrivals check", () => {
    expect(renderPlan(parseStackConfig(config))).not.toContain("Arrivals check");
  });
});
