/**
 * Every render of the stack files the tests use (the example stack, the AWS fixture, a generated
 * large stack) is checked by the upstream rules (test/support/renderChecks.ts): built-in objects
 * strictly against Kubernetes' schema, custom resources against their CRDs, schedules with robfig/cron,
 * name limits, the Velero chart's values schema, and the remote SSH commands with shellcheck. Each
 * checker is also shown to catch a deliberately broken object, so none of them can pass vacuously.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kubernetesObjects, renderProblems, type RenderedResource } from "../support/renderChecks.js";
import { EXAMPLE_STACK, largeStackYaml, REPO } from "../support/stackFiles.js";

const run = promisify(execFile);
const TSX = path.join(REPO, "node_modules/.bin/tsx");
const RENDER = path.join(REPO, "tools/render.ts");

let tmp: string;
const renders = new Map<string, RenderedResource[]>();

async function renderResources(label: string, stackFile: string): Promise<void> {
  const out = path.join(tmp, label);
  await run(TSX, [RENDER, "--stack-file", stackFile, "--out", out], {
    cwd: REPO,
    maxBuffer: 64 << 20,
    timeout: 240_000,
  });
  renders.set(label, JSON.parse(readFileSync(path.join(out, "resources.json"), "utf8")));
}

beforeAll(async () => {
  tmp = mkdtempSync(path.join(tmpdir(), "rendered-objects-"));
  const large = path.join(tmp, "Pulumi.large.yaml");
  writeFileSync(large, largeStackYaml(4, 6, 3));
  await Promise.all([
    renderResources("example", EXAMPLE_STACK),
    renderResources("aws", path.join(REPO, "test/fixtures/Pulumi.aws-k3s.yaml")),
    renderResources("large", large),
  ]);
}, 480_000);

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const byType = (resources: RenderedResource[], type: string) => resources.filter((r) => r.type === type);

describe.each(["example", "aws", "large"])("the %s render", (label) => {
  it("passes every upstream rule: Kubernetes schema (strict), CRDs, robfig/cron, name limits, Velero chart values", async () => {
    const resources = renders.get(label)!;
    const objects = kubernetesObjects(resources);
    expect(objects.length).toBeGreaterThan(10);
    expect(await renderProblems(resources)).toEqual([]);
  }, 120_000);

  it("sends remote commands that pass shellcheck as POSIX sh", async () => {
    const commands = byType(renders.get(label)!, "command:remote:Command").flatMap((r) =>
      (["create", "update", "delete"] as const)
        .filter((k) => typeof r.inputs[k] === "string")
        .map((k) => ({ where: `${r.name}.${k}`, text: r.inputs[k] as string })),
    );
    if (label === "example")
      expect(commands.length, "the example stack's Pi hub is set up over SSH").toBeGreaterThan(3);
    const problems: string[] = [];
    for (const { where, text } of commands) {
      const checked = await new Promise<string>((resolve) => {
        const child = execFile(
          "shellcheck",
          ["--shell=sh", "--severity=warning", "--format=gcc", "-"],
          { timeout: 60_000 },
          (_err, stdout) => resolve(stdout),
        );
        child.stdin!.end(`${text}\n`);
      });
      if (checked.trim()) problems.push(`${where}: ${text}\n${checked}`);
    }
    expect(problems).toEqual([]);
  }, 240_000);
});

describe("the checkers catch what they are for", () => {
  const example = () => structuredClone(renders.get("example")!);
  const firstOf = (resources: RenderedResource[], type: string) => resources.find((r) => r.type === type)!;

  it("an unknown field in a CronJob, a bad enum in a Deployment, a Velero schedule robfig refuses", async () => {
    const resources = example();
    const cronJob = firstOf(resources, "kubernetes:batch/v1:CronJob").inputs;
    cronJob.spec.scheduel = "0 3 * * *";
    cronJob.spec.jobTemplate.spec.template.spec.containers[0].securityContext = { runAsNonroot: true };
    const deployment = firstOf(resources, "kubernetes:apps/v1:Deployment");
    deployment.inputs.spec.strategy = { type: "Rolling" };
    firstOf(resources, "kubernetes:velero.io/v1:Schedule").inputs.spec.schedule = "0 3 * * 5-7";
    const problems = (await renderProblems(resources)).join("\n");
    expect(problems).toMatch(/CronJob .*: \/spec must NOT have additional properties \(scheduel\)/);
    expect(problems).toMatch(
      /CronJob .*containers\/0\/securityContext must NOT have additional properties \(runAsNonroot\)/,
    );
    expect(problems).toMatch(/Deployment .*\/spec\/strategy\/type must be equal to one of the allowed values/);
    expect(problems).toMatch(
      /schedule "0 3 \* \* 5-7" is refused by robfig\/cron: end of range \(7\) above maximum \(6\)/,
    );
  }, 120_000);

  it("a CronJob name over 52 characters and a label value over 63", async () => {
    const resources = example();
    const cronJob = firstOf(resources, "kubernetes:batch/v1:CronJob");
    cronJob.inputs.metadata.name = `pg-restore-drill-${"x".repeat(36)}`;
    cronJob.inputs.metadata.labels = {
      ...cronJob.inputs.metadata.labels,
      "app.kubernetes.io/instance": "y".repeat(64),
    };
    const problems = (await renderProblems(resources)).join("\n");
    expect(problems).toMatch(/CronJob name has 53 characters, Kubernetes allows 52/);
    expect(problems).toMatch(/app\.kubernetes\.io\/instance.*not a valid label value/);
  }, 120_000);

  it("Velero chart values the chart's schema refuses", async () => {
    const resources = example();
    const release = resources.find(
      (r) => r.type === "kubernetes:helm.sh/v3:Release" && /velero/.test(String(r.inputs.chart)),
    )!;
    expect(release, "the example stack installs Velero with Helm").toBeDefined();
    release.inputs.values.configuration.backupStorageLocation = [{ provider: "aws" }];
    release.inputs.values.terminationGracePeriodSeconds = "3600";
    const problems = (await renderProblems(resources)).join("\n");
    expect(problems).toMatch(/backupStorageLocation\/0 must have required property 'bucket'/);
    expect(problems).toMatch(/terminationGracePeriodSeconds must be number/);
  }, 120_000);
});
