/**
 * offsite-sync.sh syncs one prefix after another once the key check passed; a failure of any one of
 * them must fail the run and leave a record that says so (success 0), whatever the other prefixes
 * did. The off-site side here is rclone crypt over a local directory (the FTP transport itself is
 * tested against vsftpd in offsite.test.ts); the failing prefix is injected by an rclone wrapper
 * after the real key check has run.
 */
import { execFile, execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fakeRclone } from "../support/fakeRclone.js";
import { childEnv, startS3Peer, type S3Peer } from "../support/s3peer.js";
import { OFFSITE_RECORD, readOffsite } from "../../components/alerts/hubReader.mjs";

const SYNC = path.resolve(__dirname, "../../components/offsite/offsite-sync.sh");
const PREFIXES = ["longhorn-backups", "postgres-backups", "velero"];
/** The run record's name (components/alerts/hubReader.mjs OFFSITE_RECORD). */
const RECORD = OFFSITE_RECORD;

let peer: S3Peer;
let dir: string;
let conf: string;

beforeAll(async () => {
  peer = await startS3Peer(["backups"]);
  dir = mkdtempSync(path.join(tmpdir(), "offsite-verify-"));
  const raw = path.join(dir, "raw");
  mkdirSync(raw);
  const obscured = execFileSync("rclone", ["obscure", "0123456789abcdef0123456789abcdef"], { encoding: "utf8" }).trim();
  conf = path.join(dir, "rclone.conf");
  writeFileSync(
    conf,
    [
      "[hub]",
      ...Object.entries(peer.rcloneEnv).map(([k, v]) => `${k.replace("RCLONE_CONFIG_HUB_", "").toLowerCase()} = ${v}`),
      "",
      "[offsite_raw]",
      "type = alias",
      `remote = ${raw}`,
      "",
      "[offsite]",
      "type = crypt",
      "remote = offsite_raw:",
      `password = ${obscured}`,
      "",
    ].join("\n"),
    { mode: 0o600 },
  );
  const f = path.join(dir, "object");
  for (const p of PREFIXES) {
    writeFileSync(f, `${p} data`);
    execFileSync("rclone", ["--config", conf, "copyto", f, `hub:backups/${p}/one`], { env: childEnv() });
  }
}, 60_000);

afterAll(async () => {
  await peer?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function sync(textfile: string, extra: Record<string, string> = {}): Promise<{ code: number | null; stderr: string }> {
  const env = childEnv({
    OFFSITE_RCLONE_CONFIG: conf,
    OFFSITE_BUCKET: "backups",
    OFFSITE_PREFIXES: PREFIXES.join(" "),
    OFFSITE_ENCRYPTION: "true",
    OFFSITE_TEXTFILE: textfile,
    TMPDIR: dir,
    ...extra,
  });
  return new Promise((resolve) => {
    const child = spawn("sh", [SYNC], { env, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr!.on("data", (d) => (stderr += d));
    child.on("exit", (code) => resolve({ code, stderr }));
  });
}

const success = (textfile: string) =>
  /^homelab_backup_offsite_last_run_success (\d)$/m.exec(readFileSync(textfile, "utf8"))?.[1];

describe("offsite-sync.sh with one prefix failing after the key check", () => {
  it.each([PREFIXES[0], PREFIXES[PREFIXES.length - 1]])(
    "fails the run and records success 0 when the sync of %s fails",
    async (prefix) => {
      const textfile = path.join(dir, `record-${prefix}.prom`);
      const r = await sync(textfile, { RCLONE: fakeRclone(`fail-sync:hub:backups/${prefix}`) });
      expect(r.stderr).toContain(`fake rclone: injected failure of sync hub:backups/${prefix}`);
      expect(r.stderr).not.toMatch(/WRONG ENCRYPTION KEY/);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("offsite-sync: FAILED");
      expect(success(textfile)).toBe("0");
      // A failed run leaves no run record on the FTP side.
      expect(execFileSync("ls", [path.join(dir, "raw")], { encoding: "utf8" })).not.toContain(RECORD);
    },
    60_000,
  );

  it("succeeds with the real rclone, every prefix copied", async () => {
    const textfile = path.join(dir, "record-ok.prom");
    const r = await sync(textfile);
    expect(r.code, r.stderr).toBe(0);
    expect(success(textfile)).toBe("1");
    const listed = execFileSync("rclone", ["--config", conf, "lsf", "-R", "--files-only", "offsite:"], {
      encoding: "utf8",
      env: childEnv(),
    })
      .split("\n")
      .filter(Boolean)
      .sort();
    expect(listed).toEqual(PREFIXES.map((p) => `${p}/one`));
    // The key-check file is stored with plain names (encrypted content), so it is no entry of the crypt listing.
    expect(execFileSync("ls", [path.join(dir, "raw")], { encoding: "utf8" })).toContain("homelab-backup-keycheck.bin");
  }, 60_000);

  it("a completed run leaves its record at the copy's root, encrypted like the key-check file, which the hub reader reads", async () => {
    // On the server: a known name, encrypted content.
    const raw = readFileSync(path.join(dir, "raw", `${RECORD}.bin`));
    expect(raw.includes(Buffer.from("finishedAt"))).toBe(false);
    const rec = JSON.parse(
      execFileSync("rclone", ["--config", conf, "cat", `offsite,filename_encryption=off:${RECORD}`], {
        encoding: "utf8",
        env: childEnv(),
      }),
    );
    expect(rec).toMatchObject({
      format: "homelab-backup/offsite-run/v1",
      bucket: "backups",
      prefixes: PREFIXES,
      transferredFiles: expect.any(Number),
      complete: true,
    });
    expect(Math.abs(Date.parse(rec.finishedAt) - Date.now())).toBeLessThan(120_000);
    const io = {
      rclone: (args: string[]) =>
        new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
          execFile("rclone", ["--config", conf, ...args], { env: childEnv() }, (err, stdout, stderr) =>
            resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
          ),
        ),
    };
    const read = await readOffsite(io, "offsite", true);
    expect(read).toMatchObject({ found: true, valid: true, count: 1 });
    expect(Math.abs(read.timestamp! - Date.parse(rec.finishedAt) / 1000)).toBe(0);
  }, 60_000);
});
