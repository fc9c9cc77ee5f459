/**
 * The hub's preflight, run the way PiHub runs it: uploaded over SFTP and executed over SSH with the
 * exact command string of components/hub/pi/piHubSteps.ts, against a real OpenSSH server on 127.0.0.1.
 *
 * The server runs in its own mount namespace (unshare --mount): there the test mounts a tmpfs as
 * the hub's data disk (a real, separate mount that vanishes with the namespace) and a fresh /run
 * holding /run/sshd (sshd's privilege-separation directory) and /run/systemd/system, the marker by
 * which sd_booted(3) and the preflight recognise a systemd host. The sandbox and CI hosts differ on
 * whether systemd is PID 1, so the test fixes it explicitly in both directions instead of
 * inheriting it: the "no systemd" case runs the same script in a namespace without the marker.
 *
 * Mounting needs root: the test runs as root here and through `sudo -n` in CI (the GitHub runner
 * has passwordless sudo). Without either it fails loudly rather than skipping.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from "node:fs";
import { arch as nodeArch, tmpdir } from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseStackConfig } from "../../components/config.js";
import { COMPONENTS_DIR } from "../../components/core/files.js";
import { piHubSettings, STAGING_DIR, stepCommand, type PiHubSettings } from "../../components/hub/pi/piHubSteps.js";
import { freePort } from "../support/net.js";
import { sshClientOptions } from "../support/ssh.js";

const run = promisify(execFile);
const SUDO = process.getuid?.() === 0 ? [] : ["sudo", "-n"];
const PREFLIGHT = path.join(COMPONENTS_DIR, "hub", "pi", "preflight.sh");
const EXPECTED_ARCH = nodeArch() === "arm64" ? "arm64" : nodeArch() === "x64" ? "amd64" : nodeArch();

let dir: string;
let port: number;
let sshd: ChildProcess;
let sshdLog = "";
/** The tmpfs data disk, mounted inside the server's namespace. */
let dataDisk: string;
/** A directory on the root filesystem. */
let onRoot: string;
/** The hub's "home": where the staging directory is created and the commands start. */
let home: string;

/** ssh/scp options for this test's own server (test/support/ssh.ts). */
const sshOptions = (key: string): string[] => sshClientOptions(key, path.join(dir, "known_hosts"));

/** Runs a command on the hub over SSH; resolves with exit code and output (never rejects on a non-zero exit). */
async function ssh(
  command: string,
  key = path.join(dir, "client"),
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run("ssh", [...sshOptions(key), "-p", String(port), "root@127.0.0.1", command], {
      timeout: 120_000,
    });
    return { code: 0, stdout, stderr };
  } catch (e: any) {
    return { code: typeof e.code === "number" ? e.code : -1, stdout: e.stdout ?? "", stderr: e.stderr ?? String(e) };
  }
}

function settingsFor(dataDir: string): PiHubSettings {
  const stack = parseStackConfig({
    "homelab-backup:hub": JSON.stringify({
      kind: "pi",
      bucket: "homelab-backups",
      region: "fr-home-1",
      host: "127.0.0.1",
      ssh: { user: "root", port },
      dataDir,
    }),
    "homelab-backup:hubSshPrivateKey": "unused",
  });
  return piHubSettings(stack.hub!);
}

/** The preflight as PiHub runs it: from the staging directory in the hub user's home. */
const preflightOverSsh = (dataDir: string) => ssh(`cd ${home} && ${stepCommand("preflight", settingsFor(dataDir))}`);

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "hub-ssh-"));
  chmodSync(dir, 0o755);
  port = await freePort();
  dataDisk = path.join(dir, "data-disk");
  onRoot = path.join(dir, "on-root");
  home = path.join(dir, "home");
  for (const d of [dataDisk, onRoot, home]) mkdirSync(d);

  const { stdout: rootMount } = await run("findmnt", ["--noheadings", "--output", "TARGET", "--target", onRoot]);
  if (rootMount.trim().split("\n").pop() !== "/")
    throw new Error(
      `${onRoot} is on ${rootMount.trim()}, not on /: the "directory on /" case needs a temp dir on the root filesystem`,
    );

  for (const k of ["host", "client", "wrong"])
    await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", `hub-test-${k}`, "-f", path.join(dir, k)]);
  writeFileSync(path.join(dir, "authorized_keys"), readFileSync(path.join(dir, "client.pub")));
  writeFileSync(
    path.join(dir, "known_hosts"),
    `[127.0.0.1]:${port} ${readFileSync(path.join(dir, "host.pub"), "utf8")}`,
  );
  const config = path.join(dir, "sshd_config");
  writeFileSync(
    config,
    [
      `Port ${port}`,
      "ListenAddress 127.0.0.1",
      `HostKey ${path.join(dir, "host")}`,
      `PidFile ${path.join(dir, "sshd.pid")}`,
      `AuthorizedKeysFile ${path.join(dir, "authorized_keys")}`,
      "StrictModes no",
      "PubkeyAuthentication yes",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "UsePAM no",
      "PermitRootLogin prohibit-password",
      "AllowUsers root",
      "Subsystem sftp internal-sftp",
      "LogLevel VERBOSE",
      "",
    ].join("\n"),
  );

  const namespaceSetup = [
    "set -euo pipefail",
    "mount -t tmpfs -o size=4m,mode=0755 tmpfs /run",
    "mkdir -p /run/sshd /run/systemd/system",
    'mount -t tmpfs -o size=64m tmpfs "$1"',
    'exec /usr/sbin/sshd -D -e -f "$2"',
  ].join("\n");
  sshd = spawn(
    SUDO[0] ?? "unshare",
    [
      ...SUDO.slice(1),
      ...(SUDO.length ? ["unshare"] : []),
      "--mount",
      "--propagation",
      "private",
      "bash",
      "-c",
      namespaceSetup,
      "hub-ns",
      dataDisk,
      config,
    ],
    {
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`sshd did not start within 60 s:\n${sshdLog}`)), 60_000);
    sshd.stderr!.on("data", (chunk: Buffer) => {
      sshdLog += chunk.toString();
      if (sshdLog.includes("Server listening on 127.0.0.1")) {
        clearTimeout(timer);
        resolve();
      }
    });
    sshd.once("exit", (code) => {
      clearTimeout(timer);
      reject(
        new Error(`sshd exited with ${code} before listening (mount namespace or sshd config failed):\n${sshdLog}`),
      );
    });
  });

  // What PiHub's staging Command and CopyToRemote do: an owner-only directory, the script uploaded over SFTP.
  const staging = await ssh(`cd ${home} && mkdir -p ${STAGING_DIR} && chmod 0700 ${STAGING_DIR}`);
  expect(staging.code, staging.stderr).toBe(0);
  await run(
    "scp",
    [
      ...sshOptions(path.join(dir, "client")),
      "-P",
      String(port),
      PREFLIGHT,
      `root@127.0.0.1:${home}/${STAGING_DIR}/preflight.sh`,
    ],
    { timeout: 120_000 },
  );
}, 300_000);

afterAll(async () => {
  if (sshd && sshd.exitCode === null) {
    const exited = new Promise((r) => sshd.once("exit", r));
    sshd.kill("SIGTERM");
    await exited;
  }
  // The tmpfs mounts lived in sshd's namespace and are gone with it; what remains is plain files,
  // some owned by root (uploaded over SSH as root), hence rm through sudo when the test is not root.
  if (dir) {
    if (SUDO.length) await run(SUDO[0], [...SUDO.slice(1), "rm", "-rf", dir]);
    else rmSync(dir, { recursive: true, force: true });
  }
});

describe("preflight over SSH", () => {
  it("connects with the client key to the server whose host key is pinned", async () => {
    const r = await ssh("id -u");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe("0");
  });

  it("passes on a directory that is a separate mount, and reports its free space and the architecture", async () => {
    const r = await preflightOverSsh(dataDisk);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`data_dir=${dataDisk}`);
    expect(r.stdout).toContain(`mount_point=${dataDisk}`);
    expect(r.stdout).toContain("fs_type=tmpfs");
    const free = Number(/^free_bytes=(\d+)$/m.exec(r.stdout)?.[1]);
    // A 64 MiB tmpfs with nothing on it: free space is reported in bytes, close to the size.
    expect(free).toBeGreaterThan(60 * 1024 * 1024);
    expect(free).toBeLessThanOrEqual(64 * 1024 * 1024);
    expect(r.stdout).toContain(`arch=${EXPECTED_ARCH}`);
    expect(r.stdout).toContain("init=systemd");
    expect(r.stdout.trim().split("\n").pop()).toBe("preflight ok");
    // The data disk is tmpfs here; the preflight says that such a disk does not survive a reboot.
    expect(r.stderr).toMatch(/memory-backed/);
  });

  it("sees the data disk only inside the hub's namespace (the test mounted nothing on this host)", async () => {
    const { stdout } = await run("findmnt", ["--noheadings", "--output", "TARGET", "--target", dataDisk]);
    expect(stdout.trim().split("\n").pop()).toBe("/");
  });

  it("refuses a data directory on the root filesystem, naming the directory", async () => {
    const r = await preflightOverSsh(onRoot);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`preflight failed: dataDir: '${onRoot}' is on the root filesystem (/)`);
    expect(r.stdout).not.toContain("preflight ok");
  });

  it("refuses a data directory that does not exist, naming it", async () => {
    const missing = path.join(dataDisk, "not-created");
    const r = await preflightOverSsh(missing);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`preflight failed: dataDir: '${missing}' does not exist`);
  });

  it("refuses a client whose key is not authorized (the ssh client exits non-zero)", async () => {
    const r = await ssh("true", path.join(dir, "wrong"));
    expect(r.code).toBe(255);
    expect(r.stderr).toMatch(/Permission denied \(publickey\)/);
    expect(sshdLog).toMatch(/Failed publickey for root from 127\.0\.0\.1/);
  });
});

describe("preflight checks beyond the disk (same script, run locally)", () => {
  it("refuses a host where systemd is not the running init", async () => {
    // A namespace with a fresh /run (no /run/systemd/system) and its own tmpfs data disk, so only the init check can fail.
    const disk = mkdtempSync(path.join(dir, "nosystemd-"));
    const script = [
      "set -euo pipefail",
      "mount -t tmpfs -o size=8m tmpfs /run",
      'mount -t tmpfs -o size=8m tmpfs "$1"',
      'HUB_DATA_DIR="$1" exec bash "$2"',
    ].join("\n");
    const cmd = [
      ...SUDO,
      "unshare",
      "--mount",
      "--propagation",
      "private",
      "bash",
      "-c",
      script,
      "no-systemd",
      disk,
      PREFLIGHT,
    ];
    const err: any = await run(cmd[0], cmd.slice(1)).then(
      () => undefined,
      (e) => e,
    );
    expect(err, "preflight passed without systemd").toBeDefined();
    expect(err.code).toBe(1);
    expect(err.stdout).toContain(`mount_point=${disk}`);
    expect(err.stderr).toContain("preflight failed: systemd: systemd is installed but is not the running init");
  });

  it("refuses a full data disk, saying it is full", async () => {
    // A namespace with systemd's marker and a tmpfs data disk filled to the last byte.
    const disk = mkdtempSync(path.join(dir, "full-"));
    const script = [
      "set -euo pipefail",
      "mount -t tmpfs -o size=4m tmpfs /run",
      "mkdir -p /run/systemd/system",
      'mount -t tmpfs -o size=8m tmpfs "$1"',
      'head -c 9000000 /dev/zero > "$1/fill" 2>/dev/null || true',
      'HUB_DATA_DIR="$1" exec bash "$2"',
    ].join("\n");
    const cmd = [
      ...SUDO,
      "unshare",
      "--mount",
      "--propagation",
      "private",
      "bash",
      "-c",
      script,
      "full-disk",
      disk,
      PREFLIGHT,
    ];
    const err: any = await run(cmd[0], cmd.slice(1)).then(
      () => undefined,
      (e) => e,
    );
    expect(err, "preflight passed on a full disk").toBeDefined();
    expect(err.code).toBe(1);
    expect(err.stderr).toMatch(
      new RegExp(`preflight failed: dataDir: '${disk}' \\(${disk}\\) is full: 0 of \\d+ bytes free`),
    );
  });

  it("refuses a 32-bit ARM host", async () => {
    // A `uname` stub first on PATH reports the machine type of 32-bit Raspberry Pi OS.
    const stubs = mkdtempSync(path.join(dir, "stubs-"));
    writeFileSync(
      path.join(stubs, "uname"),
      '#!/bin/sh\n[ "$1" = "-m" ] && echo armv7l && exit 0\nexec /bin/uname "$@"\n',
      { mode: 0o755 },
    );
    const err: any = await run("bash", [PREFLIGHT], {
      env: { ...process.env, PATH: `${stubs}:${process.env.PATH}`, HUB_DATA_DIR: "/dev/shm" },
    }).then(
      () => undefined,
      (e) => e,
    );
    expect(err, "preflight accepted armv7l").toBeDefined();
    expect(err.code).toBe(1);
    expect(err.stderr).toContain("preflight failed: architecture: unsupported machine type 'armv7l'");
  });
});
