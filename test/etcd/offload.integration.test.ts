/**
 * offload.sh against a real etcd 3.4 and a real S3 peer: a snapshot taken with `etcdctl snapshot
 * save` reaches the hub with a correct record, restores into a new etcd that serves the keys, files
 * still being written are left alone, a corrupt snapshot is refused, and a second run sends nothing.
 */
import { execFile, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import {
  appendFileSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { COMPONENTS_DIR } from "../../components/core/files.js";
import { childEnv, startS3Peer, type S3Peer } from "../support/s3peer.js";
import { freePort } from "../support/net.js";
import { startEtcd, stopEtcd, type Etcd } from "../support/etcd.js";

const run = promisify(execFile);
const SCRIPT = path.join(COMPONENTS_DIR, "etcd", "offload.sh");
const NODE = "cp-1";

const sha256 = (file: string) => createHash("sha256").update(readFileSync(file)).digest("hex");

let peer: S3Peer;
let dir: string;
let snapDir: string;
let etcd1: Etcd | undefined;
let etcd2: Etcd | undefined;
let first: { code: number; stderr: string };

async function offload(extra: Record<string, string> = {}): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn("sh", [SCRIPT], {
      env: childEnv({
        ...peer.rcloneEnv,
        SNAPSHOT_DIR: snapDir,
        NODE_NAME: NODE,
        HUB_BUCKET: "backups",
        // Well above what setting up the snapshots takes on a loaded machine: the truncated copy must still be "recent".
        MIN_AGE_SECONDS: "60",
        STABLE_SECONDS: "2",
        RCLONE_CONFIG: path.join(dir, "none.conf"),
        ...extra,
      }),
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr!.on("data", (d) => (stderr += d));
    child.on("exit", (code) => resolve({ code: code ?? -1, stderr }));
  });
}

async function hubList(): Promise<string[]> {
  const { stdout } = await run("rclone", ["lsf", "-R", "--files-only", "hub:backups/etcd-snapshots/"], {
    env: childEnv(peer.rcloneEnv),
  });
  return stdout.split("\n").filter(Boolean).sort();
}

const old = (file: string, secondsAgo: number) => {
  const t = new Date(Date.now() - secondsAgo * 1000);
  utimesSync(file, t, t);
};

let grower: NodeJS.Timeout | undefined;

beforeAll(async () => {
  peer = await startS3Peer(["backups"]);
  dir = mkdtempSync(path.join(tmpdir(), "etcd-offload-"));
  snapDir = path.join(dir, "snapshots");
  mkdirSync(snapDir, { mode: 0o700 });
  etcd1 = await startEtcd("e1", path.join(dir, "data1"), await freePort(), await freePort());
  const env = childEnv();
  for (let i = 0; i < 50; i++)
    await run("etcdctl", ["--endpoints", etcd1.client, "put", `/registry/test/key-${i}`, `value-${i}`], { env });
  const snap = path.join(snapDir, "etcd-snapshot-cp-1-1700000000");
  await run("etcdctl", ["--endpoints", etcd1.client, "snapshot", "save", snap], { env });
  old(snap, 600);
  // A truncated copy that was just written: recent mtime.
  const size = statSync(snap).size;
  writeFileSync(
    path.join(snapDir, "etcd-snapshot-cp-1-1700043200"),
    readFileSync(snap).subarray(0, Math.floor(size / 2)),
  );
  // A snapshot still growing whose mtime is (made to look) old: only size stability catches it.
  const growing = path.join(snapDir, "etcd-snapshot-cp-1-1700086400");
  writeFileSync(growing, readFileSync(snap).subarray(0, 4096));
  old(growing, 600);
  grower = setInterval(() => {
    appendFileSync(growing, Buffer.alloc(4096, 1));
    old(growing, 600);
  }, 300);
  // A temporary name k3s/etcd use while writing.
  copyFileSync(snap, path.join(snapDir, "etcd-snapshot-cp-1-1700100000.part"));
  old(path.join(snapDir, "etcd-snapshot-cp-1-1700100000.part"), 600);
  first = await offload();
}, 300_000);

afterAll(async () => {
  if (grower) clearInterval(grower);
  await stopEtcd(etcd1);
  await stopEtcd(etcd2);
  await peer?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("offload.sh with a real etcd and a real S3 peer", () => {
  it("uploads the finished snapshot and its record, nothing else", async () => {
    expect(first.code, first.stderr).toBe(0);
    const listed = await hubList();
    expect(listed).toEqual([
      ".partial/cp-1/etcd-snapshot-cp-1-1700000000",
      "cp-1/etcd-snapshot-cp-1-1700000000",
      "cp-1/etcd-snapshot-cp-1-1700000000.json",
    ]);
    expect(first.stderr).toMatch(/skip etcd-snapshot-cp-1-1700043200: modified \d+s ago/);
    expect(first.stderr).toContain("skip etcd-snapshot-cp-1-1700086400: still changing");
    expect(first.stderr).toContain("skip etcd-snapshot-cp-1-1700100000.part: temporary name");
  });

  it("writes a record whose sha256 and size match the download, and the download restores the keys", async () => {
    const local = path.join(dir, "download");
    mkdirSync(local);
    const env = childEnv(peer.rcloneEnv);
    await run("rclone", ["copy", "hub:backups/etcd-snapshots/cp-1/", local], { env });
    const file = path.join(local, "etcd-snapshot-cp-1-1700000000");
    const record = JSON.parse(readFileSync(`${file}.json`, "utf8"));
    expect(record.sha256).toBe(sha256(file));
    expect(record.sha256).toBe(sha256(path.join(snapDir, "etcd-snapshot-cp-1-1700000000")));
    expect(record.size).toBe(statSync(file).size);
    expect(record.node).toBe(NODE);
    expect(record.check).toMatch(/^etcdctl snapshot status ok/);

    const peerPort = await freePort();
    const data2 = path.join(dir, "data2");
    await run(
      "etcdctl",
      [
        "snapshot",
        "restore",
        file,
        "--data-dir",
        data2,
        "--name",
        "e2",
        "--initial-cluster",
        `e2=http://127.0.0.1:${peerPort}`,
        "--initial-advertise-peer-urls",
        `http://127.0.0.1:${peerPort}`,
      ],
      { env: childEnv() },
    );
    await stopEtcd(etcd1);
    etcd2 = await startEtcd("e2", data2, await freePort(), peerPort);
    const { stdout } = await run(
      "etcdctl",
      ["--endpoints", etcd2.client, "get", "--prefix", "/registry/test/", "--keys-only"],
      { env: childEnv() },
    );
    expect(stdout.split("\n").filter(Boolean)).toHaveLength(50);
    const { stdout: v } = await run(
      "etcdctl",
      ["--endpoints", etcd2.client, "get", "/registry/test/key-42", "--print-value-only"],
      { env: childEnv() },
    );
    expect(v.trim()).toBe("value-42");
  }, 180_000);

  it("sends nothing new on a second run", async () => {
    clearInterval(grower);
    rmSync(path.join(snapDir, "etcd-snapshot-cp-1-1700086400"));
    rmSync(path.join(snapDir, "etcd-snapshot-cp-1-1700043200"));
    const before = await hubList();
    const second = await offload();
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toContain("nothing new to offload");
    expect(await hubList()).toEqual(before);
  }, 180_000);

  it("refuses a corrupt snapshot that looks finished (etcdctl check) and fails the run", async () => {
    const bad = path.join(snapDir, "etcd-snapshot-cp-1-1700200000");
    writeFileSync(bad, Buffer.alloc(65536, 7));
    old(bad, 600);
    const res = await offload();
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain("FAIL etcd-snapshot-cp-1-1700200000: etcdctl snapshot status");
    expect((await hubList()).some((f) => f.includes("1700200000"))).toBe(false);
    // With the check off (the in-cluster image has no etcdctl) the same file is size-stable and goes.
    const unchecked = await offload({ ETCD_CHECK: "none" });
    expect(unchecked.code, unchecked.stderr).toBe(0);
    expect(await hubList()).toContain("cp-1/etcd-snapshot-cp-1-1700200000.json");
  }, 180_000);

  it("reads a root-owned 0600 snapshot as UID 0 with every capability dropped", async () => {
    const probe = path.join(dir, "probe");
    mkdirSync(probe, { mode: 0o700 });
    const f = path.join(probe, "snap");
    writeFileSync(f, "x", { mode: 0o600 });
    expect(process.getuid?.()).toBe(0);
    // util-linux's setpriv (BusyBox's lacks --bounding-set): this checks the kernel's rule, not a userland.
    const { stdout } = await run(
      "/usr/bin/setpriv",
      [
        "--inh-caps=-all",
        "--bounding-set=-all",
        "--no-new-privs",
        "--",
        "sh",
        "-c",
        `grep -c CapEff /proc/self/status >/dev/null; grep CapEff /proc/self/status; cat ${f}`,
      ],
      { env: childEnv() },
    );
    expect(stdout).toMatch(/CapEff:\s+0+\n/);
    expect(stdout.trim().endsWith("x")).toBe(true);
    // ...whereas a non-root UID without capabilities is refused: owner permission is what grants it.
    await expect(
      run(
        "/usr/bin/setpriv",
        ["--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", "--bounding-set=-all", "--", "cat", f],
        { env: childEnv() },
      ),
    ).rejects.toThrow();
  });
});
