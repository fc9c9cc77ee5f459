/**
 * Every file the Pi hub gets, checked by the real tools: shellcheck on each script under
 * scripts/hub/, `systemd-analyze verify` on each unit rendered from its template with sample stack
 * values. Each tool is also shown a deliberately broken file, so a check that cannot fail would fail.
 */
import { execFile } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { HubConfig } from "../../components/config.js";
import { COMPONENTS_DIR } from "../../components/core/files.js";
import { WRITERS, type WriterName } from "../../components/core/hubConnection.js";
import {
  configureStdin,
  piHubFiles,
  piHubSettings,
  serverUnit,
  STAGING_DIR,
  stepEnvironment,
} from "../../components/hub/pi/piHubSteps.js";
import type { PrefixLifecycle } from "../../components/hub/retention.js";

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
      "configure-bucket.sh",
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
      `${STAGING_DIR}/configure-bucket.sh`,
      `${STAGING_DIR}/silo.service`,
    ]);
    expect(piHubFiles(piHubSettings(baseHub({ server: "rustfs", monitoring: false }))).map((f) => f.path)).toEqual([
      `${STAGING_DIR}/preflight.sh`,
      `${STAGING_DIR}/install-server.sh`,
      `${STAGING_DIR}/configure-bucket.sh`,
      `${STAGING_DIR}/rustfs.service`,
    ]);
  });

  it("carry no credentials: the unit only names the root-only EnvironmentFile", () => {
    for (const f of piHubFiles(piHubSettings(baseHub({ tls: true })))) {
      expect(f.content, f.path).not.toMatch(/(ROOT_PASSWORD|SECRET_KEY|ACCESS_KEY)\s*=/);
    }
  });
});

describe("configure-bucket.sh, fed by components/hub/pi/piHubSteps.ts, against a recording MinIO client", () => {
  /**
   * The real script with the real stdin and environment that PiHub sends, and a stub `mcli` first on
   * PATH that records each call (arguments, MC_HOST_hub, and stdin where mcli reads a secret or a
   * policy). It proves the TypeScript encoding and the script's parsing agree, and that no secret is
   * ever an argument. The script insists on root; CI runs it through `sudo -n env PATH=...`.
   */
  const SUDO = process.getuid?.() === 0 ? [] : ["sudo", "-n"];
  const ADMIN = "p@ss/w:rd%+1 x-long";
  const lifecycles: PrefixLifecycle[] = [
    { prefix: "longhorn/", noncurrentDays: 7 },
    { prefix: "postgres-backups/", expireDays: 14, noncurrentDays: 7 },
  ];
  const policyOf = (w: WriterName) => ({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Action: ["s3:PutObject"], Resource: [`arn:aws:s3:::homelab-backups/${w}/*`] }],
  });
  const writers = WRITERS.map((w) => ({ writer: w, secretKey: `secret-of-${w}-0123456789`, policy: policyOf(w) }));

  const STUB = [
    "#!/usr/bin/env bash",
    '{ printf "ARGV"; printf " %s" "$@"; printf "\\n"; printf "HOST %s\\n" "$MC_HOST_hub"; } >>"$STUB_LOG"',
    'case " $* " in',
    '  *" stat "*) [[ -n "${STUB_BUCKET_EXISTS:-}" ]] && exit 0; exit 1 ;;',
    '  *" policy create "* | *" user add "*) printf "STDIN %s\\n" "$(base64 -w0)" >>"$STUB_LOG" ;;',
    '  *" policy attach "*) if [[ -n "${STUB_ATTACHED:-}" ]]; then echo "mcli: <ERROR> The specified policy change is already in effect." >&2; exit 1; fi ;;',
    "esac",
    "",
  ].join("\n");

  async function configure(label: string, hubOver: Partial<HubConfig>, stubEnv: Record<string, string>) {
    const root = path.join(dir, label);
    mkdirSync(path.join(root, "bin"), { recursive: true });
    writeFileSync(path.join(root, "bin", "mcli"), STUB, { mode: 0o755 });
    const log = path.join(root, "calls.log");
    writeFileSync(log, "");
    chmodSync(log, 0o666);
    const env = {
      ...stepEnvironment("configure", piHubSettings(baseHub(hubOver)), lifecycles),
      ...stubEnv,
      STUB_LOG: log,
      PATH: `${path.join(root, "bin")}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
    };
    const argv = [
      ...SUDO,
      "env",
      ...Object.entries(env).map(([k, v]) => `${k}=${v}`),
      "bash",
      path.join(HUB_DIR, "configure-bucket.sh"),
    ];
    const result = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      const child = execFile(argv[0], argv.slice(1), { timeout: 120_000 }, (err: any, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === "number" ? err.code : -1) : 0, stdout, stderr }),
      );
      child.stdin!.end(configureStdin(ADMIN, writers));
    });
    const lines = readFileSync(log, "utf8").trim().split("\n");
    return { ...result, lines, calls: lines.filter((l) => l.startsWith("ARGV ")).map((l) => l.slice(5)) };
  }

  it("creates a locked, versioned bucket with one lifecycle rule per prefix and one user + policy per writer", async () => {
    const r = await configure("fresh", { objectLock: { mode: "GOVERNANCE", days: 14 } }, {});
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const calls = r.calls.map((c) => c.replace(/^--config-dir \S+ --quiet --no-color /, ""));
    expect(calls.slice(0, 6)).toEqual([
      "stat hub/homelab-backups",
      "mb --region fr-home-1 --with-lock hub/homelab-backups",
      "version enable hub/homelab-backups",
      "retention set --default GOVERNANCE 14d hub/homelab-backups",
      "ilm rule rm --all --force hub/homelab-backups",
      "ilm rule add --prefix longhorn/ --noncurrent-expire-days 7 hub/homelab-backups",
    ]);
    expect(calls[6]).toBe(
      "ilm rule add --prefix postgres-backups/ --noncurrent-expire-days 7 --expire-days 14 hub/homelab-backups",
    );
    for (const w of WRITERS) {
      expect(calls).toContain(`admin policy create hub homelab-backup-${w} /dev/stdin`);
      expect(calls).toContain(`admin user add hub ${w}-backup`);
      expect(calls).toContain(`admin policy attach hub homelab-backup-${w} --user ${w}-backup`);
    }
    // What mcli read on stdin: each policy document, then each secret key (one line).
    const stdins = r.lines
      .filter((l) => l.startsWith("STDIN "))
      .map((l) => Buffer.from(l.slice(6), "base64").toString());
    for (const w of writers) {
      expect(stdins).toContain(JSON.stringify(w.policy));
      expect(stdins).toContain(`${w.secretKey}\n`);
    }
    // The admin credentials reach mcli only through its environment, percent-encoded.
    expect(new Set(r.lines.filter((l) => l.startsWith("HOST ")))).toEqual(
      new Set([`HOST http://homelab-admin:${encodeURIComponent(ADMIN)}@127.0.0.1:9000`]),
    );
    for (const c of r.calls) {
      expect(c).not.toContain(ADMIN);
      for (const w of writers) expect(c).not.toContain(w.secretKey);
    }
    for (const s of [ADMIN, ...writers.map((w) => w.secretKey)]) expect(r.stdout).not.toContain(s);
  });

  it("leaves an existing bucket alone and accepts a policy that is already attached (a re-run converges)", async () => {
    const r = await configure("rerun", {}, { STUB_BUCKET_EXISTS: "1", STUB_ATTACHED: "1" });
    expect(r.code, r.stderr).toBe(0);
    expect(r.calls.some((c) => / mb /.test(` ${c} `))).toBe(false);
    expect(r.calls.some((c) => c.includes("retention set"))).toBe(false);
    expect(r.stdout).toContain("bucket homelab-backups exists");
    expect(r.stdout.trim().split("\n").pop()).toBe("configure ok");
  });
});
