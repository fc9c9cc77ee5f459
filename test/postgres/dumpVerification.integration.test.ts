/**
 * dump.sh promises a dump is complete or absent: it compares what reached the staging key with what
 * it streamed before anything moves to a final key. Here the upload "loses" a byte (an rclone that
 * reports the staged object one byte larger than it streamed): the run must fail, naming the sizes,
 * leave no final object and no latest.json. Real PostgreSQL, real S3 peer, real rclone underneath.
 */
import { execFile, spawn } from "node:child_process";
import * as path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fakeRclone } from "../support/fakeRclone.js";
import { startPostgres, type PgServer } from "../support/postgres.js";
import { childEnv, startS3Peer, type S3Peer } from "../support/s3peer.js";

const run = promisify(execFile);
const DUMP = path.resolve(__dirname, "../../components/postgres/dump.sh");
const BUCKET = "backups";

let s3: S3Peer;
let pg: PgServer;

beforeAll(async () => {
  [s3, pg] = await Promise.all([startS3Peer([BUCKET]), startPostgres()]);
  await pg.psql("CREATE DATABASE shop");
  await pg.psql(
    "CREATE TABLE t (id int, v text); INSERT INTO t SELECT i, md5(i::text) FROM generate_series(1, 2000) i;",
    "shop",
  );
}, 180_000);

afterAll(async () => {
  await Promise.all([s3?.stop(), pg?.stop()]);
});

function dump(extra: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn("bash", [DUMP], {
      env: childEnv({
        ...s3.rcloneEnv,
        ...pg.env,
        HUB_BUCKET: BUCKET,
        DUMP_NAME: "shop",
        PGDATABASE: "shop",
        DUMP_MODE: "database",
        ...extra,
      }),
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr!.on("data", (d) => (stderr += d));
    child.on("exit", (code) => resolve({ code, stderr }));
  });
}

const listFinal = async () =>
  (
    await run("rclone", ["lsf", "-R", "--files-only", `hub:${BUCKET}/postgres-backups/shop/`], {
      env: childEnv(s3.rcloneEnv),
    }).catch(() => ({ stdout: "" }))
  ).stdout
    .split("\n")
    .filter(Boolean);

describe("dump.sh compares the staged size with the streamed size", () => {
  it("fails when the staged object's size differs, and publishes nothing", async () => {
    const r = await dump({ RCLONE: fakeRclone("staged-size") });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/FAILED: staged object has (\d+) bytes, (\d+) were streamed/);
    const [, staged, streamed] = /staged object has (\d+) bytes, (\d+) were streamed/.exec(r.stderr)!;
    expect(Number(staged)).toBe(Number(streamed) + 1);
    expect(await listFinal()).toEqual([]);
  }, 120_000);

  it("with the real rclone the same dump succeeds (the fault, not the setup, made it fail)", async () => {
    const r = await dump({});
    expect(r.code, r.stderr).toBe(0);
    const files = await listFinal();
    expect(files.filter((f) => f.endsWith(".sql.zst"))).toHaveLength(1);
    expect(files).toContain("latest.json");
  }, 120_000);
});
