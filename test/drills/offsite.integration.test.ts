/**
 * offsite-drill.sh against vsftpd (explicit TLS) holding the real crypt copy that the real
 * write-config.sh + offsite-sync.sh made of an S3 peer hub, run under BusyBox with only the FTP login,
 * the key and read-only hub settings: it passes on the intact copy and fails with a wrong key, on a
 * tampered file and on a hub object that differs from its copy; a hub object changed after the copy
 * was made is skipped. The work directory is gone after every run.
 */
import { execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { busyboxPath, type BusyboxPath } from "../support/busybox.js";
import { childEnv, startS3Peer, type S3Peer } from "../support/s3peer.js";
import { judgeDrillRecord, readStatusRecord } from "../../components/alerts/hubReader.mjs";

/** rclone with the peer's `hub` remote, as the status reader's io runs it. */
const runRclone = (args: string[]) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
    execFile("rclone", ["--config", "", ...args], { env: childEnv(peer.rcloneEnv) }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr }),
    ),
  );
import { startVsftpd, type Vsftpd } from "../support/vsftpd.js";

const ROOT = path.resolve(__dirname, "..", "..");
const DRILL = path.join(ROOT, "components", "drills", "offsite-drill.sh");
const offsiteScript = (name: string) => path.join(ROOT, "components", "offsite", name);
const KEY = randomBytes(32).toString("hex");
const FTP_PATH = "/offsite/homelab";

let ftp: Vsftpd;
let peer: S3Peer;
let dir: string;
let bb: BusyboxPath;
let base: NodeJS.ProcessEnv;

function sh(
  script: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  stdin = "",
): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn("busybox", ["sh", script, ...args], { env, stdio: ["pipe", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => resolve({ code: code ?? -1, stderr }));
    child.stdin.on("error", () => undefined);
    child.stdin.end(stdin);
  });
}

async function putHub(key: string, content: Buffer | string, mtime?: Date): Promise<void> {
  const f = path.join(dir, `put-${Math.random().toString(36).slice(2)}`);
  writeFileSync(f, content);
  if (mtime) utimesSync(f, mtime, mtime);
  await new Promise<void>((resolve, reject) => {
    const child = spawn("rclone", ["--config", "", "copyto", f, `hub:backups/${key}`], {
      env: childEnv(peer.rcloneEnv),
      stdio: "ignore",
    });
    child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`rclone copyto ${key}: ${code}`))));
  });
}

async function drill(extra: Record<string, string> = {}) {
  const tmp = mkdtempSync(path.join(dir, "tmp-"));
  const r = await sh(DRILL, [], {
    ...base,
    ...peer.rcloneEnv,
    TMPDIR: tmp,
    HUB_BUCKET: "backups",
    OFFSITE_FTP_HOST: "127.0.0.1",
    OFFSITE_FTP_PORT: String(ftp.port),
    OFFSITE_FTP_USER: ftp.user,
    OFFSITE_FTP_PASSWORD: ftp.password,
    OFFSITE_FTP_PATH: FTP_PATH,
    OFFSITE_ENCRYPTION_KEY: KEY,
    DRILL_SAMPLE: "100",
    DRILL_RECORD_CLASS: "offsite",
    DRILL_RECORD_ITEM: "offsite",
    ...extra,
  });
  return { ...r, left: readdirSync(tmp) };
}

function encryptedFiles(): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      // The key-check file and the run record (offsite-sync.sh) are no copied backup.
      else if (e.name !== "homelab-backup-keycheck.bin" && e.name !== "homelab-backup-offsite.json.bin") out.push(p);
    }
  };
  walk(path.join(ftp.home, "offsite", "homelab"));
  return out;
}

beforeAll(async () => {
  bb = busyboxPath();
  dir = mkdtempSync(path.join(tmpdir(), "offsite-drill-"));
  // The FTP user must reach its home below this directory.
  chmodSync(dir, 0o755);
  ftp = await startVsftpd(path.join(dir, "ftp"), "hbdrillftp", "drill-Pa55'word");
  peer = await startS3Peer(["backups"]);
  await putHub("longhorn/backupstore/volumes/vol-1/backup.cfg", "longhorn backup config\n".repeat(100));
  await putHub("longhorn/backupstore/blocks/ab/cd/block.blk", randomBytes(2 * 1024 * 1024 + 5));
  await putHub("postgres-backups/wiki/wiki-20261123T030000Z.sql.gz", randomBytes(4000));
  await putHub("etcd-snapshots/cp-1/etcd-snapshot-1", "not copied off-site");
  base = childEnv({
    PATH: bb.path,
    SSL_CERT_FILE: ftp.certFile,
    OFFSITE_FTP_DISABLE_TLS13: "true",
    OFFSITE_RCLONE_FLAGS: "--retries 1 --low-level-retries 2 --contimeout 5s --timeout 20s",
  });
  const conf = path.join(dir, "etc", "rclone.conf");
  mkdirSync(path.dirname(conf));
  const settings = {
    OFFSITE_FTP_HOST: "127.0.0.1",
    OFFSITE_FTP_PORT: String(ftp.port),
    OFFSITE_FTP_USER: ftp.user,
    OFFSITE_FTP_PATH: FTP_PATH,
    OFFSITE_FTP_EXPLICIT_TLS: "true",
    OFFSITE_ENCRYPTION: "true",
    OFFSITE_FILENAME_ENCRYPTION: "standard",
    OFFSITE_S3_ENDPOINT: peer.endpoint,
    OFFSITE_S3_REGION: "us-east-1",
    OFFSITE_S3_PROVIDER: "Other",
    OFFSITE_S3_PATH_STYLE: "true",
  };
  const wc = await sh(
    offsiteScript("write-config.sh"),
    [conf],
    { ...base, ...settings },
    `${ftp.password}\n${KEY}\n${peer.accessKeyId}\n${peer.secretAccessKey}\n`,
  );
  expect(wc.code, wc.stderr).toBe(0);
  const sync = await sh(offsiteScript("offsite-sync.sh"), [], {
    ...base,
    OFFSITE_RCLONE_CONFIG: conf,
    OFFSITE_BUCKET: "backups",
    OFFSITE_PREFIXES: "longhorn/ postgres-backups/",
    OFFSITE_ENCRYPTION: "true",
  });
  expect(sync.code, sync.stderr).toBe(0);
  expect(encryptedFiles()).toHaveLength(3);
}, 120_000);

afterAll(async () => {
  await ftp?.stop();
  await peer?.stop();
  bb?.remove();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("off-site restore drill", () => {
  it("passes: every sampled file downloads, decrypts and equals the hub object", async () => {
    const r = await drill();
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("the key decrypts the key-check file");
    expect(r.stderr).toContain("3 of 3 files compared equal, 0 skipped, 0 failed");
    expect(r.left).toEqual([]);
    // Its result where `npm run status` reads it (components/drills/drill-record.sh), read as status does.
    const rec = await readStatusRecord(
      { rclone: (args) => runRclone(args) },
      "backups",
      "status/drills/offsite/offsite.json",
    );
    expect(judgeDrillRecord(rec, "offsite", "offsite", Date.now() / 1000)).toMatchObject({
      state: "passed",
      restored: expect.stringMatching(/^\d+ sampled files of the off-site copy$/),
      restoreSeconds: expect.any(Number),
    });
  }, 90_000);

  it("fails with the wrong key, before downloading anything", async () => {
    const r = await drill({ OFFSITE_ENCRYPTION_KEY: randomBytes(32).toString("hex") });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("WRONG ENCRYPTION KEY");
    const rec = await readStatusRecord(
      { rclone: (args) => runRclone(args) },
      "backups",
      "status/drills/offsite/offsite.json",
    );
    expect(judgeDrillRecord(rec, "offsite", "offsite", Date.now() / 1000)).toMatchObject({ state: "failed" });
    expect(r.left).toEqual([]);
  }, 60_000);

  it("skips a hub object changed after the copy; fails on a hub object that differs from an older copy", async () => {
    const later = new Date(Date.now() + 5 * 60_000);
    await putHub("postgres-backups/wiki/wiki-20261123T030000Z.sql.gz", randomBytes(4000), later);
    const r = await drill();
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(
      "skip postgres-backups/wiki/wiki-20261123T030000Z.sql.gz: changed on the hub after it was copied",
    );
    const earlier = new Date(Date.now() - 60 * 60_000);
    await putHub("postgres-backups/wiki/wiki-20261123T030000Z.sql.gz", randomBytes(4000), earlier);
    const bad = await drill();
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(
      /MISMATCH: postgres-backups\/wiki\/wiki-20261123T030000Z\.sql\.gz off-site sha256 [0-9a-f]{64}, hub sha256 [0-9a-f]{64}/,
    );
    expect(bad.left).toEqual([]);
  }, 120_000);

  it("fails on a tampered file on the FTP server (crypt authenticates every block)", async () => {
    const victim = encryptedFiles().sort((a, b) => statSync(b).size - statSync(a).size)[0];
    const bytes = readFileSync(victim);
    bytes[Math.floor(bytes.length / 2)] ^= 0x01;
    writeFileSync(victim, bytes);
    const r = await drill();
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      "FAILED: longhorn/backupstore/blocks/ab/cd/block.blk does not download and decrypt from the off-site copy",
    );
    expect(r.left).toEqual([]);
  }, 90_000);
});
