/**
 * The program loads as the Pulumi CLI loads it: tools/harness.ts starts `@pulumi/pulumi/cmd/run` with
 * the language host's command line for `Pulumi.yaml`'s runtime options, against the offline engine.
 * Every stack file the tests render registers all of its resources that way, and the registrations
 * are the ones the SDK's in-process mocks record for the same program. A project whose `Pulumi.yaml`
 * goes back to `typescript: true` (the SDK's ts-node, no tsx) fails to load, as `pulumi preview` would.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { afterAll, describe, expect, it } from "vitest";
import { ProgramFailed, runProgram } from "../../tools/harness.js";
import { installMocks, recordingMocks, settle } from "../../tools/mocks.js";
import { readStackFile } from "../../tools/render.js";
import { MAX_CONFIG_ENV_BYTES } from "../../tools/languageHost.js";
import { EXAMPLE_STACK, largeStackYaml, REPO } from "../support/stackFiles.js";

const FIXTURES = [
  EXAMPLE_STACK,
  ...readdirSync(path.join(REPO, "test/fixtures"))
    .filter((f) => /^Pulumi\..+\.yaml$/.test(f))
    .map((f) => path.join(REPO, "test/fixtures", f)),
];

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A project directory that is this repository with another Pulumi.yaml (everything else linked). */
function projectWith(pulumiYaml: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), "langhost-"));
  dirs.push(dir);
  for (const entry of ["index.ts", "components", "node_modules", "package.json", "tsconfig.json"])
    symlinkSync(path.join(REPO, entry), path.join(dir, entry));
  writeFileSync(path.join(dir, "Pulumi.yaml"), pulumiYaml);
  return dir;
}

describe.each(FIXTURES)("%s through the SDK's loader", (file) => {
  it("registers every resource, each with its URN, and the stack's outputs", async () => {
    const stack = readStackFile(file);
    const run = await runProgram(stack.config, stack.secretKeys);
    const custom = run.rec.resources.filter((r) => r.custom);
    expect(custom.length).toBeGreaterThan(20);
    expect(run.rec.resources.filter((r) => !r.urn || !r.options)).toEqual([]);
    expect(run.rec.resources.filter((r) => r.type === "pulumi:pulumi:Stack")).toHaveLength(1);
    expect(Object.keys(run.outputs)).toContain("hubEndpoint");
    expect(run.logs.filter((l) => l.severity === "error" || l.severity === "warning")).toEqual([]);
  });
});

describe("the loader and the in-process mocks", () => {
  it("register the same resources with the same inputs for the example stack", async () => {
    const stack = readStackFile(EXAMPLE_STACK);
    const viaLoader = await runProgram(stack.config, stack.secretKeys);
    const rec = recordingMocks();
    await installMocks(rec);
    pulumi.runtime.setAllConfig(stack.config, stack.secretKeys);
    (await import("../../index.js")).default();
    await settle();
    const key = (r: { type: string; name: string }) => `${r.type}::${r.name}`;
    const inProcess = new Map(rec.resources.map((r) => [key(r), r]));
    // The loader also registers the root Stack resource, which the mocks create only around a whole run.
    const loaded = viaLoader.rec.resources.filter((r) => r.type !== "pulumi:pulumi:Stack");
    expect(loaded.map(key).sort()).toEqual([...inProcess.keys()].sort());
    for (const r of loaded.filter((x) => x.type.startsWith("kubernetes:batch")))
      expect(JSON.stringify(r.inputs), key(r)).toBe(JSON.stringify(inProcess.get(key(r))!.inputs));
  });
});

describe("Pulumi.yaml's runtime options decide whether the program loads", () => {
  const stack = readStackFile(EXAMPLE_STACK);
  it("this repository's options load it from a copy of the project", async () => {
    const dir = projectWith(readFileSync(path.join(REPO, "Pulumi.yaml"), "utf8"));
    const run = await runProgram(stack.config, stack.secretKeys, { projectDir: dir });
    expect(run.rec.resources.length).toBeGreaterThan(50);
  });

  it("`typescript: true` without a loader for the project's imports fails, naming the module", async () => {
    const dir = projectWith("name: homelab-backup\nruntime:\n  name: nodejs\n  options:\n    typescript: true\n");
    const failure = await runProgram(stack.config, stack.secretKeys, { projectDir: dir }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(failure).toBeInstanceOf(ProgramFailed);
    expect((failure as ProgramFailed).message).toMatch(/Cannot find module '\.\/components\/config\.js'|TS5011/);
  });
});

describe("a stack config larger than the CLI can hand over", () => {
  it("the limit is the kernel's: an environment string one byte longer cannot start a process", () => {
    const env = (bytes: number) => ({
      PATH: process.env.PATH,
      PULUMI_CONFIG: "x".repeat(bytes - "PULUMI_CONFIG=".length),
    });
    expect(spawnSync(process.execPath, ["-e", "0"], { env: env(MAX_CONFIG_ENV_BYTES) }).status).toBe(0);
    expect(spawnSync(process.execPath, ["-e", "0"], { env: env(MAX_CONFIG_ENV_BYTES + 1) }).error?.message).toMatch(
      /E2BIG/,
    );
  });

  it("is refused by the render as a stack-file error that says why", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "bigstack-"));
    dirs.push(dir);
    const file = path.join(dir, "Pulumi.big.yaml");
    writeFileSync(file, largeStackYaml(700, 1400, 20));
    const r = spawnSync(
      path.join(REPO, "node_modules/.bin/tsx"),
      [path.join(REPO, "tools/render.ts"), "--stack-file", file, "--out", path.join(dir, "out")],
      { cwd: REPO, encoding: "utf8" },
    );
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/config: the stack's config is \d+ KiB as JSON.*PULUMI_CONFIG.*128 KiB/);
  });
});
