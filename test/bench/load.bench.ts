/**
 * npm run bench:load: how long `pulumi preview` spends loading the program and registering its
 * resources, for the example stack. Each round starts the SDK's loader with the language host's
 * command line for Pulumi.yaml (tools/harness.ts) and times its process from start to exit, as the
 * CLI's language host waits for it. Round 1 follows an emptied tsx cache (a fresh checkout); the
 * others reuse it. Target: under 5 s.
 */
import { rmSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import * as path from "node:path";
import { runProgram } from "../../tools/harness.js";
import { readStackFile } from "../../tools/render.js";
import { EXAMPLE_STACK } from "../support/stackFiles.js";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);

async function main(): Promise<void> {
  const stack = readStackFile(EXAMPLE_STACK);
  // tsx keeps its transform cache in <tmpdir>/tsx-<euid> (node_modules/tsx/dist: `tsx-${geteuid()}`).
  rmSync(path.join(tmpdir(), `tsx-${process.geteuid?.() ?? userInfo().username}`), { recursive: true, force: true });
  const times: number[] = [];
  let resources = 0;
  for (let i = 0; i < ROUNDS; i++) {
    const run = await runProgram(stack.config, stack.secretKeys);
    resources = run.rec.resources.length;
    times.push(run.elapsedMs / 1000);
    process.stdout.write(`round ${i + 1}: ${times[i].toFixed(2)} s (${resources} resources)\n`);
  }
  const warm = times.slice(1).sort((a, b) => a - b);
  const median = warm[Math.floor(warm.length / 2)];
  process.stdout.write(
    [
      "",
      "| stack | resources | first load (empty tsx cache) | later loads: min / median / max |",
      "|---|---|---|---|",
      `| Pulumi.homelab.yaml | ${resources} | ${times[0].toFixed(2)} s | ${warm[0].toFixed(2)} / ${median.toFixed(2)} / ${warm[warm.length - 1].toFixed(2)} s |`,
      "",
    ].join("\n"),
  );
}

void main();
