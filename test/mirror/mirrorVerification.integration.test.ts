/**
 * mirror.sh verifies after syncing: every source object on the hub with its size (`rclone check
 * --one-way`) AND equal object counts. The check alone cannot see an extra object on the hub side, and
 * `--max-delete` cannot either when sync itself reports success; here an object appears under the
 * mirror prefix right after the sync (an rclone wrapper writes it), so only the count comparison can
 * catch it. And the other way round: an object damaged after the sync keeps the counts equal, and only
 * the check can catch it. Real S3 peer, real rclone.
 */
import { execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fakeRclone } from "../support/fakeRclone.js";
import { childEnv, startS3Peer, type S3Peer } from "../support/s3peer.js";
import { readMirror } from "../../components/alerts/hubReader.mjs";

const run = promisify(execFile);
const MIRROR = path.resolve(__dirname, "../../components/mirror/mirror.sh");

let peer: S3Peer;
let dir: string;

beforeAll(async () => {
  peer = await startS3Peer(["backups", "rgw-src"]);
  dir = mkdtempSync(path.join(tmpdir(), "mirror-verify-"));
  for (const [name, text] of [
    ["a.txt", "a"],
    ["b/c.txt", "cc"],
  ]) {
    const f = path.join(dir, "src-file");
    writeFileSync(f, text);
    await run("rclone", ["copyto", f, `hub:rgw-src/${name}`], { env: childEnv(peer.rcloneEnv) });
  }
}, 60_000);

afterAll(async () => {
  await peer?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function mirror(extra: Record<string, string> = {}): Promise<{ code: number | null; stderr: string }> {
  const env = childEnv({
    MIRROR_SOURCE_ENDPOINT: peer.endpoint,
    MIRROR_SOURCE_BUCKET: "rgw-src",
    AWS_ACCESS_KEY_ID: peer.accessKeyId,
    AWS_SECRET_ACCESS_KEY: peer.secretAccessKey,
    MIRROR_HUB_ENDPOINT: peer.endpoint,
    MIRROR_HUB_BUCKET: "backups",
    MIRROR_HUB_REGION: "us-east-1",
    MIRROR_HUB_PROVIDER: "Other",
    MIRROR_HUB_PATH_STYLE: "true",
    MIRROR_HUB_PREFIX: "buckets/photos/",
    HUB_ACCESS_KEY_ID: peer.accessKeyId,
    HUB_SECRET_ACCESS_KEY: peer.secretAccessKey,
    ...extra,
  });
  return new Promise((resolve) => {
    const child = spawn("sh", [MIRROR], { env, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr!.on("data", (d) => (stderr += d));
    child.on("exit", (code) => resolve({ code, stderr }));
  });
}

describe("mirror.sh checks sizes and compares object counts", () => {
  it("fails when the hub holds an object the source does not, although sync and check passed", async () => {
    const r = await mirror({ RCLONE: fakeRclone("stray-after-sync:hub:backups/buckets/photos") });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      "mirror: object count mismatch: source src:rgw-src has 2, hub hub:backups/buckets/photos has 3",
    );
  }, 60_000);

  it("fails when a mirrored object differs in size although sync passed and the counts agree (rclone check)", async () => {
    const r = await mirror({ RCLONE: fakeRclone("resize-after-sync:hub:backups/buckets/photos/a.txt") });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/a\.txt: sizes differ/);
    expect(r.stderr).not.toContain("verified");
    expect(r.stderr).not.toContain("object count mismatch");
  }, 60_000);

  it("passes with the real rclone, which removes the stray object again", async () => {
    // The failed runs above left no run record.
    expect(await readRecord()).toBeUndefined();
    const r = await mirror();
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("verified, 2 objects");
  }, 60_000);

  it("a verified run leaves its record beside the mirror, which the next sync keeps and the hub reader reads", async () => {
    const rec = await readRecord();
    expect(rec).toMatchObject({
      format: "homelab-backup/mirror-run/v1",
      name: "photos",
      source: "rgw-src",
      prefix: "buckets/photos/",
      objects: 2,
      bytes: 3,
      complete: true,
    });
    expect(Math.abs(Date.parse(rec.finishedAt) - Date.now())).toBeLessThan(120_000);
    // Outside the sync's destination: a second run neither deletes it nor counts it as mirrored.
    const again = await mirror();
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain("verified, 2 objects");
    expect(await readRecord()).toMatchObject({ objects: 2, complete: true });
    const io = {
      rclone: (args: string[]) =>
        run("rclone", ["--config", "", ...args], { env: childEnv(peer.rcloneEnv) }).then(
          (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
          (e) => ({ code: e.code ?? 1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" }),
        ),
    };
    const read = await readMirror(io, "backups", "buckets/photos/");
    expect(read).toMatchObject({ found: true, valid: true, count: 2, size: 3 });
  }, 60_000);
});

async function readRecord(): Promise<any> {
  const r = await run("rclone", ["--config", "", "cat", "hub:backups/buckets/.records/photos.json"], {
    env: childEnv(peer.rcloneEnv),
  }).catch(() => ({ stdout: "" }));
  return r.stdout ? JSON.parse(r.stdout) : undefined;
}
