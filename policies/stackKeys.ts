/**
 * Every verdict names the stack-file key to change (components/core/stackKey.ts says why the key
 * travels with the resources). A policy that knows the field appends it itself (`velero-ttl-covers-interval`:
 * `velero.schedules[0].ttl`); `withStackKeys` gives every other verdict the key of the resource at
 * fault: the `homelab-backup.io/stack-key` annotation of an object made from one list entry, else the
 * section its logical name belongs to. Logical names are fixed by the components (components/stack.ts
 * names each component after its section; URNs never change with inputs), so the mapping holds in
 * `pulumi preview` and in the offline render alike.
 */
import type {
  Policy,
  PolicyResource,
  ReportViolation,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";
import { splitStackKey, STACK_KEY_ANNOTATION, withStackKey } from "../components/core/stackKey.js";
import { isObj, oneOrMany, str, type Obj } from "./support.js";

/** Logical-name prefixes of the components (components/stack.ts) → their stack-file section; longest first. */
export const SECTION_OF_NAME: readonly (readonly [RegExp, string])[] = [
  [/^hub-arrivals(-|$)/, "alerts"],
  [/^hub(-|$)/, "hub"],
  [/^ftp-bridge(-|$)/, "ftpBridge"],
  [/^longhorn(-|$)/, "longhorn"],
  [/^pg-restore-drill(-|$)/, "postgres.restoreDrill"],
  [/^pg-/, "postgres"],
  [/^etcd(-|$)/, "etcd"],
  [/^velero(-|$)/, "velero"],
  [/^mirror-/, "buckets"],
  [/^drills(-|$)/, "drills"],
  [/^alerts(-|$)/, "alerts"],
  [/^offsite(-|$)/, "offsite"],
];

/** The stack key a resource was made from: its annotation, else its section by logical name, else undefined. */
export function resourceStackKey(r: { name: string; props?: Obj }): string | undefined {
  const annotated = str(r.props?.metadata?.annotations?.[STACK_KEY_ANNOTATION]);
  if (annotated) return annotated;
  return SECTION_OF_NAME.find(([re]) => re.test(r.name))?.[1];
}

/** `report` that appends `key` to a message that names none yet. */
function keyedReport(report: ReportViolation, keyOf: (urn?: string) => string): ReportViolation {
  return (message: string, urn?: string) =>
    report(splitStackKey(message).key ? message : withStackKey(message, keyOf(urn)), urn);
}

/**
 * The policy with every verdict keyed: the resource's own key, or `fallback` (the section the policy
 * guards) for a resource that belongs to none and for a stack verdict that names no resource.
 */
export function withStackKeys<P extends Policy>(policy: P, fallback: string): P {
  if ("validateStack" in policy) {
    const p = policy as unknown as StackValidationPolicy;
    return {
      ...p,
      validateStack: (args: StackValidationArgs, report: ReportViolation) => {
        const byUrn = new Map<string, PolicyResource>(args.resources.map((r) => [r.urn, r]));
        const keyOf = (urn?: string) => {
          const r = urn ? byUrn.get(urn) : undefined;
          return (r && resourceStackKey({ name: r.name, props: isObj(r.props) ? r.props : {} })) ?? fallback;
        };
        return p.validateStack(args, keyedReport(report, keyOf));
      },
    } as unknown as P;
  }
  const p = policy as unknown as ResourceValidationPolicy;
  const validations = oneOrMany(p.validateResource) as ((a: ResourceValidationArgs, r: ReportViolation) => unknown)[];
  return {
    ...p,
    validateResource: validations.map(
      (v) => (args: ResourceValidationArgs, report: ReportViolation) =>
        v(
          args,
          keyedReport(
            report,
            () => resourceStackKey({ name: args.name, props: isObj(args.props) ? args.props : {} }) ?? fallback,
          ),
        ),
    ),
  } as unknown as P;
}
