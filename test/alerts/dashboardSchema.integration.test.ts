/**
 * The Grafana dashboard the alerts ConfigMap carries, type-checked against Grafana's own dashboard
 * schema (the `@grafana/schema` package's `Dashboard` type, generated from Grafana's CUE schema) by
 * the TypeScript compiler: the JSON is written as an object literal typed `Dashboard`, so a missing
 * required field, a wrong type or an unknown field is a compile error. The same check is shown to
 * reject a variable whose `current` is `{}` (Grafana requires text and value) and a misspelt field.
 */
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { alertsDashboard } from "../../components/alerts/dashboard.js";
import { parseStackConfig } from "../../components/config.js";
import { exampleStack, REPO } from "../support/stackFiles.js";

const run = promisify(execFile);
let dir: string;

beforeAll(() => {
  // Inside the repository, so that `@grafana/schema` resolves from its node_modules.
  mkdirSync(path.join(REPO, "node_modules/.cache"), { recursive: true });
  dir = mkdtempSync(path.join(REPO, "node_modules/.cache/grafana-dashboard-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Compile errors of `dashboard` typed as Grafana's `Dashboard`; [] when it type-checks. */
async function typeErrors(name: string, dashboard: unknown): Promise<string[]> {
  const file = path.join(dir, `${name}.ts`);
  writeFileSync(
    file,
    `import type { Dashboard } from "@grafana/schema";\nexport const dashboard: Dashboard = ${JSON.stringify(dashboard, null, 2)};\n`,
  );
  const args = [
    "--ignoreConfig",
    "--noEmit",
    "--strict",
    "--skipLibCheck",
    "--target",
    "es2022",
    "--module",
    "nodenext",
    "--moduleResolution",
    "nodenext",
    file,
  ];
  return run(path.join(REPO, "node_modules/.bin/tsc"), args, { cwd: dir, timeout: 170_000 }).then(
    () => [],
    (e) =>
      String(e.stdout ?? e.message)
        .split("\n")
        .filter((l: string) => l.includes("error TS")),
  );
}

const dashboard = () => alertsDashboard(parseStackConfig(exampleStack().config)) as any;

describe("the alerts dashboard against @grafana/schema", () => {
  it("type-checks as a Grafana Dashboard", async () => {
    expect(await typeErrors("example", dashboard())).toEqual([]);
  }, 180_000);

  it("the check rejects an empty current value and a misspelt field", async () => {
    const emptyCurrent = dashboard();
    emptyCurrent.templating.list[0].current = {};
    expect((await typeErrors("empty-current", emptyCurrent)).join("\n")).toMatch(
      /Type '\{\}' is missing the following properties from type 'VariableOption': text, value/,
    );
    const misspelt = dashboard();
    misspelt.panels[0].gridPoss = misspelt.panels[0].gridPos;
    expect((await typeErrors("misspelt", misspelt)).join("\n")).toMatch(/gridPoss/);
  }, 180_000);
});
