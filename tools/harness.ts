/**
 * Runs the Pulumi program the way `pulumi preview` runs it: the language host's command line
 * (tools/languageHost.ts, from `Pulumi.yaml`'s runtime options) starts the SDK's loader
 * (`@pulumi/pulumi/cmd/run`) in a process of its own, connected over gRPC to the offline engine
 * (tools/engine.ts) that records every registration. It is the one path shared by `npm run render`
 * and the program-level tests, so what the tests assert is what the render shows and what the CLI
 * would register.
 */
import { spawn } from "node:child_process";
import * as path from "node:path";
import { startOfflineEngine, type EngineLog } from "./engine.js";
import { recordingMocks, type RecordingMocks } from "./mocks.js";
import { programCommand, readProjectFile } from "./languageHost.js";

/** The repository: the project directory of Pulumi.yaml. */
export const PROJECT_DIR = path.resolve(__dirname, "..");

export interface ProgramRun {
  readonly rec: RecordingMocks;
  /** The stack's outputs as the program registered them (secret values still wrapped). */
  readonly outputs: Record<string, unknown>;
  /** What the program logged through the engine. */
  readonly logs: readonly EngineLog[];
  /** Wall time from the start of the program's process to its exit, in milliseconds. */
  readonly elapsedMs: number;
}

/** The program exited with an error; `messages` are the errors it logged (a RunError's text alone). */
export class ProgramFailed extends Error {
  constructor(
    readonly messages: readonly string[],
    readonly exitCode: number | null,
    readonly stderr: string,
  ) {
    super(messages.length > 0 ? messages.join("\n") : `program exited with ${exitCode}: ${stderr.trim()}`);
  }

  /** True when the program failed with a message meant for the user (a RunError), not an unhandled exception. */
  get userActionable(): boolean {
    return this.messages.length > 0 && this.messages.every((m) => !m.startsWith("Running program "));
  }
}

export interface RunOptions {
  /** Stack name (default `homelab`). */
  readonly stack?: string;
  /** `pulumi preview` (true, the default) or `pulumi up`. */
  readonly dryRun?: boolean;
  /** Project directory holding Pulumi.yaml (default: this repository). */
  readonly projectDir?: string;
}

/**
 * Runs the program with `config` (full keys, objects as JSON text; `secretKeys` marked secret) and
 * returns what it registered. Throws ProgramFailed when the program's process fails.
 */
export async function runProgram(
  config: Record<string, string>,
  secretKeys: readonly string[],
  options: RunOptions = {},
): Promise<ProgramRun> {
  const project = readProjectFile(options.projectDir ?? PROJECT_DIR);
  const stack = options.stack ?? "homelab";
  const rec = recordingMocks();
  const engine = await startOfflineEngine(rec, project.name, stack);
  try {
    const cmd = programCommand(project, {
      monitor: engine.monitorAddress,
      engine: engine.engineAddress,
      stack,
      dryRun: options.dryRun ?? true,
      config,
      secretKeys,
    });
    const started = performance.now();
    // The language host runs `node` from PATH; this is the same Node that runs the render or the tests.
    const child = spawn(process.execPath, cmd.argv, { cwd: cmd.cwd, env: cmd.env, stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stdout.on("data", (d) => (stderr += d));
    child.stderr.on("data", (d) => (stderr += d));
    const exitCode = await new Promise<number | null>((resolve, reject) => {
      child.on("error", reject);
      child.on("close", resolve);
    });
    const elapsedMs = performance.now() - started;
    if (exitCode !== 0)
      throw new ProgramFailed(
        engine.logs.filter((l) => l.severity === "error").map((l) => l.message),
        exitCode,
        stderr,
      );
    for (const k of secretKeys) if (config[k]) rec.secretValues.add(config[k]);
    return { rec, outputs: engine.stackOutputs() ?? {}, logs: engine.logs, elapsedMs };
  } finally {
    await engine.stop();
  }
}
