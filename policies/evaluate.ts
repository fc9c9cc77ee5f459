/**
 * The offline evaluator: runs the pack's policies over recorded resource inputs (`npm run render`
 * writes its verdicts to policy.json). Every policy reads plain props and matches type tokens as
 * strings, so it runs the same under the Pulumi analyzer (`pulumi preview --policy-pack policies`) and
 * here, fed the unwrapped inputs the mock runtime recorded.
 */
import type {
  EnforcementLevel,
  PolicyResource,
  ReportViolation,
  ResourceValidationArgs,
  StackValidationArgs,
} from "@pulumi/policy";
import { splitStackKey } from "../components/core/stackKey.js";
import { policies } from "./all.js";
import { isObj } from "./support.js";
import { oneOrMany } from "./support.js";

/** One violation, as policy.json lists it. */
export interface PolicyVerdict {
  readonly policy: string;
  /** Logical name of the resource at fault ("stack" when a stack policy names none). */
  readonly resource: string;
  /** The stack-file key to change (`velero.schedules[0].ttl`), which the message names at its end in the CLI's output. */
  readonly key: string;
  readonly level: "mandatory" | "advisory";
  /** The message without its ` (stack key: …)` suffix. */
  readonly message: string;
}

/** A verdict from a diagnostic's message: the stack key split off its end ("" when it names none). */
export function verdictOf(
  policy: string,
  resource: string,
  level: "mandatory" | "advisory",
  text: string,
): PolicyVerdict {
  const { message, key } = splitStackKey(text);
  return { policy, resource, key: key ?? "", level, message };
}

/** A resource as the analyzer receives it: unwrapped inputs, and the registration's `additionalSecretOutputs`. */
export interface PolicyInput {
  readonly type: string;
  readonly name: string;
  readonly props: any;
  readonly additionalSecretOutputs?: readonly string[];
}

class NotApplicable extends Error {}

const PROJECT_URN = "urn:pulumi:homelab::homelab-backup";
const urnOf = (r: PolicyInput) => `${PROJECT_URN}::${r.type}::${r.name}`;

function levelOf(p: { enforcementLevel?: EnforcementLevel }): "mandatory" | "advisory" | undefined {
  const l = p.enforcementLevel ?? "advisory";
  if (l === "disabled") return undefined;
  return l === "advisory" ? "advisory" : "mandatory";
}

const optsOf = (r: PolicyInput) => ({
  protect: false,
  ignoreChanges: [],
  aliases: [],
  additionalSecretOutputs: [...(r.additionalSecretOutputs ?? [])],
  customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
});
const notApplicable = (why?: string): never => {
  throw new NotApplicable(why);
};

function resourceArgs(r: PolicyInput): ResourceValidationArgs {
  const props = isObj(r.props) ? r.props : {};
  return {
    type: r.type,
    name: r.name,
    urn: urnOf(r),
    props,
    opts: optsOf(r),
    stackTags: new Map(),
    isType: (c: any) => c?.__pulumiType === r.type,
    asType: ((c: any) => (c?.__pulumiType === r.type ? props : undefined)) as any,
    getConfig: <T extends object>() => ({}) as T,
    notApplicable,
  };
}

function stackArgs(resources: readonly PolicyInput[]): StackValidationArgs {
  const policyResources: PolicyResource[] = resources.map((r) => {
    const props = isObj(r.props) ? r.props : {};
    return {
      type: r.type,
      name: r.name,
      urn: urnOf(r),
      props,
      opts: optsOf(r),
      dependencies: [],
      propertyDependencies: {},
      isType: (c: any) => c?.__pulumiType === r.type,
      asType: ((c: any) => (c?.__pulumiType === r.type ? props : undefined)) as any,
    };
  });
  return {
    resources: policyResources,
    stackTags: new Map(),
    getConfig: <T extends object>() => ({}) as T,
    notApplicable,
  };
}

/**
 * Runs every resource policy over every resource and every stack policy over all of them, like the
 * analyzer does, and returns the violations. Policies that do not apply to a resource say so and are
 * skipped; a policy that throws is reported as a violation at its own level (it could not vouch).
 */
export function evaluatePolicies(resources: readonly PolicyInput[]): PolicyVerdict[] {
  const verdicts: PolicyVerdict[] = [];
  const byUrn = new Map(resources.map((r) => [urnOf(r), r.name]));
  const run = (
    policy: string,
    level: "mandatory" | "advisory",
    fallback: string,
    call: (report: ReportViolation) => unknown,
  ) => {
    const report: ReportViolation = (message: string, urn?: string) =>
      verdicts.push(verdictOf(policy, (urn && byUrn.get(urn)) || fallback, level, message));
    try {
      const result = call(report);
      if (result && typeof (result as Promise<void>).then === "function")
        throw new Error("asynchronous policies cannot run offline");
    } catch (e) {
      if (e instanceof NotApplicable) return;
      report(`policy could not be evaluated: ${(e as Error).message}`);
    }
  };
  for (const p of policies) {
    const level = levelOf(p);
    if (!level) continue;
    if ("validateStack" in p) {
      run(p.name, level, "stack", (report) => p.validateStack(stackArgs(resources), report));
      continue;
    }
    const validations = oneOrMany(p.validateResource) as ((a: ResourceValidationArgs, r: ReportViolation) => unknown)[];
    for (const r of resources)
      for (const v of validations) run(p.name, level, r.name, (report) => v(resourceArgs(r), report));
  }
  return verdicts;
}
