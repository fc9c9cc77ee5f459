/**
 * The README starts in two commands (issue 28): the offline render of the example stack, then the
 * tests exactly as CI runs them. renderCli.integration.test.ts runs the first without arguments;
 * CI runs the second.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { REPO } from "../support/stackFiles.js";

describe("README Quick start", () => {
  const readme = readFileSync(path.join(REPO, "README.md"), "utf8");
  const quick = readme.slice(readme.indexOf("## Quick start"));
  const first = /```sh\n([\s\S]*?)```/.exec(quick)![1];
  const commands = first
    .split("\n")
    .map((l) => l.replace(/#.*$/, "").trim())
    .filter(Boolean);

  it("is two one-line commands: the render, then the tests as CI runs them", () => {
    expect(commands).toEqual(["npm ci && npm run render", ".ci/run"]);
  });

  it("npm run render is the render tool, and .ci/run ends with npm test", () => {
    const pkg = JSON.parse(readFileSync(path.join(REPO, "package.json"), "utf8"));
    expect(pkg.scripts.render).toBe("tsx tools/render.ts");
    const ci = readFileSync(path.join(REPO, ".ci/run"), "utf8").trimEnd().split("\n");
    expect(ci.at(-1)).toBe("npm test");
  });
});
