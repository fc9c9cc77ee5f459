/**
 * Runs the Pulumi program (`index.ts`) under the mock runtime with a given configuration: the one
 * path shared by `npm run render` and the program-level tests, so that what the tests assert is what
 * the render shows.
 */
import * as pulumi from "@pulumi/pulumi";
import { installMocks, recordingMocks, settle, type RecordingMocks } from "./mocks.js";

export interface ProgramRun {
  readonly rec: RecordingMocks;
  /** The program module's exports (stack outputs), unresolved. */
  readonly exports: Record<string, unknown>;
}

/**
 * Installs mocks, sets `config` (full keys, objects as JSON strings) with `secretKeys` marked secret,
 * then imports the program. The import must come after the mocks: a program imported earlier would
 * register nothing and every output would silently be undefined.
 */
export async function runProgram(
  config: Record<string, string>,
  secretKeys: string[],
  importProgram: () => Promise<Record<string, unknown>>,
  stack = "homelab",
): Promise<ProgramRun> {
  const rec = recordingMocks();
  await installMocks(rec, "homelab-backup", stack);
  pulumi.runtime.setAllConfig(config, secretKeys);
  for (const k of secretKeys) if (config[k]) rec.secretValues.add(config[k]);
  const exports = await importProgram();
  await settle();
  return { rec, exports };
}
