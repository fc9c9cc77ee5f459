/**
 * hub.archive on an AWS stack like the example AWS fixture (7-day dumps and snapshots, Velero kept up
 * to a year), through `npm run render`: Glacier after one day is refused naming hub.archive and writes
 * no plan; GLACIER_IR after 30 days renders, moves only Velero, and the plan says so.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO } from "../support/stackFiles.js";

const run = promisify(execFile);
const FIXTURE = path.join(REPO, "test/fixtures/Pulumi.aws-k3s.yaml");

async function render(archive: string, out: string): Promise<{ code: number; stderr: string }> {
  const file = path.join(dir, `Pulumi.${path.basename(out)}.yaml`);
  const text = readFileSync(FIXTURE, "utf8").replace(/^    archive: .*$/m, `    archive: ${archive}`);
  expect(text).toContain(archive);
  writeFileSync(file, text);
  try {
    const r = await run(
      path.join(REPO, "node_modules/.bin/tsx"),
      [path.join(REPO, "tools/render.ts"), "--stack-file", file, "--out", out],
      { cwd: REPO, maxBuffer: 64 << 20 },
    );
    return { code: 0, stderr: r.stderr };
  } catch (e: any) {
    return { code: e.code ?? 1, stderr: e.stderr ?? "" };
  }
}

let dir: string;
let refused: { code: number; stderr: string };
let accepted: { code: number; stderr: string };
beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "archive-"));
  [refused, accepted] = await Promise.all([
    render("{ afterDays: 1, storageClass: GLACIER }", path.join(dir, "glacier")),
    render("{ afterDays: 30, storageClass: GLACIER_IR }", path.join(dir, "glacier-ir")),
  ]);
}, 180_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("hub.archive on the AWS fixture", () => {
  it("refuses GLACIER after 1 day with 7-day classes, naming hub.archive, and writes no plan", () => {
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/hub\.archive: archive to GLACIER after 1 day pays off for no class/);
    expect(refused.stderr).toContain(
      "postgres kept 7 days, so only 6 days in GLACIER, under its 90-day minimum charge",
    );
    expect(existsSync(path.join(dir, "glacier", "plan.md"))).toBe(false);
  });

  it("renders GLACIER_IR after 30 days, moving only Velero, and the plan shows which classes move", () => {
    expect(accepted.code, accepted.stderr).toBe(0);
    const plan = readFileSync(path.join(dir, "glacier-ir", "plan.md"), "utf8");
    expect(plan).toContain("Classes that move: velero.");
    expect(plan).toMatch(/\| velero \(`velero\/`\) \| STANDARD days 0–30, GLACIER_IR until day 365 \|/);
    expect(plan).toMatch(/\| postgres \(`postgres-backups\/`\) \| STANDARD until day 7 \|/);
    const resources = JSON.parse(readFileSync(path.join(dir, "glacier-ir", "resources.json"), "utf8"));
    const lifecycle = resources.find(
      (r: any) => r.type === "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    );
    const moving = lifecycle.inputs.rules
      .filter((r: any) => r.transitions?.length)
      .map((r: any) => [r.filter.prefix, r.transitions]);
    expect(moving).toEqual([["velero/", [{ days: 30, storageClass: "GLACIER_IR" }]]]);
  });
});
