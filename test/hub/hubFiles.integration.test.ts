/**
 * Every file the Pi hub gets, checked by the real tools: shellcheck on each script under
 * scripts/hub/, `systemd-analyze verify` on each unit rendered from its template with sample stack
 * values. Each tool is also shown a deliberately broken file, so a check that cannot fail would fail.
 */
import { execFile } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { HubConfig } from "../../components/config.js";
import { COMPONENTS_DIR } from "../../components/core/files.js";
import { piHubFiles, piHubSettings, serverUnit, STAGING_DIR } from "../../components/hub/pi/piHubSteps.js";

const run = promisify(execFile);
const HUB_DIR = path.join(COMPONENTS_DIR, "hub", "pi");

/** Resolves with exit code and output; never rejects on a non-zero exit (a missing tool still rejects). */
async function tool(
  cmd: string,
  args: string[],
  cwd?: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(cmd, args, { cwd, timeout: 120_000 });
    return { code: 0, stdout, stderr };
  } catch (e: any) {
    if (e.code === "ENOENT") throw new Error(`${cmd} is not installed (CI installs it: see .ci/run)`);
    return { code: typeof e.code === "number" ? e.code : -1, stdout: e.stdout ?? "", stderr: e.stderr ?? String(e) };
  }
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), "hub-files-"));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const baseHub = (over: Partial<HubConfig> = {}): HubConfig =>
  ({
    kind: "pi",
    bucket: "homelab-backups",
    region: "fr-home-1",
    host: "backup1.lab.home.arpa",
    ssh: { user: "pi", port: 22 },
    server: "silo",
    os: "debian",
    monitoring: true,
    adopt: false,
    dataDir: "/mnt/backup-hdd/minio",
    port: 9000,
    consolePort: 9001,
    tls: false,
    textfileCollectorDir: "/var/lib/prometheus/node-exporter",
    ...over,
  }) as HubConfig;

describe("shellcheck", () => {
  const scripts = readdirSync(HUB_DIR).filter((f) => f.endsWith(".sh"));

  it("finds every step script", () => {
    expect(scripts.sort()).toEqual([
      "install-node-exporter.sh",
      "install-server.sh",
      "nixos-credentials.sh",
      "preflight.sh",
    ]);
  });

  it.each(scripts)("%s is clean (following its sources)", async (script) => {
    const r = await tool("shellcheck", ["--external-sources", "--severity=style", script], HUB_DIR);
    expect(r.stdout + r.stderr).toBe("");
    expect(r.code).toBe(0);
  });

  it("flags a script with an unquoted expansion (the check can fail)", async () => {
    const bad = path.join(dir, "bad.sh");
    writeFileSync(bad, '#!/usr/bin/env bash\nset -euo pipefail\ndir="$1"\nrm -rf $dir/*\n');
    const r = await tool("shellcheck", [bad]);
    expect(r.code).not.toBe(0);
    expect(r.stdout).toMatch(/SC2086/);
  });
});

describe("systemd-analyze verify", () => {
  /**
   * Renders the unit of a server into its own temp dir. verify refuses a unit whose ExecStart binary
   * does not exist, and the server binaries are installed on the hub, not here; so the fixture
   * points ExecStart (and AssertFileIsExecutable) at an executable stub in the temp dir, and the
   * data directory at a real temp directory. Everything else is the rendered unit, unchanged.
   */
  function renderFixture(hub: HubConfig, label: string): { file: string; content: string } {
    const root = path.join(dir, label);
    const bin = path.join(root, "bin");
    const data = path.join(root, "data");
    mkdirSync(bin, { recursive: true });
    mkdirSync(data, { recursive: true });
    const unit = serverUnit(piHubSettings({ ...hub, dataDir: data }));
    const binary = path.join(bin, hub.server);
    writeFileSync(binary, "#!/bin/sh\nexit 0\n");
    chmodSync(binary, 0o755);
    const content = unit.content.replaceAll(`/usr/local/bin/${hub.server}`, binary);
    expect(content).not.toBe(unit.content);
    const file = path.join(root, unit.name);
    writeFileSync(file, content);
    return { file, content };
  }

  const cases: [string, HubConfig][] = [
    ["silo", baseHub()],
    ["silo-tls", baseHub({ tls: true, objectLock: { mode: "GOVERNANCE", days: 14 } })],
    ["silo-no-monitoring", baseHub({ monitoring: false })],
    ["rustfs", baseHub({ server: "rustfs", port: 9100, consolePort: 9101 })],
    ["rustfs-tls", baseHub({ server: "rustfs", tls: true })],
  ];

  it.each(cases)("%s unit verifies with no warning", async (label, hub) => {
    const { file, content } = renderFixture(hub, label);
    const r = await tool("systemd-analyze", ["verify", file]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(content).toContain(`EnvironmentFile=/etc/default/${hub.server}`);
    expect(content).toMatch(new RegExp(`RequiresMountsFor=${path.join(dir, label, "data")}$`, "m"));
  });

  it("refuses a unit whose ExecStart binary is missing (the check can fail)", async () => {
    const root = path.join(dir, "missing-binary");
    mkdirSync(path.join(root, "data"), { recursive: true });
    const unit = serverUnit(piHubSettings(baseHub({ dataDir: path.join(root, "data") })));
    const file = path.join(root, unit.name);
    writeFileSync(file, unit.content.replaceAll("/usr/local/bin/silo", path.join(root, "bin", "silo")));
    const r = await tool("systemd-analyze", ["verify", file]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/is not executable|No such file/);
  });

  it("reports a misspelt setting (the check can fail)", async () => {
    const { file, content } = renderFixture(baseHub(), "misspelt");
    writeFileSync(file, content.replace("Type=notify", "Type=notfy"));
    const r = await tool("systemd-analyze", ["verify", file]);
    expect(r.stderr).toMatch(/Failed to parse service type/);
  });
});

describe("the files the hub gets", () => {
  it("are the step scripts and the server's unit, under the staging directory", () => {
    expect(piHubFiles(piHubSettings(baseHub())).map((f) => f.path)).toEqual([
      `${STAGING_DIR}/preflight.sh`,
      `${STAGING_DIR}/install-server.sh`,
      `${STAGING_DIR}/install-node-exporter.sh`,
      `${STAGING_DIR}/silo.service`,
    ]);
    expect(piHubFiles(piHubSettings(baseHub({ server: "rustfs", monitoring: false }))).map((f) => f.path)).toEqual([
      `${STAGING_DIR}/preflight.sh`,
      `${STAGING_DIR}/install-server.sh`,
      `${STAGING_DIR}/rustfs.service`,
    ]);
  });

  it("carry no credentials: the unit only names the root-only EnvironmentFile", () => {
    for (const f of piHubFiles(piHubSettings(baseHub({ tls: true })))) {
      expect(f.content, f.path).not.toMatch(/(ROOT_PASSWORD|SECRET_KEY|ACCESS_KEY)\s*=/);
    }
  });
});
