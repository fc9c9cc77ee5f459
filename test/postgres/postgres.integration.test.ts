/**
 * The PostgreSQL dump, restore and drill scripts (the very files the CronJobs mount) run with the
 * real tools (pg_dump/psql 15, zstd, rclone) against a real PostgreSQL server and a real S3 peer on
 * loopback. A dump is complete or absent: every injected failure must exit non-zero, leave nothing at
 * a final key and leave latest.json as it was.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { childEnv, startS3Peer, type S3Peer } from "../support/s3peer.js";
import { judgeDrillRecord } from "../../components/alerts/hubReader.mjs";
import { freePort } from "../support/net.js";
import { PG_BIN, startPostgres, type PgServer } from "../support/postgres.js";

const run = promisify(execFile);
const SCRIPTS = path.resolve(__dirname, "../../components/postgres");
const BUCKET = "backups";
/** Per-test timeout: these tests stream hundreds of MB through real servers on a loaded 2-core machine. */
const SLOW = 240_000;

let s3: S3Peer;
let pg: PgServer; // app database (small, with roles, grants, several types)
let big: PgServer; // large database for mid-dump failures
let fresh: PgServer; // empty server for the cluster restore
let tmp: string;

interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

function startScript(
  script: string,
  env: Record<string, string>,
  asPostgres = false,
): { child: ChildProcess; done: Promise<Result> } {
  const fullEnv = childEnv({
    ...s3.rcloneEnv,
    HUB_BUCKET: BUCKET,
    RCLONE_LOW_LEVEL_RETRIES: "2",
    RCLONE_CONTIMEOUT: "5s",
    ...env,
  });
  const cmd = asPostgres ? "runuser" : "bash";
  const args = asPostgres ? ["-u", "postgres", "--", "bash", path.join(SCRIPTS, script)] : [path.join(SCRIPTS, script)];
  const child = spawn(cmd, args, { env: fullEnv, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (d) => (stderr += d));
  const done = new Promise<Result>((resolve) => child.on("exit", (code, signal) => resolve({ code, signal, stderr })));
  return { child, done };
}

const runScript = (script: string, env: Record<string, string>, asPostgres = false) =>
  startScript(script, env, asPostgres).done;

function dumpEnv(server: PgServer, name: string, extra: Record<string, string> = {}): Record<string, string> {
  return { ...server.env, DUMP_NAME: name, PGDATABASE: name, DUMP_MODE: "database", ...extra };
}

async function rclone(args: string[], peer: S3Peer = s3): Promise<string> {
  const { stdout } = await run("rclone", args, {
    env: childEnv(peer.rcloneEnv),
    maxBuffer: 256 << 20,
    encoding: "buffer",
  } as any);
  return (stdout as unknown as Buffer).toString("latin1");
}

/** Every object under postgres-backups/<name>/ (the final keys), with its content hash. */
async function finalObjects(name: string): Promise<Map<string, string>> {
  const listing = await rclone([
    "lsf",
    "-R",
    "--files-only",
    "--format",
    "ph",
    "--hash",
    "MD5",
    `hub:${BUCKET}/postgres-backups/${name}/`,
  ]).catch(() => "");
  const out = new Map<string, string>();
  for (const line of listing.split("\n").filter(Boolean)) {
    const [p, h] = line.split(";");
    out.set(p, h);
  }
  return out;
}

async function tableFingerprint(server: PgServer, db: string): Promise<string> {
  const tables = (
    await server.psql(
      "SELECT format('%I.%I', schemaname, tablename) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog','information_schema') ORDER BY 1",
      db,
    )
  )
    .split("\n")
    .filter(Boolean);
  const parts: string[] = [];
  for (const t of tables) {
    parts.push(
      `${t}:${await server.psql(`SELECT count(*) || ':' || coalesce(md5(string_agg(x::text, E'\\n' ORDER BY x::text)), '-') FROM ${t} x`, db)}`,
    );
  }
  return parts.join("\n");
}

/** Waits until `probe` returns a value (polling), or fails after `ms`. */
async function waitFor<T>(probe: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error("condition not reached in time");
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The pid of a process named `name` among the descendants of `root` (the stages run in subshells). */
async function childPid(root: number, name: string): Promise<number | undefined> {
  const { stdout } = await run("ps", ["-e", "-o", "pid=,ppid=,comm="]).catch(() => ({ stdout: "" }));
  const procs = stdout
    .split("\n")
    .map((l) => l.trim().split(/\s+/))
    .filter((p) => p.length >= 3)
    .map(([pid, ppid, comm]) => ({ pid: Number(pid), ppid: Number(ppid), comm }));
  const tree = new Set([root]);
  for (let grew = true; grew;) {
    grew = false;
    for (const p of procs) if (tree.has(p.ppid) && !tree.has(p.pid)) (tree.add(p.pid), (grew = true));
  }
  return procs.find((p) => p.pid !== root && tree.has(p.pid) && p.comm === name)?.pid;
}

const APP_SQL = `
CREATE ROLE app_owner;
CREATE ROLE app_reader;
CREATE DATABASE app OWNER app_owner;
`;
const APP_DATA = `
SET ROLE app_owner;
CREATE TABLE items (id serial PRIMARY KEY, name text NOT NULL, price numeric(10,2), tags text[], meta jsonb, created timestamptz, note text);
INSERT INTO items (name, price, tags, meta, created, note)
  SELECT 'item ' || i, i * 1.25, ARRAY['t' || (i % 7), 'quote''s'], jsonb_build_object('i', i, 'tab', E'a\\tb'), timestamptz '2024-01-01 00:00Z' + i * interval '1 minute',
         CASE WHEN i % 10 = 0 THEN NULL ELSE E'line1\\nline2 \\\\ ' || i END
  FROM generate_series(1, 5000) i;
CREATE TABLE orders (id bigint PRIMARY KEY, item_id int REFERENCES items(id), qty int CHECK (qty > 0));
INSERT INTO orders SELECT i, 1 + i % 5000, 1 + i % 9 FROM generate_series(1, 20000) i;
CREATE VIEW expensive AS SELECT * FROM items WHERE price > 1000;
GRANT SELECT ON items, orders TO app_reader;
`;

beforeAll(async () => {
  tmp = mkdtempSync(path.join(tmpdir(), "pg-it-"));
  chmodSync(tmp, 0o777);
  [s3, pg, big, fresh] = await Promise.all([startS3Peer([BUCKET]), startPostgres(), startPostgres(), startPostgres()]);
  await pg.psql(APP_SQL);
  await pg.psql(APP_DATA, "app");
  await big.psql("CREATE DATABASE bigdb");
  // ~1.5 M rows (~150 MB of SQL): a dump long enough to be killed half-way.
  await big.psql(
    "CREATE TABLE filler (id int, a text, b text); INSERT INTO filler SELECT i, md5(i::text), md5((i * 7)::text) || md5(i::text) FROM generate_series(1, 1500000) i;",
    "bigdb",
  );
}, 600_000);

afterAll(async () => {
  await Promise.all([s3?.stop(), pg?.stop(), big?.stop(), fresh?.stop()]);
  rmSync(tmp, { recursive: true, force: true });
});

describe("scripts", { timeout: SLOW }, () => {
  it("are shellcheck-clean", async () => {
    const { stdout } = await run("shellcheck", [
      "--severity=style",
      // restore-drill.sh sources components/drills/drill-record.sh: follow it (its source-path line).
      "--external-sources",
      ...["dump.sh", "restore.sh", "restore-drill.sh"].map((f) => path.join(SCRIPTS, f)),
    ]).catch((e) => e);
    expect(stdout ?? "").toBe("");
  });
});

describe("dump and restore", { timeout: SLOW }, () => {
  it("streams a complete dump with an integrity record and latest pointer, and restores identical data", async () => {
    const res = await runScript("dump.sh", dumpEnv(pg, "app"));
    expect(res.code, res.stderr).toBe(0);
    const objects = await finalObjects("app");
    const dumps = [...objects.keys()].filter((k) => k.endsWith(".sql.zst"));
    expect(dumps).toHaveLength(1);
    expect(dumps[0]).toMatch(/^app-\d{8}T\d{6}Z\.sql\.zst$/);
    expect(objects.has(`${dumps[0]}.json`)).toBe(true);
    const record = JSON.parse(await rclone(["cat", `hub:${BUCKET}/postgres-backups/app/${dumps[0]}.json`]));
    const body = Buffer.from(await rclone(["cat", `hub:${BUCKET}/postgres-backups/app/${dumps[0]}`]), "latin1");
    expect(record).toMatchObject({
      name: "app",
      mode: "database",
      key: `postgres-backups/app/${dumps[0]}`,
      complete: true,
      size: body.length,
    });
    expect(record.sha256).toBe(createHash("sha256").update(body).digest("hex"));
    expect(record.compression).toBe("zstd -1");
    // A zstd frame (magic 28 b5 2f fd) that zstd itself can test, content checksum included.
    expect(body.subarray(0, 4).toString("hex")).toBe("28b52ffd");
    const file = path.join(tmp, "app.sql.zst");
    writeFileSync(file, body);
    await run("zstd", ["-q", "-t", file]);
    expect(record.serverVersion).toMatch(/^15\./);
    expect(record.dumpVersion).toMatch(/pg_dump \(PostgreSQL\) 15\./);
    const latest = JSON.parse(await rclone(["cat", `hub:${BUCKET}/postgres-backups/app/latest.json`]));
    expect(latest.key).toBe(record.key);

    const restored = await runScript("restore.sh", { ...pg.env, DUMP_NAME: "app", TARGET_DATABASE: "app_restored" });
    expect(restored.code, restored.stderr).toBe(0);
    const original = await tableFingerprint(pg, "app");
    expect(original).toContain("public.items:5000:");
    expect(await tableFingerprint(pg, "app_restored")).toBe(original);
    expect(await pg.psql("SELECT tableowner FROM pg_tables WHERE tablename = 'items'", "app_restored")).toBe(
      "app_owner",
    );
    expect(await pg.psql("SELECT has_table_privilege('app_reader', 'public.orders', 'SELECT')", "app_restored")).toBe(
      "t",
    );
  });

  it("refuses to restore over a database that holds tables", async () => {
    const res = await runScript("restore.sh", { ...pg.env, DUMP_NAME: "app", TARGET_DATABASE: "app" });
    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(/already holds \d+ tables/);
  });

  it("a dump named by DUMP_KEY restores too", async () => {
    const [key] = [...(await finalObjects("app")).keys()].filter((k) => k.endsWith(".sql.zst"));
    const ok = await runScript("restore.sh", {
      ...pg.env,
      DUMP_NAME: "app",
      DUMP_KEY: key,
      TARGET_DATABASE: "app_named",
    });
    expect(ok.code, ok.stderr).toBe(0);
    expect(await pg.psql("SELECT count(*) FROM orders", "app_named")).toBe("20000");
  });
  it("restore downloads the dump once, and a digest that disagrees rolls the restore back (no database left)", async () => {
    // rclone behind a wrapper that logs every call, so the downloads can be counted.
    const bin = path.join(tmp, "countbin");
    const calls = path.join(tmp, "rclone-calls.log");
    mkdirSync(bin, { recursive: true });
    writeFileSync(
      path.join(bin, "rclone"),
      `#!/bin/bash\nprintf '%s\\n' "$*" >> ${calls}\nexec ${(await run("bash", ["-c", "command -v rclone"])).stdout.trim()} "$@"\n`,
      { mode: 0o755 },
    );
    const [key] = [...(await finalObjects("app")).keys()].filter((k) => k.endsWith(".sql.zst"));
    writeFileSync(calls, "");
    const ok = await runScript("restore.sh", {
      ...pg.env,
      DUMP_NAME: "app",
      DUMP_KEY: key,
      TARGET_DATABASE: "app_once",
      RCLONE: path.join(bin, "rclone"),
    });
    expect(ok.code, ok.stderr).toBe(0);
    const downloads = readFileSync(calls, "utf8")
      .split("\n")
      .filter((l) => l.startsWith("cat ") && l.endsWith(`/${key}`));
    expect(downloads).toHaveLength(1);
    expect(await pg.psql("SELECT count(*) FROM orders", "app_once")).toBe("20000");

    // The same bytes under a record with another sha256: restored, hashed on the way, rolled back.
    const badKey = "postgres-backups/app/app-20250102T030000Z.sql.zst";
    await rclone(["copyto", `hub:${BUCKET}/postgres-backups/app/${key}`, `hub:${BUCKET}/${badKey}`]);
    const record = (await rclone(["cat", `hub:${BUCKET}/postgres-backups/app/${key}.json`]))
      .replace(/"sha256": "[0-9a-f]{64}"/, `"sha256": "${"0".repeat(64)}"`)
      .replace(/"key": "[^"]*"/, `"key": "${badKey}"`);
    const recordFile = path.join(tmp, "bad-record.json");
    writeFileSync(recordFile, record);
    await rclone(["copyto", recordFile, `hub:${BUCKET}/${badKey}.json`]);
    writeFileSync(calls, "");
    const bad = await runScript("restore.sh", {
      ...pg.env,
      DUMP_NAME: "app",
      DUMP_KEY: "app-20250102T030000Z.sql.zst",
      TARGET_DATABASE: "app_bad_sha",
      RCLONE: path.join(bin, "rclone"),
    });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(
      /has sha256 [0-9a-f]{64}, its record says 0{64}: corrupt; the restore into app_bad_sha was rolled back/,
    );
    expect(
      readFileSync(calls, "utf8")
        .split("\n")
        .filter((l) => l.startsWith("cat ") && l.endsWith(badKey)),
    ).toHaveLength(1);
    expect(await pg.psql("SELECT count(*) FROM pg_database WHERE datname = 'app_bad_sha'")).toBe("0");
    // Into an existing empty database: the transaction is rolled back and the database stays empty.
    await pg.psql("CREATE DATABASE app_bad_existing");
    const bad2 = await runScript("restore.sh", {
      ...pg.env,
      DUMP_NAME: "app",
      DUMP_KEY: "app-20250102T030000Z.sql.zst",
      TARGET_DATABASE: "app_bad_existing",
    });
    expect(bad2.code).not.toBe(0);
    expect(await pg.psql("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'", "app_bad_existing")).toBe("0");
    await rclone(["deletefile", `hub:${BUCKET}/${badKey}`]);
    await rclone(["deletefile", `hub:${BUCKET}/${badKey}.json`]);
  });

  it("a .sql.gz dump written before the switch to zstd still restores, and is checked against its record", async () => {
    const [key] = [...(await finalObjects("app")).keys()].filter((k) => k.endsWith(".sql.zst"));
    const zst = path.join(tmp, "legacy-src.sql.zst");
    writeFileSync(zst, Buffer.from(await rclone(["cat", `hub:${BUCKET}/postgres-backups/app/${key}`]), "latin1"));
    const gz = path.join(tmp, "app-20250101T030000Z.sql.gz");
    await run("bash", ["-c", 'zstd -q -d -c "$1" | gzip -1 > "$2"', "_", zst, gz]);
    const body = readFileSync(gz);
    const legacyKey = "postgres-backups/app/app-20250101T030000Z.sql.gz";
    const record = {
      format: "homelab-backup/postgres-dump/v1",
      name: "app",
      mode: "database",
      key: legacyKey,
      size: body.length,
      sha256: createHash("sha256").update(body).digest("hex"),
      compression: "gzip -1",
      complete: true,
    };
    const recordFile = path.join(tmp, "legacy.json");
    writeFileSync(
      recordFile,
      `{\n${Object.entries(record)
        .map(([k, v]) => `  ${JSON.stringify(k)}: ${JSON.stringify(v)}`)
        .join(",\n")}\n}\n`,
    );
    await rclone(["copyto", gz, `hub:${BUCKET}/${legacyKey}`]);
    await rclone(["copyto", recordFile, `hub:${BUCKET}/${legacyKey}.json`]);
    const ok = await runScript("restore.sh", {
      ...pg.env,
      DUMP_NAME: "app",
      DUMP_KEY: "app-20250101T030000Z.sql.gz",
      TARGET_DATABASE: "app_legacy",
    });
    expect(ok.code, ok.stderr).toBe(0);
    expect(await tableFingerprint(pg, "app_legacy")).toBe(await tableFingerprint(pg, "app"));
    // The same object under a record with another checksum: hashed on its way in, rolled back, the database dropped.
    writeFileSync(recordFile, readFileSync(recordFile, "utf8").replace(record.sha256, "0".repeat(64)));
    await rclone(["copyto", recordFile, `hub:${BUCKET}/${legacyKey}.json`]);
    const bad = await runScript("restore.sh", {
      ...pg.env,
      DUMP_NAME: "app",
      DUMP_KEY: "app-20250101T030000Z.sql.gz",
      TARGET_DATABASE: "app_legacy_bad",
    });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/corrupt/);
    expect(await pg.psql("SELECT count(*) FROM pg_database WHERE datname = 'app_legacy_bad'")).toBe("0");
  });
});

describe("restores as they are run: the owner without CREATEDB, the list of dumps, the swap", { timeout: SLOW }, () => {
  /** The application's own role, as the usual charts make it: owns its database, may not create one. */
  const OWNER = { PGUSER: "shop_owner", PGPASSWORD: "owner-Pw-1" };
  const asOwner = () => ({ ...pg.env, ...OWNER });
  const rows = (db: string) => pg.psql("SELECT count(*) FROM carts", db);

  beforeAll(async () => {
    await pg.psql(
      `CREATE ROLE shop_owner LOGIN NOCREATEDB NOSUPERUSER PASSWORD '${OWNER.PGPASSWORD}'; CREATE DATABASE shop OWNER shop_owner;`,
    );
    await pg.psql(
      "SET ROLE shop_owner; CREATE TABLE carts (id int PRIMARY KEY, total numeric); INSERT INTO carts SELECT i, i * 2 FROM generate_series(1, 300) i; GRANT SELECT ON carts TO app_reader;",
      "shop",
    );
    // The dump job runs as the database's user (homelab-backup:postgres databases[].user).
    const res = await runScript("dump.sh", { ...dumpEnv(pg, "shop"), ...OWNER });
    expect(res.code, res.stderr).toBe(0);
  }, SLOW);

  it("a restore into a new database says, before touching anything, that the owner lacks CREATEDB and what to do", async () => {
    const res = await runScript("restore.sh", { ...asOwner(), DUMP_NAME: "shop", TARGET_DATABASE: "shop_restored" });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain("shop_owner may not create databases (no CREATEDB)");
    expect(res.stderr).toContain("RESTORE_MODE=replace");
    expect(await pg.psql("SELECT count(*) FROM pg_database WHERE datname = 'shop_restored'")).toBe("0");
  });

  it("RESTORE_MODE=replace restores over the database as its owner, after a safety dump that leaves latest.json alone", async () => {
    const latestBefore = await rclone(["cat", `hub:${BUCKET}/postgres-backups/shop/latest.json`]);
    await pg.psql("SET ROLE shop_owner; DELETE FROM carts WHERE id > 100; CREATE TABLE junk (x int);", "shop");
    const res = await runScript("restore.sh", {
      ...asOwner(),
      DUMP_NAME: "shop",
      DUMP_MODE: "database",
      PGDATABASE: "shop",
      RESTORE_MODE: "replace",
    });
    expect(res.code, res.stderr).toBe(0);
    expect(await rows("shop")).toBe("300");
    expect(await pg.psql("SELECT count(*) FROM pg_tables WHERE tablename = 'junk'", "shop")).toBe("0");
    expect(await pg.psql("SELECT has_table_privilege('app_reader', 'public.carts', 'SELECT')", "shop")).toBe("t");
    // The safety dump: its own key and record with the label, latest.json unchanged.
    const safety = [...(await finalObjects("shop")).keys()].filter((k) => k.endsWith("-pre-restore.sql.zst"));
    expect(safety).toHaveLength(1);
    const record = JSON.parse(await rclone(["cat", `hub:${BUCKET}/postgres-backups/shop/${safety[0]}.json`]));
    expect(record).toMatchObject({ label: "pre-restore", complete: true });
    expect(await rclone(["cat", `hub:${BUCKET}/postgres-backups/shop/latest.json`])).toBe(latestBefore);
    // The safety dump holds the state before the restore (100 rows and the junk table).
    const back = await runScript("restore.sh", {
      ...pg.env,
      DUMP_NAME: "shop",
      DUMP_KEY: safety[0],
      TARGET_DATABASE: "shop_before",
    });
    expect(back.code, back.stderr).toBe(0);
    expect(await rows("shop_before")).toBe("100");
  });

  it("a replace whose dump fails its digest rolls back to exactly what was there", async () => {
    await pg.psql("SET ROLE shop_owner; DELETE FROM carts WHERE id > 250;", "shop");
    const latest = JSON.parse(await rclone(["cat", `hub:${BUCKET}/postgres-backups/shop/latest.json`]));
    // A record whose digest disagrees with the dump: the restore must not commit.
    const record = JSON.parse(await rclone(["cat", `hub:${BUCKET}/${latest.key}.json`]));
    const badKey = latest.key.replace(/\.sql\.zst$/, "-bad.sql.zst");
    const file = path.join(tmp, "shop-bad.json");
    writeFileSync(file, JSON.stringify({ ...record, key: badKey, sha256: "0".repeat(64) }, null, 2));
    await rclone(["copyto", `hub:${BUCKET}/${latest.key}`, `hub:${BUCKET}/${badKey}`]);
    await rclone(["copyto", file, `hub:${BUCKET}/${badKey}.json`]);
    const res = await runScript("restore.sh", {
      ...asOwner(),
      DUMP_NAME: "shop",
      DUMP_KEY: badKey,
      DUMP_MODE: "database",
      PGDATABASE: "shop",
      RESTORE_MODE: "replace",
    });
    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(/its record says 0{64}: corrupt; the transaction was rolled back: shop is as it was/);
    expect(await rows("shop")).toBe("250");
  });

  it("--list prints every dump newest first with the key DUMP_KEY takes, marking the latest and the safety dumps", async () => {
    const child = spawn("bash", [path.join(SCRIPTS, "restore.sh"), "--list"], {
      env: childEnv({ ...s3.rcloneEnv, HUB_BUCKET: BUCKET, ...asOwner(), DUMP_NAME: "shop" }),
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    const res = { code: await new Promise<number | null>((r) => child.on("exit", r)), out, err };
    expect(res.code, res.err).toBe(0);
    const lines = res.out.trim().split("\n");
    expect(lines[0]).toMatch(/^DUMP_KEY\s+FINISHED\s+BYTES\s+NOTE$/);
    const keys = [...(await finalObjects("shop")).keys()]
      .filter((k) => /\.sql\.zst$/.test(k))
      .sort()
      .reverse();
    expect(lines.slice(1).map((l) => l.split(/\s+/)[0])).toEqual(keys);
    const latest = JSON.parse(await rclone(["cat", `hub:${BUCKET}/postgres-backups/shop/latest.json`]));
    expect(lines.find((l) => l.startsWith(path.basename(latest.key)))).toMatch(/\slatest$/);
    expect(lines.filter((l) => /-pre-restore\.sql\.zst\s/.test(l)).every((l) => l.endsWith("pre-restore"))).toBe(true);
  });

  it("--swap puts the restored database in place and keeps the old one; it refuses while a session is connected", async () => {
    const restored = await runScript("restore.sh", { ...pg.env, DUMP_NAME: "shop", TARGET_DATABASE: "shop_restored" });
    expect(restored.code, restored.stderr).toBe(0);
    const swapEnv = {
      ...s3.rcloneEnv,
      HUB_BUCKET: BUCKET,
      ...pg.env,
      DUMP_NAME: "shop",
      PGDATABASE: "shop",
      TARGET_DATABASE: "shop_restored",
    };
    const swap = () =>
      new Promise<{ code: number | null; err: string }>((resolve) => {
        const child = spawn("bash", [path.join(SCRIPTS, "restore.sh"), "--swap"], { env: childEnv(swapEnv) });
        let err = "";
        child.stderr.on("data", (d) => (err += d));
        child.on("exit", (code) => resolve({ code, err }));
      });
    // An application still connected to the live database.
    const app = spawn(`${PG_BIN}/psql`, ["-X", "-d", "shop", "-c", "SELECT pg_sleep(30)"], {
      env: childEnv(asOwner()),
    });
    await waitFor(async () =>
      (await pg.psql("SELECT count(*) FROM pg_stat_activity WHERE datname = 'shop' AND query LIKE '%pg_sleep%'")) ===
      "1"
        ? true
        : undefined,
    );
    const refused = await swap();
    expect(refused.code).toBe(1);
    expect(refused.err).toContain(
      "session(s) are connected to shop or shop_restored: scale the application down first",
    );
    // Scaled down: the client and its backend end.
    app.kill();
    await new Promise((r) => app.on("exit", r));
    await pg.psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'shop'");
    await waitFor(async () =>
      (await pg.psql("SELECT count(*) FROM pg_stat_activity WHERE datname = 'shop'")) === "0" ? true : undefined,
    );
    const ok = await swap();
    expect(ok.code, ok.err).toBe(0);
    expect(await rows("shop")).toBe("300");
    const kept = await pg.psql("SELECT datname FROM pg_database WHERE datname LIKE 'shop_before_restore_%'");
    expect(kept).toMatch(/^shop_before_restore_\d{14}$/);
    expect(await rows(kept)).toBe("250");
    expect(await pg.psql("SELECT count(*) FROM pg_database WHERE datname = 'shop_restored'")).toBe("0");
  });
});

describe("failures leave no dump at a final key and latest.json unchanged", { timeout: SLOW }, () => {
  async function expectFailureLeavesNothing(name: string, act: () => Promise<Result>, stderrPattern?: RegExp) {
    const before = await finalObjects(name);
    const res = await act();
    expect(res.code === 0 && res.signal === null, res.stderr).toBe(false);
    if (stderrPattern) expect(res.stderr).toMatch(stderrPattern);
    expect(await finalObjects(name)).toEqual(before);
    return res;
  }

  beforeAll(async () => {
    // One good dump first, so "latest unchanged" compares against a real pointer.
    const res = await runScript("dump.sh", dumpEnv(big, "bigdb"));
    expect(res.code, res.stderr).toBe(0);
  }, 300_000);

  it("server down", async () => {
    const port = String(await freePort());
    await expectFailureLeavesNothing(
      "bigdb",
      () => runScript("dump.sh", dumpEnv(big, "bigdb", { PGPORT: port })),
      /cannot connect/,
    );
  });

  it("wrong password", async () => {
    await expectFailureLeavesNothing(
      "bigdb",
      () => runScript("dump.sh", dumpEnv(big, "bigdb", { PGPASSWORD: "wrong" })),
      /cannot connect/,
    );
  });

  it("a pg_dump that stops early but exits 0 (truncated output) is caught by the trailer check", async () => {
    const bin = path.join(tmp, "fakebin");
    mkdirSync(bin, { recursive: true });
    writeFileSync(path.join(bin, "pg_dump"), `#!/bin/bash\n${PG_BIN}/pg_dump "$@" | head -c 2000000\nexit 0\n`, {
      mode: 0o755,
    });
    await expectFailureLeavesNothing(
      "bigdb",
      () => runScript("dump.sh", dumpEnv(big, "bigdb", { PATH: `${bin}:${process.env.PATH}` })),
      /truncated/,
    );
  });

  it("the server backend is terminated mid-dump", async () => {
    await expectFailureLeavesNothing(
      "bigdb",
      async () => {
        const { done } = startScript("dump.sh", dumpEnv(big, "bigdb"));
        const pid = await waitFor(
          async () =>
            (await big.psql(
              "SELECT pid FROM pg_stat_activity WHERE application_name = 'pg_dump' AND query LIKE 'COPY%'",
            )) || undefined,
        );
        await big.psql(`SELECT pg_terminate_backend(${pid})`);
        return done;
      },
      /dump stage exited/,
    );
  });

  it("pg_dump is killed mid-dump", async () => {
    await expectFailureLeavesNothing(
      "bigdb",
      async () => {
        const { child, done } = startScript("dump.sh", dumpEnv(big, "bigdb"));
        await waitFor(
          async () =>
            (await big.psql(
              "SELECT 1 FROM pg_stat_activity WHERE application_name = 'pg_dump' AND query LIKE 'COPY%'",
            )) || undefined,
        );
        const pid = await waitFor(() => childPid(child.pid!, "pg_dump"));
        process.kill(pid, "SIGKILL");
        return done;
      },
      /dump stage exited/,
    );
  });

  it("zstd is killed mid-dump", async () => {
    await expectFailureLeavesNothing(
      "bigdb",
      async () => {
        const { child, done } = startScript("dump.sh", dumpEnv(big, "bigdb"));
        await waitFor(
          async () =>
            (await big.psql(
              "SELECT 1 FROM pg_stat_activity WHERE application_name = 'pg_dump' AND query LIKE 'COPY%'",
            )) || undefined,
        );
        const pid = await waitFor(() => childPid(child.pid!, "zstd"));
        process.kill(pid, "SIGKILL");
        return done;
      },
      /zstd stage exited/,
    );
  });

  it("a level zstd does not take is refused before anything is uploaded", async () => {
    await expectFailureLeavesNothing(
      "bigdb",
      () => runScript("dump.sh", dumpEnv(big, "bigdb", { ZSTD_LEVEL: "22" })),
      /ZSTD_LEVEL must be 1\.\.19/,
    );
  });

  it("the upload is interrupted (rclone killed)", async () => {
    await expectFailureLeavesNothing(
      "bigdb",
      async () => {
        const { child, done } = startScript("dump.sh", dumpEnv(big, "bigdb"));
        await waitFor(
          async () =>
            (await big.psql(
              "SELECT 1 FROM pg_stat_activity WHERE application_name = 'pg_dump' AND query LIKE 'COPY%'",
            )) || undefined,
        );
        const pid = await waitFor(() => childPid(child.pid!, "rclone"));
        await new Promise((r) => setTimeout(r, 300));
        process.kill(pid, "SIGKILL");
        return done;
      },
      /upload stage exited/,
    );
  });

  it("a deadline kill (SIGTERM to the script only, as the kubelet sends it) stops every stage, removes the scratch dir and publishes nothing", async () => {
    const scratch = mkdtempSync(path.join(tmp, "sigterm-"));
    await expectFailureLeavesNothing(
      "bigdb",
      async () => {
        const { child, done } = startScript("dump.sh", dumpEnv(big, "bigdb", { TMPDIR: scratch }));
        await waitFor(
          async () =>
            (await big.psql(
              "SELECT 1 FROM pg_stat_activity WHERE application_name = 'pg_dump' AND query LIKE 'COPY%'",
            )) || undefined,
        );
        await waitFor(() => childPid(child.pid!, "bash"));
        expect(readdirSync(scratch)).toHaveLength(1); // the FIFO directory exists while the dump runs
        child.kill("SIGTERM");
        return done;
      },
      /stopped by SIGTERM/,
    );
    expect(readdirSync(scratch)).toEqual([]);
    // No stage outlives the script: pg_dump's session ends.
    await waitFor(
      async () =>
        (await big.psql("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pg_dump'")) === "0"
          ? true
          : undefined,
      30_000,
    );
  });

  it("a full scratch disk fails before the dump, with a message that says disk", async () => {
    // A 64 KiB tmpfs, filled, in a private mount namespace (gone with the process).
    const mnt = mkdtempSync(path.join(tmp, "full-"));
    const env = childEnv({ ...s3.rcloneEnv, HUB_BUCKET: BUCKET, ...dumpEnv(big, "bigdb", { TMPDIR: mnt }) });
    const before = await finalObjects("bigdb");
    const res = await new Promise<Result>((resolve) => {
      const child = spawn(
        "unshare",
        [
          "--mount",
          "--propagation",
          "private",
          "bash",
          "-c",
          'mount -t tmpfs -o size=64k tmpfs "$1" && (head -c 1048576 /dev/zero > "$1/filler" 2>/dev/null; true) && exec bash "$2"',
          "_",
          mnt,
          path.join(SCRIPTS, "dump.sh"),
        ],
        { env, stdio: ["ignore", "ignore", "pipe"] },
      );
      let stderr = "";
      child.stderr!.on("data", (d) => (stderr += d));
      child.on("exit", (code, signal) => resolve({ code, signal, stderr }));
    });
    expect(res.code, res.stderr).toBe(1);
    expect(res.stderr).toMatch(/scratch disk .* is full/);
    expect(res.stderr).not.toMatch(/streaming/); // refused before pg_dump started
    expect(await finalObjects("bigdb")).toEqual(before);
  });

  it("a lock held on a table (ACCESS EXCLUSIVE in a second session) fails the dump after LOCK_TIMEOUT, naming the table and the holder", async () => {
    await big.psql("CREATE TABLE IF NOT EXISTS migrating (id int)", "bigdb");
    const holder = spawn("psql", ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", "bigdb"], {
      env: childEnv({ ...big.env, PGAPPNAME: "migration" }),
      stdio: ["pipe", "ignore", "pipe"],
    });
    holder.stdin!.write("BEGIN;\nLOCK TABLE migrating IN ACCESS EXCLUSIVE MODE;\nSELECT pg_sleep(600);\n");
    try {
      await waitFor(
        async () =>
          (await big.psql(
            "SELECT 1 FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE a.application_name = 'migration' AND l.mode = 'AccessExclusiveLock' AND l.granted",
          )) || undefined,
      );
      const started = Date.now();
      const res = await expectFailureLeavesNothing(
        "bigdb",
        () => runScript("dump.sh", dumpEnv(big, "bigdb", { LOCK_TIMEOUT: "2s" })),
        /lock timeout: pg_dump waited more than 2s \(LOCK_TIMEOUT\) for an ACCESS SHARE lock on table public\.migrating/,
      );
      expect(res.stderr).toMatch(/held by pid \d+ \(AccessExclusiveLock, application migration/);
      // Without the timeout pg_dump waits for the lock until the job's deadline; with it, seconds.
      expect(Date.now() - started).toBeLessThan(60_000);
    } finally {
      // The holder's backend sleeps on after its client is gone: end it, then drop the table.
      holder.kill("SIGTERM");
      await big.psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'migration'");
      await big.psql("DROP TABLE IF EXISTS migrating", "bigdb");
    }
  });

  it("a LOCK_TIMEOUT that is not a PostgreSQL duration is refused before anything is uploaded", async () => {
    await expectFailureLeavesNothing(
      "bigdb",
      () => runScript("dump.sh", dumpEnv(big, "bigdb", { LOCK_TIMEOUT: "2 minutes; DROP" })),
      /LOCK_TIMEOUT must be a PostgreSQL duration/,
    );
  });

  it("S3 is down", async () => {
    const gone = await startS3Peer([BUCKET]);
    const env = gone.rcloneEnv;
    await gone.stop();
    await expectFailureLeavesNothing(
      "app",
      () => runScript("dump.sh", { ...dumpEnv(pg, "app"), ...env }),
      /upload stage exited/,
    );
  });

  it("the good dump is still the one latest.json names and it still restores", async () => {
    const res = await runScript("restore.sh", { ...big.env, DUMP_NAME: "bigdb", TARGET_DATABASE: "bigdb_restored" });
    expect(res.code, res.stderr).toBe(0);
    expect(await big.psql("SELECT count(*) FROM filler", "bigdb_restored")).toBe("1500000");
  });
});

describe("cluster mode (pg_dumpall)", { timeout: SLOW }, () => {
  it("roles and databases come back on a fresh server", async () => {
    const res = await runScript("dump.sh", { ...pg.env, DUMP_NAME: "cluster", DUMP_MODE: "cluster" });
    expect(res.code, res.stderr).toBe(0);
    const record = JSON.parse(await rclone(["cat", `hub:${BUCKET}/postgres-backups/cluster/latest.json`]));
    expect(record.key).toMatch(/^postgres-backups\/cluster\/cluster-.*\.sql\.zst$/);

    const restored = await runScript("restore.sh", { ...fresh.env, DUMP_NAME: "cluster" });
    expect(restored.code, restored.stderr).toBe(0);
    expect(
      await fresh.psql("SELECT string_agg(rolname, ',' ORDER BY rolname) FROM pg_roles WHERE rolname LIKE 'app_%'"),
    ).toBe("app_owner,app_reader");
    expect(await fresh.psql("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'app'")).toBe("app_owner");
    expect(await tableFingerprint(fresh, "app")).toBe(await tableFingerprint(pg, "app"));
  });
});

describe("restore drill", { timeout: SLOW }, () => {
  function drillEnv(name: string, checks: string[], db = name): Record<string, string> {
    const dir = mkdtempSync(path.join(tmp, "drill-"));
    const checksDir = path.join(dir, "checks");
    mkdirSync(checksDir);
    checks.forEach((sql, i) => writeFileSync(path.join(checksDir, `check-${String(i + 1).padStart(3, "0")}.sql`), sql));
    chmodSync(dir, 0o777);
    chmodSync(checksDir, 0o755);
    return {
      DUMP_NAME: name,
      CHECK_DATABASE: db,
      DRILL_DIR: path.join(dir, "scratch"),
      CHECKS_DIR: checksDir,
      PG_BINDIR: PG_BIN,
    };
  }

  it("passes on a good dump, with roles the dump names, and records the success", async () => {
    const res = await runScript(
      "restore-drill.sh",
      drillEnv("app", [
        "SELECT count(*) FROM items",
        "SELECT 1 FROM items HAVING count(*) = 5000",
        "SELECT 1 FROM pg_tables WHERE tablename = 'orders' AND tableowner = 'app_owner'",
      ]),
      true,
    );
    expect(res.code, res.stderr).toBe(0);
    const success = JSON.parse(await rclone(["cat", `hub:${BUCKET}/postgres-backups/app/drill/last-success.json`]));
    expect(success.key).toMatch(/^postgres-backups\/app\/app-/);
    expect(success.checks).toBe(3);
    // Where `npm run status` reads it with the cluster gone (components/drills/drill-record.sh).
    expect(res.stderr).toContain("recorded passed at status/drills/postgres/app.json");
    const rec = JSON.parse(await rclone(["cat", `hub:${BUCKET}/status/drills/postgres/app.json`]));
    expect(judgeDrillRecord(rec, "postgres", "app", Date.now() / 1000)).toMatchObject({
      state: "passed",
      restored: success.key,
      restoreSeconds: rec.seconds,
    });
    expect(rec.seconds).toBeGreaterThanOrEqual(0);
  });

  it("fails when a check returns no row or errors", async () => {
    const empty = await runScript(
      "restore-drill.sh",
      drillEnv("app", ["SELECT count(*) FROM items", "SELECT 1 FROM items WHERE id < 0"]),
      true,
    );
    expect(empty.code).not.toBe(0);
    expect(empty.stderr).toMatch(/check-002\.sql returned no row/);
    const broken = await runScript("restore-drill.sh", drillEnv("app", ["SELECT * FROM no_such_table"]), true);
    expect(broken.code).not.toBe(0);
    expect(broken.stderr).toMatch(/check-001\.sql failed/);
    // The failure is on the hub too, with its reason; the record keeps the drill's exit status.
    const rec = JSON.parse(await rclone(["cat", `hub:${BUCKET}/status/drills/postgres/app.json`]));
    expect(judgeDrillRecord(rec, "postgres", "app", Date.now() / 1000)).toMatchObject({
      state: "failed",
      reason: "check check-001.sql failed",
    });
  });

  it("cluster dump: roles and databases come back in the scratch server", async () => {
    const res = await runScript(
      "restore-drill.sh",
      drillEnv(
        "cluster",
        ["SELECT 1 FROM pg_roles WHERE rolname = 'app_reader'", "SELECT 1 FROM pg_database WHERE datname = 'app'"],
        "postgres",
      ),
      true,
    );
    expect(res.code, res.stderr).toBe(0);
  });

  it("fails on a corrupt dump", async () => {
    const latest = JSON.parse(await rclone(["cat", `hub:${BUCKET}/postgres-backups/app/latest.json`]));
    const body = Buffer.from(await rclone(["cat", `hub:${BUCKET}/${latest.key}`]), "latin1");
    body[Math.floor(body.length / 2)] ^= 0xff; // one flipped byte, same size
    const file = path.join(tmp, "corrupt.sql.zst");
    writeFileSync(file, body);
    await rclone(["copyto", file, `hub:${BUCKET}/${latest.key}`]);
    const res = await runScript("restore-drill.sh", drillEnv("app", ["SELECT count(*) FROM items"]), true);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(/corrupt/);
  });
});
