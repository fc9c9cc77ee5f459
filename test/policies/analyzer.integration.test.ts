/**
 * The policy pack as the CLI runs it (test/support/policyAnalyzer.ts): loaded through
 * `@pulumi/pulumi/cmd/run-policy-pack` from `policies/`, asked `Analyze` and `AnalyzeStack` over gRPC
 * with what the program registered (run through the SDK's loader, tools/harness.ts). The offline
 * evaluator behind `npm run render` (policies/evaluate.ts, fed by tools/render.ts `policyInputsOf`)
 * must reach the same verdicts, so the render's policy.json is what `pulumi preview` would report.
 */
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { splitStackKey } from "../../components/core/stackKey.js";
import { evaluatePolicies } from "../../policies/evaluate.js";
import { runProgram } from "../../tools/harness.js";
import type { RecordedResource } from "../../tools/mocks.js";
import { policyInputsOf, readStackFile } from "../../tools/render.js";
import { startPolicyPack, type PolicyPackProcess } from "../support/policyAnalyzer.js";
import { EXAMPLE_STACK, REPO } from "../support/stackFiles.js";

const STACKS = {
  example: EXAMPLE_STACK,
  "aws-k3s": path.join(REPO, "test/fixtures/Pulumi.aws-k3s.yaml"),
  "s3-rgw": path.join(REPO, "test/fixtures/Pulumi.s3-rgw.yaml"),
};

let pack: PolicyPackProcess;
const registered = new Map<string, RecordedResource[]>();

beforeAll(async () => {
  pack = await startPolicyPack();
  for (const [name, file] of Object.entries(STACKS)) {
    const stack = readStackFile(file);
    registered.set(name, (await runProgram(stack.config, stack.secretKeys)).rec.resources);
  }
}, 300_000);
afterAll(() => pack?.stop());

/** A verdict as compared: level, policy, resource and the stack key (the analyzer's is at the end of its message). */
const key = (v: { policy: string; resource: string; level: string; key?: string; message: string }) =>
  `${v.level} ${v.policy} ${v.resource} ${v.key ?? splitStackKey(v.message).key ?? "(no key)"}`;
const offline = (resources: readonly RecordedResource[]) => evaluatePolicies(policyInputsOf(resources)).map(key).sort();

/** A copy of `resources` with one resource's inputs or options changed (the rest shared). */
function mutate(
  resources: readonly RecordedResource[],
  pick: (r: RecordedResource) => boolean,
  change: (inputs: any, r: RecordedResource) => Partial<RecordedResource> | void,
): RecordedResource[] {
  let hit = 0;
  const out = resources.map((r) => {
    if (hit > 0 || !pick(r)) return r;
    hit++;
    const inputs = JSON.parse(JSON.stringify(r.inputs));
    return { ...r, inputs, ...(change(inputs, r) ?? {}) };
  });
  expect(hit, "the mutation found its resource").toBe(1);
  return out;
}

const isType = (t: string) => (r: RecordedResource) => r.type === t;

describe("the policy pack through its analyzer server", () => {
  it("loads as the CLI loads it, with one copy of the SDK", () => {
    const sdk = require.resolve("@pulumi/pulumi", { paths: [path.join(REPO, "policies")] });
    expect(sdk).toBe(require.resolve("@pulumi/pulumi", { paths: [REPO] }));
    expect(pack.loadMs).toBeGreaterThan(0);
  });

  for (const name of Object.keys(STACKS)) {
    it(`reports no mandatory violation on the ${name} stack, and the same verdicts as the offline evaluator`, async () => {
      const resources = registered.get(name)!;
      const verdicts = await pack.analyze(resources);
      expect(verdicts.filter((v) => v.level === "mandatory")).toEqual([]);
      expect(verdicts.map(key).sort()).toEqual(offline(resources));
    });
  }

  const BAD: Record<
    string,
    [keyof typeof STACKS, (rs: readonly RecordedResource[]) => RecordedResource[], string, string?]
  > = {
    "a latest image": [
      "example",
      (rs) =>
        mutate(rs, isType("kubernetes:batch/v1:CronJob"), (i) => {
          i.spec.jobTemplate.spec.template.spec.containers[0].image = "postgres:latest";
        }),
      "images-pinned",
    ],
    "a CronJob that replaces a running backup": [
      "example",
      (rs) =>
        mutate(rs, isType("kubernetes:batch/v1:CronJob"), (i) => {
          i.spec.concurrencyPolicy = "Replace";
        }),
      "backup-cronjob-hardened",
    ],
    "retain not above full-backup-interval": [
      "example",
      (rs) =>
        mutate(
          rs,
          (r) => r.type.endsWith(":RecurringJob") && r.inputs.spec?.parameters?.["full-backup-interval"] !== undefined,
          (i) => {
            i.spec.retain = Number(i.spec.parameters["full-backup-interval"]);
          },
        ),
      "longhorn-retain-exceeds-full-backup-interval",
      "longhorn.recurringJobs[0].retain",
    ],
    "a Velero ttl shorter than the gap between runs": [
      "example",
      (rs) =>
        mutate(rs, isType("kubernetes:velero.io/v1:Schedule"), (i) => {
          i.spec.template.ttl = "1h0m0s";
        }),
      "velero-ttl-covers-interval",
      "velero.schedules[0].ttl",
    ],
    "a Pi hub in plain HTTP without the stack's opt-out": [
      "example",
      (rs) =>
        mutate(
          rs,
          (r) => r.name === "hub-s3-bucket",
          (i) => {
            // The example's Pi hub is plain http with the opt-out: without it, refused under hub.tls.
            i.allowPlainHttp = false;
          },
        ),
      "s3-bucket-protected",
      "hub.tls",
    ],
    "a Pi hub lock that outlives the shortest retention": [
      "example",
      (rs) =>
        mutate(
          rs,
          (r) => r.name === "hub-s3-bucket",
          (i) => {
            i.want.objectLock.days = 365;
          },
        ),
      "s3-bucket-protected",
      "hub.objectLock.days",
    ],
    "a Pi hub without versioning": [
      "example",
      (rs) =>
        mutate(
          rs,
          (r) => r.name === "hub-s3-bucket",
          (i) => {
            i.want.versioning = "Suspended";
          },
        ),
      "s3-bucket-protected",
      "hub",
    ],
    "a suspended bucket versioning": [
      "aws-k3s",
      (rs) =>
        mutate(rs, isType("aws:s3/bucketVersioning:BucketVersioning"), (i) => {
          i.versioningConfiguration.status = "Suspended";
        }),
      "s3-bucket-protected",
      "hub",
    ],
    "an s3 hub lock that outlives the shortest retention": [
      "s3-rgw",
      (rs) =>
        mutate(
          rs,
          (r) => r.name === "hub-s3-bucket",
          (i) => {
            i.want.objectLock.days = 30;
          },
        ),
      "s3-bucket-protected",
      "hub.objectLock.days",
    ],
    "an s3 hub reached over plain HTTP without the stack's opt-out": [
      "s3-rgw",
      (rs) =>
        mutate(
          rs,
          (r) => r.name === "hub-s3-bucket",
          (i) => {
            i.endpoint = "http://rgw.lab.home.arpa";
          },
        ),
      "s3-bucket-protected",
      "hub.endpoint",
    ],
    "a writer allowed every action": [
      "aws-k3s",
      (rs) =>
        mutate(rs, isType("aws:iam/userPolicy:UserPolicy"), (i) => {
          const doc = JSON.parse(i.policy);
          doc.Statement[0].Action = "*";
          i.policy = JSON.stringify(doc);
        }),
      "iam-least-privilege",
    ],
    "a secret stdin that the analyzer cannot see as secret": [
      "example",
      (rs) =>
        mutate(
          rs,
          (r) => r.name === "hub-pi-install",
          (_i, r) => ({ options: { ...r.options!, additionalSecretOutputs: [] } }),
        ),
      "no-plaintext-secrets",
    ],
  };

  for (const [what, [stack, bad, policy, stackKey]] of Object.entries(BAD)) {
    it(`refuses ${what} (${policy}), naming the stack key, as the offline evaluator does`, async () => {
      const resources = bad(registered.get(stack)!);
      const verdicts = await pack.analyze(resources);
      const mandatory = verdicts.filter((v) => v.level === "mandatory");
      expect(mandatory.map((v) => v.policy)).toContain(policy);
      // Every verdict names a stack key; where the broken field maps to one key, it is that key.
      for (const v of verdicts) expect(splitStackKey(v.message).key, `${v.policy} ${v.resource}`).toMatch(/^[a-zA-Z]/);
      if (stackKey)
        expect(mandatory.filter((v) => v.policy === policy).map((v) => splitStackKey(v.message).key)).toContain(
          stackKey,
        );
      expect(verdicts.map(key).sort()).toEqual(offline(resources));
    });
  }
});
