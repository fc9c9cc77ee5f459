/**
 * What the stack exports for `npm run status`: the status spec (plain: the audit's spec and each item's
 * threshold from the same resolved model as the audit's alert rules), and the reader's key and the
 * off-site FTP password as secrets.
 */
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { runProgram } from "../../tools/harness.js";
import { readStackFile } from "../../tools/render.js";
import { auditItems } from "../../components/alerts/auditItems.js";
import { auditSpec } from "../../components/alerts/auditSpec.js";
import { parseStackConfig } from "../../components/config.js";
import { stackWatches } from "../../components/model.js";
import { EXAMPLE_STACK } from "../support/stackFiles.js";

describe("the example stack's outputs for status", () => {
  it("statusSpec is plain and carries the audit's spec and thresholds; the reader's key and the FTP password are secrets", async () => {
    const file = readStackFile(EXAMPLE_STACK);
    const { outputs } = await runProgram(file.config, file.secretKeys);
    const spec = outputs.statusSpec as any;
    expect(pulumi.runtime.isRpcSecret(spec)).toBe(false);
    const stack = parseStackConfig(file.config);
    expect(spec.audit).toEqual(JSON.parse(JSON.stringify(auditSpec(stack, stack.alerts?.coverage.ignore ?? []))));
    expect(spec.items).toEqual(
      auditItems(stack, stackWatches(stack)).map((i) => ({
        cls: i.cls,
        ...(i.item !== undefined ? { item: i.item } : {}),
        thresholdSeconds: i.thresholdSeconds,
        why: i.why,
      })),
    );
    expect(spec.hub.bucket).toBe(stack.hub!.bucket);
    for (const k of ["statusReaderAccessKeyId", "statusReaderSecretAccessKey", "statusOffsiteFtpPassword"])
      expect(pulumi.runtime.isRpcSecret(outputs[k]), k).toBe(true);
  });
});
