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

/**
 * Top-level inputs known to be secret. The analyzer receives every value unwrapped
 * (`@pulumi/policy/server.js` deserializes without keeping secrets), so the only sign it gets is the
 * registration's `additionalSecretOutputs`: the Kubernetes SDK sets it for a Secret's `data` and
 * `stringData`, @pulumi/command for `connection`, and this program for every input that carries a
 * secret (test/program/secretness.integration.test.ts holds it to that).
 */
export function secretKeysOf(args: ResourceValidationArgs): Set<string> {
  return new Set(args.opts?.additionalSecretOutputs ?? []);
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
