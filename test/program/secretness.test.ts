/**
 * Secrets stay visible as secrets to the policy analyzer. The engine receives a secret input wrapped,
 * but the analyzer receives every input unwrapped (`@pulumi/policy/server.js`); what it still sees is
 * the registration's `additionalSecretOutputs`. So every top-level input that reaches the engine as a
 * secret must be named there, and a component (which has no such option) must register none.
 */
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { runProgram } from "../../tools/harness.js";
import { readStackFile } from "../../tools/render.js";
import { EXAMPLE_STACK, REPO } from "../support/stackFiles.js";

const STACKS = [
  EXAMPLE_STACK,
  path.join(REPO, "test/fixtures/Pulumi.aws-k3s.yaml"),
  path.join(REPO, "test/fixtures/Pulumi.s3-rgw.yaml"),
];

describe.each(STACKS)("secret inputs of %s", (file) => {
  it("are each named in the resource's additionalSecretOutputs; components register none", async () => {
    const stack = readStackFile(file);
    const { rec } = await runProgram(stack.config, stack.secretKeys);
    const hidden: string[] = [];
    let secretInputs = 0;
    for (const r of rec.resources) {
      for (const [key, value] of Object.entries(r.inputs ?? {})) {
        if (key.startsWith("__") || !pulumi.runtime.isRpcSecret(value)) continue;
        secretInputs++;
        const visible = r.custom && (r.options?.additionalSecretOutputs ?? []).includes(key);
        if (!visible) hidden.push(`${r.type} ${r.name}: ${key}`);
      }
    }
    expect(secretInputs).toBeGreaterThan(0);
    expect(hidden).toEqual([]);
  });
});
