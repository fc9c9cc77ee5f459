/**
 * The disaster runbooks of plan.md as the render writes them (the program run through the engine
 * path): the hub-loss runbook re-runs exactly the commands the stack runs on the hub host (their URNs
 * from the registrations), and the cluster-loss runbook goes in dependency order. The hub-loss
 * commands themselves run in test/program/hubLoss.integration.test.ts.
 */
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { parseStackConfig } from "../../components/config.js";
import { clusterLossRunbook, hubLossRunbook } from "../../components/disasters.js";
import { readStackFile, render } from "../../tools/render.js";
import { REPO } from "../support/stackFiles.js";

describe("disaster runbooks", () => {
  it("the example's hub-loss runbook replaces every command run on the hub host, and nothing else", async () => {
    const file = readStackFile(path.join(REPO, "Pulumi.homelab.yaml"));
    const result = await render(file);
    const hostCommands = result.resources
      .filter((r) => r.type === "command:remote:Command")
      .map((r) => r.name)
      .sort();
    expect(hostCommands.length).toBeGreaterThan(5);
    const section = result.plan.slice(
      result.plan.indexOf("## When the hub's disk dies"),
      result.plan.indexOf("## When the cluster dies"),
    );
    const replaced = [...section.matchAll(/--replace "urn:pulumi:\$\{STACK\}::[^"]*::([^":]+)"/g)]
      .map((m) => m[1])
      .sort();
    expect(replaced).toEqual(hostCommands);
    expect(section).toContain('restore-offsite.sh "hub:$BUCKET"');
  }, 300_000);

  it("the cluster-loss runbook goes cluster, Longhorn, Velero, databases, buckets, then the proof", () => {
    const stack = parseStackConfig(readStackFile(path.join(REPO, "Pulumi.homelab.yaml")).config);
    const text = clusterLossRunbook(stack);
    const order = [
      "**The cluster itself.**",
      "**Longhorn.**",
      "**Velero.**",
      "**The databases.**",
      "**Object-store buckets.**",
      "**Prove it.**",
    ].map((t) => text.indexOf(t));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    // Velero leaves out Secrets in the example: the runbook says where they come from.
    expect(text).toContain("The backups leave out Secrets");
  });

  it("an AWS hub needs no hub-loss runbook, and a stack without an off-site copy is told it has none", () => {
    const aws = parseStackConfig(readStackFile(path.join(REPO, "test/fixtures/Pulumi.aws-k3s.yaml")).config);
    expect(hubLossRunbook(aws)).toMatch(/^The hub is an AWS bucket/);
    const { config } = readStackFile(path.join(REPO, "Pulumi.homelab.yaml"));
    const noOffsite = { ...config };
    delete noOffsite["homelab-backup:offsite"];
    delete noOffsite["homelab-backup:drills"];
    expect(hubLossRunbook(parseStackConfig(noOffsite))).toContain("No off-site copy is configured");
  });
});
