/**
 * Runs the real promtool (Debian's 2.42): `check rules` on a plain rules file, then `test rules` on a
 * test file, both written as JSON (YAML's superset) in a temp directory.
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";

export interface PromtoolResult {
  readonly code: number;
  readonly output: string;
}

function promtool(args: string[], cwd: string): Promise<PromtoolResult> {
  return new Promise((resolve) => {
    execFile("promtool", args, { cwd, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
      resolve({ code, output: `${stdout}${stderr}` });
    });
  });
}

/** check rules + test rules; `tests` are promtool test cases (input_series, alert_rule_test). */
export async function promtoolTest(
  groups: unknown,
  tests: unknown[],
  evaluationInterval = "1m",
): Promise<{ check: PromtoolResult; test: PromtoolResult }> {
  const dir = await mkdtemp(path.join(tmpdir(), "promtool-"));
  try {
    await writeFile(path.join(dir, "rules.json"), JSON.stringify({ groups }, null, 1));
    await writeFile(
      path.join(dir, "tests.json"),
      JSON.stringify({ rule_files: ["rules.json"], evaluation_interval: evaluationInterval, tests }, null, 1),
    );
    const check = await promtool(["check", "rules", "rules.json"], dir);
    const test = await promtool(["test", "rules", "tests.json"], dir);
    return { check, test };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** An alert's annotations with `{{ $labels.x }}` filled in from its labels (a label it lacks fails). */
export function expandAnnotations(annotations: object, labels: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(annotations as Record<string, string>).map(([k, v]) => [
      k,
      v.replace(/\{\{ \$labels\.([a-z_]+) \}\}/g, (_, l: string) => {
        if (!(l in labels)) throw new Error(`annotation ${k} names label ${l}, which the alert does not carry`);
        return labels[l];
      }),
    ]),
  );
}
