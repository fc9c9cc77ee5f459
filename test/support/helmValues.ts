/**
 * Checks Helm values the way `helm install/upgrade/template` does before rendering a chart: the
 * user's values are merged over the chart's own values.yaml (maps merge key by key, anything else
 * replaces, `null` deletes the key: Helm's coalesceValues), and the result must pass the chart's
 * values.schema.json (JSON Schema draft-07). The Velero chart's files are copies in
 * test/fixtures/charts/velero-12.1.0 (provenance in its README).
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import Ajv from "ajv";
import YAML from "yaml";

export const VELERO_CHART_DIR = path.resolve(__dirname, "../fixtures/charts/velero-12.1.0");

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Helm's merge of user values over chart defaults. */
export function coalesceValues(defaults: unknown, user: unknown): unknown {
  if (!isMap(defaults) || !isMap(user)) return user === undefined ? defaults : user;
  const out: Record<string, unknown> = { ...defaults };
  for (const [k, v] of Object.entries(user)) {
    if (v === null) delete out[k];
    else out[k] = isMap(v) && isMap(out[k]) ? coalesceValues(out[k], v) : v;
  }
  return out;
}

/** Errors of `values` (as passed to the Helm release) against the chart in `chartDir`; [] when valid. */
export function validateHelmValues(values: unknown, chartDir: string = VELERO_CHART_DIR): string[] {
  const defaults = YAML.parse(readFileSync(path.join(chartDir, "values.yaml"), "utf8"));
  const schema = JSON.parse(readFileSync(path.join(chartDir, "values.schema.json"), "utf8"));
  const { $schema: _ignored, ...body } = schema;
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
  const validate = ajv.compile(body);
  if (validate(coalesceValues(defaults, values))) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message ?? e.keyword}`);
}
