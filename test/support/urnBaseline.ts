/**
 * The URN baseline of every stack file the tests know (the example stack and test/fixtures/Pulumi.*.yaml):
 * test/fixtures/urns/<stack>.json lists every URN the program registers for that stack, so
 * test/program/urns.test.ts can tell a change that keeps an existing stack's resources from one that
 * would delete and create them again. Regenerate it only with a change that is meant to create or
 * delete resources, and list those in the commit message (test/fixtures/README.md, "urns/"):
 *
 *   npx tsx test/support/urnBaseline.ts
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { runProgram } from "../../tools/harness.js";
import type { RecordedResource } from "../../tools/mocks.js";
import { readStackFile } from "../../tools/render.js";
import type { Registration } from "../../tools/urns.js";
import { EXAMPLE_STACK, REPO } from "./stackFiles.js";

const FIXTURES = path.join(REPO, "test/fixtures");
export const URN_BASELINES = path.join(FIXTURES, "urns");

export interface UrnStack {
  /** The stack's name, from its file name `Pulumi.<stack>.yaml`: part of every URN. */
  readonly stack: string;
  readonly file: string;
  readonly baseline: string;
}

/** The example stack and every stack file of test/fixtures. */
export function urnStacks(): UrnStack[] {
  const files = [
    EXAMPLE_STACK,
    ...readdirSync(FIXTURES)
      .filter((f) => /^Pulumi\..+\.yaml$/.test(f))
      .sort()
      .map((f) => path.join(FIXTURES, f)),
  ];
  return files.map((file) => {
    const stack = path.basename(file).replace(/^Pulumi\.(.+)\.yaml$/, "$1");
    return { stack, file, baseline: path.join(URN_BASELINES, `${stack}.json`) };
  });
}

export interface UrnBaseline {
  /** The stack file, relative to the repository. */
  readonly stackFile: string;
  /** Every URN the program registered for the stack when the baseline was taken, sorted. */
  readonly urns: readonly string[];
  /**
   * URNs registered since, each with why it is new (written by hand; a regeneration folds them into `urns`).
   * A URN in neither list fails the test: a new or renamed resource is noticed.
   */
  readonly new: Readonly<Record<string, string>>;
}

export function readBaseline(s: UrnStack): UrnBaseline | undefined {
  return existsSync(s.baseline) ? (JSON.parse(readFileSync(s.baseline, "utf8")) as UrnBaseline) : undefined;
}

/** Runs the program for the stack (named as its file names it) through the SDK's loader, as `pulumi preview` does. */
export async function registered(s: UrnStack): Promise<RecordedResource[]> {
  const file = readStackFile(s.file);
  return (await runProgram(file.config, file.secretKeys, { stack: s.stack })).rec.resources;
}

/** What the engine reads of each registration to match it with an earlier deployment. */
export function registrationsOf(resources: readonly RecordedResource[]): Registration[] {
  return resources.map((r) => {
    if (!r.urn || !r.options) throw new Error(`${r.type}::${r.name} was recorded without its registration`);
    return { urn: r.urn, parentUrn: r.options.parent, aliases: r.options.aliasSpecs };
  });
}

async function main(): Promise<void> {
  mkdirSync(URN_BASELINES, { recursive: true });
  for (const s of urnStacks()) {
    const urns = (await registered(s)).map((r) => r.urn!).sort();
    const baseline: UrnBaseline = { stackFile: path.relative(REPO, s.file), urns, new: {} };
    writeFileSync(s.baseline, JSON.stringify(baseline, null, 2) + "\n");
    process.stdout.write(`${path.relative(REPO, s.baseline)}: ${urns.length} URNs\n`);
  }
}

if (require.main === module)
  main().catch((e: unknown) => {
    process.stderr.write(`${(e as Error).stack ?? e}\n`);
    process.exit(1);
  });
