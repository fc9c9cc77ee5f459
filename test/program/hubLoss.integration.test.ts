/**
 * The hub's disk died (issue 28): the runbook of plan.md ("When the hub's disk dies", step 2) rebuilds
 * every prefix from the off-site copy, rehearsed end to end with real servers on loopback:
 *
 * - a real Ceph RGW hub holding real backups: a PostgreSQL dump made by dump.sh from a real server, an
 *   etcd snapshot offloaded by offload.sh, a bucket mirrored by mirror.sh, and the Longhorn and Velero
 *   objects as their layouts name them;
 * - the program's own off-site copy (write-config.sh, offsite-sync.sh) to a real vsftpd, encrypted;
 * - the first bucket thrown away (every object and the bucket deleted); the rebuilt hub is a new,
 *   empty bucket, as `pulumi up` leaves it;
 * - the runbook's block pasted as printed (pulumi answering stack outputs and config): every object
 *   comes back byte-identical, `npm run status` reports every item present, fresh and verified from the
 *   rebuilt hub alone, and the PostgreSQL dump restores from it into a real server.
 *
 * It fails when one file of the off-site copy is altered, and with a wrong key.
 */
import { execFile, spawn } from "node:child_process";
import { promisify } from "node:util";
import { createHash, randomBytes } from "node:crypto";
import {
  chmodSync,
  copyFileSync,
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
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { offsiteOf, parseStackConfig, type StackConfig } from "../../components/config.js";
import { hubConnection } from "../../components/core/hubConnection.js";
import { hubLossRunbook } from "../../components/disasters.js";
import { ADMIN_USER } from "../../components/hub/pi/piHubSteps.js";
import { s3Client } from "../../components/hub/s3/s3Api.js";
import { offsiteConfigEnv, offsiteSecretsStdin, offsiteSyncEnv } from "../../components/offsite/logic.js";
import { pasteRun, pulumiStandIn, shellBlocks } from "../support/pasteRun.js";
import { startPostgres, type PgServer } from "../support/postgres.js";
import { startRgw, type RgwServer } from "../support/rgw.js";
import { childEnv } from "../support/s3peer.js";
import { DAY, HOUR, HubStage, statusSpecFor } from "../support/statusData.js";
import { exampleStack, REPO } from "../support/stackFiles.js";
import { startVsftpd, type Vsftpd } from "../support/vsftpd.js";

const run = promisify(execFile);
const OLD = "hub-before-the-disk-died";
const KEY = randomBytes(32).toString("hex");
const ADMIN_PASSWORD = randomBytes(18).toString("base64url");
const FTP_USER = "hbhublossftp";
const FTP_PASSWORD = "hub-Lo55-pw";

let rgw: RgwServer;
let ftp: Vsftpd;
let pg: PgServer;
let hub: S3Client;
let dir: string;
let ftpDir: string;
let stack: StackConfig;
/** Every object of the old hub, key → sha256, taken just before it was thrown away. */
let before: Map<string, string>;

const target = () => ({ endpoint: rgw.endpoint, region: "us-east-1" });
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");
// rclone 1.60 and vsftpd 3.0.3 fail TLS 1.3 on the data connection (as in test/offsite).
const ftpEnv = () => ({ SSL_CERT_FILE: ftp.certFile, OFFSITE_FTP_DISABLE_TLS13: "true" });

/** The rclone remote `hub` at the RGW with the admin key, for the scripts that make the backups. */
const hubEnv = (bucket: string) => ({
  RCLONE_CONFIG_HUB_TYPE: "s3",
  RCLONE_CONFIG_HUB_PROVIDER: "Ceph",
  RCLONE_CONFIG_HUB_ENDPOINT: rgw.endpoint,
  RCLONE_CONFIG_HUB_REGION: "us-east-1",
  RCLONE_CONFIG_HUB_FORCE_PATH_STYLE: "true",
  RCLONE_CONFIG_HUB_ACCESS_KEY_ID: rgw.adminAccessKeyId,
  RCLONE_CONFIG_HUB_SECRET_ACCESS_KEY: rgw.adminSecretAccessKey,
  HUB_BUCKET: bucket,
});

function sh(
  cmd: string,
  args: string[],
  env: Record<string, string>,
  stdin = "",
): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env: childEnv(env), stdio: ["pipe", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => resolve({ code: code ?? -1, stderr }));
    child.stdin.on("error", () => undefined);
    child.stdin.end(stdin);
  });
}

async function objects(bucket: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  let token: string | undefined;
  do {
    const page = await hub.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
    for (const o of page.Contents ?? []) {
      const r = await hub.send(new GetObjectCommand({ Bucket: bucket, Key: o.Key! }));
      out.set(o.Key!, sha(Buffer.from(await r.Body!.transformToByteArray())));
    }
    token = page.NextContinuationToken;
  } while (token);
  return out;
}

const put = (bucket: string, key: string, body: Buffer | string) =>
  hub.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));

/** The runbook's step 2, for the example stack with its off-site copy on the loopback vsftpd. */
function runbookBlock(): string {
  const o = offsiteOf(stack)!;
  const offsite = { ...o, ftp: { ...o.ftp, host: "127.0.0.1", port: ftp.port, user: FTP_USER } };
  const blocks = shellBlocks(hubLossRunbook({ ...stack, offsite }, []));
  expect(blocks).toHaveLength(2);
  expect(blocks[1]).toContain('restore-offsite.sh "hub:$BUCKET"');
  return blocks[1];
}

/** A workstation: a checkout of the restore script and what it sources, `pulumi` answering the outputs. */
function workstation(bucket: string, key = KEY): { cwd: string; bin: string } {
  const cwd = mkdtempSync(path.join(dir, "ws-"));
  for (const f of ["components/offsite/restore-offsite.sh", "components/core/rclone-remotes.sh"]) {
    mkdirSync(path.dirname(path.join(cwd, f)), { recursive: true });
    copyFileSync(path.join(REPO, f), path.join(cwd, f));
  }
  const bin = pulumiStandIn(cwd, {
    outputs: {
      hubEndpoint: rgw.endpoint,
      hubRegion: "us-east-1",
      hubBucket: bucket,
      hubAdminPassword: ADMIN_PASSWORD,
      offsiteEncryptionKey: key,
    },
    config: { "homelab-backup:offsiteFtpPassword": FTP_PASSWORD },
  });
  return { cwd, bin };
}

beforeAll(async () => {
  stack = parseStackConfig(exampleStack().config);
  dir = mkdtempSync(path.join(tmpdir(), "hub-loss-"));
  chmodSync(dir, 0o755);
  ftpDir = path.join(dir, "ftp");
  mkdirSync(ftpDir);
  [rgw, ftp, pg] = await Promise.all([
    startRgw({ timeoutMs: 480_000 }),
    startVsftpd(ftpDir, FTP_USER, FTP_PASSWORD),
    startPostgres(),
  ]);
  // The Pi hub's admin login (user name = access key), which the runbook uses on the new hub.
  await rgw.radosgwAdmin([
    "key",
    "create",
    `--uid=${ADMIN_USER}`,
    "--key-type=s3",
    `--access-key=${ADMIN_USER}`,
    `--secret-key=${ADMIN_PASSWORD}`,
  ]);
  hub = s3Client(target(), { accessKeyId: rgw.adminAccessKeyId, secretAccessKey: rgw.adminSecretAccessKey });
  await hub.send(new CreateBucketCommand({ Bucket: OLD }));

  // PostgreSQL: a real dump of a real database.
  await pg.psql("CREATE DATABASE wiki");
  await pg.psql(
    "CREATE TABLE pages (id int PRIMARY KEY, body text); INSERT INTO pages SELECT i, md5(i::text) FROM generate_series(1, 2000) i;",
    "wiki",
  );
  const dump = await sh("bash", [path.join(REPO, "components/postgres/dump.sh")], {
    ...pg.env,
    ...hubEnv(OLD),
    DUMP_NAME: "wiki",
    PGDATABASE: "wiki",
    DUMP_MODE: "database",
    TMPDIR: dir,
  });
  expect(dump.code, dump.stderr).toBe(0);
  // etcd: a finished snapshot file offloaded by offload.sh (its etcd check is offload's own test's).
  const snaps = path.join(dir, "snapshots");
  mkdirSync(snaps);
  const snap = path.join(snaps, "etcd-snapshot-cp-1-1765000000");
  writeFileSync(snap, randomBytes(200_000));
  const old = new Date(Date.now() - 600_000);
  utimesSync(snap, old, old);
  const offload = await sh("sh", [path.join(REPO, "components/etcd/offload.sh")], {
    ...hubEnv(OLD),
    SNAPSHOT_DIR: snaps,
    NODE_NAME: "cp-1",
    MIN_AGE_SECONDS: "1",
    STABLE_SECONDS: "1",
    ETCD_CHECK: "none",
    RCLONE_CONFIG: path.join(dir, "none.conf"),
  });
  expect(offload.code, offload.stderr).toBe(0);
  // A bucket mirrored by mirror.sh from a source bucket on the same gateway.
  await hub.send(new CreateBucketCommand({ Bucket: "photos" }));
  await put("photos", "2026/12/img-001.jpg", randomBytes(150_000));
  await put("photos", "2026/12/img-002.jpg", randomBytes(90_000));
  const mirror = await sh("sh", [path.join(REPO, "components/mirror/mirror.sh")], {
    MIRROR_SOURCE_ENDPOINT: rgw.endpoint,
    MIRROR_SOURCE_BUCKET: "photos",
    MIRROR_SOURCE_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: rgw.adminAccessKeyId,
    AWS_SECRET_ACCESS_KEY: rgw.adminSecretAccessKey,
    MIRROR_HUB_ENDPOINT: rgw.endpoint,
    MIRROR_HUB_BUCKET: OLD,
    MIRROR_HUB_REGION: "us-east-1",
    MIRROR_HUB_PROVIDER: "Ceph",
    MIRROR_HUB_PATH_STYLE: "true",
    MIRROR_HUB_PREFIX: "buckets/photos/",
    HUB_ACCESS_KEY_ID: rgw.adminAccessKeyId,
    HUB_SECRET_ACCESS_KEY: rgw.adminSecretAccessKey,
  });
  expect(mirror.code, mirror.stderr).toBe(0);
  // Longhorn and Velero as their layouts name their objects (test/support/statusData.ts, after
  // components/alerts/hubReader.mjs's sources), staged locally and uploaded with rclone.
  const stage = new HubStage(path.join(dir, "stage"));
  const now = Math.floor(Date.now() / 1000);
  stage.longhorn("pvc-wiki-data", now - 10 * DAY, [now - 2 * DAY, now - 3 * HOUR], 3);
  stage.velero("daily", now - 2 * HOUR);
  stage.kopia(3);
  const up = await sh("rclone", ["--config", "", "copy", stage.dir, `hub:${OLD}`], hubEnv(OLD));
  expect(up.code, up.stderr).toBe(0);

  // The off-site copy, by the program's own scripts, from the old hub to the FTP server.
  const o = offsiteOf(stack)!;
  const offsite = { ...o, ftp: { ...o.ftp, host: "127.0.0.1", port: ftp.port, user: FTP_USER } };
  const conn = { ...hubConnection(stack.hub!), endpoint: rgw.endpoint, bucket: OLD, region: "us-east-1" };
  const conf = path.join(dir, "offsite-rclone.conf");
  const base = { ...ftpEnv(), OFFSITE_RCLONE_FLAGS: "--retries 1 --low-level-retries 2 --timeout 20s" };
  const wc = await sh(
    "sh",
    [path.join(REPO, "components/offsite/write-config.sh"), conf],
    { ...base, ...offsiteConfigEnv(offsite, conn) },
    offsiteSecretsStdin(FTP_PASSWORD, KEY, rgw.adminAccessKeyId, rgw.adminSecretAccessKey),
  );
  expect(wc.code, wc.stderr).toBe(0);
  const sync = await sh("sh", [path.join(REPO, "components/offsite/offsite-sync.sh")], {
    ...base,
    ...offsiteSyncEnv(offsite, conn, { rcloneConfig: conf, rclone: "rclone" }),
  });
  expect(sync.code, sync.stderr).toBe(0);

  // The disk dies: every object of the old hub, and the bucket, are gone.
  before = await objects(OLD);
  for (const k of before.keys()) await hub.send(new DeleteObjectCommand({ Bucket: OLD, Key: k }));
  await hub.send(new DeleteBucketCommand({ Bucket: OLD }));
}, 900_000);

afterAll(async () => {
  hub?.destroy();
  await Promise.all([rgw?.stop(), ftp?.stop(), pg?.stop()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("the hub's disk died: the runbook rebuilds the hub from the off-site copy", () => {
  it("brings every backup of every class back byte-identical; status finds every item fresh and verified; a PostgreSQL dump restores from the rebuilt hub", async () => {
    const classes = new Set([...before.keys()].map((k) => k.split("/")[0]));
    expect([...classes].sort()).toEqual(["buckets", "etcd-snapshots", "longhorn", "postgres-backups", "velero"]);
    const NEW = "hub-rebuilt";
    await hub.send(new CreateBucketCommand({ Bucket: NEW }));
    const ws = workstation(NEW);
    const r = await pasteRun([runbookBlock()], { cwd: ws.cwd, binDirs: [ws.bin], env: ftpEnv(), timeoutMs: 300_000 });
    expect(r.code, r.stderr).toBe(0);
    const after = await objects(NEW);
    // The copy carries the prefixes the stack lists (all of them in the example); staging objects too.
    expect(new Map([...after].filter(([k]) => k !== "homelab-backup-keycheck"))).toEqual(before);

    // `npm run status` on the rebuilt hub: every item present, fresh and verified, read from the hub alone.
    const outputs = path.join(dir, "outputs.json");
    writeFileSync(
      outputs,
      JSON.stringify({
        statusSpec: statusSpecFor(
          { endpoint: rgw.endpoint, bucket: NEW, provider: "Ceph" },
          { postgres: ["wiki"], velero: ["daily"], mirrors: ["photos"] },
        ),
        statusReaderAccessKeyId: rgw.adminAccessKeyId,
        statusReaderSecretAccessKey: rgw.adminSecretAccessKey,
        hubBucket: NEW,
      }),
    );
    const status = await run(
      process.execPath,
      ["--import", "tsx", path.join(REPO, "tools/status.ts"), "--outputs", outputs, "--json"],
      {
        cwd: REPO,
        env: childEnv(),
      },
    ).catch((e) => e);
    const rep = JSON.parse(status.stdout);
    expect(rep.rows.map((r: any) => `${r.cls}/${r.item} ${r.state} ${r.verified}`).sort(), status.stderr).toEqual([
      "buckets/photos fresh true",
      "etcd/cp-1 fresh true",
      "longhorn/pvc-wiki-data fresh true",
      "postgres/wiki fresh true",
      "velero/daily fresh true",
    ]);
    expect(rep.exitCode).toBe(0);

    const restored = await sh("bash", [path.join(REPO, "components/postgres/restore.sh")], {
      ...pg.env,
      ...hubEnv(NEW),
      DUMP_NAME: "wiki",
      TARGET_DATABASE: "wiki_restored",
      TMPDIR: dir,
    });
    expect(restored.code, restored.stderr).toBe(0);
    expect(await pg.psql("SELECT count(*), md5(string_agg(body, '' ORDER BY id)) FROM pages", "wiki_restored")).toBe(
      await pg.psql("SELECT count(*), md5(string_agg(body, '' ORDER BY id)) FROM pages", "wiki"),
    );
  }, 600_000);

  it("fails with a wrong key, writing nothing", async () => {
    const NEW = "hub-rebuilt-wrong-key";
    await hub.send(new CreateBucketCommand({ Bucket: NEW }));
    const ws = workstation(NEW, randomBytes(32).toString("hex"));
    const r = await pasteRun([runbookBlock()], { cwd: ws.cwd, binDirs: [ws.bin], env: ftpEnv(), timeoutMs: 300_000 });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("WRONG ENCRYPTION KEY");
    expect((await objects(NEW)).size).toBe(0);
  }, 600_000);

  it("fails when one file of the off-site copy was altered", async () => {
    // The largest encrypted file on the FTP server (not the key-check file), one byte flipped.
    const files: string[] = [];
    const walk = (d: string) => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        const p = path.join(d, e.name);
        if (e.isDirectory()) walk(p);
        else files.push(p);
      }
    };
    walk(ftpDir);
    const victim = files.filter((f) => !f.includes("keycheck")).sort((a, b) => statSync(b).size - statSync(a).size)[0];
    const bytes = readFileSync(victim);
    bytes[Math.floor(bytes.length / 2)] ^= 0x01;
    writeFileSync(victim, bytes);
    const NEW = "hub-rebuilt-altered";
    await hub.send(new CreateBucketCommand({ Bucket: NEW }));
    const ws = workstation(NEW);
    const r = await pasteRun([runbookBlock()], { cwd: ws.cwd, binDirs: [ws.bin], env: ftpEnv(), timeoutMs: 300_000 });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/failed to authenticate decrypted block|bad decrypt/i);
  }, 600_000);
});
