/**
 * offload.sh's promises beyond the happy path (test/integration/etcd.test.ts has that): a snapshot
 * whose staged copy has the wrong size is not published, and a node with no snapshot at all is a
 * failure (k3s is not taking snapshots there), never a quiet success; and a snapshot whose staging
 * upload succeeded but whose server-side copy into place failed gets no record, so the next run sends
 * it again. Real S3 peer, real rclone.
 */
import { execFile, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fakeRclone } from "../support/fakeRclone.js";
import { childEnv, startS3Peer, type S3Peer } from "../support/s3peer.js";

const run = promisify(execFile);
const OFFLOAD = path.resolve(__dirname, "../../components/etcd/offload.sh");

let peer: S3Peer;
let dir: string;

beforeAll(async () => {
  peer = await startS3Peer(["backups"]);
  dir = mkdtempSync(path.join(tmpdir(), "offload-verify-"));
}, 60_000);

afterAll(async () => {
  await peer?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function offload(
  snapshotDir: string,
  extra: Record<string, string> = {},
): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn("sh", [OFFLOAD], {
      env: childEnv({
        ...peer.rcloneEnv,
        SNAPSHOT_DIR: snapshotDir,
        NODE_NAME: "cp-1",
        HUB_BUCKET: "backups",
        MIN_AGE_SECONDS: "1",
        STABLE_SECONDS: "1",
        ETCD_CHECK: "none",
        RCLONE_CONFIG: path.join(dir, "none.conf"),
        ...extra,
      }),
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr!.on("data", (d) => (stderr += d));
    child.on("exit", (code) => resolve({ code, stderr }));
  });
}

const published = async () =>
  (
    await run("rclone", ["lsf", "-R", "--files-only", "hub:backups/etcd-snapshots/cp-1/"], {
      env: childEnv(peer.rcloneEnv),
    }).catch(() => ({ stdout: "" }))
  ).stdout
    .split("\n")
    .filter(Boolean);

describe("offload.sh", () => {
  it("fails on an empty snapshot directory, saying no snapshot was found", async () => {
    const empty = path.join(dir, "empty");
    mkdirSync(empty);
    const r = await offload(empty);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`no snapshot in ${empty}`);
  }, 60_000);

  it("does not publish a snapshot whose staged copy has another size, and fails the run", async () => {
    const snaps = path.join(dir, "snaps");
    mkdirSync(snaps);
    const snap = path.join(snaps, "etcd-snapshot-cp-1-1700000000");
    writeFileSync(snap, Buffer.alloc(100_000, 3));
    const t = new Date(Date.now() - 600_000);
    utimesSync(snap, t, t);
    const r = await offload(snaps, { RCLONE: fakeRclone("staged-size") });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("FAIL etcd-snapshot-cp-1-1700000000: staged size 100001 != local size 100000");
    expect(await published()).toEqual([]);
    // The same snapshot with the real rclone goes, with its record.
    const ok = await offload(snaps);
    expect(ok.code, ok.stderr).toBe(0);
    expect(await published()).toEqual(["etcd-snapshot-cp-1-1700000000", "etcd-snapshot-cp-1-1700000000.json"]);
  }, 60_000);

  it("writes no record when the staged upload succeeds and the final server-side copy fails; the next run retries", async () => {
    const snaps = path.join(dir, "snaps-copy");
    mkdirSync(snaps);
    const file = "etcd-snapshot-cp-1-1700003600";
    const snap = path.join(snaps, file);
    writeFileSync(snap, Buffer.alloc(120_000, 5));
    const t = new Date(Date.now() - 600_000);
    utimesSync(snap, t, t);
    const before = await published();
    const r = await offload(snaps, { RCLONE: fakeRclone("fail-copy-from:hub:backups/etcd-snapshots/.partial/") });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`FAIL ${file}: server-side copy`);
    // The staging upload did happen (the fault is only in the copy out of .partial/) ...
    const { stdout: staged } = await run("rclone", ["lsf", "hub:backups/etcd-snapshots/.partial/cp-1/"], {
      env: childEnv(peer.rcloneEnv),
    });
    expect(staged.split("\n")).toContain(file);
    // ... and neither the snapshot nor its record is published, so the hub does not count it as done.
    expect(await published()).toEqual(before);
    const retry = await offload(snaps);
    expect(retry.code, retry.stderr).toBe(0);
    expect(retry.stderr).toContain(`offloaded ${file} (120000 bytes`);
    expect(await published()).toEqual(expect.arrayContaining([file, `${file}.json`]));
  }, 60_000);
});
