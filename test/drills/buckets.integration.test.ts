/**
 * buckets-drill.sh against a real S3 peer, under BusyBox: after the real mirror.sh has copied a bucket,
 * the drill passes; an object changed in the mirror (not by the mirror) fails it; an object changed
 * at the source after the mirror ran is skipped, not blamed on the mirror; a missing copy fails it.
 */
import { execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { busyboxPath, type BusyboxPath } from "../support/busybox.js";
import { childEnv, startS3Peer, type S3Peer } from "../support/s3peer.js";
import { judgeDrillRecord } from "../../components/alerts/hubReader.mjs";

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, "..", "..");
const DRILL = path.join(ROOT, "components", "drills", "buckets-drill.sh");
const MIRROR = path.join(ROOT, "components", "mirror", "mirror.sh");

let peer: S3Peer;
let dir: string;
let bb: BusyboxPath;

const env = (extra: Record<string, string> = {}) =>
  childEnv({
    PATH: bb.path,
    MIRROR_SOURCE_ENDPOINT: peer.endpoint,
    MIRROR_SOURCE_BUCKET: "photos-src",
    MIRROR_HUB_ENDPOINT: peer.endpoint,
    MIRROR_HUB_BUCKET: "backups",
    MIRROR_HUB_REGION: "us-east-1",
    MIRROR_HUB_PROVIDER: "Other",
    MIRROR_HUB_PATH_STYLE: "true",
    MIRROR_HUB_PREFIX: "buckets/photos/",
    AWS_ACCESS_KEY_ID: peer.accessKeyId,
    AWS_SECRET_ACCESS_KEY: peer.secretAccessKey,
    HUB_ACCESS_KEY_ID: peer.accessKeyId,
    HUB_SECRET_ACCESS_KEY: peer.secretAccessKey,
    DRILL_SAMPLE: "100",
    DRILL_RECORD_CLASS: "buckets",
    DRILL_RECORD_ITEM: "photos",
    ...extra,
  });

function sh(script: string, e: NodeJS.ProcessEnv): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn("busybox", ["sh", script], { env: e, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr!.on("data", (d) => (stderr += d));
    child.on("close", (code) => resolve({ code: code ?? -1, stderr }));
  });
}

/** The drill's status record on the hub (components/drills/drill-record.sh), as `npm run status` judges it. */
async function drillRecord() {
  const { stdout } = await run("rclone", ["--config", "", "cat", "hub:backups/status/drills/buckets/photos.json"], {
    env: childEnv(peer.rcloneEnv),
  });
  return judgeDrillRecord(JSON.parse(stdout), "buckets", "photos", Date.now() / 1000);
}

async function put(remote: string, content: Buffer | string): Promise<void> {
  const f = path.join(dir, `put-${Math.random().toString(36).slice(2)}`);
  writeFileSync(f, content);
  await run("rclone", ["--config", "", "copyto", f, remote], { env: childEnv(peer.rcloneEnv) });
}

beforeAll(async () => {
  bb = busyboxPath();
  peer = await startS3Peer(["backups", "photos-src"]);
  dir = mkdtempSync(path.join(tmpdir(), "buckets-drill-"));
  const local = path.join(dir, "src");
  mkdirSync(path.join(local, "2026/11"), { recursive: true });
  writeFileSync(path.join(local, "2026/11/a.jpg"), randomBytes(300_000));
  writeFileSync(path.join(local, "2026/11/b.jpg"), randomBytes(1000));
  writeFileSync(path.join(local, "index;v2.json"), "{}");
  writeFileSync(path.join(local, "readme.txt"), "photos");
  await run("rclone", ["--config", "", "copy", local, "hub:photos-src"], { env: childEnv(peer.rcloneEnv) });
  const m = await sh(MIRROR, env());
  expect(m.code, m.stderr).toBe(0);
}, 60_000);

afterAll(async () => {
  await peer?.stop();
  bb?.remove();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("bucket mirror drill", () => {
  it("passes when every sampled object reads back equal from the mirror", async () => {
    const r = await sh(DRILL, env());
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("4 of 4 objects compared equal, 0 skipped, 0 failed");
    expect(await drillRecord()).toMatchObject({
      state: "passed",
      restored: "4 sampled objects of buckets/photos/",
      restoreSeconds: expect.any(Number),
    });
  }, 60_000);

  it("samples: DRILL_SAMPLE=2 compares two objects", async () => {
    const r = await sh(DRILL, env({ DRILL_SAMPLE: "2" }));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("2 of 4 objects compared equal");
  }, 60_000);

  it("fails on an object changed in the mirror", async () => {
    await put("hub:backups/buckets/photos/2026/11/b.jpg", randomBytes(1000));
    const r = await sh(DRILL, env());
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/MISMATCH: 2026\/11\/b\.jpg source sha256 [0-9a-f]{64}, mirror sha256 [0-9a-f]{64}/);
    expect(await drillRecord()).toMatchObject({
      state: "failed",
      reason: "1 of 4 sampled objects differ from the hub or could not be read (the log names them)",
    });
    // The next mirror run repairs it; the drill passes again.
    const m = await sh(MIRROR, env());
    expect(m.code, m.stderr).toBe(0);
    expect((await sh(DRILL, env())).code).toBe(0);
  }, 90_000);

  it("skips an object changed at the source after the mirror ran, and fails on a missing copy", async () => {
    await new Promise((r) => setTimeout(r, 1100));
    await put("hub:photos-src/readme.txt", "photos, edited");
    const r = await sh(DRILL, env());
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("skip readme.txt: changed on the source after the last mirror run");
    await run("rclone", ["--config", "", "deletefile", "hub:backups/buckets/photos/2026/11/a.jpg"], {
      env: childEnv(peer.rcloneEnv),
    });
    const missing = await sh(DRILL, env());
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("MISSING: 2026/11/a.jpg is on the source but not in the mirror");
  }, 90_000);

  it("fails when the source cannot be listed", async () => {
    const r = await sh(
      DRILL,
      env({ MIRROR_SOURCE_BUCKET: "no-such-bucket", DRILL_RCLONE_FLAGS: "--retries 1 --low-level-retries 1" }),
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("FAILED: cannot list the source");
    expect(await drillRecord()).toMatchObject({ state: "failed", reason: "cannot list the source src:no-such-bucket" });
  }, 60_000);
});
