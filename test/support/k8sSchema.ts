/**
 * Validates built-in Kubernetes objects strictly, the way the API server's strict field validation
 * does (`kubectl apply --validate=strict`, the default since Kubernetes 1.27):
 *
 * 1. against Kubernetes' own OpenAPI definitions (test/fixtures/kubernetes/openapi-1.28.0.json, see
 *    the README there) with ajv: every object schema that lists `properties` gets
 *    `additionalProperties: false`, so an unknown or misspelt field is an error, as are wrong types,
 *    missing required fields and values outside an enum;
 * 2. with the `kubernetes-models` package (generated from a newer Kubernetes, 1.36): types, enums,
 *    required fields and formats as that version defines them.
 *
 * Patches (server-side apply of a partial object) are checked for unknown fields and types only:
 * leaving out a required field is what a patch does.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import Ajv, { type ValidateFunction } from "ajv";

export const KUBERNETES_OPENAPI = path.resolve(__dirname, "../fixtures/kubernetes/openapi-1.28.0.json");

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };
const isObject = (v: unknown): v is JsonObject => typeof v === "object" && v !== null && !Array.isArray(v);

const INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString";
const QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity";

/** Deep copy of a definition in the strict form ajv validates. */
function strict(node: Json, dropRequired: boolean): Json {
  if (Array.isArray(node)) return node.map((n) => strict(n, dropRequired));
  if (!isObject(node)) return node;
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(node)) {
    if (key.startsWith("x-kubernetes-") || key === "description") continue;
    if (key === "required" && dropRequired) continue;
    if (key === "$ref" && typeof value === "string") {
      out.$ref = `k8s${value}${dropRequired ? "-patch" : ""}`;
      continue;
    }
    if (key === "properties" && isObject(value)) {
      out.properties = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, strict(v, dropRequired)]));
      continue;
    }
    // The upstream file lists some enum values twice (ServiceSpec.externalTrafficPolicy), which JSON Schema forbids.
    out[key] = key === "enum" && Array.isArray(value) ? [...new Set(value)] : strict(value, dropRequired);
  }
  if (
    isObject(out.properties) &&
    out.additionalProperties === undefined &&
    node["x-kubernetes-preserve-unknown-fields"] !== true
  )
    out.additionalProperties = false;
  return out;
}

interface Registry {
  ajv: Ajv;
  /** `apiVersion|kind` → definition name. */
  kinds: Map<string, string>;
  version: string;
}
let registry: Registry | undefined;

function load(): Registry {
  if (registry) return registry;
  const spec = JSON.parse(readFileSync(KUBERNETES_OPENAPI, "utf8")) as JsonObject;
  const definitions = spec.definitions as JsonObject;
  const kinds = new Map<string, string>();
  const full: JsonObject = {};
  const patch: JsonObject = {};
  for (const [name, def] of Object.entries(definitions)) {
    if (!isObject(def)) continue;
    for (const gvk of (def["x-kubernetes-group-version-kind"] as JsonObject[] | undefined) ?? []) {
      const apiVersion = gvk.group ? `${gvk.group as string}/${gvk.version as string}` : (gvk.version as string);
      kinds.set(`${apiVersion}|${gvk.kind as string}`, name);
    }
    full[name] = strict(def, false);
    patch[`${name}-patch`] = strict(def, true);
  }
  // IntOrString is declared a string with format int-or-string; the API takes either. A Quantity is
  // a string in the schema, and its JSON decoding takes a bare number too (resource.Quantity.UnmarshalJSON).
  for (const defs of [full, patch]) {
    const suffix = defs === patch ? "-patch" : "";
    defs[`${INT_OR_STRING}${suffix}`] = { type: ["integer", "string"] };
    defs[`${QUANTITY}${suffix}`] = { type: ["string", "number"] };
  }
  const ajv = new Ajv({ strict: false, validateFormats: false, allErrors: true });
  ajv.addSchema({ $id: "k8s", definitions: { ...full, ...patch } });
  registry = { ajv, kinds, version: String((spec.info as JsonObject).version) };
  return registry;
}

/** True when `apiVersion`/`kind` is a built-in kind of the Kubernetes OpenAPI definitions. */
export function isBuiltIn(apiVersion: unknown, kind: unknown): boolean {
  return typeof apiVersion === "string" && typeof kind === "string" && load().kinds.has(`${apiVersion}|${kind}`);
}

const validators = new Map<string, ValidateFunction>();

function labelOf(obj: JsonObject): string {
  const md = isObject(obj.metadata) ? obj.metadata : {};
  return `${String(obj.kind)} ${typeof md.namespace === "string" ? `${md.namespace}/` : ""}${typeof md.name === "string" ? md.name : "<unnamed>"}`;
}

/** Errors of `obj` against the OpenAPI definitions (strict: unknown fields fail); [] when valid. */
export function validateAgainstOpenApi(obj: unknown, { patch = false } = {}): string[] {
  if (!isObject(obj)) return ["object expected"];
  const r = load();
  const name = r.kinds.get(`${String(obj.apiVersion)}|${String(obj.kind)}`);
  if (!name)
    return [
      `${labelOf(obj)}: ${String(obj.apiVersion)} ${String(obj.kind)} is not a built-in kind of Kubernetes ${r.version}`,
    ];
  const ref = `k8s#/definitions/${name}${patch ? "-patch" : ""}`;
  let validate = validators.get(ref);
  if (!validate) {
    validate = r.ajv.getSchema(ref);
    if (!validate) throw new Error(`no schema ${ref}`);
    validators.set(ref, validate);
  }
  if (validate(obj)) return [];
  return (validate.errors ?? []).map((e) => {
    const extra =
      e.keyword === "additionalProperties"
        ? ` (${(e.params as { additionalProperty: string }).additionalProperty})`
        : e.keyword === "enum"
          ? ` (${JSON.stringify((e.params as { allowedValues: unknown }).allowedValues)})`
          : "";
    return `${labelOf(obj)}: ${e.instancePath || "/"} ${e.message ?? e.keyword}${extra}`;
  });
}

/** Errors of `obj` from the kubernetes-models class of its kind (Kubernetes 1.36 rules); [] when valid. */
export async function validateWithKubernetesModels(obj: unknown, { patch = false } = {}): Promise<string[]> {
  if (!isObject(obj) || typeof obj.apiVersion !== "string" || typeof obj.kind !== "string")
    return ["object with apiVersion and kind expected"];
  const [group, version] = obj.apiVersion.includes("/") ? obj.apiVersion.split("/") : ["", obj.apiVersion];
  const specifier = `kubernetes-models/${group ? `${group}/` : ""}${version}`;
  const mod: Record<string, any> = await import(/* @vite-ignore */ specifier);
  const Model = mod[obj.kind];
  if (typeof Model !== "function") return [`${labelOf(obj)}: kubernetes-models has no ${obj.apiVersion} ${obj.kind}`];
  try {
    new Model(obj).validate();
    return [];
  } catch (e) {
    const details: any[] = (e as any).details ?? [];
    const errors = details.length
      ? details.map((d) => `${labelOf(obj)}: ${d.instancePath || "/"} ${d.message ?? d.keyword}`)
      : [`${labelOf(obj)}: ${(e as Error).message}`];
    return patch ? errors.filter((m) => !/must have required property/.test(m)) : errors;
  }
}

/** Both checks; [] when the object passes both. */
export async function validateBuiltIn(obj: unknown, options: { patch?: boolean } = {}): Promise<string[]> {
  return [...validateAgainstOpenApi(obj, options), ...(await validateWithKubernetesModels(obj, options))];
}
