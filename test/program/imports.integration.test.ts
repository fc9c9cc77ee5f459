/**
 * The import rules of .dependency-cruiser.cjs hold for the program, the tools and the policy pack:
 * no import cycle (type-only imports included) and no area, config.ts or stack.ts imported from
 * components/core/. The same rules run over test/fixtures/imports, which breaks each of them once, so
 * the check is shown to fail.
 */
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { REPO } from "../support/stackFiles.js";

interface Violation {
  readonly from: string;
  readonly to: string;
  readonly rule: { readonly name: string };
}

function violations(cwd: string, roots: string[]): Violation[] {
  // depcruise exits non-zero when it finds a violation; its JSON report is on stdout either way.
  const r = spawnSync(
    path.join(REPO, "node_modules/.bin/depcruise"),
    ["--config", path.join(REPO, ".dependency-cruiser.cjs"), "--output-type", "json", ...roots],
    { cwd, encoding: "utf8", maxBuffer: 64 << 20 },
  );
  if (!r.stdout) throw new Error(`depcruise failed: ${r.stderr}`);
  return JSON.parse(r.stdout).summary.violations;
}

describe("import rules", () => {
  it("hold for the program, the tools and the policy pack", () => {
    const found = violations(REPO, ["index.ts", "components", "tools", "policies"]);
    expect(found.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`)).toEqual([]);
  });

  it("catch a type-only cycle, a core module that imports an area and one hub kind importing another", () => {
    const found = violations(path.join(REPO, "test/fixtures/imports"), ["components"]);
    expect(new Set(found.map((v) => v.rule.name))).toEqual(
      new Set(["no-circular", "core-imports-no-area", "hub-kinds-apart"]),
    );
  });
});
