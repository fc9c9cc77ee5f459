/**
 * A real PostgreSQL server (the newest major the distribution's packages installed) on 127.0.0.1 for integration tests and benchmarks.
 * initdb refuses to run as root, so the server binaries run as the `postgres` user (runuser) in a
 * temp directory chowned to it. Clients (psql, the scripts) connect over TCP with a password.
 */
import { execFile, spawn } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { childEnv } from "./s3peer.js";
import { freePort } from "./net.js";

const run = promisify(execFile);
/** The server binaries of the newest PostgreSQL major installed (Debian 12: 15, Ubuntu 24.04: 16). */
export const PG_BIN = ((): string => {
  const root = "/usr/lib/postgresql";
  const majors = existsSync(root)
    ? readdirSync(root).filter((v) => /^\d+$/.test(v) && existsSync(path.join(root, v, "bin", "initdb")))
    : [];
  if (majors.length === 0) return path.join(root, "15", "bin"); // not installed: the tests that need it say so when they start
  return path.join(root, String(Math.max(...majors.map(Number))), "bin");
})();

export interface PgServer {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly dir: string;
  /** libpq environment for a client of this server (PGHOST, PGPORT, PGUSER, PGPASSWORD). */
  readonly env: Record<string, string>;
  /** Runs SQL with psql (ON_ERROR_STOP) and returns the unaligned, tuples-only output. */
  psql(sql: string, database?: string): Promise<string>;
  stop(): Promise<void>;
}

function asPostgres(cmd: string, args: string[]) {
  return run("runuser", ["-u", "postgres", "--", cmd, ...args], { env: childEnv(), maxBuffer: 64 << 20 });
}

export async function startPostgres(opts: { password?: string; settings?: string[] } = {}): Promise<PgServer> {
  const dir = mkdtempSync(path.join(tmpdir(), "pg-"));
  chmodSync(dir, 0o755);
  const password = opts.password ?? "s3cret-Pw";
  const pwfile = path.join(dir, "pw");
  writeFileSync(pwfile, password);
  await run("chown", ["-R", "postgres:postgres", dir]);
  const data = path.join(dir, "data");
  await asPostgres(`${PG_BIN}/initdb`, [
    "--no-sync",
    "-U",
    "postgres",
    `--pwfile=${pwfile}`,
    "--auth-host=scram-sha-256",
    "--auth-local=trust",
    "--encoding=UTF8",
    "--locale=C",
    "-D",
    data,
  ]);
  const port = await freePort();
  const settings = [
    "-c listen_addresses=127.0.0.1",
    `-p ${port}`,
    `-c unix_socket_directories=${dir}`,
    "-c fsync=off",
    "-c max_wal_size=4GB",
    ...(opts.settings ?? []),
  ];
  await asPostgres(`${PG_BIN}/pg_ctl`, [
    "-D",
    data,
    "-w",
    "-t",
    "60",
    "-l",
    path.join(dir, "server.log"),
    "-o",
    settings.join(" "),
    "start",
  ]);
  const env = { PGHOST: "127.0.0.1", PGPORT: String(port), PGUSER: "postgres", PGPASSWORD: password };
  let stopped = false;
  return {
    host: "127.0.0.1",
    port,
    user: "postgres",
    password,
    dir,
    env,
    async psql(sql: string, database = "postgres") {
      return new Promise<string>((resolve, reject) => {
        const child = spawn("psql", ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-At", "-d", database], {
          env: childEnv(env),
          stdio: ["pipe", "pipe", "pipe"],
        });
        let out = "";
        let err = "";
        child.stdout.on("data", (d) => (out += d));
        child.stderr.on("data", (d) => (err += d));
        child.on("exit", (code) =>
          code === 0 ? resolve(out.trim()) : reject(new Error(`psql exited ${code}: ${err}`)),
        );
        child.stdin.end(sql);
      });
    },
    async stop() {
      if (!stopped) {
        stopped = true;
        await asPostgres(`${PG_BIN}/pg_ctl`, ["-D", data, "-m", "immediate", "-w", "stop"]).catch(() => undefined);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
