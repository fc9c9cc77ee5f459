/**
 * install-server.sh's download path, run for real (bash, sha256sum, tar, unzip, install): each
 * asset is built here as the release publishes it (Silo: a tar.gz with the bare binary;
 * RustFS: a zip), and a `curl` first on PATH serves it from a directory instead of GitHub, logging
 * every URL it is asked for. Everything after the transfer is the script's own: the sha256 check
 * before anything is installed, the unpacking, the install, and the record that makes a re-run
 * download nothing.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assetsArg, PINNED_RELEASES, type PinnedRelease } from "../../components/hub/releases.js";

const SCRIPT = path.resolve(__dirname, "..", "..", "components", "hub", "pi", "install-server.sh");

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), "hub-install-"));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function sh(args: string[], cwd?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) =>
    execFile(args[0], args.slice(1), { cwd, timeout: 60_000 }, (err: any, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === "number" ? err.code : -1) : 0, stdout, stderr }),
    ),
  );
}

/** A release archive holding `binary` (a small script that prints `content`), built with the real tar/zip; returns its sha256. */
async function buildAsset(served: string, name: string, binary: string, content: string): Promise<string> {
  const src = mkdtempSync(path.join(dir, "src-"));
  writeFileSync(path.join(src, binary), `#!/bin/sh\necho ${content}\n`, { mode: 0o755 });
  writeFileSync(path.join(src, "README.md"), "release notes\n");
  const out = path.join(served, name);
  const r = name.endsWith(".zip")
    ? await sh(["python3", "-m", "zipfile", "-c", out, path.join(src, binary), path.join(src, "README.md")])
    : await sh(["tar", "-czf", out, "-C", src, binary, "README.md"]);
  expect(r.code, r.stderr).toBe(0);
  return createHash("sha256").update(readFileSync(out)).digest("hex");
}

/** A `curl -o <file> <url>` that copies <served>/<basename of url> and logs the URL. */
function fakeCurl(root: string, served: string): string {
  const bin = path.join(root, "bin");
  mkdirSync(bin, { recursive: true });
  const script = [
    "#!/usr/bin/env bash",
    'out=""; url=""',
    'while (($#)); do case "$1" in -o) out="$2"; shift 2 ;; -*) shift ;; *) url="$1"; shift ;; esac; done',
    `echo "$url" >>"${path.join(root, "curl.log")}"`,
    `cp "${served}/\${url##*/}" "$out"`,
    "",
  ].join("\n");
  writeFileSync(path.join(bin, "curl"), script, { mode: 0o755 });
  return bin;
}

/** install_binary from the script, sourced, with BIN_DIR in the test's directory. */
async function installBinary(root: string, assets: string, arch: string, binary: string) {
  const bin = fakeCurl(root, path.join(root, "served"));
  const env = [`PATH=${bin}:${process.env.PATH}`, `HUB_BIN_DIR=${path.join(root, "installed")}`];
  return sh([
    "env",
    ...env,
    "bash",
    "-c",
    'source "$1"; install_binary "$2" "$3" "$4"',
    "x",
    SCRIPT,
    assets,
    arch,
    binary,
  ]);
}

/** A release like `pinned` whose assets are served from <root>/served with the given checksums. */
async function localRelease(
  root: string,
  pinned: PinnedRelease,
  content: string,
  tamper = false,
): Promise<PinnedRelease> {
  const served = path.join(root, "served");
  mkdirSync(served, { recursive: true });
  const assets = { ...pinned.assets };
  for (const arch of ["arm64", "amd64"] as const) {
    const a = pinned.assets[arch];
    const sha = await buildAsset(served, a.name, pinned.binary, `${content}-${arch}`);
    assets[arch] = { ...a, sha256: tamper ? sha.replace(/^./, (c) => (c === "0" ? "1" : "0")) : sha };
  }
  return { ...pinned, assets };
}

const curlLog = (root: string) =>
  existsSync(path.join(root, "curl.log")) ? readFileSync(path.join(root, "curl.log"), "utf8").trim().split("\n") : [];

describe("install-server.sh: every binary from its pinned GitHub release asset, checked against its sha256", () => {
  it.each([
    ["silo", PINNED_RELEASES.silo],
    ["rustfs (zip)", PINNED_RELEASES.rustfs],
  ])("%s: installs the architecture's asset once, and a re-run downloads nothing", async (label, pinned) => {
    const root = mkdtempSync(path.join(dir, `${label.split(" ")[0]}-`));
    const release = await localRelease(root, pinned, "v1");
    const first = await installBinary(root, assetsArg(release), "arm64", pinned.binary);
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    expect(first.stdout.trim()).toBe("changed");
    expect(curlLog(root)).toEqual([pinned.assets.arm64.url]);
    const installed = path.join(root, "installed", pinned.binary);
    expect((await sh([installed])).stdout.trim()).toBe("v1-arm64");
    expect(readFileSync(path.join(root, "installed", `.${pinned.binary}.sha256`), "utf8").trim()).toBe(
      release.assets.arm64.sha256,
    );

    const again = await installBinary(root, assetsArg(release), "arm64", pinned.binary);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toBe("");
    expect(curlLog(root)).toHaveLength(1);
  });

  it("refuses an asset whose sha256 differs from the pinned one, and installs nothing", async () => {
    const root = mkdtempSync(path.join(dir, "tampered-"));
    const release = await localRelease(root, PINNED_RELEASES.silo, "v1", true);
    const r = await installBinary(root, assetsArg(release), "amd64", "silo");
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /checksum mismatch for silo_\d+\.0\.0_linux_amd64\.tar\.gz: expected [0-9a-f]{64}, got [0-9a-f]{64}; refusing to install it/,
    );
    expect(existsSync(path.join(root, "installed", "silo"))).toBe(false);
  });

  it("upgrades when the pinned sha256 changes (a new release)", async () => {
    const root = mkdtempSync(path.join(dir, "upgrade-"));
    const v1 = await localRelease(root, PINNED_RELEASES.silo, "v1");
    expect((await installBinary(root, assetsArg(v1), "arm64", "silo")).code).toBe(0);
    const v2 = await localRelease(root, PINNED_RELEASES.silo, "v2");
    const r = await installBinary(root, assetsArg(v2), "arm64", "silo");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe("changed");
    expect((await sh([path.join(root, "installed", "silo")])).stdout.trim()).toBe("v2-arm64");
  });

  it("refuses a download that is not a GitHub release asset, or has no valid sha256", async () => {
    const root = mkdtempSync(path.join(dir, "bad-url-"));
    const sha = "a".repeat(64);
    const minio = await installBinary(
      root,
      `arm64 https://dl.min.io/server/minio/release/linux-arm64/minio ${sha}`,
      "arm64",
      "minio",
    );
    expect(minio.code).toBe(1);
    expect(minio.stderr).toMatch(/is not a GitHub release asset/);
    const noSha = await installBinary(root, `arm64 ${PINNED_RELEASES.silo.assets.arm64.url} latest`, "arm64", "silo");
    expect(noSha.code).toBe(1);
    expect(noSha.stderr).toMatch(/no valid sha256/);
    const noArch = await installBinary(
      root,
      assetsArg(PINNED_RELEASES.silo).replace(/arm64 \S+ \S+ ?/, ""),
      "arm64",
      "silo",
    );
    expect(noArch.stderr).toMatch(/no release asset for 'arm64'/);
    expect(curlLog(root)).toEqual([]);
  });

  it("main refuses server minio before touching anything", async () => {
    const r = await sh(
      [
        "env",
        "HUB_SERVER=minio",
        "HUB_VERSION=RELEASE.2025-09-07T16-13-09Z",
        "HUB_SERVER_ASSETS=x",
        "HUB_DATA_DIR=/nonexistent",
        "HUB_PORT=9000",
        "bash",
        SCRIPT,
      ],
      dir,
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /MinIO community builds are no longer distributed.*use silo, which replaces MinIO in place/,
    );
  });
});

describe("the pinned releases", () => {
  it("are GitHub release assets of the version they name, with a sha256 each; none from dl.min.io", () => {
    for (const r of Object.values(PINNED_RELEASES)) {
      for (const a of Object.values(r.assets)) {
        expect(a.url).toMatch(/^https:\/\/github\.com\/(pgsty\/silo|rustfs\/rustfs)\/releases\/download\//);
        expect(a.url).toContain(`/${r.version}/`);
        expect(a.url.endsWith(`/${a.name}`)).toBe(true);
        expect(a.sha256).toMatch(/^[0-9a-f]{64}$/);
        expect(a.url).not.toContain("dl.min.io");
      }
    }
    expect(PINNED_RELEASES.rustfs.assets.arm64.name).toBe("rustfs-linux-aarch64-musl-v1.0.0.zip");
    expect(PINNED_RELEASES.silo.assets.arm64.name).toBe("silo_20260916000000.0.0_linux_arm64.tar.gz");
    // Only servers: the bucket and users are configured through the server's APIs, so no client is pinned.
    expect(Object.keys(PINNED_RELEASES).sort()).toEqual(["rustfs", "silo"]);
  });
});
