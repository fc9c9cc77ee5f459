/**
 * What the Pulumi CLI's Node.js language host does before the program runs: it reads `Pulumi.yaml`'s
 * runtime options and starts `node [nodeargs] @pulumi/pulumi/cmd/run <flags> <entry point>` in the
 * program's directory, with the stack's config in the environment. Upstream: pulumi/pulumi
 * `sdk/nodejs/cmd/pulumi-language-nodejs/main.go` (`parseOptions`, `constructArguments`,
 * `constructConfig`, `Run`), read at 1b59498 (2026-08-21).
 *
 * The render and the program-level tests start the program with exactly this command line, so a
 * `Pulumi.yaml` that the CLI could not load fails them too (test/program/languageHost.integration.test.ts).
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import YAML from "yaml";

/** `runtime.options` of `Pulumi.yaml`, as the language host reads them (`parseOptions`). */
export interface RuntimeOptions {
  /** `typescript`: registers ts-node in `cmd/run/run.js`. The host's default is true. */
  readonly typescript: boolean;
  /** `nodeargs`: node's own arguments, before the run script. */
  readonly nodeargs: readonly string[];
  /** `tsconfig`: passed on as PULUMI_NODEJS_TSCONFIG_PATH. */
  readonly tsconfig?: string;
}

/** A project file: its name, its runtime options and its entry point (`main`, or "." for package.json's). */
export interface ProjectFile {
  readonly name: string;
  readonly dir: string;
  readonly runtime: RuntimeOptions;
  readonly main: string;
}

/** Reads `<dir>/Pulumi.yaml`. */
export function readProjectFile(dir: string): ProjectFile {
  const doc = YAML.parse(readFileSync(path.join(dir, "Pulumi.yaml"), "utf8")) ?? {};
  const options = (typeof doc.runtime === "object" ? doc.runtime?.options : undefined) ?? {};
  if (options.typescript !== undefined && typeof options.typescript !== "boolean")
    throw new Error("Pulumi.yaml: runtime.options.typescript must be a boolean");
  if (options.nodeargs !== undefined && typeof options.nodeargs !== "string")
    throw new Error("Pulumi.yaml: runtime.options.nodeargs must be a string");
  return {
    name: String(doc.name),
    dir,
    main: typeof doc.main === "string" ? doc.main : ".",
    runtime: {
      typescript: options.typescript ?? true,
      // The host splits with shlex; the options this project uses have no quoting.
      nodeargs: typeof options.nodeargs === "string" ? options.nodeargs.split(/\s+/).filter(Boolean) : [],
      tsconfig: typeof options.tsconfig === "string" ? options.tsconfig : undefined,
    },
  };
}

/** Where the engine's side of a run listens, and which stack it runs. */
export interface RunTarget {
  readonly monitor: string;
  readonly engine: string;
  readonly stack: string;
  readonly organization?: string;
  readonly dryRun?: boolean;
  /** Full config keys (`project:key`) → values, objects as JSON text. */
  readonly config: Readonly<Record<string, string>>;
  readonly secretKeys: readonly string[];
}

/**
 * The largest PULUMI_CONFIG the program can receive. The host passes the whole stack config in that
 * one environment variable, and Linux refuses (E2BIG) to start a process with an environment string
 * longer than MAX_ARG_STRLEN, 32 pages: 128 KiB ("name=value" included). About 580 databases.
 */
export const MAX_CONFIG_ENV_BYTES = 32 * 4096 - 1;

/** The stack's config is too large for the CLI to hand to the program. */
export class ConfigTooLarge extends Error {}

/** The SDK's loader, resolved from the project directory as the host does (`locateModule`). */
export function runScript(projectDir: string): string {
  return require.resolve("@pulumi/pulumi/cmd/run", { paths: [projectDir] });
}

/**
 * The language host's command line and environment for one run. Inherited settings that would load
 * the program some other way (NODE_OPTIONS, a parent's PULUMI_NODEJS_* variables) are dropped: only
 * `Pulumi.yaml` decides how the program loads.
 */
export function programCommand(
  project: ProjectFile,
  target: RunTarget,
): { argv: string[]; env: NodeJS.ProcessEnv; cwd: string } {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (k !== "NODE_OPTIONS" && !k.startsWith("PULUMI_NODEJS_") && !k.startsWith("PULUMI_CONFIG")) env[k] = v;
  // constructConfig: `<namespace>:config:<name>` keys, the form every SDK release reads.
  const config = Object.fromEntries(
    Object.entries(target.config).map(([k, v]) => {
      const i = k.indexOf(":");
      return [`${k.slice(0, i)}:config:${k.slice(i + 1)}`, v];
    }),
  );
  env.PULUMI_CONFIG = JSON.stringify(config);
  const size = Buffer.byteLength(`PULUMI_CONFIG=${env.PULUMI_CONFIG}`);
  if (size > MAX_CONFIG_ENV_BYTES)
    throw new ConfigTooLarge(
      `the stack's config is ${Math.ceil(size / 1024)} KiB as JSON; the Pulumi CLI hands it to the program in one environment variable (PULUMI_CONFIG), which Linux limits to 128 KiB: split the stack`,
    );
  env.PULUMI_CONFIG_SECRET_KEYS = JSON.stringify(target.secretKeys);
  if (project.runtime.typescript) env.PULUMI_NODEJS_TYPESCRIPT = "true";
  if (project.runtime.tsconfig) env.PULUMI_NODEJS_TSCONFIG_PATH = project.runtime.tsconfig;
  const flags: string[] = [];
  const flag = (k: string, v: string | undefined) => v && flags.push(`--${k}`, v);
  flag("monitor", target.monitor);
  flag("engine", target.engine);
  flag("organization", target.organization ?? "organization");
  flag("project", project.name);
  flag("root-directory", project.dir);
  flag("stack", target.stack);
  flag("pwd", project.dir);
  if (target.dryRun) flags.push("--dry-run");
  return {
    argv: [...project.runtime.nodeargs, runScript(project.dir), ...flags, project.main],
    env,
    cwd: project.dir,
  };
}
