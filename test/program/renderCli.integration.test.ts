/**
 * `npm run render` as a command: its documented exit statuses (0 valid, 1 stack-file error, 2 a
 * mandatory policy fails, 3 anything else), "file not found" for a missing stack file, and no plan.md
 * of an earlier run left in --out after a run that fails on its stack file.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXAMPLE_STACK, REPO } from "../support/stackFiles.js";

const run = promisify(execFile);
const TSX = path.join(REPO, "node_modules/.bin/tsx");
const RENDER = path.join(REPO, "tools/render.ts");

async function render(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(TSX, [RENDER, ...args], { cwd: REPO, maxBuffer: 64 << 20, timeout: 240_000 });
    return { code: 0, stdout, stderr };
  } catch (e: any) {
    return { code: typeof e.code === "number" ? e.code : -1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

let tmp: string;
let out: string;

beforeAll(async () => {
  tmp = mkdtempSync(path.join(tmpdir(), "render-cli-"));
  out = path.join(tmp, "out");
  const first = await render(["--stack-file", EXAMPLE_STACK, "--out", out]);
  expect(first.code, first.stderr).toBe(0);
  expect(existsSync(path.join(out, "plan.md"))).toBe(true);
}, 300_000);

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("npm run render exit statuses", () => {
  it("exits exactly 1 on a stack-file error, names the key, and leaves no plan.md of the earlier run", async () => {
    const bad = path.join(tmp, "Pulumi.bad.yaml");
    writeFileSync(bad, readFileSync(EXAMPLE_STACK, "utf8").replace("ttl: 720h", "ttl: 720"));
    const r = await render(["--stack-file", bad, "--out", out]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain("velero.schedules[0].ttl");
    expect(existsSync(path.join(out, "plan.md"))).toBe(false);
    expect(existsSync(path.join(out, "resources.json"))).toBe(false);
  }, 240_000);

  it("exits exactly 1 for a missing stack file, saying file not found", async () => {
    const missing = path.join(tmp, "Pulumi.nope.yaml");
    const r = await render(["--stack-file", missing, "--out", out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${missing}: file not found`);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  }, 240_000);

  it("renders the example stack into out/ when given no arguments (the README's first command)", async () => {
    const plan = path.join(REPO, "out", "plan.md");
    rmSync(path.join(REPO, "out"), { recursive: true, force: true });
    const r = await render([]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^rendered \d+ resources, .* into .*\/out\n$/);
    expect(readFileSync(plan, "utf8")).toMatch(/^# Backup plan\n/);
  }, 240_000);

  it("exits 3 on a usage error and prints the usage with the exit statuses", async () => {
    const r = await render(["--stack-file", EXAMPLE_STACK]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/usage: npm run render -- --stack-file/);
    expect(r.stderr).toMatch(/0 .*valid/);
    expect(r.stderr).toMatch(/1 .*stack file/);
    expect(r.stderr).toMatch(/2 .*mandatory policy/);
  }, 240_000);
});
