/**
 * The NixOS module of a `hub.os: nixos` stack, checked by the real Nix: `nix-instantiate --parse`
 * (Debian nix-bin) on every rendered variant, and `nix-instantiate --eval --strict` of the module
 * applied to a recording stand-in for nixpkgs' `lib` and `pkgs` (no nixpkgs checkout exists here),
 * so the test reads back what the module declares: the credentials file (a string outside the
 * Nix store), the pinned asset and sha256 every fetchurl gets, node exporter's textfile directory,
 * the off-site timer and the exact bytes of the script its service runs. A broken module and a
 * tampered literal are shown to fail, so these checks can fail.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  NIXOS_PATHS,
  nixString,
  nixText,
  nixValue,
  renderNixosModule,
  type NixosHubSettings,
  type NixosOffsite,
} from "../../components/hub/pi/nixos.js";
import { PINNED_RELEASES } from "../../components/hub/releases.js";
import { nixosArrivals } from "../../components/alerts/arrivals.js";

const run = promisify(execFile);
const HUB_DIR = path.resolve(__dirname, "..", "..", "components", "hub", "pi");
const TEMPLATE = readFileSync(path.join(HUB_DIR, "hub.nix"), "utf8");
const ARRIVALS_SCRIPT = readFileSync(
  path.resolve(__dirname, "..", "..", "components", "alerts", "hub-arrivals.sh"),
  "utf8",
);
const arrivals = nixosArrivals({ dataDir: "/srv/backup/s3", bucket: "homelab-backups" });
const OFFSITE_SCRIPT = readFileSync(
  path.resolve(__dirname, "..", "..", "components", "offsite", "offsite-sync.sh"),
  "utf8",
);

async function nix(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    // NIX_REMOTE/NIX_STATE_DIR under the temp dir: parsing and evaluating need no daemon and no store writes.
    const { stdout, stderr } = await run("nix-instantiate", args, {
      timeout: 60_000,
      env: { ...process.env, NIX_STATE_DIR: path.join(dir, "state"), NIX_LOG_DIR: path.join(dir, "log") },
    });
    return { code: 0, stdout, stderr };
  } catch (e: any) {
    if (e.code === "ENOENT")
      throw new Error("nix-instantiate is not installed (Debian nix-bin; CI installs it: see .ci/run)");
    return { code: typeof e.code === "number" ? e.code : -1, stdout: e.stdout ?? "", stderr: e.stderr ?? String(e) };
  }
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), "hub-nixos-"));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const settings = (over: Partial<NixosHubSettings> = {}): NixosHubSettings => ({
  server: "silo",
  dataDir: "/srv/backup/s3",
  port: 9000,
  consolePort: 9001,
  region: "home-1",
  tls: false,
  monitoring: true,
  textfileCollectorDir: "/var/lib/prometheus/node-exporter",
  sshUser: "deploy",
  ...over,
});

const offsite: NixosOffsite = {
  script: OFFSITE_SCRIPT,
  environment: {
    OFFSITE_RCLONE_CONFIG: NIXOS_PATHS.rcloneConfig,
    OFFSITE_BUCKET: "homelab-backups",
    OFFSITE_PREFIXES: "",
    OFFSITE_ENCRYPTION: "true",
    OFFSITE_TEXTFILE: "/var/lib/prometheus/node-exporter/offsite.prom",
  },
  onCalendar: ["*-*-* 06:00:00 UTC"],
};

function write(name: string, text: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

/**
 * A stand-in for nixpkgs: `lib` with the few functions the module calls, `pkgs` whose builders
 * return their arguments (so the JSON shows them) and packages with an outPath (writeText's carries
 * the sha256 of its text).
 */
const STUBS = `
  lib = {
    mkMerge = xs: xs;
    optionalAttrs = c: a: if c then a else { };
    optional = c: x: if c then [ x ] else [ ];
    concatStringsSep = builtins.concatStringsSep;
  };
  pkg = name: { outPath = "/nix/store/stub-" + name; };
  pkgs = {
    stdenv.hostPlatform.system = "aarch64-linux";
    fetchurl = a: a;
    stdenvNoCC.mkDerivation = a: a;
    writeText = name: text: { outPath = "/nix/store/text-" + builtins.hashString "sha256" text + "-" + name; };
    unzip = pkg "unzip"; rclone = pkg "rclone"; bash = pkg "bash"; coreutils = pkg "coreutils";
    gnugrep = pkg "gnugrep"; gnused = pkg "gnused"; gawk = pkg "gawk"; curl = pkg "curl"; findutils = pkg "findutils";
  };`;

/** The module applied to the stand-ins: its `config` list with every block, as JSON. */
async function evaluate(file: string): Promise<any[]> {
  const expr = `let ${STUBS}\n in (import ${file} { inherit lib pkgs; config = { }; }).config`;
  const r = await nix(["--eval", "--strict", "--json", "-E", expr]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

const merged = (blocks: any[]) => blocks.reduce((acc, b) => deepMerge(acc, b), {});
function deepMerge(a: any, b: any): any {
  if (Array.isArray(a) && Array.isArray(b)) return [...a, ...b];
  if (a && b && typeof a === "object" && typeof b === "object") {
    const out = { ...a };
    for (const [k, v] of Object.entries(b)) out[k] = k in out ? deepMerge(out[k], v) : v;
    return out;
  }
  return b;
}

describe("the NixOS module parses (nix-instantiate --parse)", () => {
  it.each([
    ["silo, monitoring, off-site", settings(), offsite],
    ["rustfs, tls, no monitoring", settings({ server: "rustfs", tls: true, monitoring: false }), undefined],
    ["silo, odd characters in values", settings({ dataDir: '/srv/"quoted" ${x} \\ dir', region: "a${b}" }), offsite],
  ])("%s", async (_, s, o) => {
    const r = await nix(["--parse", write(`parse-${s.server}-${s.monitoring}.nix`, renderNixosModule(TEMPLATE, s, o))]);
    expect(r.code, r.stderr).toBe(0);
    const a = await nix([
      "--parse",
      write(`parse-arrivals-${s.server}-${s.monitoring}.nix`, renderNixosModule(TEMPLATE, s, o, arrivals)),
    ]);
    expect(a.code, a.stderr).toBe(0);
    expect(r.code, r.stderr).toBe(0);
  });

  it("fails on a module with a syntax error (the check can fail)", async () => {
    const broken = renderNixosModule(TEMPLATE, settings(), offsite).replace(
      "services.minio = {",
      "services.minio = {{",
    );
    const r = await nix(["--parse", write("broken.nix", broken)]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/syntax error/);
  });
});

describe("what the module declares (evaluated against stand-ins for lib and pkgs)", () => {
  it("Silo: services.minio with the pinned Silo release (sha256-checked), credentials from a file outside the store, metrics for Prometheus", async () => {
    const c = merged(await evaluate(write("eval-silo.nix", renderNixosModule(TEMPLATE, settings(), offsite))));
    const minio = c.services.minio;
    expect(minio.enable).toBe(true);
    expect(minio.rootCredentialsFile).toBe(NIXOS_PATHS.envFile);
    expect(minio.rootCredentialsFile.startsWith("/nix/store")).toBe(false);
    expect(minio.dataDir).toEqual(["/srv/backup/s3"]);
    expect(minio.listenAddress).toBe(":9000");
    expect(minio.consoleAddress).toBe(":9001");
    expect(minio.region).toBe("home-1");
    // The package: the arm64 asset of the pinned release, with its published sha256, and a bin/minio alias.
    expect(minio.package.src).toMatchObject({
      url: PINNED_RELEASES.silo.assets.arm64.url,
      sha256: PINNED_RELEASES.silo.assets.arm64.sha256,
    });
    expect(minio.package.installPhase).toContain("ln -s silo $out/bin/$a");
    expect(minio.package.installPhase).toMatch(/for a in minio;/);
    expect(c.systemd.services.minio.environment).toEqual({ MINIO_PROMETHEUS_AUTH_TYPE: "public" });
    expect(c.services.rustfs).toBeUndefined();
    // No S3 client in the system profile: `pulumi up` configures the bucket and users through the server's APIs.
    const packages = (c.environment.systemPackages ?? []).map((p: any) => String(p?.pname ?? p?.name ?? p));
    expect(packages.filter((n: string) => /mcli/.test(n))).toEqual([]);
    expect(minio.package.src.url).not.toContain("dl.min.io");
  });

  it("node exporter with the textfile collector reading the stack's directory", async () => {
    const c = merged(
      await evaluate(
        write(
          "eval-node.nix",
          renderNixosModule(TEMPLATE, settings({ textfileCollectorDir: "/var/lib/node-textfile" }), offsite),
        ),
      ),
    );
    expect(c.services.prometheus.exporters.node).toMatchObject({
      enable: true,
      port: 9100,
      enabledCollectors: ["textfile"],
      extraFlags: ["--collector.textfile.directory=/var/lib/node-textfile"],
    });
    expect(c.systemd.tmpfiles.rules).toContain("d /var/lib/node-textfile 0755 root root - -");
    const off = merged(
      await evaluate(write("eval-nomon.nix", renderNixosModule(TEMPLATE, settings({ monitoring: false }), offsite))),
    );
    expect(off.services.prometheus).toBeUndefined();
    expect(off.systemd.services.minio.environment).toEqual({});
  });

  it("the off-site service runs offsite-sync.sh byte for byte, on the timer converted from the cron schedule", async () => {
    const c = merged(await evaluate(write("eval-offsite.nix", renderNixosModule(TEMPLATE, settings(), offsite))));
    const svc = c.systemd.services["homelab-backup-offsite"];
    const sha = createHash("sha256").update(OFFSITE_SCRIPT).digest("hex");
    expect(svc.serviceConfig.ExecStart).toBe(`/nix/store/stub-bash/bin/sh /nix/store/text-${sha}-offsite-sync.sh`);
    expect(svc.environment).toEqual({ ...offsite.environment, RCLONE: "/nix/store/stub-rclone/bin/rclone" });
    expect(c.systemd.timers["homelab-backup-offsite"].timerConfig).toEqual({
      OnCalendar: ["*-*-* 06:00:00 UTC"],
      Persistent: true,
      AccuracySec: "1min",
    });
    const none = merged(
      await evaluate(write("eval-nooffsite.nix", renderNixosModule(TEMPLATE, settings(), undefined))),
    );
    expect(none.systemd.timers).toBeUndefined();
  });

  it("the arrivals service runs hub-arrivals.sh byte for byte every 15 minutes, its EnvironmentFile in the module's directory", async () => {
    const c = merged(
      await evaluate(write("eval-arrivals.nix", renderNixosModule(TEMPLATE, settings(), offsite, arrivals))),
    );
    const svc = c.systemd.services["homelab-backup-arrivals"];
    const sha = createHash("sha256").update(ARRIVALS_SCRIPT).digest("hex");
    expect(svc.serviceConfig.ExecStart).toBe(`/nix/store/stub-bash/bin/sh /nix/store/text-${sha}-hub-arrivals.sh`);
    expect(svc.serviceConfig.EnvironmentFile).toBe(NIXOS_PATHS.arrivalsEnv);
    expect(svc.serviceConfig.EnvironmentFile.startsWith("/var/lib/homelab-backup/")).toBe(true);
    expect(svc.serviceConfig.ReadOnlyPaths).toEqual(["/srv/backup/s3/homelab-backups"]);
    expect(svc.serviceConfig).toMatchObject({
      Type: "oneshot",
      StateDirectory: "homelab-backup",
      StateDirectoryMode: "0711",
    });
    expect(svc.path).toEqual([
      "/nix/store/stub-curl",
      "/nix/store/stub-coreutils",
      "/nix/store/stub-findutils",
      "/nix/store/stub-gnused",
    ]);
    expect(c.systemd.timers["homelab-backup-arrivals"]).toEqual({
      wantedBy: ["timers.target"],
      timerConfig: { OnCalendar: "*:0/15", Persistent: true, AccuracySec: "1min" },
    });
    // The offsite timer is unchanged beside it; without arrivals there is no such service.
    expect(c.systemd.timers["homelab-backup-offsite"]).toBeDefined();
    const none = merged(await evaluate(write("eval-noarrivals.nix", renderNixosModule(TEMPLATE, settings(), offsite))));
    expect(none.systemd.services["homelab-backup-arrivals"]).toBeUndefined();
  });

  it("RustFS: services.rustfs with the pinned musl release, the environment file, and a restart when the credentials change", async () => {
    const c = merged(
      await evaluate(
        write("eval-rustfs.nix", renderNixosModule(TEMPLATE, settings({ server: "rustfs", tls: true }), undefined)),
      ),
    );
    const rustfs = c.services.rustfs;
    expect(rustfs.environmentFile).toBe(NIXOS_PATHS.envFile);
    expect(rustfs.settings).toEqual({
      RUSTFS_VOLUMES: "/srv/backup/s3",
      RUSTFS_ADDRESS: ":9000",
      RUSTFS_CONSOLE_ENABLE: "true",
      RUSTFS_CONSOLE_ADDRESS: ":9001",
      RUSTFS_TLS_PATH: "/etc/rustfs/tls",
    });
    expect(rustfs.package.src).toMatchObject({
      url: PINNED_RELEASES.rustfs.assets.arm64.url,
      sha256: PINNED_RELEASES.rustfs.assets.arm64.sha256,
    });
    expect(rustfs.package.src.url).toMatch(/-musl-v1\.0\.0\.zip$/);
    expect(c.systemd.paths["homelab-backup-rustfs-credentials"].pathConfig.PathChanged).toEqual([NIXOS_PATHS.envFile]);
    expect(c.services.minio).toBeUndefined();
  });

  it("values with quotes, backslashes and ${ } reach the module unchanged (a broken escape fails)", async () => {
    const dataDir = '/srv/"q" ${x} \\n';
    const c = merged(
      await evaluate(write("eval-escape.nix", renderNixosModule(TEMPLATE, settings({ dataDir }), undefined))),
    );
    expect(c.services.minio.dataDir).toEqual([dataDir]);
    const r = await nix(["--eval", "--strict", "--json", "-E", `"${dataDir}"`]);
    expect(r.code === 0 ? JSON.parse(r.stdout) : undefined).not.toBe(dataDir);
  });
});

/**
 * The TCP ports a module opens in the NixOS firewall: `networking.firewall.allowedTCPPorts` and the
 * port of every service declared with `openFirewall = true` (nixpkgs' exporters and most services
 * add their `port` to allowedTCPPorts that way). Ranges and UDP are returned too, so that one added
 * later is seen.
 */
function openedPorts(c: any): { tcp: number[]; other: unknown[] } {
  const tcp = [...(c.networking?.firewall?.allowedTCPPorts ?? [])];
  const other = [
    c.networking?.firewall?.allowedTCPPortRanges,
    c.networking?.firewall?.allowedUDPPorts,
    c.networking?.firewall?.allowedUDPPortRanges,
  ].filter((x) => x !== undefined && !(Array.isArray(x) && x.length === 0));
  const walk = (v: any): void => {
    if (!v || typeof v !== "object") return;
    if (v.openFirewall === true) tcp.push(v.port);
    for (const x of Object.values(v)) walk(x);
  };
  walk(c.services);
  return { tcp: tcp.sort((a, b) => a - b), other };
}

describe("the firewall opens exactly the S3 port (and node exporter's when monitoring is on)", () => {
  it.each([
    ["silo", settings(), [9000, 9100]],
    ["silo, no monitoring", settings({ monitoring: false }), [9000]],
    ["rustfs, tls, port 9443", settings({ server: "rustfs", tls: true, port: 9443, consolePort: 9444 }), [9100, 9443]],
    ["rustfs, no monitoring", settings({ server: "rustfs", monitoring: false }), [9000]],
  ] as const)("%s", async (name, s, expected) => {
    const c = merged(
      await evaluate(
        write(`eval-fw-${name.replace(/\W+/g, "-")}.nix`, renderNixosModule(TEMPLATE, s, offsite, arrivals)),
      ),
    );
    const opened = openedPorts(c);
    expect(opened.tcp).toEqual(expected);
    expect(opened.tcp).not.toContain(s.consolePort);
    expect(opened.other).toEqual([]);
  });

  it("fails when the console port is opened too (the check can fail)", async () => {
    const loose = renderNixosModule(TEMPLATE, settings({ monitoring: false }), offsite).replace(
      "networking.firewall.allowedTCPPorts = [ port ];",
      "networking.firewall.allowedTCPPorts = [ port consolePort ];",
    );
    const c = merged(await evaluate(write("eval-fw-loose.nix", loose)));
    expect(openedPorts(c).tcp).not.toEqual([9000]);
  });
});

describe("Nix literals", () => {
  it.each([["plain"], ['q"uote'], ["back\\slash"], ["dollar ${brace} $x"], ["tab\tnew\nline\r"], ["''indent''"]])(
    "nixString(%j) evaluates to itself",
    async (s) => {
      const r = await nix(["--eval", "--strict", "--json", "-E", nixString(s)]);
      expect(JSON.parse(r.stdout)).toBe(s);
    },
  );

  it("nixText holds a script byte for byte; nixValue holds nested data", async () => {
    const text = await nix(["--eval", "--strict", "--json", "-E", nixText(OFFSITE_SCRIPT)]);
    expect(JSON.parse(text.stdout)).toBe(OFFSITE_SCRIPT);
    const data = { a: [1, true, null, "x"], "b-c": { "d.e": "f" }, g: [] };
    const value = await nix(["--eval", "--strict", "--json", "-E", nixValue(data)]);
    expect(JSON.parse(value.stdout)).toEqual(data);
  });
});
