/**
 * npm run bench:render — wall time of `npm run render` (process start to exit, as a pull-request
 * check sees it) for stacks of 15, 150 and 500 databases, with two Longhorn PVCs per database and 20
 * Velero schedules. Target: the 150-database stack under 10 s, growth about linear. 500 is near the
 * largest stack the Pulumi CLI can hand to the program (tools/languageHost.ts MAX_CONFIG_ENV_BYTES).
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { largeStackYaml, REPO } from "../support/stackFiles.js";

const run = promisify(execFile);

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), "bench-render-"));
  const rows: string[] = [];
  try {
    for (const dbs of [15, 150, 500]) {
      const file = path.join(dir, `Pulumi.bench-${dbs}.yaml`);
      writeFileSync(file, largeStackYaml(dbs, dbs * 2, 20));
      const start = process.hrtime.bigint();
      const { stdout } = await run(
        path.join(REPO, "node_modules/.bin/tsx"),
        [path.join(REPO, "tools/render.ts"), "--stack-file", file, "--out", path.join(dir, `out-${dbs}`)],
        { cwd: REPO, maxBuffer: 256 << 20 },
      );
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      const resources = /rendered (\d+) resources/.exec(stdout)?.[1] ?? "?";
      rows.push(`| ${dbs} | ${dbs * 2} | 20 | ${resources} | ${seconds.toFixed(2)} s |`);
      process.stdout.write(`${dbs} databases: ${seconds.toFixed(2)} s (${resources} resources)\n`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  process.stdout.write(
    [
      "",
      "| databases | Longhorn PVCs | Velero schedules | resources | render wall time |",
      "|---|---|---|---|---|",
      ...rows,
      "",
    ].join("\n"),
  );
}

void main();
