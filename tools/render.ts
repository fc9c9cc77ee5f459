/**
 * Offline render (README.md, "Offline render"): runs the very same program (`index.ts`) under the Pulumi
 * SDK's mock runtime and writes what it would create, with every secret masked:
 *
 *   npm run render -- --stack-file Pulumi.homelab.yaml --out out/
 *
 * What is masked is decided by Pulumi's own secretness: a value the program hands to a resource as a
 * secret (the engine receives it wrapped) is written as `[secret]`. A known secret value (a secret
 * config key, a generated password or key) that reaches a resource input unwrapped, or an input whose
 * name says it holds a secret but whose value is not one, is a leak: it is reported as a mandatory
 * violation, never hidden.
 *
 * Exit status (EXIT below): 0 valid and no mandatory policy fails; 1 the stack file is missing,
 * unreadable or invalid (key paths on stderr; nothing written, and the outputs of an earlier render in
 * --out are removed); 2 a mandatory policy fails or a secret leaks (everything written, violations on
 * stderr); 3 anything else (usage, an internal error).
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import YAML from "yaml";
import { parseStackConfig, PROJECT, SECRET_KEYS, StackConfigError } from "../components/config.js";
import { renderPlan } from "../components/plan.js";
import { evaluatePolicies, type PolicyInput, type PolicyVerdict } from "../policies/evaluate.js";
import { POLICY_NAMES } from "../policies/all.js";
import { resourceStackKey } from "../policies/stackKeys.js";
import { maskSecrets, unwrapSecrets, type RecordedResource } from "./mocks.js";
import { ProgramFailed, PROJECT_DIR, runProgram, type RunOptions } from "./harness.js";
import { ConfigTooLarge, readProjectFile } from "./languageHost.js";

export const SECRET_MASK = "[secret]";

/** The render's own check beside the pack: no secret reaches a resource unsecreted. */
export const LEAK_CHECK = "secrets-stay-secret";

/** The render's exit statuses. */
export const EXIT = { ok: 0, stackFileError: 1, policyViolation: 2, other: 3 } as const;

/** What `npm run render` renders without arguments. */
export const EXAMPLE_STACK_FILE = "Pulumi.homelab.yaml";

const USAGE = `usage: npm run render -- --stack-file <Pulumi.<stack>.yaml> --out <dir>
       npm run render            (the example stack ${EXAMPLE_STACK_FILE} into out/)
exit status: ${EXIT.ok} valid and no mandatory policy fails; ${EXIT.stackFileError} the stack file is missing, unreadable or invalid;
  ${EXIT.policyViolation} a mandatory policy fails or a secret reaches a resource unsecreted; ${EXIT.other} anything else (usage, internal error)
`;

/** What a render writes into --out: removed before a render, and after a stack-file error. */
const OUTPUTS = ["resources.json", "manifests", "files", "plan.md", "policy.json"];

export interface StackFile {
  /** Full config keys → values as the program reads them (objects as JSON strings). */
  readonly config: Record<string, string>;
  /** Keys whose values are secrets (the `homelab-backup:` secret keys and every `secure:` value). */
  readonly secretKeys: string[];
}

/**
 * Reads a `Pulumi.<stack>.yaml`. `secure:` values cannot be decrypted without the passphrase, so a
 * review gets a deterministic stand-in of the right shape; plain values of secret keys are accepted.
 */
export function readStackFile(file: string, project: string = PROJECT): StackFile {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === "ENOENT"
        ? "file not found"
        : code === "EISDIR"
          ? "is a directory, not a stack file"
          : code === "EACCES"
            ? "permission denied"
            : (e as Error).message;
    throw new StackConfigError([{ path: file, message: why }]);
  }
  let doc: any;
  try {
    doc = YAML.parse(text) ?? {};
  } catch (e) {
    throw new StackConfigError([{ path: path.basename(file), message: `is not valid YAML: ${(e as Error).message}` }]);
  }
  const raw = doc.config ?? {};
  if (typeof raw !== "object" || Array.isArray(raw))
    throw new StackConfigError([{ path: "config", message: "must be a mapping of config keys" }]);
  const config: Record<string, string> = {};
  const secretKeys: string[] = [];
  for (const [key, value] of Object.entries<any>(raw)) {
    const full = key.includes(":") ? key : `${project}:${key}`;
    const bare = full.startsWith(`${project}:`) ? full.slice(project.length + 1) : undefined;
    if (
      value &&
      typeof value === "object" &&
      !Array.isArray(value) &&
      Object.keys(value).length === 1 &&
      "secure" in value
    ) {
      config[full] =
        bare === "ftpBridgeEncryptionKey" || bare === "offsiteEncryptionKey"
          ? "0".repeat(64)
          : `secure-value-of-${bare ?? full}`;
      secretKeys.push(full);
      continue;
    }
    config[full] = typeof value === "string" ? value : JSON.stringify(value);
    if (bare && (SECRET_KEYS as readonly string[]).includes(bare)) secretKeys.push(full);
  }
  return { config, secretKeys };
}

export interface RenderResult {
  readonly resources: { type: string; name: string; parent: string | null; inputs: any }[];
  readonly manifests: Map<string, string>;
  readonly files: Map<string, string>;
  readonly plan: string;
  readonly verdicts: PolicyVerdict[];
  /** Every secret value known to the run (config secrets and generated ones). */
  readonly secretValues: Set<string>;
  /** Secrets that reached a resource unsecreted (also in `verdicts`, as mandatory violations). */
  readonly leaks: string[];
}

/**
 * Input keys that by their name hold a secret: `password`, `adminPassword`, `SECRET_ACCESS_KEY`,
 * `hubSshPrivateKey`, `client_secret`… A camel-case `…Secret` (`existingSecret`, `credentialSecret`)
 * is Kubernetes' convention for the name of a Secret object, not a secret, and is not one of them.
 */
const SECRET_NAMED =
  /(password|passwd|passphrase|token|secretaccesskey|secret_access_key|privatekey|private_key|encryptionkey|encryption_key|apikey|api_key|^secret|_secret)$/i;

/**
 * Where secrets reach a resource input without Pulumi's secret wrapper: a known secret value inside
 * a plain string, a string under a secret-named key, or a Kubernetes env entry `{name: "*PASSWORD",
 * value: "…"}`. Values inside a secret wrapper are what they should be and are not looked at.
 */
export function findLeaks(resource: string, inputs: unknown, secretValues: ReadonlySet<string>): string[] {
  const known = [...secretValues].filter((v) => typeof v === "string" && v.length >= 4);
  const leaks: string[] = [];
  const walk = (v: unknown, at: string, key: string) => {
    if (pulumi.runtime.isRpcSecret(v)) return;
    if (typeof v === "string") {
      const hit = known.find((secret) => v.includes(secret));
      if (hit)
        leaks.push(
          `${resource}: ${at || "/"} holds a secret value (${hit.length} characters) that is not a Pulumi secret`,
        );
      else if (SECRET_NAMED.test(key) && v !== "")
        leaks.push(`${resource}: ${at} is named like a secret but its value is not a Pulumi secret`);
      return;
    }
    if (Array.isArray(v)) return v.forEach((x, i) => walk(x, `${at}[${i}]`, key));
    if (v && typeof v === "object") {
      const o = v as Record<string, unknown>;
      if (
        typeof o.name === "string" &&
        "value" in o &&
        SECRET_NAMED.test(o.name.replace(/_FILE$/, "")) &&
        typeof o.value === "string" &&
        o.value !== ""
      ) {
        leaks.push(`${resource}: ${at} sets ${o.name} to a value that is not a Pulumi secret`);
      }
      for (const [k, x] of Object.entries(o)) walk(x, at ? `${at}.${k}` : k, k);
    }
  };
  walk(inputs, "", "");
  return leaks;
}

const K8S_NON_OBJECTS = new Set([
  "pulumi:providers:kubernetes",
  "kubernetes:helm.sh/v3:Release",
  "kubernetes:yaml/v2:ConfigGroup",
  "kubernetes:yaml/v2:ConfigFile",
]);

/** A Kubernetes object as the API server would receive it. */
function manifestOf(r: RecordedResource, inputs: any): any {
  const { apiVersion, kind, metadata, ...rest } = inputs;
  return { apiVersion, kind, metadata, ...rest };
}

/** The text of a StringAsset or FileAsset as the mock runtime hands it over (its `text` is a Promise). */
async function assetText(a: any): Promise<string | undefined> {
  if (!a || typeof a !== "object") return undefined;
  const text = await a.text;
  if (typeof text === "string") return text;
  const file = await a.path;
  if (typeof file === "string") return readFileSync(file, "utf8");
  return undefined;
}

/**
 * The resources as the policy analyzer receives them: plain values (secrets unwrapped), no `__`
 * keys, and the only sign of secretness the registration's `additionalSecretOutputs`
 * (test/support/policyAnalyzer.ts sends the same to the real analyzer).
 */
export function policyInputsOf(resources: readonly RecordedResource[]): PolicyInput[] {
  return resources.map((r) => ({
    type: r.type,
    name: r.name,
    props: Object.fromEntries(Object.entries(unwrapSecrets(r.inputs ?? {})).filter(([k]) => !k.startsWith("__"))),
    additionalSecretOutputs: r.options?.additionalSecretOutputs ?? [],
  }));
}

/** Runs the program and builds every output of the render in memory. */
export async function render(stackFile: StackFile, options: RunOptions = {}): Promise<RenderResult> {
  // Validate first: a bad stack file must produce its messages, not a half-run program.
  const stack = parseStackConfig(stackFile.config);
  const { rec } = await runProgram(stackFile.config, stackFile.secretKeys, options).catch((e: unknown) => {
    throw e instanceof ConfigTooLarge ? new StackConfigError([{ path: "config", message: e.message }]) : e;
  });
  for (const k of stackFile.secretKeys) rec.secretValues.add(stackFile.config[k]);

  const resources = rec.resources.map((r) => ({
    type: r.type,
    name: r.name,
    parent: r.parent,
    inputs: maskSecrets(r.inputs),
  }));
  const manifests = new Map<string, string>();
  const files = new Map<string, string>();
  for (const r of rec.resources) {
    const masked = maskSecrets(r.inputs);
    if (r.type.startsWith("kubernetes:") && !K8S_NON_OBJECTS.has(r.type) && masked.kind) {
      const md = masked.metadata ?? {};
      const file = `${md.namespace ?? "cluster"}/${String(masked.kind).toLowerCase()}-${md.name ?? r.name}${r.type.endsWith("Patch") ? "-patch" : ""}.yaml`;
      manifests.set(
        file,
        (manifests.get(file) ? `${manifests.get(file)}---\n` : "") +
          YAML.stringify(manifestOf(r, masked), { lineWidth: 0 }),
      );
      if (masked.kind === "ConfigMap" && masked.data && typeof masked.data === "object") {
        for (const [key, text] of Object.entries<any>(masked.data)) {
          if (/\.(sh|py)$/.test(key) && typeof text === "string")
            files.set(`jobs/${md.namespace ?? "default"}/${md.name}/${key}`, text);
        }
      }
    }
    if (r.type === "command:remote:CopyToRemote") {
      const remotePath = unwrapSecrets(r.inputs.remotePath);
      const source = r.inputs.source;
      const text = pulumi.runtime.isRpcSecret(source) ? SECRET_MASK : await assetText(source);
      if (typeof remotePath === "string" && text !== undefined)
        files.set(`hub${remotePath.startsWith("/") ? "" : "/"}${remotePath}`, text);
    }
  }

  const policyInputs = policyInputsOf(rec.resources);
  const leaks = rec.resources.flatMap((r) => findLeaks(`${r.type}::${r.name}`, r.inputs, rec.secretValues));
  const verdicts: PolicyVerdict[] = [
    ...evaluatePolicies(policyInputs),
    ...leaks.map((message) => {
      const resource = message.slice(0, message.indexOf(": "));
      const name = resource.slice(resource.lastIndexOf("::") + 2);
      const inputs = rec.resources.find((r) => `${r.type}::${r.name}` === resource)?.inputs;
      return {
        policy: LEAK_CHECK,
        resource,
        key: resourceStackKey({ name, props: unwrapSecrets(inputs ?? {}) }) ?? "",
        level: "mandatory" as const,
        message: message.slice(message.indexOf(": ") + 2),
      };
    }),
  ];
  // Every command run on the hub host over SSH: the hub-loss runbook re-runs them on a new disk.
  const hubHostUrns = rec.resources
    .filter((r) => r.type === "command:remote:Command" && r.urn)
    .map((r) => r.urn!)
    .sort();
  const plan = renderPlan(stack, verdicts, [...POLICY_NAMES, LEAK_CHECK], hubHostUrns);
  return { resources, manifests, files, plan, verdicts, secretValues: rec.secretValues, leaks };
}

/** Removes what a render writes from `outDir` (and nothing else a user keeps there). */
export function removeRender(outDir: string): void {
  for (const f of OUTPUTS) rmSync(path.join(outDir, f), { recursive: true, force: true });
}

/** Writes a render into `outDir` (replacing what a previous render left there). */
export function writeRender(result: RenderResult, outDir: string): void {
  removeRender(outDir);
  const write = (rel: string, text: string) => {
    const file = path.join(outDir, rel);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, text, { mode: rel.endsWith(".sh") ? 0o755 : 0o644 });
  };
  write("resources.json", JSON.stringify(result.resources, null, 2) + "\n");
  for (const [rel, text] of result.manifests) write(path.join("manifests", rel), text);
  mkdirSync(path.join(outDir, "manifests"), { recursive: true });
  for (const [rel, text] of result.files) write(path.join("files", rel), text);
  mkdirSync(path.join(outDir, "files"), { recursive: true });
  write("plan.md", result.plan);
  write("policy.json", JSON.stringify(result.verdicts, null, 2) + "\n");
}

function parseArgs(argv: string[]): { stackFile: string; out: string } {
  const get = (flag: string) => {
    const i = argv.indexOf(flag);
    const eq = argv.find((a) => a.startsWith(`${flag}=`));
    return eq ? eq.slice(flag.length + 1) : i >= 0 ? argv[i + 1] : undefined;
  };
  // No arguments at all: the example stack into out/ (README, Quick start: the first command).
  if (argv.length === 0)
    return { stackFile: path.join(PROJECT_DIR, EXAMPLE_STACK_FILE), out: path.join(PROJECT_DIR, "out") };
  const stackFile = get("--stack-file");
  const out = get("--out");
  if (!stackFile || !out) {
    process.stderr.write(USAGE);
    process.exit(EXIT.other);
  }
  return { stackFile, out };
}

async function main(): Promise<void> {
  // The SDK captures a stack trace per resource; mapping each through tsx's source maps costs more
  // than the rest of a large render, and a render's errors name keys, not TypeScript lines.
  process.setSourceMapsEnabled(false);
  const { stackFile, out } = parseArgs(process.argv.slice(2));
  const project = readProjectFile(PROJECT_DIR).name;
  try {
    const file = readStackFile(stackFile, project);
    const result = await render(file);
    writeRender(result, out);
    const mandatory = result.verdicts.filter((v) => v.level === "mandatory");
    process.stdout.write(
      `rendered ${result.resources.length} resources, ${result.manifests.size} manifest files, ${result.files.size} files into ${out}\n`,
    );
    if (mandatory.length > 0) {
      for (const v of mandatory)
        process.stderr.write(
          `policy ${v.policy} (mandatory) violated by ${v.resource}: ${v.message}${v.key ? ` (stack key: ${v.key})` : ""}\n`,
        );
      process.exit(EXIT.policyViolation);
    }
  } catch (e) {
    const err = e as Error;
    // The program reports a bad stack file as a RunError: the loader logs its message alone.
    const runError = err instanceof ProgramFailed && err.userActionable;
    if (err instanceof StackConfigError || runError) {
      // An earlier render's plan would read as this stack file's: remove it.
      removeRender(out);
      const problems =
        err instanceof StackConfigError && err.problems.length === 1 && err.problems[0].path === stackFile
          ? err.problems[0].message
          : err.message;
      process.stderr.write(`${stackFile}: ${problems}\n`);
      process.exit(EXIT.stackFileError);
    }
    process.stderr.write(`render failed: ${err.stack ?? err.message}\n`);
    process.exit(EXIT.other);
  }
}

if (require.main === module) void main();
