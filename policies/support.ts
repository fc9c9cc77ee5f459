/** Plain-data helpers every policy uses: props are untyped JSON, so every access must survive any shape. */
import type { ResourceValidationArgs } from "@pulumi/policy";

// ---------------------------------------------------------------------------------------------
// Plain-data helpers (props are untyped JSON: every access must survive any shape)
// ---------------------------------------------------------------------------------------------

export type Obj = Record<string, any>;
export const isObj = (v: unknown): v is Obj => v !== null && typeof v === "object" && !Array.isArray(v);
export const list = (v: unknown): any[] => (Array.isArray(v) ? v : []);
export const objs = (v: unknown): Obj[] => list(v).filter(isObj);
export const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
export const oneOrMany = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined || v === null ? [] : [v]);
export const isPositive = (v: unknown): boolean => typeof v === "number" && Number.isFinite(v) && v > 0;

/** Resource validation args as the offline evaluator builds them: which top-level inputs were Pulumi secrets. */
export interface HomelabValidationArgs extends ResourceValidationArgs {
  /** Top-level input keys whose value was a Pulumi secret (secretness hoists to the top-level key). */
  readonly secretPaths?: readonly string[];
}

/**
 * Top-level inputs known to be secret: those the recording saw as secret, plus the resource's
 * `additionalSecretOutputs` (under the real analyzer values arrive unwrapped, and the Kubernetes SDK
 * marks a Secret's `data`/`stringData` that way).
 */
export function secretKeysOf(args: ResourceValidationArgs): Set<string> {
  return new Set([
    ...((args as HomelabValidationArgs).secretPaths ?? []),
    ...(args.opts?.additionalSecretOutputs ?? []),
  ]);
}

/** `Kind namespace/name` of a Kubernetes object for messages, falling back to the logical name. */
export function k8sLabel(type: string, props: Obj, fallback: string): string {
  const kind = str(props?.kind) ?? type.split(":").pop() ?? type;
  const md = isObj(props?.metadata) ? props.metadata : {};
  const name = str(md.name) ?? fallback;
  return `${kind} ${md.namespace ? `${md.namespace}/` : ""}${name}`;
}

// ---------------------------------------------------------------------------------------------
// Pod specs of Kubernetes workloads
// ---------------------------------------------------------------------------------------------

export const TEMPLATE_POD = (p: Obj) => p?.spec?.template?.spec;
export const POD_SPEC_OF: Record<string, (p: Obj) => unknown> = {
  "kubernetes:batch/v1:CronJob": (p) => p?.spec?.jobTemplate?.spec?.template?.spec,
  "kubernetes:batch/v1:Job": TEMPLATE_POD,
  "kubernetes:apps/v1:Deployment": TEMPLATE_POD,
  "kubernetes:apps/v1:DaemonSet": TEMPLATE_POD,
  "kubernetes:apps/v1:StatefulSet": TEMPLATE_POD,
  "kubernetes:apps/v1:ReplicaSet": TEMPLATE_POD,
  "kubernetes:core/v1:ReplicationController": TEMPLATE_POD,
  "kubernetes:core/v1:Pod": (p) => p?.spec,
};

/** The pod spec of a workload (patch variants included), or undefined for anything else. */
export function podSpecOf(type: string, props: Obj): { spec: Obj; patch: boolean } | undefined {
  const patch = type.endsWith("Patch");
  const get = POD_SPEC_OF[patch ? type.slice(0, -"Patch".length) : type];
  if (!get) return undefined;
  const spec = get(props);
  return isObj(spec) ? { spec, patch } : { spec: {}, patch };
}

export interface NamedContainer {
  readonly where: string;
  readonly c: Obj;
}

export function containersOf(spec: Obj): NamedContainer[] {
  const out: NamedContainer[] = [];
  for (const field of ["initContainers", "containers", "ephemeralContainers"]) {
    objs(spec[field]).forEach((c, i) => out.push({ where: `${field}[${i}] (${str(c.name) ?? "unnamed"})`, c }));
  }
  return out;
}
