/**
 * The off-site copy and the bucket mirror against real servers on loopback: vsftpd with explicit
 * TLS (self-signed certificate that rclone verifies through SSL_CERT_FILE) and the S3 peer as the hub.
 * The scripts run exactly as shipped; only their environment is the test's.
 */
import { execFile, spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  chmodSync,
} from "node:fs";
import { createServer as createHttpServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OffsiteConfig } from "../../components/config.js";
import type { HubConnection } from "../../components/core/hubConnection.js";
import { metrics } from "../../components/core/names.js";
import { mirrorEnv } from "../../components/mirror/logic.js";
import { offsiteConfigEnv, offsiteSecretsStdin, offsiteSyncEnv } from "../../components/offsite/logic.js";
import { childEnv, startS3Peer, type S3Peer } from "../support/s3peer.js";
import { startVsftpd, type Vsftpd } from "../support/vsftpd.js";

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, "..", "..");
const script = (p: string) => path.join(ROOT, "components", p);
// One system user per userland project: the GNU and BusyBox runs of this file may run at once, and each
// points the user's home at its own FTP root.
const FTP_USER = process.env.TEST_USERLAND === "busybox" ? "hbackupftpbb" : "hbackupftp";
const FTP_PASSWORD = "ftp-Pa55-word%with'quote";
const KEY = randomBytes(32).toString("hex");
const MARKER = "PLAINTEXT-MARKER-homelab-backup";

/** Runs a command with stdin; resolves with code/stdout/stderr, never throws. */
function sh(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  stdin = "",
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
    // A script that exits before reading stdin must not crash the test with EPIPE.
    child.stdin.on("error", () => undefined);
    child.stdin.end(stdin);
  });
}

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(path.relative(dir, p));
    }
  };
  if (existsSync(dir)) walk(dir);
  return out.sort();
}

function readRecord(file: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of readFileSync(file, "utf8").split("\n")) {
    const m = /^([a-z_]+) (\d+)$/.exec(line);
    if (m) out[m[1]] = Number(m[2]);
  }
  return out;
}

const sha = (p: string) => createHash("sha256").update(readFileSync(p)).digest("hex");

let peer: S3Peer;
let dir: string;
let ftpHome: string;
let ftpPort: number;
let ftp: Vsftpd | undefined;
let hub: HubConnection;
let config: OffsiteConfig;
let baseEnv: NodeJS.ProcessEnv;
let conf: string;
let textfile: string;
const source: Record<string, Buffer> = {};

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "offsite-"));
  chmodSync(dir, 0o755);
  // A local user is what Debian's vsftpd authenticates through PAM; created for the test, removed after.
  ftp = await startVsftpd(dir, FTP_USER, FTP_PASSWORD);
  ftpHome = ftp.home;
  ftpPort = ftp.port;

  peer = await startS3Peer(["backups", "rgw-src"]);
  // The hub: longhorn/ and postgres-backups/ are copied, etcd-snapshots/ is not (prefixes).
  const local = path.join(dir, "hub-src");
  const put = (key: string, data: Buffer) => {
    source[key] = data;
    mkdirSync(path.dirname(path.join(local, key)), { recursive: true });
    writeFileSync(path.join(local, key), data);
  };
  put("longhorn/backupstore/volumes/vol-1/backup.cfg", Buffer.from(`${MARKER}\n`.repeat(200)));
  put("longhorn/backupstore/blocks/ab/cd/block.blk", randomBytes(3 * 1024 * 1024 + 17));
  put("postgres-backups/wiki/wiki-20261123T030000Z.sql.gz", Buffer.from(`-- ${MARKER} dump\nCREATE TABLE t();\n`));
  put("etcd-snapshots/etcd-snapshot-1.db", Buffer.from(`${MARKER} etcd`));
  const up = await run("rclone", ["copy", local, "hub:backups"], { env: childEnv(peer.rcloneEnv) });
  expect(up.stderr).not.toMatch(/ERROR/);

  hub = {
    kind: "pi",
    endpoint: peer.endpoint,
    bucket: "backups",
    region: "us-east-1",
    pathStyle: true,
    server: "rustfs",
  };
  config = {
    runOn: "hub",
    schedule: "0 6 * * *",
    ftp: { host: "127.0.0.1", port: ftpPort, user: FTP_USER, path: "/offsite/homelab", explicitTls: true },
    encryption: { enabled: true, filenameEncryption: "standard" },
    prefixes: ["longhorn/", "postgres-backups/"],
    namespace: "backup-system",
  } as OffsiteConfig;
  // rclone 1.60 and vsftpd 3.0.3 fail TLS 1.3 on the data connection; the certificate is verified.
  baseEnv = childEnv({
    SSL_CERT_FILE: ftp.certFile,
    OFFSITE_FTP_DISABLE_TLS13: "true",
    OFFSITE_RCLONE_FLAGS: "--retries 1 --low-level-retries 1 --contimeout 5s --timeout 20s",
  });
  conf = path.join(dir, "etc", "rclone.conf");
  textfile = path.join(dir, "textfile", "homelab_backup_offsite.prom");
  const wc = await sh(
    "sh",
    [script("offsite/write-config.sh"), conf],
    { ...baseEnv, ...offsiteConfigEnv(config, hub) },
    offsiteSecretsStdin(FTP_PASSWORD, KEY, peer.accessKeyId, peer.secretAccessKey),
  );
  expect(wc.code, wc.stderr).toBe(0);
}, 300_000);

afterAll(async () => {
  await ftp?.stop();
  await peer?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const syncEnv = (extra: Record<string, string> = {}) => ({
  ...baseEnv,
  ...offsiteSyncEnv(config, hub, { rcloneConfig: conf, textfile, rclone: "rclone" }),
  ...extra,
});
const restoreEnv = (key: string) => ({
  ...baseEnv,
  OFFSITE_FTP_HOST: "127.0.0.1",
  OFFSITE_FTP_PORT: String(ftpPort),
  OFFSITE_FTP_USER: FTP_USER,
  OFFSITE_FTP_PASSWORD: FTP_PASSWORD,
  OFFSITE_FTP_PATH: config.ftp.path,
  OFFSITE_ENCRYPTION_KEY: key,
});

describe("off-site copy over FTPS (vsftpd)", () => {
  it("writes a root-only rclone config with obscured passwords", () => {
    const text = readFileSync(conf, "utf8");
    expect(statSync(conf).mode & 0o777).toBe(0o600);
    expect(text).not.toContain(FTP_PASSWORD);
    expect(text).not.toContain(KEY);
    expect(text).toMatch(/^type = crypt$/m);
    expect(text).toMatch(/^explicit_tls = true$/m);
  });

  it("syncs: the FTP server holds only ciphertext under encrypted names, and the record says success", async () => {
    const before = Math.floor(Date.now() / 1000);
    const r = await sh("sh", [script("offsite/offsite-sync.sh")], syncEnv());
    expect(r.code, r.stderr).toBe(0);
    const stored = filesUnder(path.join(ftpHome, "offsite/homelab"));
    // 3 copied objects + the key-check file + the run record; etcd-snapshots/ is not a configured prefix.
    expect(stored).toHaveLength(5);
    // The key-check file's and the run record's names are plain on purpose (their content is
    // encrypted); every other name is not.
    expect(stored).toContain("homelab-backup-keycheck.bin");
    expect(stored).toContain("homelab-backup-offsite.json.bin");
    for (const f of stored) {
      // No stored path segment is a plaintext one (a substring test would trip over random base32 such as "lncfg6…").
      const plainSegments = new Set(Object.keys(source).flatMap((k) => k.split("/")));
      if (f !== "homelab-backup-keycheck.bin" && f !== "homelab-backup-offsite.json.bin")
        for (const seg of f.split("/")) expect(plainSegments.has(seg), f).toBe(false);
      const content = readFileSync(path.join(ftpHome, "offsite/homelab", f));
      expect(content.includes(Buffer.from(MARKER))).toBe(false);
      expect(content.includes(Buffer.from("CREATE TABLE"))).toBe(false);
    }
    const rec = readRecord(textfile);
    expect(rec[metrics.offsiteLastRunSuccess]).toBe(1);
    expect(rec[metrics.offsiteLastSuccess]).toBeGreaterThanOrEqual(before);
    expect(rec[metrics.offsiteLastRun]).toBe(rec[metrics.offsiteLastSuccess]);
    expect(rec[metrics.offsiteFiles]).toBe(3);
    expect(rec[metrics.offsiteBytes]).toBeGreaterThan(3 * 1024 * 1024);
    // The textfile is written by rename: no temp file left beside it.
    expect(readdirSync(path.dirname(textfile))).toEqual(["homelab_backup_offsite.prom"]);
  });

  it("a second sync with nothing changed transfers nothing", async () => {
    const r = await sh("sh", [script("offsite/offsite-sync.sh")], syncEnv());
    expect(r.code, r.stderr).toBe(0);
    const rec = readRecord(textfile);
    expect(rec[metrics.offsiteLastRunSuccess]).toBe(1);
    expect(rec[metrics.offsiteFiles]).toBe(0);
    expect(rec[metrics.offsiteBytes]).toBe(0);
  });

  it("the cluster entrypoint builds its config from the Secret's env in TMPDIR and runs the same sync", async () => {
    const tmp = mkdtempSync(path.join(dir, "job-tmp-"));
    const env = {
      ...baseEnv,
      ...offsiteConfigEnv(config, hub),
      ...offsiteSyncEnv(config, hub, { rclone: "rclone" }),
      TMPDIR: tmp,
      OFFSITE_FTP_PASSWORD: FTP_PASSWORD,
      OFFSITE_ENCRYPTION_KEY: KEY,
      OFFSITE_S3_ACCESS_KEY_ID: peer.accessKeyId,
      OFFSITE_S3_SECRET_ACCESS_KEY: peer.secretAccessKey,
    };
    const r = await sh("sh", [script("offsite/offsite-job.sh")], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/done, 0 files, 0 bytes/);
    expect(statSync(path.join(tmp, "rclone.conf")).mode & 0o777).toBe(0o600);
    // The same job with a wrong key stops.
    const bad = await sh("sh", [script("offsite/offsite-job.sh")], { ...env, OFFSITE_ENCRYPTION_KEY: "not-the-key" });
    expect(bad.code).not.toBe(0);
  });

  it("restores byte-identical files with only the key and the FTP login (no config file)", async () => {
    const dest = path.join(dir, "restore");
    const r = await sh("sh", [script("offsite/restore-offsite.sh"), dest], restoreEnv(KEY));
    expect(r.code, r.stderr).toBe(0);
    const expected = Object.keys(source)
      .filter((k) => !k.startsWith("etcd-snapshots/"))
      .sort();
    expect(filesUnder(dest)).toEqual(expected);
    for (const k of expected)
      expect(sha(path.join(dest, k))).toBe(createHash("sha256").update(source[k]).digest("hex"));
    // Nothing of the run is left on disk but the restored files.
    expect(r.stdout + r.stderr).not.toContain(KEY);
  });

  it("a wrong key fails loudly, for restore and for sync, and uploads nothing", async () => {
    const wrong = randomBytes(32).toString("hex");
    const dest = path.join(dir, "restore-wrong");
    const r = await sh("sh", [script("offsite/restore-offsite.sh"), dest], restoreEnv(wrong));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/WRONG ENCRYPTION KEY/);
    expect(filesUnder(dest)).toEqual([]);

    const wrongConf = path.join(dir, "etc-wrong", "rclone.conf");
    const wc = await sh(
      "sh",
      [script("offsite/write-config.sh"), wrongConf],
      { ...baseEnv, ...offsiteConfigEnv(config, hub) },
      offsiteSecretsStdin(FTP_PASSWORD, wrong, peer.accessKeyId, peer.secretAccessKey),
    );
    expect(wc.code, wc.stderr).toBe(0);
    const before = filesUnder(path.join(ftpHome, "offsite/homelab"));
    const s = await sh(
      "sh",
      [script("offsite/offsite-sync.sh")],
      syncEnv({ OFFSITE_RCLONE_CONFIG: wrongConf, OFFSITE_TEXTFILE: path.join(dir, "wrong.prom") }),
    );
    expect(s.code).not.toBe(0);
    expect(s.stderr).toMatch(/WRONG ENCRYPTION KEY/);
    expect(filesUnder(path.join(ftpHome, "offsite/homelab"))).toEqual(before);
    expect(readRecord(path.join(dir, "wrong.prom"))[metrics.offsiteLastRunSuccess]).toBe(0);
  });

  it("with the FTP server down the run fails and the record says so (success 0, last success kept)", async () => {
    const previous = readRecord(textfile);
    await ftp!.halt();
    await new Promise((r) => setTimeout(r, 1100)); // the run timestamp must move
    const r = await sh("sh", [script("offsite/offsite-sync.sh")], syncEnv());
    expect(r.code).not.toBe(0);
    const rec = readRecord(textfile);
    expect(rec[metrics.offsiteLastRunSuccess]).toBe(0);
    expect(rec[metrics.offsiteLastSuccess]).toBe(previous[metrics.offsiteLastSuccess]);
    expect(rec[metrics.offsiteLastRun]).toBeGreaterThan(previous[metrics.offsiteLastRun]);
    expect(readFileSync(textfile, "utf8")).toContain(`# TYPE ${metrics.offsiteLastRunSuccess} gauge`);
  });
});

describe("bucket mirror (S3 peer to S3 peer)", () => {
  const mirror = {
    name: "photos",
    schedule: "0 4 * * *",
    source: { endpoint: "", bucket: "rgw-src", credentialsSecret: { namespace: "apps", name: "photos-bucket" } },
  };
  const env = () => ({
    ...childEnv(),
    ...mirrorEnv({ ...mirror, source: { ...mirror.source, endpoint: peer.endpoint } }, hub),
    AWS_ACCESS_KEY_ID: peer.accessKeyId,
    AWS_SECRET_ACCESS_KEY: peer.secretAccessKey,
    HUB_ACCESS_KEY_ID: peer.accessKeyId,
    HUB_SECRET_ACCESS_KEY: peer.secretAccessKey,
  });
  const list = async (remote: string) =>
    (await run("rclone", ["lsf", "-R", "--files-only", remote], { env: childEnv(peer.rcloneEnv) })).stdout
      .split("\n")
      .filter(Boolean)
      .sort();

  it("mirrors into buckets/<name>/, verifies, and follows deletions", async () => {
    const local = path.join(dir, "rgw");
    mkdirSync(path.join(local, "a/b"), { recursive: true });
    writeFileSync(path.join(local, "a/b/one.jpg"), randomBytes(200_000));
    writeFileSync(path.join(local, "two.txt"), "two");
    writeFileSync(path.join(local, "three.txt"), "three");
    await run("rclone", ["copy", local, "hub:rgw-src"], { env: childEnv(peer.rcloneEnv) });
    const r = await sh("sh", [script("mirror/mirror.sh")], env());
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/verified, 3 objects/);
    expect(await list("hub:backups/buckets/photos")).toEqual(["a/b/one.jpg", "three.txt", "two.txt"]);

    await run("rclone", ["deletefile", "hub:rgw-src/two.txt"], { env: childEnv(peer.rcloneEnv) });
    const r2 = await sh("sh", [script("mirror/mirror.sh")], env());
    expect(r2.code, r2.stderr).toBe(0);
    expect(await list("hub:backups/buckets/photos")).toEqual(["a/b/one.jpg", "three.txt"]);
  });

  it("fails when the mirror cannot be made equal to the source", async () => {
    const stray = path.join(dir, "stray.bin");
    writeFileSync(stray, "x");
    await run("rclone", ["copyto", stray, "hub:backups/buckets/photos/stray.bin"], { env: childEnv(peer.rcloneEnv) });
    // Deletes forbidden: the stray object stays, so the mirror has one object more than the source.
    const r = await sh("sh", [script("mirror/mirror.sh")], { ...env(), MIRROR_RCLONE_FLAGS: "--max-delete 0" });
    expect(r.code).not.toBe(0);
  });

  it("fails when the source bucket cannot be read", async () => {
    // (The S3 peer does not check signatures, so a missing bucket stands in for an unreadable source.)
    const r = await sh("sh", [script("mirror/mirror.sh")], {
      ...env(),
      MIRROR_SOURCE_BUCKET: "no-such-bucket",
      MIRROR_RCLONE_FLAGS: "--retries 1 --low-level-retries 1",
    });
    expect(r.code).not.toBe(0);
    expect(await list("hub:backups/buckets/photos")).toContain("three.txt");
  });
});

describe("install-rclone.sh (a fake release on a loopback HTTP server)", () => {
  const version = "v1.71.2";
  const arch = ({ x64: "amd64", arm64: "arm64" } as Record<string, string>)[process.arch];
  let server: Server;
  let base: string;
  let zip: Buffer;
  let sums = "";

  beforeAll(async () => {
    // The "release": a zip with rclone-<v>-linux-<arch>/rclone, a script that prints the version line.
    const rel = path.join(dir, "release", `rclone-${version}-linux-${arch}`);
    mkdirSync(rel, { recursive: true });
    writeFileSync(path.join(rel, "rclone"), `#!/bin/sh\necho "rclone ${version}"\n`, { mode: 0o755 });
    const zipPath = path.join(dir, "release", `rclone-${version}-linux-${arch}.zip`);
    await run("python3", ["-m", "zipfile", "-c", zipPath, rel]);
    zip = readFileSync(zipPath);
    server = createHttpServer((req, res) => {
      if (req.url === `/${version}/rclone-${version}-linux-${arch}.zip`) res.end(zip);
      else if (req.url === `/${version}/SHA256SUMS`) res.end(sums);
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const install = (dest: string) =>
    sh("bash", [script("offsite/install-rclone.sh"), version, base], childEnv({ RCLONE_INSTALL_DIR: dest }));

  it("refuses a download whose checksum does not match, and installs nothing", async () => {
    sums = `${"0".repeat(64)}  rclone-${version}-linux-${arch}.zip\n`;
    const dest = path.join(dir, "bin-bad");
    const r = await install(dest);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/checksum mismatch/);
    expect(existsSync(path.join(dest, "rclone"))).toBe(false);
  });

  it("installs the verified release for this architecture, then does nothing the second time", async () => {
    sums = `${createHash("sha256").update(zip).digest("hex")}  rclone-${version}-linux-${arch}.zip\nffff  rclone-${version}-linux-other.zip\n`;
    const dest = path.join(dir, "bin-good");
    const r = await install(dest);
    expect(r.code, r.stderr).toBe(0);
    expect((await run(path.join(dest, "rclone"), ["version"])).stdout.trim()).toBe(`rclone ${version}`);
    sums = ""; // a second run must not download at all
    const again = await install(dest);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/already installed/);
  });
});
