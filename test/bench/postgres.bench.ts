/**
 * Benchmark (not a test): the project's streaming dump against a naive `pg_dump > file; gzip file;
 * upload` pipeline, and the project's restore, on one ~1 GiB pgbench database (scale 70), one real
 * PostgreSQL 15 server and one S3 peer on loopback, one after the other.
 * Prints wall time, throughput (database size / wall), CPU (user+sys of all the pipeline's processes),
 * peak memory (sum of RSS of the pipeline's processes, sampled every 100 ms), peak scratch disk (the
 * pipeline's TMPDIR/work directory, sampled) and the compressed size.
 * The naive baseline stays exactly `pg_dump > file; gzip file; upload` (gzip's default level), as the
 * issue states it.
 * Run: npm run bench:postgres [-- --scale 70 --zstd 1 --threads 2 --data pgbench|events]
 */
import { execFile, spawn } from "node:child_process";
import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { childEnv, startS3Peer } from "../support/s3peer.js";
import { PG_BIN, startPostgres } from "../support/postgres.js";

const run = promisify(execFile);
const SCRIPTS = path.resolve(__dirname, "../../components/postgres");
const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const SCALE = Number(arg("scale", "70"));
/** zstd level and threads of the project dump; 2 threads = the dump container's CPU limit. */
const ZSTD = arg("zstd", "1");
const THREADS = arg("threads", "2");
/** pgbench: pgbench's own tables (its filler column is blanks, so it compresses ~50:1); events: a
 * generated table of hashes, numbers and timestamps that compresses like application data (~3:1). */
const DATA = arg("data", "pgbench");

interface Measure {
  name: string;
  wallS: number;
  cpuS: number;
  peakRssMiB: number;
  peakScratchMiB: number;
  ok: boolean;
}

function dirBytes(dir: string): number {
  let total = 0;
  let entries: string[] = [];
  try {
    entries = readdirSync(dir);
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = path.join(dir, e);
    try {
      const st = statSync(p);
      total += st.isDirectory() ? dirBytes(p) : st.blocks * 512;
    } catch {
      /* vanished between readdir and stat */
    }
  }
  return total;
}

async function groupRssKiB(pgid: number): Promise<number> {
  const { stdout } = await run("ps", ["-o", "rss=", "-g", String(pgid)]).catch(() => ({ stdout: "" }));
  return stdout.split("\n").reduce((n, l) => n + (Number(l.trim()) || 0), 0);
}

/** Runs a bash command line in its own process group; samples RSS of the group and the scratch dir. */
async function measure(name: string, command: string, env: NodeJS.ProcessEnv, scratch: string): Promise<Measure> {
  const started = process.hrtime.bigint();
  // bash's `time` reports user/sys of every waited descendant (getrusage RUSAGE_CHILDREN).
  const child = spawn("bash", ["-c", `TIMEFORMAT='CPU %U %S'; time { ${command} ; }`], {
    env,
    detached: true,
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (d) => (stderr += d));
  let peakRss = 0;
  let peakScratch = 0;
  let running = true;
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => ((running = false), r(code))));
  const sampler = (async () => {
    while (running) {
      peakRss = Math.max(peakRss, await groupRssKiB(child.pid!));
      peakScratch = Math.max(peakScratch, dirBytes(scratch));
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  const code = await exited;
  await sampler;
  const wallS = Number(process.hrtime.bigint() - started) / 1e9;
  const m = /CPU ([\d.]+) ([\d.]+)/.exec(stderr);
  if (code !== 0) process.stderr.write(stderr);
  return {
    name,
    wallS,
    cpuS: m ? Number(m[1]) + Number(m[2]) : NaN,
    peakRssMiB: peakRss / 1024,
    peakScratchMiB: peakScratch / 2 ** 20,
    ok: code === 0,
  };
}

async function main() {
  const [pg, s3] = await Promise.all([
    startPostgres({ settings: ["-c shared_buffers=256MB", "-c maintenance_work_mem=256MB"] }),
    startS3Peer(["backups"]),
  ]);
  const work = mkdtempSync(path.join(tmpdir(), "pg-bench-"));
  chmodSync(work, 0o777);
  try {
    const env = childEnv({ ...pg.env, ...s3.rcloneEnv, HUB_BUCKET: "backups", RCLONE_CONFIG: "/dev/null" });
    await pg.psql("CREATE DATABASE bench");
    const t0 = Date.now();
    if (DATA === "pgbench") {
      await run(`${PG_BIN}/pgbench`, ["-i", "-q", "-s", String(SCALE), "bench"], { env, maxBuffer: 64 << 20 });
    } else {
      await pg.psql(
        `CREATE TABLE pgbench_accounts (aid int PRIMARY KEY, ref text, payload text, amount numeric(12,2), at timestamptz);
         INSERT INTO pgbench_accounts SELECT i, md5(i::text), md5((i * 31)::text) || ' ' || (i % 977)::text || ' item-' || (i % 10007)::text, (i % 100003) / 7.0, timestamptz '2025-01-01' + i * interval '1 second' FROM generate_series(1, ${SCALE * 100000}) i;`,
        "bench",
      );
    }
    // Settle the freshly loaded database before timing anything: the first reader of bulk-loaded pages
    // sets their hint bits (writes), and a pending checkpoint flushes in the background. Without this
    // the run that goes first (the project dump) pays for both and the comparison is unfair.
    await pg.psql("VACUUM (FREEZE, ANALYZE)", "bench");
    await pg.psql("CHECKPOINT", "bench");
    const dbBytes = Number(await pg.psql("SELECT pg_database_size('bench')"));
    console.log(
      `${DATA} data, scale ${SCALE}: ${(dbBytes / 2 ** 30).toFixed(2)} GiB in ${((Date.now() - t0) / 1000).toFixed(0)} s`,
    );

    const results: (Measure & { compressedMiB: number })[] = [];
    const size = async (key: string) =>
      Number((await run("rclone", ["lsf", "--format", "s", `hub:backups/${key}`], { env })).stdout.trim()) / 2 ** 20;

    const projTmp = path.join(work, "project-tmp");
    await run("mkdir", ["-p", projTmp]);
    const proj = await measure(
      `project dump (pg_dump | zstd -T${THREADS} -${ZSTD} | rclone rcat, staged + copied)`,
      `bash ${SCRIPTS}/dump.sh`,
      { ...env, TMPDIR: projTmp, DUMP_NAME: "bench", PGDATABASE: "bench", ZSTD_LEVEL: ZSTD, ZSTD_THREADS: THREADS },
      projTmp,
    );
    const latest = JSON.parse(
      (await run("rclone", ["cat", "hub:backups/postgres-backups/bench/latest.json"], { env })).stdout,
    );
    results.push({ ...proj, compressedMiB: latest.size / 2 ** 20 });

    const naiveDir = path.join(work, "naive");
    await run("mkdir", ["-p", naiveDir]);
    const naive = await measure(
      "naive (pg_dump > file; gzip file; rclone copyto)",
      `set -e; pg_dump -d bench > ${naiveDir}/bench.sql; gzip ${naiveDir}/bench.sql; rclone copyto ${naiveDir}/bench.sql.gz hub:backups/naive/bench.sql.gz`,
      env,
      naiveDir,
    );
    results.push({ ...naive, compressedMiB: await size("naive/bench.sql.gz") });

    const restoreTmp = path.join(work, "restore-tmp");
    await run("mkdir", ["-p", restoreTmp]);
    const restore = await measure(
      "project restore (verify sha256, then rclone cat | zstd -d | psql)",
      `bash ${SCRIPTS}/restore.sh`,
      { ...env, TMPDIR: restoreTmp, DUMP_NAME: "bench", TARGET_DATABASE: "bench_restored" },
      restoreTmp,
    );
    results.push({ ...restore, compressedMiB: latest.size / 2 ** 20 });
    const rows = await pg.psql("SELECT count(*) FROM pgbench_accounts", "bench_restored");

    console.log("");
    console.log("| run | ok | wall s | MiB/s of DB | CPU s | peak RSS MiB | peak scratch MiB | compressed MiB |");
    console.log("|---|---|---|---|---|---|---|---|");
    for (const r of results) {
      console.log(
        `| ${r.name} | ${r.ok} | ${r.wallS.toFixed(1)} | ${(dbBytes / 2 ** 20 / r.wallS).toFixed(0)} | ${r.cpuS.toFixed(1)} | ${r.peakRssMiB.toFixed(0)} | ${r.peakScratchMiB.toFixed(1)} | ${r.compressedMiB.toFixed(0)} |`,
      );
    }
    console.log("");
    console.log(`speed-up of the project dump over naive: ${(naive.wallS / proj.wallS).toFixed(2)}x (target >= 2x)`);
    console.log(
      `restored pgbench_accounts rows: ${rows} (expected ${SCALE * 100000}); restore ${restore.wallS.toFixed(0)} s (target < 120 s)`,
    );
    console.log(`targets: scratch < 64 MiB: ${proj.peakScratchMiB < 64}; memory < 256 MiB: ${proj.peakRssMiB < 256}`);
  } finally {
    await Promise.all([pg.stop(), s3.stop()]);
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
