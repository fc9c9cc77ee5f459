/**
 * Benchmark (not a test): what the project's PostgreSQL dump costs over the floor, measured as paired,
 * interleaved runs on one ~1 GiB database, one real PostgreSQL 15 server and one S3 peer on loopback.
 *
 * Each round runs four pipelines, in ABCD order on even rounds and DCBA on odd ones (so drift in the
 * machine's load hits both sides of a pair alike), and the ratios are taken within a round:
 *   floor          `pg_dump > /dev/null`: the physical limit of a logical dump
 *   local          the project's dump.sh with the upload replaced by `dd of=/dev/null` (a stand-in rclone
 *                  that also answers the size read-back), i.e. every check, no network
 *   plain upload   `pg_dump | zstd -T2 -1 | rclone rcat` to the S3 peer, no checks at all
 *   whole dump     the project's dump.sh to the same S3 peer: staged, checked, copied, recorded
 * and prints the medians of local/floor and whole/plain, CPU seconds (user + sys of every process of
 * the pipeline, not the server's backend) per GiB of SQL, and peak memory (sum of RSS of the
 * pipeline's processes, sampled every 100 ms). The machine is shared: single runs are noisy, so read
 * the medians and the spread.
 * Then the project's restore (one download, hashed on its way into psql), and with --tune the upload
 * alone (one compressed dump from a file, `rclone rcat`) for several chunk sizes and concurrencies.
 * The scripts run under BusyBox's userland by default, as in the job image (postgres alpine): tee, tail,
 * sha256sum are BusyBox applets; --userland gnu runs them with GNU coreutils instead.
 * Run: npm run bench:postgres [-- --scale 70 --rounds 3 --data events|pgbench --userland busybox|gnu --tune]
 */
import { execFile, execFileSync, spawn } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
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
const ROUNDS = Number(arg("rounds", "3"));
/** zstd level and threads of every pipeline; 2 threads = the dump container's CPU limit. */
const ZSTD = arg("zstd", "1");
const THREADS = arg("threads", "2");
/** events: a generated table of hashes, numbers and timestamps that compresses like application data
 * (~2.6:1); pgbench: pgbench's own tables (its filler column is blanks, so it compresses ~50:1). */
const DATA = arg("data", "events");
const USERLAND = arg("userland", "busybox");
/** The BusyBox binary whose applets stand in for the job image's userland (see busyboxPath). */
const BUSYBOX = arg("busybox", "busybox");
const TUNE = process.argv.includes("--tune");
/** Instead of the project's dump: the cost of each way to split and check the stream (see designs()). */
const DESIGNS = process.argv.includes("--designs");

interface Measure {
  wallS: number;
  cpuS: number;
  peakRssMiB: number;
  ok: boolean;
}

async function groupRssKiB(pgid: number): Promise<number> {
  const { stdout } = await run("ps", ["-o", "rss=", "-g", String(pgid)]).catch(() => ({ stdout: "" }));
  return stdout.split("\n").reduce((n, l) => n + (Number(l.trim()) || 0), 0);
}

/** Runs a bash command line in its own process group; bash's `time` gives user+sys of every descendant. */
async function measure(command: string, env: NodeJS.ProcessEnv): Promise<Measure> {
  const started = process.hrtime.bigint();
  const child = spawn("bash", ["-c", `TIMEFORMAT='CPU %U %S'; time { ${command} ; }`], {
    env,
    detached: true,
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (d) => (stderr += d));
  let peakRss = 0;
  let running = true;
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => ((running = false), r(code))));
  const sampler = (async () => {
    while (running) {
      peakRss = Math.max(peakRss, await groupRssKiB(child.pid!));
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  const code = await exited;
  await sampler;
  const wallS = Number(process.hrtime.bigint() - started) / 1e9;
  const m = /CPU ([\d.]+) ([\d.]+)/.exec(stderr);
  if (code !== 0) process.stderr.write(stderr);
  return { wallS, cpuS: m ? Number(m[1]) + Number(m[2]) : NaN, peakRssMiB: peakRss / 1024, ok: code === 0 };
}

/** A directory of BusyBox applet links, first on PATH: the userland of the job image. */
function busyboxPath(base: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), "bench-busybox-"));
  const binary = execFileSync("bash", ["-c", `command -v ${BUSYBOX}`], { encoding: "utf8" }).trim();
  for (const applet of execFileSync(binary, ["--list"], { encoding: "utf8" }).split("\n").filter(Boolean)) {
    execFileSync("ln", ["-s", binary, path.join(dir, applet)]);
  }
  return `${dir}:${base}`;
}

/** A stand-in rclone for the local pipeline: uploads go to /dev/null (dd also counts the bytes). */
function sinkRclone(dir: string): string {
  const file = path.join(dir, "rclone");
  writeFileSync(
    file,
    `#!/bin/bash
state="${dir}/last-size"
case "$1" in
  rcat)
    /usr/bin/dd of=/dev/null bs=1M 2>"${dir}/dd.err"
    status=$?
    sed -n 's/^\\([0-9][0-9]*\\) bytes.*/\\1/p' "${dir}/dd.err" >"$state"
    exit $status
    ;;
  lsf) cat "$state" ;;
  copyto) exit 0 ;;
  *) echo "bench sink: unexpected rclone $*" >&2; exit 1 ;;
esac
`,
    { mode: 0o755 },
  );
  return file;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmt = (xs: number[], digits = 2) =>
  `${median(xs).toFixed(digits)} (${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)})`;

/**
 * What each way of paying for the checks costs, against the floor, in one interleaved run: compression
 * alone, then the checks the dump needs (sha256 of the compressed bytes, and the trailer read back from
 * the compressed side or off the raw stream) behind BusyBox's tee (the job image's only stream
 * splitter; it copies 1 KiB per read) and behind GNU tee (128 KiB, not in the image: the bound of any
 * splitter). sha256sum is BusyBox's applet (--busybox chooses which BusyBox; 1.37, the job image's,
 * uses the CPU's SHA instructions). Nothing is uploaded: every design ends in /dev/null.
 */
async function designs(env: NodeJS.ProcessEnv, dir: string): Promise<void> {
  mkdirSync(dir);
  const bb = execFileSync("bash", ["-c", `command -v ${BUSYBOX}`], { encoding: "utf8" }).trim();
  const z = `zstd -q -T${THREADS} -${ZSTD}`;
  const sha = `>(${bb} sha256sum > ${dir}/sha)`;
  const check = `>(zstd -q -d | ${bb} tail -c 1024 > ${dir}/trailer)`;
  const d: Record<string, string> = {
    floor: "pg_dump -d bench > /dev/null",
    "zstd, no checks": `pg_dump -d bench | ${z} > /dev/null`,
    "BusyBox tee: sha256 + decompressed trailer (the project's dump)": `pg_dump -d bench | ${z} | ${bb} tee ${sha} ${check} > /dev/null`,
    "BusyBox tee: sha256 only": `pg_dump -d bench | ${z} | ${bb} tee ${sha} > /dev/null`,
    "GNU tee: sha256 + decompressed trailer": `pg_dump -d bench | ${z} | /usr/bin/tee ${sha} ${check} > /dev/null`,
    "GNU tee: sha256 only": `pg_dump -d bench | ${z} | /usr/bin/tee ${sha} > /dev/null`,
    "GNU tee: raw trailer + sha256": `pg_dump -d bench | /usr/bin/tee >(${bb} tail -c 1024 > ${dir}/trailer) | ${z} | /usr/bin/tee ${sha} > /dev/null`,
  };
  const names = Object.keys(d);
  const walls: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  const cpus: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const name of round % 2 === 0 ? names : [...names].reverse()) {
      const m = await measure(`set -o pipefail; ${d[name]}`, env);
      if (!m.ok) throw new Error(`${name} failed in round ${round + 1}`);
      walls[name].push(m.wallS);
      cpus[name].push(m.cpuS);
    }
    console.log(`round ${round + 1}: ${names.map((n) => walls[n][round].toFixed(1)).join(" / ")} s`);
  }
  console.log("");
  console.log("| design | wall / floor (median, range) | CPU s |");
  console.log("|---|---|---|");
  for (const n of names) {
    const r = walls[n].map((w, i) => w / walls.floor[i]);
    console.log(`| ${n} | ${fmt(r)} | ${fmt(cpus[n], 1)} |`);
  }
}

async function main() {
  const [pg, s3] = await Promise.all([
    startPostgres({ settings: ["-c shared_buffers=256MB", "-c maintenance_work_mem=256MB"] }),
    startS3Peer(["backups"]),
  ]);
  const work = mkdtempSync(path.join(tmpdir(), "pg-bench-"));
  chmodSync(work, 0o777);
  try {
    const basePath = process.env.PATH ?? "/usr/bin:/bin";
    const PATH = USERLAND === "busybox" ? busyboxPath(basePath) : basePath;
    const env = childEnv({ ...pg.env, ...s3.rcloneEnv, HUB_BUCKET: "backups", RCLONE_CONFIG: "/dev/null", PATH });
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
    // Settle the loaded database before timing: the first reader of bulk-loaded pages sets their hint
    // bits (writes), and a pending checkpoint flushes in the background; either would tax the first run.
    await pg.psql("VACUUM (FREEZE, ANALYZE)", "bench");
    await pg.psql("CHECKPOINT", "bench");
    const dbBytes = Number(await pg.psql("SELECT pg_database_size('bench')"));
    const sqlBytes = Number(
      (await run("bash", ["-c", "pg_dump -d bench | wc -c"], { env, maxBuffer: 1 << 20 })).stdout.trim(),
    );
    const sqlGiB = sqlBytes / 2 ** 30;
    console.log(
      `${DATA} data, scale ${SCALE}: database ${(dbBytes / 2 ** 30).toFixed(2)} GiB, SQL ${sqlGiB.toFixed(2)} GiB, loaded in ${((Date.now() - t0) / 1000).toFixed(0)} s; userland ${USERLAND}; ${ROUNDS} rounds`,
    );

    const sinkDir = path.join(work, "sink");
    mkdirSync(sinkDir);
    const scratch = path.join(work, "scratch");
    mkdirSync(scratch);
    const dumpEnv = {
      ...env,
      TMPDIR: scratch,
      DUMP_NAME: "bench",
      PGDATABASE: "bench",
      ZSTD_LEVEL: ZSTD,
      ZSTD_THREADS: THREADS,
    };
    if (DESIGNS) {
      await designs(env, path.join(work, "designs"));
      return;
    }
    const pipelines: Record<string, { command: string; env: NodeJS.ProcessEnv }> = {
      floor: { command: "pg_dump -d bench > /dev/null", env },
      local: { command: `bash ${SCRIPTS}/dump.sh`, env: { ...dumpEnv, RCLONE: sinkRclone(sinkDir) } },
      plain: {
        command: `set -o pipefail; pg_dump -d bench | zstd -q -T${THREADS} -${ZSTD} | rclone rcat hub:backups/plain/bench.sql.zst`,
        env,
      },
      whole: { command: `bash ${SCRIPTS}/dump.sh`, env: dumpEnv },
    };
    const names = Object.keys(pipelines);
    const results: Record<string, Measure[]> = Object.fromEntries(names.map((n) => [n, []]));
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? names : [...names].reverse();
      for (const name of order) {
        const m = await measure(pipelines[name].command, pipelines[name].env);
        if (!m.ok) throw new Error(`${name} failed in round ${round + 1}`);
        results[name].push(m);
        console.log(
          `round ${round + 1} ${name}: ${m.wallS.toFixed(1)} s wall, ${m.cpuS.toFixed(1)} s CPU, ${m.peakRssMiB.toFixed(0)} MiB peak`,
        );
      }
    }
    const ratio = (a: string, b: string) => results[a].map((m, i) => m.wallS / results[b][i].wallS);
    console.log("");
    console.log("| pipeline | wall s | CPU s per GiB of SQL | peak memory MiB |");
    console.log("|---|---|---|---|");
    const label: Record<string, string> = {
      floor: "`pg_dump > /dev/null` (floor)",
      local: "project dump, upload → /dev/null (local pipeline)",
      plain: `\`pg_dump │ zstd -T${THREADS} -${ZSTD} │ rclone rcat\` (no checks)`,
      whole: "project dump to the S3 peer (whole dump)",
    };
    for (const n of names) {
      const r = results[n];
      console.log(
        `| ${label[n]} | ${fmt(
          r.map((m) => m.wallS),
          1,
        )} | ${fmt(
          r.map((m) => m.cpuS / sqlGiB),
          1,
        )} | ${fmt(
          r.map((m) => m.peakRssMiB),
          0,
        )} |`,
      );
    }
    console.log("");
    const localRatio = ratio("local", "floor");
    const wholeRatio = ratio("whole", "plain");
    console.log(
      `local pipeline / pg_dump > /dev/null:      median ${fmt(localRatio)} (target <= 1.2): ${median(localRatio) <= 1.2 ? "met" : "NOT met"}`,
    );
    console.log(
      `whole dump / pg_dump | zstd | rclone rcat: median ${fmt(wholeRatio)} (target <= 1.3): ${median(wholeRatio) <= 1.3 ? "met" : "NOT met"}`,
    );
    const latest = JSON.parse(
      (await run("rclone", ["cat", "hub:backups/postgres-backups/bench/latest.json"], { env })).stdout,
    );
    console.log(`compressed: ${(latest.size / 2 ** 20).toFixed(0)} MiB (${(sqlBytes / latest.size).toFixed(2)}:1)`);

    const restore = await measure(`bash ${SCRIPTS}/restore.sh`, {
      ...env,
      TMPDIR: scratch,
      DUMP_NAME: "bench",
      TARGET_DATABASE: "bench_restored",
    });
    const rows = await pg.psql("SELECT count(*) FROM pgbench_accounts", "bench_restored");
    console.log(
      `restore (one download, sha256 on the way into psql, commit only if it matches): ${restore.wallS.toFixed(1)} s wall, ${(restore.cpuS / sqlGiB).toFixed(1)} CPU s per GiB of SQL, ${restore.peakRssMiB.toFixed(0)} MiB peak; ${rows} rows (expected ${SCALE * 100000})`,
    );

    if (TUNE) {
      // The upload alone: one compressed dump from a file, so only rclone's settings change.
      const file = path.join(work, "bench.sql.zst");
      await run("rclone", ["copyto", `hub:backups/${latest.key}`, file], { env });
      console.log("");
      console.log("| chunk size | concurrency | upload wall s | MiB/s | rclone peak memory MiB |");
      console.log("|---|---|---|---|---|");
      for (const [chunk, conc] of [
        ["5M", 4],
        ["8M", 4],
        ["16M", 2],
        ["16M", 4],
        ["16M", 8],
        ["32M", 4],
        ["64M", 2],
      ] as const) {
        const walls: number[] = [];
        const rss: number[] = [];
        for (let i = 0; i < 2; i++) {
          const m = await measure(`rclone rcat hub:backups/tune/bench.sql.zst < ${file}`, {
            ...env,
            RCLONE_S3_CHUNK_SIZE: chunk,
            RCLONE_S3_UPLOAD_CONCURRENCY: String(conc),
          });
          walls.push(m.wallS);
          rss.push(m.peakRssMiB);
        }
        console.log(
          `| ${chunk} | ${conc} | ${fmt(walls, 1)} | ${(latest.size / 2 ** 20 / median(walls)).toFixed(0)} | ${fmt(rss, 0)} |`,
        );
      }
    }
  } finally {
    await Promise.all([pg.stop(), s3.stop()]);
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
