/**
 * plan.md's "Writer credentials" table states the rights of the identities that are deployed: each row
 * is compared with the policy document the rendered resources attach to that identity (an AWS user
 * policy, the S3HubWriter of a Pi hub or an s3 hub), for the example stack (a Pi hub) and each
 * fixture; and every identity that exists has a row.
 */
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { describePolicy, type PolicyDocument } from "../../components/hub/iam.js";
import { unwrapSecrets } from "../../tools/mocks.js";
import { readStackFile, render, type RenderResult } from "../../tools/render.js";
import { runProgram } from "../../tools/harness.js";
import { EXAMPLE_STACK, REPO } from "../support/stackFiles.js";

const STACKS: Record<string, string> = {
  example: EXAMPLE_STACK,
  "aws-k3s": path.join(REPO, "test/fixtures/Pulumi.aws-k3s.yaml"),
  "s3-rgw": path.join(REPO, "test/fixtures/Pulumi.s3-rgw.yaml"),
};

/** The rows of plan.md's writer table: writer → [allowed, denied]. */
function planRows(plan: string): Map<string, [string, string]> {
  const section = plan.slice(plan.indexOf("### Writer credentials"));
  const rows = section
    .split("\n")
    .slice(4)
    .filter((l, i, all) => l.startsWith("|") && all.slice(0, i).every((x) => x.startsWith("|")));
  const cells = (l: string) =>
    l
      .slice(2, -2)
      .split(/(?<!\\) \| /)
      .map((c) => c.replace(/\\\|/g, "|"));
  return new Map(rows.map((l) => cells(l)).map((c) => [c[0], [c[3], c[4]]]));
}

/** Each identity's attached policy document, read from what the program registered. */
async function attachedPolicies(file: string): Promise<Map<string, PolicyDocument>> {
  const stack = readStackFile(file);
  const { rec } = await runProgram(stack.config, stack.secretKeys);
  const out = new Map<string, PolicyDocument>();
  for (const r of rec.byType("aws:iam/userPolicy:UserPolicy"))
    out.set(r.name.replace(/^hub-|-policy$/g, ""), JSON.parse(unwrapSecrets(r.inputs.policy)));
  for (const r of rec.resources.filter((x) => x.type.endsWith(":S3HubWriter")))
    out.set(r.name.replace(/^hub-s3-/, ""), unwrapSecrets(r.inputs.request).policy);
  return out;
}

const rendered = new Map<string, { result: RenderResult; attached: Map<string, PolicyDocument> }>();
beforeAll(async () => {
  for (const [name, file] of Object.entries(STACKS))
    rendered.set(name, { result: await render(readStackFile(file)), attached: await attachedPolicies(file) });
}, 300_000);

describe.each(Object.keys(STACKS))("plan.md's writer rights, %s stack", (name) => {
  it("list exactly the identities that exist, each with the rights of its attached policy", () => {
    const { result, attached } = rendered.get(name)!;
    const rows = planRows(result.plan);
    expect(attached.size).toBeGreaterThan(0);
    expect([...rows.keys()].sort()).toEqual([...attached.keys()].sort());
    for (const [writer, doc] of attached) {
      const desc = describePolicy(doc);
      expect(rows.get(writer), writer).toEqual([desc.allow, desc.deny || "everything else"]);
    }
  });
});
