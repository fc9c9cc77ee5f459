/**
 * The hub preflight refuses a data disk with less than 5% free space and accepts one with more. Each
 * case runs the real preflight.sh in its own mount namespace (unshare --mount) where a fresh tmpfs is
 * the data disk, filled to leave 4.9% or 5.1% of it free (a threshold moved by more than 0.1 point
 * fails one of them), and systemd's marker directory exists so only the disk check can decide.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const SUDO = process.getuid?.() === 0 ? [] : ["sudo", "-n"];
const PREFLIGHT = path.resolve(__dirname, "../../components/hub/pi/preflight.sh");
/** tmpfs size in bytes (a multiple of the 4 KiB page, so the fill is exact). */
const DISK = 16 * 1024 * 1024;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), "preflight-free-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the preflight on a tmpfs data disk with `freePercent` of it left free. */
async function preflightWithFree(
  freePercent: number,
): Promise<{ code: number; stdout: string; stderr: string; disk: string }> {
  const disk = mkdtempSync(path.join(dir, `free-${freePercent}-`));
  const fillKiB = Math.round((DISK * (100 - freePercent)) / 100 / 4096) * 4;
  const script = [
    "set -euo pipefail",
    "mount -t tmpfs -o size=4m tmpfs /run",
    "mkdir -p /run/systemd/system",
    `mount -t tmpfs -o size=${DISK} tmpfs "$1"`,
    `dd if=/dev/zero of="$1/fill" bs=1024 count=${fillKiB} status=none`,
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
    "preflight",
    disk,
    PREFLIGHT,
  ];
  return run(cmd[0], cmd.slice(1), { timeout: 60_000 }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr, disk }),
    (e) => ({ code: typeof e.code === "number" ? e.code : -1, stdout: e.stdout ?? "", stderr: e.stderr ?? "", disk }),
  );
}

describe("preflight free-space rule (5%)", () => {
  it("refuses a data disk with 4.9% free, saying it is full", async () => {
    const r = await preflightWithFree(4.9);
    expect(r.code, r.stderr).toBe(1);
    const m = new RegExp(
      `preflight failed: dataDir: '${r.disk}' \\(${r.disk}\\) is full: (\\d+) of (\\d+) bytes free \\(less than 5%\\)`,
    ).exec(r.stderr);
    expect(m, r.stderr).not.toBeNull();
    const [free, size] = [Number(m![1]), Number(m![2])];
    expect(size).toBe(DISK);
    expect(free / size).toBeCloseTo(0.049, 3);
  }, 90_000);

  it("accepts a data disk with 5.1% free and reports its free bytes", async () => {
    const r = await preflightWithFree(5.1);
    expect(r.code, r.stderr).toBe(0);
    const free = Number(/^free_bytes=(\d+)$/m.exec(r.stdout)?.[1]);
    expect(free / DISK).toBeCloseTo(0.051, 3);
  }, 90_000);
});
