/**
 * etcd-drill.sh against a real etcd 3.4 snapshot offloaded by the real offload.sh to a real S3 peer,
 * run under BusyBox (the shell and tools it gets in the cluster): it passes on the good snapshot,
 * fails on one whose bytes no longer match their record and on one that matches its record but is
 * not an etcd snapshot, fails on an empty hub, and leaves nothing behind (no files, no etcd process).
 */
import { execFile, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { busyboxPath, type BusyboxPath } from "../support/busybox.js";
import { startEtcd, stopEtcd, type Etcd } from "../support/etcd.js";
import { freePort } from "../support/net.js";
import { childEnv, startS3Peer, type S3Peer } from "../support/s3peer.js";
import { judgeDrillRecord } from "../../components/alerts/hubReader.mjs";

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, "..", "..");
const DRILL = path.join(ROOT, "components", "drills", "etcd-drill.sh");
const OFFLOAD = path.join(ROOT, "components", "etcd", "offload.sh");

let peer: S3Peer;
let dir: string;
let snapDir: string;
let etcd: Etcd | undefined;
let bb: BusyboxPath;

function sh(script: string, env: NodeJS.ProcessEnv): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn("busybox", ["sh", script], { env, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr!.on("data", (d) => (stderr += d));
    child.on("close", (code) => resolve({ code: code ?? -1, stderr }));
  });
}

async function drill(extra: Record<string, string> = {}) {
  const drillDir = mkdtempSync(path.join(dir, "drill-"));
  const res = await sh(
    DRILL,
    childEnv({
      ...peer.rcloneEnv,
      PATH: bb.path,
      HUB_BUCKET: "backups",
      DRILL_DIR: drillDir,
      DRILL_CLIENT_PORT: String(await freePort()),
      DRILL_PEER_PORT: String(await freePort()),
      DRILL_KEY_PREFIX: "/registry/",
      DRILL_MIN_KEYS: "40",
      DRILL_RECORD_CLASS: "etcd",
      DRILL_RECORD_ITEM: "etcd",
      ...extra,
    }),
  );
  return { ...res, left: readdirSync(drillDir) };
}

const old = (file: string, secondsAgo: number) => {
  const t = new Date(Date.now() - secondsAgo * 1000);
  utimesSync(file, t, t);
};

async function offload(extra: Record<string, string> = {}) {
  const { stderr } = await run("sh", [OFFLOAD], {
    env: childEnv({
      ...peer.rcloneEnv,
      SNAPSHOT_DIR: snapDir,
      NODE_NAME: "cp-1",
      HUB_BUCKET: "backups",
      MIN_AGE_SECONDS: "1",
      STABLE_SECONDS: "1",
      ...extra,
    }),
  });
  return stderr;
}

/** The drill's status record on the hub (components/drills/drill-record.sh), as status judges it. */
async function drillRecord() {
  const { stdout } = await run("rclone", ["--config", "", "cat", "hub:backups/status/drills/etcd/etcd.json"], {
    env: childEnv(peer.rcloneEnv),
  });
  const rec = JSON.parse(stdout);
  return { rec, judged: judgeDrillRecord(rec, "etcd", "etcd", Date.now() / 1000) };
}

/** Is an etcd serving the drill's data still running? (The drill must always stop it.) */
async function drillEtcdRunning(): Promise<boolean> {
  const { stdout } = await run("ps", ["-eo", "args"]);
  return stdout.split("\n").some((l) => l.startsWith("etcd --name drill"));
}

beforeAll(async () => {
  bb = busyboxPath();
  peer = await startS3Peer(["backups"]);
  dir = mkdtempSync(path.join(tmpdir(), "etcd-drill-"));
  snapDir = path.join(dir, "snapshots");
  mkdirSync(snapDir, { mode: 0o700 });
  etcd = await startEtcd("src", path.join(dir, "src"), await freePort(), await freePort());
  const env = childEnv();
  for (let i = 0; i < 50; i++)
    await run("etcdctl", ["--endpoints", etcd.client, "put", `/registry/test/key-${i}`, `value-${i}`], { env });
  const snap = path.join(snapDir, "etcd-snapshot-cp-1-1700000000");
  await run("etcdctl", ["--endpoints", etcd.client, "snapshot", "save", snap], { env });
  old(snap, 600);
  await stopEtcd(etcd);
}, 60_000);

afterAll(async () => {
  await stopEtcd(etcd);
  await peer?.stop();
  bb?.remove();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("etcd restore drill", () => {
  it("fails when the hub holds no snapshot record", async () => {
    const r = await drill();
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("no snapshot record under hub:backups/etcd-snapshots/");
    expect(r.left).toEqual([]);
    // Its result is on the hub for `npm run status`, with why it failed.
    expect(r.stderr).toContain("recorded failed at status/drills/etcd/etcd.json");
    const { rec, judged } = await drillRecord();
    expect(rec).toMatchObject({
      format: "homelab-backup/drill-result/v1",
      class: "etcd",
      item: "etcd",
      result: "failed",
    });
    expect(judged).toMatchObject({
      state: "failed",
      reason: "no snapshot record under hub:backups/etcd-snapshots/: has the offload job ever succeeded?",
    });
  });

  it("restores the newest offloaded snapshot, counts its keys, and cleans up", async () => {
    await offload();
    const r = await drill();
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("newest snapshot: cp-1/etcd-snapshot-cp-1-1700000000");
    expect(r.stderr).toContain("size and sha256 match the record");
    expect(r.stderr).toMatch(/holds 50 keys under '\/registry\/'/);
    expect(r.left).toEqual([]);
    expect(await drillEtcdRunning()).toBe(false);
    // The pass, its measured restore time and the snapshot it restored, where status reads them.
    const { rec, judged } = await drillRecord();
    expect(judged).toMatchObject({
      state: "passed",
      restored: "etcd-snapshots/cp-1/etcd-snapshot-cp-1-1700000000",
    });
    expect(rec.restoreSeconds).toBe(rec.seconds);
    expect(rec.seconds).toBeGreaterThanOrEqual(0);
    expect(rec.seconds).toBeLessThan(60);
    expect(Date.parse(rec.finishedAt) - Date.parse(rec.startedAt)).toBe(rec.seconds * 1000);
  }, 60_000);

  it("a record it cannot write is logged and leaves the drill's own result (exit 0) alone", async () => {
    // A remote only the record uses, which does not exist: the upload fails, the drill passes.
    const ok = await drill({ DRILL_RECORD_REMOTE: "nowhere" });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stderr).toMatch(
      /status record NOT written to status\/drills\/etcd\/etcd\.json: .*; the drill's own result stands \(exit 0\)/,
    );
  }, 60_000);

  it("fails when the restored etcd holds fewer keys than required", async () => {
    const r = await drill({ DRILL_MIN_KEYS: "51" });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("holds 50 keys under '/registry/', fewer than 51");
    expect(r.left).toEqual([]);
    expect(await drillEtcdRunning()).toBe(false);
  }, 60_000);

  it("fails on a snapshot that matches its record but is not an etcd snapshot (newest wins)", async () => {
    await new Promise((r) => setTimeout(r, 1100)); // a newer record on the hub
    const bad = path.join(snapDir, "etcd-snapshot-cp-1-1700100000");
    writeFileSync(bad, Buffer.alloc(65536, 7));
    old(bad, 300);
    await offload({ ETCD_CHECK: "none" });
    const r = await drill();
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("newest snapshot: cp-1/etcd-snapshot-cp-1-1700100000");
    expect(r.stderr).toContain("size and sha256 match the record");
    expect(r.stderr).toContain("snapshot restore refused");
    expect(r.left).toEqual([]);
  }, 60_000);

  it("fails on a snapshot corrupted on the hub after its record was written", async () => {
    // Re-offload the good snapshot under a newer name, then flip one byte of the stored copy.
    await new Promise((r) => setTimeout(r, 1100));
    const good = path.join(dir, "good-copy");
    await run(
      "rclone",
      ["--config", "", "copyto", "hub:backups/etcd-snapshots/cp-1/etcd-snapshot-cp-1-1700000000", good],
      { env: childEnv(peer.rcloneEnv) },
    );
    const { readFileSync } = await import("node:fs");
    const bytes = readFileSync(good);
    writeFileSync(path.join(snapDir, "etcd-snapshot-cp-1-1700200000"), bytes);
    old(path.join(snapDir, "etcd-snapshot-cp-1-1700200000"), 300);
    await offload();
    bytes[Math.floor(bytes.length / 2)] ^= 0xff;
    const corrupt = path.join(dir, "corrupt");
    writeFileSync(corrupt, bytes);
    await run(
      "rclone",
      ["--config", "", "copyto", corrupt, "hub:backups/etcd-snapshots/cp-1/etcd-snapshot-cp-1-1700200000"],
      { env: childEnv(peer.rcloneEnv) },
    );
    const r = await drill();
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("newest snapshot: cp-1/etcd-snapshot-cp-1-1700200000");
    expect(r.stderr).toMatch(/sha256 [0-9a-f]{64} does not match its record/);
    expect(r.left).toEqual([]);
  }, 60_000);
});
