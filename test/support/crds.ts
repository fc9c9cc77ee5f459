/**
 * Validates Kubernetes custom resources against the upstream CRD schemas copied into
 * test/fixtures/crds (Longhorn, Velero, prometheus-operator, Talos; provenance in its README) with ajv:
 * strict false, formats not validated, `x-kubernetes-*` keywords dropped, `x-kubernetes-int-or-string`
 * read as "integer or string", Go `(?i)` patterns turned into the JavaScript `i` flag.
 *
 * Unknown fields are rejected (as `kubectl apply`'s default strict field validation does): every object
 * schema that lists `properties` and says nothing about extra ones gets `additionalProperties: false`.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import * as path from "node:path";
import Ajv, { type ValidateFunction } from "ajv";
import * as YAML from "yaml";

export const CRDS_DIR = path.resolve(__dirname, "../fixtures/crds");

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

/** Go regexp flags such as `(?i)` are not JavaScript syntax: strip them and set the JS flag instead. */
function goRegExp(pattern: string, flags: string): RegExp {
  let source = pattern;
  let f = flags;
  if (source.includes("(?i)")) {
    source = source.split("(?i)").join("");
    if (!f.includes("i")) f += "i";
  }
  return new RegExp(source, f);
}
goRegExp.code = "goRegExp";

function isObject(v: unknown): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Deep copy of an openAPIV3Schema in the form ajv reads. */
function toAjvSchema(node: Json): Json {
  if (Array.isArray(node)) return node.map(toAjvSchema);
  if (!isObject(node)) return node;
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(node)) {
    if (key.startsWith("x-kubernetes-")) continue;
    // `properties` / `patternProperties` map names to schemas: recurse into the values, keep the keys.
    if ((key === "properties" || key === "patternProperties") && isObject(value)) {
      out[key] = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toAjvSchema(v)]));
    } else if (key === "default" || key === "example" || key === "enum") {
      out[key] = value;
    } else {
      out[key] = toAjvSchema(value);
    }
  }
  if (node["x-kubernetes-int-or-string"] === true && out.anyOf === undefined && out.oneOf === undefined) {
    out.type = ["integer", "string"];
  }
  const preserve = node["x-kubernetes-preserve-unknown-fields"] === true;
  if (isObject(out.properties) && out.additionalProperties === undefined && !preserve) {
    out.additionalProperties = false;
  }
  return out;
}

function yamlFiles(dir: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir).sort()) {
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) files.push(...yamlFiles(full));
    else if (/\.ya?ml$/.test(entry)) files.push(full);
  }
  return files;
}

interface CrdVersion {
  file: string;
  schema: JsonObject;
  validate?: ValidateFunction;
}

let registry: Map<string, CrdVersion> | undefined;
let ajv: Ajv | undefined;

const keyOf = (apiVersion: string, kind: string) => `${apiVersion}|${kind}`;

function load(): Map<string, CrdVersion> {
  if (registry) return registry;
  const map = new Map<string, CrdVersion>();
  for (const file of yamlFiles(CRDS_DIR)) {
    for (const doc of YAML.parseAllDocuments(readFileSync(file, "utf8"))) {
      const crd = doc.toJS() as JsonObject | null;
      if (!isObject(crd) || crd.kind !== "CustomResourceDefinition" || !isObject(crd.spec)) continue;
      const spec = crd.spec;
      const group = spec.group as string;
      const kind = (spec.names as JsonObject).kind as string;
      for (const v of (spec.versions as JsonObject[]) ?? []) {
        const schema = (v.schema as JsonObject | undefined)?.openAPIV3Schema;
        if (!isObject(schema)) throw new Error(`${file}: ${kind} ${v.name as string} has no openAPIV3Schema`);
        map.set(keyOf(`${group}/${v.name as string}`, kind), { file, schema });
      }
    }
  }
  if (map.size === 0) throw new Error(`no CRDs found under ${CRDS_DIR}`);
  registry = map;
  return map;
}

function validatorFor(entry: CrdVersion): ValidateFunction {
  if (!entry.validate) {
    ajv ??= new Ajv({ strict: false, validateFormats: false, allErrors: true, code: { regExp: goRegExp } });
    const root = toAjvSchema(entry.schema) as JsonObject;
    // apiVersion, kind and metadata are the API server's own fields; some CRDs (Talos') leave them out of the schema.
    if (isObject(root.properties))
      root.properties = {
        apiVersion: { type: "string" },
        kind: { type: "string" },
        metadata: { type: "object" },
        ...root.properties,
      };
    entry.validate = ajv.compile(root as object);
  }
  return entry.validate;
}

/** True when a CRD in test/fixtures/crds defines `kind` at `apiVersion` (`<group>/<version>`). */
export function hasCrd(apiVersion: string, kind: string): boolean {
  return load().has(keyOf(apiVersion, kind));
}

/** Every `apiVersion|kind` the CRD directory defines. */
export function crdKinds(): string[] {
  return [...load().keys()].sort();
}

/**
 * Errors of `obj` against the CRD schema matching its apiVersion and kind; [] when valid.
 * An object whose apiVersion/kind no CRD defines is an error, never silently accepted.
 */
export function validateCustomResource(obj: unknown): string[] {
  if (!isObject(obj)) return ["custom resource must be an object"];
  const apiVersion = obj.apiVersion;
  const kind = obj.kind;
  if (typeof apiVersion !== "string" || typeof kind !== "string")
    return ["custom resource needs string apiVersion and kind"];
  const entry = load().get(keyOf(apiVersion, kind));
  const meta = isObject(obj.metadata) ? obj.metadata : {};
  const label = `${kind} ${typeof meta.namespace === "string" ? `${meta.namespace}/` : ""}${typeof meta.name === "string" ? meta.name : "<unnamed>"}`;
  if (!entry) return [`${label}: no CRD in ${CRDS_DIR} defines ${kind} at ${apiVersion}`];
  const validate = validatorFor(entry);
  if (validate(obj)) return [];
  return (validate.errors ?? []).map((e) => {
    const extra =
      e.keyword === "additionalProperties"
        ? ` (${(e.params as { additionalProperty: string }).additionalProperty})`
        : "";
    return `${label}: ${e.instancePath || "/"} ${e.message ?? e.keyword}${extra}`;
  });
}
