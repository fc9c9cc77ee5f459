/**
 * Runs restore commands the way a person pastes them from plan.md or a stack output: the fenced `sh`
 * blocks, in order, in one bash on a "workstation" whose PATH has the tools the commands name.
 *
 * The Pulumi CLI cannot be installed here (no registry for it), so `pulumi` on that PATH is a small
 * stand-in that answers exactly the two read-only queries the commands use, from a JSON file of stack
 * outputs and config values: `pulumi stack output <name> [--show-secrets]` and
 * `pulumi config get <key>`. Anything else fails loudly, so a command that needs more of the CLI fails
 * the test instead of passing silently.
 */
import { spawn } from "node:child_process";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { childEnv } from "./s3peer.js";

/** The fenced shell blocks of a markdown text, in order. */
export function shellBlocks(markdown: string): string[] {
  const out: string[] = [];
  const re = /```(?:sh|bash)\n([\s\S]*?)```/g;
  for (let m = re.exec(markdown); m; m = re.exec(markdown)) out.push(m[1]);
  return out;
}

/** A directory holding the `pulumi` stand-in that answers from `values` (stack outputs and config keys). */
export function pulumiStandIn(
  dir: string,
  values: { outputs: Record<string, string>; config?: Record<string, string> },
): string {
  const bin = path.join(dir, "bin");
  mkdirSync(bin, { recursive: true });
  const data = path.join(dir, "pulumi-values.json");
  writeFileSync(data, JSON.stringify({ outputs: values.outputs, config: values.config ?? {} }));
  const script = `#!/usr/bin/env node
const v = require(${JSON.stringify(data)});
const a = process.argv.slice(2).filter((x) => x !== "--show-secrets");
let table, key;
if (a[0] === "stack" && a[1] === "output" && a.length === 3) [table, key] = [v.outputs, a[2]];
else if (a[0] === "config" && a[1] === "get" && a.length === 3) [table, key] = [v.config, a[2]];
else { console.error("pulumi stand-in: unsupported command: " + process.argv.slice(2).join(" ")); process.exit(2); }
if (!(key in table)) { console.error("error: current stack does not have output property " + JSON.stringify(key)); process.exit(255); }
process.stdout.write(table[key] + "\\n");
`;
  writeFileSync(path.join(bin, "pulumi"), script);
  chmodSync(path.join(bin, "pulumi"), 0o755);
  return bin;
}

export interface PasteResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `blocks` in one `bash -e` in `cwd`, with `binDirs` first on PATH and `env` added. */
export function pasteRun(
  blocks: string[],
  opts: { cwd: string; binDirs: string[]; env?: Record<string, string>; timeoutMs?: number },
): Promise<PasteResult> {
  const env = childEnv({
    PATH: `${opts.binDirs.join(":")}:${process.env.PATH}`,
    HOME: opts.cwd,
    RCLONE_CONFIG: path.join(opts.cwd, "no-rclone.conf"),
  });
  // What npm/npx put in the test runner's environment is not on a workstation: NODE (the node binary),
  // INIT_CWD, npm_*. (The plan's own variables avoid those names: the etcd steps use ETCD_NODE.)
  for (const k of Object.keys(env)) if (/^npm_/i.test(k) || k === "NODE" || k === "INIT_CWD") delete env[k];
  return new Promise((resolve) => {
    const child = spawn("bash", ["-e", "-o", "pipefail", "-c", blocks.join("\n")], {
      cwd: opts.cwd,
      env: { ...env, ...(opts.env ?? {}) },
      stdio: ["ignore", "pipe", "pipe"],
      timeout: opts.timeoutMs ?? 60_000,
    });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d) => (stdout += d));
    child.stderr!.on("data", (d) => (stderr += d));
    child.on("exit", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/**
 * A directory holding a `kubectl` stand-in that answers only `kubectl [-n <ns>] get secret <name> [-n <ns>]
 * -o jsonpath={.data.<KEY>}` from `secrets` (`"<ns>/<name>"` → key → plain value), printing the value
 * base64-encoded as the API server stores it. Anything else, or a Secret or key it does not have, fails.
 */
export function kubectlStandIn(dir: string, secrets: Record<string, Record<string, string>>): string {
  const bin = path.join(dir, "bin");
  mkdirSync(bin, { recursive: true });
  const data = path.join(dir, "kubectl-secrets.json");
  writeFileSync(data, JSON.stringify(secrets));
  const script = `#!/usr/bin/env node
const secrets = require(${JSON.stringify(data)});
const a = process.argv.slice(2);
const fail = (m) => { console.error("kubectl stand-in: " + m); process.exit(1); };
let ns = "default";
const rest = [];
for (let i = 0; i < a.length; i++) {
  if (a[i] === "-n" || a[i] === "--namespace") ns = a[++i];
  else if (a[i].startsWith("--namespace=")) ns = a[i].slice(12);
  else rest.push(a[i]);
}
const m = rest.length === 5 && rest[0] === "get" && rest[1] === "secret" && rest[3] === "-o" && /^jsonpath=\\{\\.data\\.([A-Za-z0-9_.-]+)\\}$/.exec(rest[4]);
if (!m) fail("unsupported command: " + a.join(" "));
const s = secrets[ns + "/" + rest[2]];
if (!s) fail('Error from server (NotFound): secrets "' + rest[2] + '" not found in namespace ' + ns);
if (!(m[1] in s)) fail("no key " + m[1] + " in secret " + ns + "/" + rest[2]);
process.stdout.write(Buffer.from(s[m[1]]).toString("base64"));
`;
  writeFileSync(path.join(bin, "kubectl"), script);
  chmodSync(path.join(bin, "kubectl"), 0o755);
  return bin;
}
