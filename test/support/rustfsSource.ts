/**
 * Reads what RustFS's admin API accepts from its own source (the verbatim copies under
 * test/fixtures/rustfs/, tag 1.0.0-rc.3): the routes its router registers, the query and body types each
 * handler decodes, and those types' JSON field names (serde renames). test/hub/rustfsAdmin.integration.test.ts holds
 * every request the program's client sends against them. A small reader of the patterns these files use,
 * not a Rust parser: each pattern it relies on is asserted to be found, so a file it cannot read fails
 * the test rather than passing it.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { REPO } from "./stackFiles.js";

export const RUSTFS_FIXTURES = path.join(REPO, "test/fixtures/rustfs");
export const readRustfs = (file: string) => fs.readFileSync(path.join(RUSTFS_FIXTURES, file), "utf8");

/** `/rustfs/admin` (rustfs/src/server/prefix.rs `ADMIN_PREFIX`). */
const ADMIN_PREFIX = "/rustfs/admin";

export interface RustfsRoute {
  readonly method: string;
  readonly path: string;
  /** The handler type, e.g. `AddUser`. */
  readonly operation: string;
}

/** Every `r.insert(Method::X, format!("{}{}", ADMIN_PREFIX, "/v3/…").as_str(), AdminOperation(&Op {}))`. */
export function rustfsRoutes(source: string): RustfsRoute[] {
  const re =
    /r\.insert\(\s*Method::(\w+),\s*format!\("\{\}\{\}",\s*ADMIN_PREFIX,\s*"([^"]+)"\)\.as_str\(\),\s*AdminOperation\(&(\w+)\s*\{\}\)/g;
  return [...source.matchAll(re)].map((m) => ({ method: m[1], path: `${ADMIN_PREFIX}${m[2]}`, operation: m[3] }));
}

/** The text of a `{ … }` block starting at the first `{` at or after `from` (braces balanced; strings ignored). */
function block(source: string, from: number): string {
  const open = source.indexOf("{", from);
  let depth = 0;
  for (let i = open; i < source.length; i++) {
    if (source[i] === "{") depth++;
    else if (source[i] === "}" && --depth === 0) return source.slice(open, i + 1);
  }
  throw new Error("unbalanced braces");
}

/** The body of `impl Operation for <op>`, with the bodies of the module functions it calls. */
export function handlerSource(source: string, op: string): string {
  const at = source.indexOf(`impl Operation for ${op} {`);
  if (at < 0) throw new Error(`no handler for ${op}`);
  const body = block(source, at);
  const called = [...body.matchAll(/\b([a-z_][a-z0-9_]*)\(/g)].map((m) => m[1]);
  const helpers = [...new Set(called)]
    .map((name) => source.search(new RegExp(`\\n(?:pub(?:\\(crate\\))? )?(?:async )?fn ${name}\\b`)))
    .filter((i) => i >= 0)
    .map((i) => block(source, i));
  return [body, ...helpers].join("\n");
}

/** The type a handler decodes its query into (`let input: T = from_bytes(query…)`), if any. */
export function queryType(handler: string): string | undefined {
  return /let \w+: (\w+) =\s*from_bytes\(query/.exec(handler)?.[1];
}

/** The type a handler decodes its JSON body into (`let x: T = serde_json::from_slice(&body)`), if any. */
export function bodyType(handler: string): string | undefined {
  return /let \w+: (\w+) = serde_json::from_slice\(&body\)/.exec(handler)?.[1];
}

export interface SerdeField {
  /** The JSON name (serde `rename`, else the field's own name). */
  readonly name: string;
  /** serde `alias`es. */
  readonly aliases: string[];
  /** Absent from JSON is accepted (an `Option`, or `#[serde(default)]` on the field or the struct). */
  readonly optional: boolean;
}

/** The fields of `struct <name>` as serde reads them from JSON or a query string. */
export function serdeFields(source: string, name: string): SerdeField[] {
  const at = source.search(new RegExp(`struct ${name} \\{`));
  if (at < 0) throw new Error(`no struct ${name}`);
  const attrs = source.slice(source.lastIndexOf("\n\n", at), at);
  const structDefault = /#\[derive\([^)]*\bDefault\b[^)]*\)\][\s\S]*#\[serde\([^)]*\bdefault\b/.test(attrs);
  const body = block(source, at).slice(1, -1);
  const out: SerdeField[] = [];
  let pending = "";
  for (const line of body.split("\n").map((l) => l.trim())) {
    if (line.startsWith("#[")) pending += line;
    else if (/^(?:pub(?:\(crate\))? )?\w+:/.test(line)) {
      const [, field, type] = /^(?:pub(?:\(crate\))? )?(\w+):\s*(.+?),?$/.exec(line)!;
      const rename = /rename = "([^"]+)"/.exec(pending)?.[1];
      const aliases = [...pending.matchAll(/alias = "([^"]+)"/g)].map((m) => m[1]);
      const optional = type.startsWith("Option<") || /serde\([^)]*\bdefault\b/.test(pending) || structDefault;
      out.push({ name: rename ?? field, aliases, optional });
      pending = "";
    } else if (line !== "" && !line.startsWith("//")) pending = "";
  }
  return out;
}

/** The JSON values of `enum <name>`'s unit variants (serde renames). */
export function serdeEnumValues(source: string, name: string): string[] {
  const at = source.search(new RegExp(`enum ${name} \\{`));
  if (at < 0) throw new Error(`no enum ${name}`);
  return [...block(source, at).matchAll(/rename = "([^"]+)"/g)].map((m) => m[1]);
}

/** What in one request RustFS would not accept: an unknown route, query key or body field, a missing required one. */
export function rustfsRequestProblems(
  req: { method: string; path: string; query: Record<string, string>; body: string },
  routes: readonly RustfsRoute[],
  types: (op: string) => { query?: SerdeField[]; body?: SerdeField[] },
): string[] {
  const route = routes.find((r) => r.method === req.method && r.path === req.path);
  if (!route) return [`${req.method} ${req.path}: no such route`];
  const problems: string[] = [];
  const { query, body } = types(route.operation);
  const fields = (got: Record<string, unknown>, want: SerdeField[] | undefined, where: "query" | "body"): string[] => {
    if (!want) return Object.keys(got).length ? [`${route.operation}: takes no ${where}, got ${Object.keys(got)}`] : [];
    const known = new Set(want.flatMap((f) => [f.name, ...f.aliases]));
    return [
      ...Object.keys(got)
        .filter((k) => !known.has(k))
        .map((k) => `${route.operation}: ${where} has "${k}", not a field of the type it decodes`),
      ...want
        .filter((f) => !f.optional && ![f.name, ...f.aliases].some((n) => n in got))
        .map((f) => `${route.operation}: ${where} lacks required "${f.name}"`),
    ];
  };
  // The handlers decode a query only when there is one (`if let Some(query) = req.uri.query()`, else
  // the type's Default): no query string asks for nothing.
  if (Object.keys(req.query).length > 0) problems.push(...fields(req.query, query, "query"));
  if (body) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(req.body);
    } catch {
      return [...problems, `${route.operation}: body is not JSON`];
    }
    problems.push(...fields(parsed as Record<string, unknown>, body, "body"));
  }
  return problems;
}
