/**
 * A real Ceph RADOS Gateway (Debian packages radosgw, ceph-mon, ceph-osd, ceph-common; Ceph 16) on
 * 127.0.0.1 for the hub tests: one monitor, one in-memory OSD (memstore) and one gateway, no cephx,
 * everything (config, monitor store, logs, sockets) in a temp directory that `stop()` removes.
 *
 * Start it once per test file (beforeAll) and stop it in afterAll: a start takes about 20 s on an
 * idle 2-core machine, several times that on a loaded one, so the caller gives beforeAll a generous
 * timeout. The admin user has the caps RGW's admin ops API and IAM user policies need.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { freePort } from "./net.js";

const run = promisify(execFile);

export interface RgwServer {
  /** `http://127.0.0.1:<port>`: S3, IAM (user policies) and the admin ops API (`/admin`). */
  readonly endpoint: string;
  /** Access key of a user with `users=*;buckets=*;metadata=*;user-policy=*` caps. */
  readonly adminAccessKeyId: string;
  readonly adminSecretAccessKey: string;
  readonly dir: string;
  /** Runs radosgw-admin against this cluster and returns its standard output. */
  radosgwAdmin(args: string[]): Promise<string>;
  stop(): Promise<void>;
}

function cephConf(dir: string, fsid: string, monPort: number, rgwPort: number): string {
  return `[global]
fsid = ${fsid}
mon host = v1:127.0.0.1:${monPort}
mon initial members = a
public addr = 127.0.0.1
auth cluster required = none
auth service required = none
auth client required = none
ms bind ipv6 = false
run dir = ${dir}/run
admin socket = ${dir}/run/$name.asok
pid file = ${dir}/run/$name.pid
log file = ${dir}/log/$name.log
mon data = ${dir}/$name
osd data = ${dir}/$name
osd objectstore = memstore
memstore device bytes = 2147483648
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon allow pool size one = true
mon warn on pool no redundancy = false
mon max pg per osd = 1000
osd crush chooseleaf type = 0
rgw frontends = beast endpoint=127.0.0.1:${rgwPort}
rgw data = ${dir}/rgw
`;
}

async function waitFor(
  what: string,
  timeoutMs: number,
  check: () => Promise<boolean>,
  logs: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (
      await check().catch((err) => {
        if (err instanceof OsdQuit) throw err;
        return false;
      })
    )
      return;
    if (Date.now() > deadline) throw new Error(`RGW: ${what} did not come up within ${timeoutMs / 1000} s\n${logs()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * Starts monitor, OSD and gateway; rejects (after stopping whatever started) if any of them fails.
 * A fresh OSD sometimes quits at its first boot with `mon_cmd_maybe_osd_create fail: 'wrong fsid'`
 * (seen about one start in three here, with the same fsid in its config and the monitor's map): the
 * whole cluster is then started again in a new directory, up to three times.
 */
export async function startRgw(opts: { timeoutMs?: number } = {}): Promise<RgwServer> {
  let last: unknown;
  for (let attempt = 1; attempt <= 3; attempt++) {
    try {
      return await startOnce(opts.timeoutMs ?? 180_000);
    } catch (err) {
      last = err;
      if (!(err instanceof OsdQuit)) throw err;
    }
  }
  throw last;
}

class OsdQuit extends Error {}

async function startOnce(timeoutMs: number): Promise<RgwServer> {
  const dir = mkdtempSync(path.join(tmpdir(), "rgw-"));
  for (const sub of ["run", "log", "rgw", "osd.0"]) mkdirSync(path.join(dir, sub));
  const [monPort, rgwPort] = [await freePort(), await freePort()];
  const fsid = randomUUID();
  const conf = path.join(dir, "ceph.conf");
  writeFileSync(conf, cephConf(dir, fsid, monPort, rgwPort));
  const env = { ...process.env, CEPH_CONF: conf };
  const ceph = (cmd: string, args: string[]) =>
    run(cmd, ["-c", conf, ...args], { env, timeout: timeoutMs, maxBuffer: 16 << 20 });
  const children: ChildProcess[] = [];
  const daemon = (cmd: string, args: string[]) => {
    const out = openSync(path.join(dir, "log", `${path.basename(cmd)}.out`), "a");
    const child = spawn(cmd, ["-c", conf, ...args, "-f"], { env, stdio: ["ignore", out, out] });
    closeSync(out);
    children.push(child);
    return child;
  };
  const logs = () => {
    const parts: string[] = [];
    for (const f of ["ceph-mon.out", "ceph-osd.out", "radosgw.out", "client.rgw.a.log"]) {
      try {
        parts.push(
          `--- ${f}\n${readFileSync(path.join(dir, "log", f), "utf8")
            .split("\n")
            .slice(-20)
            .join("\n")}`,
        );
      } catch {
        // not started yet
      }
    }
    return parts.join("\n");
  };
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    const exits = children.map((c) =>
      c.exitCode !== null || c.signalCode !== null
        ? Promise.resolve()
        : new Promise<void>((r) => c.once("exit", () => r())),
    );
    for (const c of [...children].reverse()) c.kill("SIGTERM");
    const timer = setTimeout(() => children.forEach((c) => c.kill("SIGKILL")), 10_000);
    await Promise.all(exits);
    clearTimeout(timer);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const monmap = path.join(dir, "monmap");
    await run("monmaptool", ["--create", "--addv", "a", `[v1:127.0.0.1:${monPort}]`, "--fsid", fsid, monmap]);
    await ceph("ceph-mon", ["--mkfs", "-i", "a", "--monmap", monmap]);
    daemon("ceph-mon", ["-i", "a"]);
    const osdUuid = randomUUID();
    await ceph("ceph-osd", ["-i", "0", "--mkfs", "--osd-uuid", osdUuid]);
    // A monitor that has just formed its quorum may still refuse a command under load ("problem getting
    // command descriptions from mon", EPERM; seen once with a CPU hog beside the suite): ask again until
    // the deadline. Both commands are idempotent for the same OSD uuid and weight.
    const monCommand = async (args: string[]) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        try {
          return await ceph("ceph", ["--connect-timeout", "60", ...args]);
        } catch (err) {
          const transient = /problem getting command descriptions/.test(String((err as { stderr?: string }).stderr));
          if (!transient || Date.now() > deadline) throw err;
          await new Promise((r) => setTimeout(r, 500));
        }
      }
    };
    await monCommand(["osd", "create", osdUuid]);
    await monCommand(["osd", "crush", "add", "osd.0", "1", "root=default"]);
    const osd = daemon("ceph-osd", ["-i", "0"]);
    await waitFor(
      "the OSD",
      timeoutMs,
      async () => {
        if (osd.exitCode !== null) throw new OsdQuit(`RGW: the OSD quit at its first boot\n${logs()}`);
        return /1 up/.test((await ceph("ceph", ["osd", "stat"])).stdout);
      },
      logs,
    );
    daemon("radosgw", ["-n", "client.rgw.a"]);
    const endpoint = `http://127.0.0.1:${rgwPort}`;
    await waitFor("the gateway", timeoutMs, async () => (await fetch(endpoint)).status > 0, logs);
    const created = JSON.parse(
      (
        await ceph("radosgw-admin", [
          "user",
          "create",
          "--uid=homelab-admin",
          "--display-name=homelab admin",
          "--caps=users=*;buckets=*;metadata=*;user-policy=*",
        ])
      ).stdout,
    ) as { keys: { access_key: string; secret_key: string }[] };
    return {
      endpoint,
      adminAccessKeyId: created.keys[0].access_key,
      adminSecretAccessKey: created.keys[0].secret_key,
      dir,
      radosgwAdmin: async (args) => (await ceph("radosgw-admin", args)).stdout,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
