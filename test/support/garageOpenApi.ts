/**
 * Garage's own OpenAPI document of its admin API v2 (test/fixtures/garage/garage-admin-v2.json, v2.0.0;
 * provenance in test/fixtures/garage/README.md), compiled with ajv, and the two checks the Garage tests
 * hold every exchange to: a request names an operation the document has (path and method), declares
 * every query parameter it sends and carries a body its requestBody schema accepts; an answer has a
 * status the operation declares and, where it declares content, a body its schema accepts.
 *
 * The document is OpenAPI 3.1, whose schemas are JSON Schema 2020-12 (`type: ["string", "null"]`), so
 * ajv's 2020 dialect. Formats (`date-time`, `int64`) are not checked: the program reads no such field.
 * Query parameters are looked up by name whatever their `in` says: the document declares them `in: path`
 * although the router reads them from the query string (see the README).
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import Ajv2020, { type ErrorObject } from "ajv/dist/2020.js";
import { REPO } from "./stackFiles.js";

export const GARAGE_OPENAPI_PATH = path.join(REPO, "test/fixtures/garage/garage-admin-v2.json");

type Doc = {
  paths: Record<
    string,
    Record<
      string,
      {
        operationId: string;
        parameters?: { name: string }[];
        requestBody?: { required?: boolean; content: Record<string, { schema: object }> };
        responses: Record<string, { content?: Record<string, { schema: object }> }>;
      }
    >
  >;
};

export interface GarageExchange {
  readonly method: string;
  /** The path without the query. */
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  /** The parsed JSON body, or undefined when none was sent. */
  readonly body?: unknown;
}

export interface GarageOpenApi {
  readonly doc: Doc;
  /** Every reason `req` is not a request the document describes (empty when it is); its operationId otherwise. */
  checkRequest(req: GarageExchange): { operationId?: string; problems: string[] };
  /** Every reason this answer is not one the operation declares (empty when it is). */
  checkResponse(method: string, urlPath: string, status: number, body: unknown): string[];
}

export function loadGarageOpenApi(text = readFileSync(GARAGE_OPENAPI_PATH, "utf8")): GarageOpenApi {
  const doc = JSON.parse(text) as Doc;
  const ajv = new Ajv2020({
    strict: false,
    allErrors: true,
    validateFormats: false,
  });
  ajv.addSchema({ ...(doc as object), $id: "garage-admin-v2" });
  const compiled = new Map<string, ReturnType<typeof ajv.compile>>();
  const validate = (schema: object, value: unknown, what: string): string[] => {
    const key = JSON.stringify(schema);
    let v = compiled.get(key);
    if (!v) {
      // The document's `$ref`s are local (`#/components/...`): resolve them against the whole document.
      const rewritten = JSON.parse(key.replace(/"#\/components\//g, '"garage-admin-v2#/components/'));
      v = ajv.compile(rewritten);
      compiled.set(key, v);
    }
    return v(value) ? [] : (v.errors ?? []).map((e: ErrorObject) => `${what}${e.instancePath} ${e.message}`);
  };
  /** The property names of an object schema, following `$ref`s to the document's components. */
  const declaredProperties = (schema: object): Set<string> | undefined => {
    let s = schema as { $ref?: string; properties?: object };
    for (let i = 0; s.$ref && i < 10; i++) {
      const name = s.$ref.replace("#/components/schemas/", "");
      s = (doc as unknown as { components: { schemas: Record<string, object> } }).components.schemas[name];
    }
    return s.properties ? new Set(Object.keys(s.properties)) : undefined;
  };
  const operation = (method: string, p: string) => doc.paths[p]?.[method.toLowerCase()];
  return {
    doc,
    checkRequest(req) {
      const op = operation(req.method, req.path);
      if (!op) return { problems: [`${req.method} ${req.path} is not an operation of the document`] };
      const problems: string[] = [];
      const declared = new Set((op.parameters ?? []).map((p) => p.name));
      for (const name of Object.keys(req.query))
        if (!declared.has(name)) problems.push(`${op.operationId}: query parameter ${name} is not declared`);
      const schema = op.requestBody?.content["application/json"]?.schema;
      if (req.body !== undefined) {
        if (!schema) problems.push(`${op.operationId}: sends a body, but the operation declares none`);
        else {
          problems.push(...validate(schema, req.body, `${op.operationId} request body`));
          // The schemas allow properties they do not name (no additionalProperties: false), and Garage's
          // serde structs ignore them: a misspelt optional field would pass silently, so refuse it here.
          const named = declaredProperties(schema);
          if (named && req.body && typeof req.body === "object")
            for (const k of Object.keys(req.body))
              if (!named.has(k)) problems.push(`${op.operationId} request body: property ${k} is not declared`);
        }
      } else if (op.requestBody?.required) problems.push(`${op.operationId}: the request body is required`);
      return { operationId: op.operationId, problems };
    },
    checkResponse(method, urlPath, status, body) {
      const op = operation(method, urlPath);
      if (!op) return [`${method} ${urlPath} is not an operation of the document`];
      const declared = op.responses[String(status)];
      if (!declared) return [`${op.operationId}: status ${status} is not declared`];
      const schema = declared.content?.["application/json"]?.schema;
      if (!schema)
        return body === undefined ? [] : [`${op.operationId}: answers a body, but status ${status} declares none`];
      return validate(schema, body, `${op.operationId} ${status} answer`);
    },
  };
}
