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
import { resolveStack, stackWatches } from "../../components/model.js";
import { auditStaleAfterSeconds } from "../../components/alerts/auditRules.js";
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
    // Where the records only the cluster knows are, from the same model: every drill's, and the
    // audit's PVC inventory with the audit's own staleness (BackupAuditFailing's).
    const model = resolveStack(stack);
    expect(spec.records.drills).toEqual(
      model.drills.map((d) => ({ cls: d.cls, item: d.record.item, key: d.record.key })),
    );
    expect(spec.records.drills.length).toBeGreaterThan(0);
    for (const d of spec.records.drills) expect(d.key).toBe(`status/drills/${d.cls}/${d.item}.json`);
    expect(spec.records.pvcInventory).toEqual({
      key: "status/audit/pvcs.json",
      maxAgeSeconds: auditStaleAfterSeconds(stack.alerts!.audit.intervalMinutes * 60),
    });
    for (const k of ["statusReaderAccessKeyId", "statusReaderSecretAccessKey", "statusOffsiteFtpPassword"])
      expect(pulumi.runtime.isRpcSecret(outputs[k]), k).toBe(true);
  });
});
