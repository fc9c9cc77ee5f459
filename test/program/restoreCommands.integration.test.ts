/**
 * The restore commands of plan.md run as printed (issue 15, point 4). plan.md is rendered from the
 * example stack by the program's own renderPlan; the fenced blocks of one "How to restore" section are
 * pasted into one bash on a "workstation" whose PATH has rclone, coreutils and the stand-ins of
 * test/support/pasteRun.ts (pulumi answering stack outputs; kubectl answering `get secret`), against a
 * real Ceph RGW on loopback as the hub.
 *
 * Only what a person types is replaced: the `<name>` / `<time>` placeholders, and variables the plan
 * offers for it (SRC_ENDPOINT). The hub's address reaches the commands through the `hubEndpoint` output,
 * which the stand-in points at the loopback gateway.
 */
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { offsiteOf, parseStackConfig, type StackConfig } from "../../components/config.js";
import { hubConnection } from "../../components/core/hubConnection.js";
import { ADMIN_USER } from "../../components/hub/pi/piHubSteps.js";
import { ensureRgwWriter, s3Client, type S3Credentials } from "../../components/hub/s3/s3Api.js";
import { hubWriterSpecs } from "../../components/hub/s3/s3Settings.js";
import { offsiteConfigEnv, offsiteSecretsStdin, offsiteSyncEnv } from "../../components/offsite/logic.js";
import { renderPlan } from "../../components/plan.js";
import { kubectlStandIn, pasteRun, pulumiStandIn, shellBlocks } from "../support/pasteRun.js";
import { startRgw, type RgwServer } from "../support/rgw.js";
import { childEnv } from "../support/s3peer.js";
import { exampleStack, REPO } from "../support/stackFiles.js";
import { startVsftpd, type Vsftpd } from "../support/vsftpd.js";

let rgw: RgwServer;
let stack: StackConfig;
let examplePlan: string;
let dir: string;
let hub: S3Client;
const ADMIN_PASSWORD = randomBytes(18).toString("base64url");
const keys: Record<string, S3Credentials> = {};
// The test's own clients sign for us-east-1 (RGW's default zonegroup takes no other location constraint);
// the pasted commands use the stack's region label from the hubRegion output.
const target = () => ({ endpoint: rgw.endpoint, region: "us-east-1" });

/** The text of one `### <title>` section of "How to restore" of `plan`. */
function restoreSection(title: string, plan = examplePlan): string {
  const from = plan.indexOf("## How to restore");
  expect(from).toBeGreaterThan(0);
  const start = plan.indexOf(`\n### ${title}\n`, from);
  expect(start, `section ${title}`).toBeGreaterThan(0);
  const next = plan.slice(start + 1).search(/\n##+ /);
  return next < 0 ? plan.slice(start) : plan.slice(start, start + 1 + next);
}

/** Stack outputs as `pulumi stack output` would print them, the hub at the loopback gateway. */
function outputs(extra: Record<string, string> = {}): Record<string, string> {
  return {
    hubEndpoint: rgw.endpoint,
    hubRegion: stack.hub!.region,
    hubBucket: stack.hub!.bucket,
    hubAdminPassword: ADMIN_PASSWORD,
    etcdRestoreAccessKeyId: keys.etcd.accessKeyId,
    etcdRestoreSecretAccessKey: keys.etcd.secretAccessKey,
    bucketsRestoreAccessKeyId: keys.buckets.accessKeyId,
    bucketsRestoreSecretAccessKey: keys.buckets.secretAccessKey,
    ...extra,
  };
}

function workstation(): string {
  return mkdtempSync(path.join(dir, "ws-"));
}

async function body(client: S3Client, bucket: string, key: string): Promise<string> {
  const r = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return await r.Body!.transformToString();
}

async function put(client: S3Client, bucket: string, key: string, text: string | Buffer): Promise<void> {
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: text }));
}

beforeAll(async () => {
  stack = parseStackConfig(exampleStack().config);
  expect(stack.hub?.kind, "the example stack's hub is a Pi hub").toBe("pi");
  examplePlan = renderPlan(stack);
  dir = mkdtempSync(path.join(tmpdir(), "restore-commands-"));
  rgw = await startRgw({ timeoutMs: 480_000 });
  // The Pi hub's admin login: user name = access key, password = secret key (as on Silo and RustFS).
  await rgw.radosgwAdmin([
    "key",
    "create",
    `--uid=${ADMIN_USER}`,
    "--key-type=s3",
    `--access-key=${ADMIN_USER}`,
    `--secret-key=${ADMIN_PASSWORD}`,
  ]);
  const admin = { accessKeyId: rgw.adminAccessKeyId, secretAccessKey: rgw.adminSecretAccessKey };
  hub = s3Client(target(), admin);
  const bucket = stack.hub!.bucket;
  await hub.send(new CreateBucketCommand({ Bucket: bucket }));
  await hub.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: "Enabled" } }));
  // The restore keys are the writers' keys with the writers' own policies.
  for (const w of hubWriterSpecs(bucket, ["etcd", "buckets"])) {
    keys[w.writer] = {
      accessKeyId: randomBytes(10).toString("hex").toUpperCase(),
      secretAccessKey: randomBytes(20).toString("base64url"),
    };
    await ensureRgwWriter(target(), admin, { userName: w.userName, key: keys[w.writer], policy: w.policy });
  }
}, 600_000);

afterAll(async () => {
  hub?.destroy();
  await rgw?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("plan.md restore commands run as printed (example stack, real RGW hub)", () => {
  it("Hub: brings back overwritten and deleted versions with the admin login", async () => {
    const blocks = shellBlocks(restoreSection("Hub"));
    // Rotate a key (needs `pulumi up`: not run here), list the versions, bring them back.
    expect(blocks).toHaveLength(3);
    const [list, bringBack] = blocks.slice(1);
    expect(list).toContain('PREFIX="postgres-backups/<name>/"');
    expect(bringBack).toContain('AT="<time>"');
    expect(list + bringBack).not.toContain("backup1.lab.home.arpa");

    const bucket = stack.hub!.bucket;
    const dump = "postgres-backups/wiki/wiki-20260501T010000Z.dump";
    const gone = "postgres-backups/wiki/wiki-20260501T010000Z.dump.json";
    await put(hub, bucket, dump, "dump v1");
    await put(hub, bucket, gone, '{"sha256":"v1"}');
    await new Promise((r) => setTimeout(r, 2100));
    const at = new Date(Date.now() - 1000).toISOString().replace(/\.\d+Z$/, "Z");
    await new Promise((r) => setTimeout(r, 1100));
    await put(hub, bucket, dump, "dump v2, overwritten");
    await hub.send(new DeleteObjectCommand({ Bucket: bucket, Key: gone }));
    expect(await body(hub, bucket, dump)).toBe("dump v2, overwritten");

    const pasted = [list.replace("<name>", "wiki"), bringBack.replace("<time>", at)];
    const ws = workstation();
    const res = await pasteRun(pasted, { cwd: ws, binDirs: [pulumiStandIn(ws, { outputs: outputs() })] });
    expect(res.code, res.stderr).toBe(0);
    // The listing shows the earlier version under its version name.
    expect(res.stdout).toMatch(/wiki-20260501T010000Z-v\d{4}-\d\d-\d\d-\d{6}-\d{3}\.dump/);
    expect(await body(hub, bucket, dump)).toBe("dump v1");
    expect(await body(hub, bucket, gone)).toBe('{"sha256":"v1"}');

    // With a wrong admin password the paste stops with an error and changes nothing.
    await put(hub, bucket, dump, "dump v3");
    const bad = workstation();
    const failed = await pasteRun(pasted, {
      cwd: bad,
      binDirs: [pulumiStandIn(bad, { outputs: outputs({ hubAdminPassword: "not-the-password" }) })],
    });
    expect(failed.code).not.toBe(0);
    expect(await body(hub, bucket, dump)).toBe("dump v3");
  }, 60_000);

  it("etcd: steps 1-2 fetch the newest snapshot with the etcd key and check its sha256", async () => {
    const blocks = shellBlocks(restoreSection("etcd snapshots"));
    const steps = blocks.slice(0, 2);
    expect(steps[0]).toContain("etcdRestoreAccessKeyId");
    const bucket = stack.hub!.bucket;
    const node = "server-1";
    const older = randomBytes(4096);
    const snap = randomBytes(64 * 1024);
    const name = "etcd-snapshot-server-1-1780000000";
    const record = (b: Buffer) => JSON.stringify({ sha256: createHash("sha256").update(b).digest("hex"), node });
    await put(hub, bucket, `etcd-snapshots/${node}/etcd-snapshot-server-1-1770000000`, older);
    await put(hub, bucket, `etcd-snapshots/${node}/etcd-snapshot-server-1-1770000000.json`, record(older));
    await put(hub, bucket, `etcd-snapshots/${node}/${name}`, snap);
    await put(hub, bucket, `etcd-snapshots/${node}/${name}.json`, record(snap));

    const ws = workstation();
    // A shell that exports NODE (npm does, some profiles do) picks the server directory all the same.
    const res = await pasteRun(steps, {
      cwd: ws,
      binDirs: [pulumiStandIn(ws, { outputs: outputs() })],
      env: { NODE: "/usr/bin/node" },
    });
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toContain(`./${name}: OK`);
    expect(readFileSync(path.join(ws, name))).toEqual(snap);

    // A snapshot that no longer matches its record stops the paste.
    await put(
      hub,
      bucket,
      `etcd-snapshots/${node}/${name}`,
      Buffer.concat([snap.subarray(0, -1), Buffer.from([snap[snap.length - 1] ^ 0xff])]),
    );
    const bad = workstation();
    const failed = await pasteRun(steps, { cwd: bad, binDirs: [pulumiStandIn(bad, { outputs: outputs() })] });
    expect(failed.code).not.toBe(0);
    expect(failed.stdout + failed.stderr).toMatch(/FAILED/);
  }, 60_000);

  it("buckets: syncs the mirror back into the source bucket with the buckets key and the source Secret's keys", async () => {
    const m = stack.buckets!.mirrors[0];
    const blocks = shellBlocks(restoreSection("Object-store buckets"));
    expect(blocks).toHaveLength(1);
    expect(blocks[0]).toContain(`SRC_ENDPOINT="\${SRC_ENDPOINT:-${m.source.endpoint}}"`);

    const bucket = stack.hub!.bucket;
    const objects: Record<string, string> = {
      "2026/05/01/img-0001.jpg": randomBytes(2048).toString("base64"),
      "2026/05/02/img-0002.jpg": randomBytes(1024).toString("base64"),
      "albums.json": '{"albums":[]}',
    };
    for (const [k, v] of Object.entries(objects)) await put(hub, bucket, `buckets/${m.name}/${k}`, v);
    // The source bucket is gone; its owner (the ObjectBucketClaim's user) and its keys remain.
    const owner: S3Credentials = {
      accessKeyId: randomBytes(10).toString("hex").toUpperCase(),
      secretAccessKey: randomBytes(20).toString("base64url"),
    };
    await rgw.radosgwAdmin([
      "user",
      "create",
      "--uid=photos-owner",
      "--display-name=photos bucket owner",
      `--access-key=${owner.accessKeyId}`,
      `--secret=${owner.secretAccessKey}`,
    ]);
    const secretName = `${m.source.credentialsSecret.namespace}/${m.source.credentialsSecret.name}`;
    const paste = async (secret: S3Credentials) => {
      const ws = workstation();
      pulumiStandIn(ws, { outputs: outputs() });
      const bin = kubectlStandIn(ws, {
        [secretName]: { AWS_ACCESS_KEY_ID: secret.accessKeyId, AWS_SECRET_ACCESS_KEY: secret.secretAccessKey },
      });
      // The stack's endpoint is an in-cluster address; the plan lets a person point SRC_ENDPOINT elsewhere.
      return pasteRun(blocks, { cwd: ws, binDirs: [bin], env: { SRC_ENDPOINT: rgw.endpoint } });
    };

    // Keys the source does not know: the paste fails.
    const failed = await paste({ accessKeyId: "NOSUCHKEY0000", secretAccessKey: "nope" });
    expect(failed.code).not.toBe(0);

    const res = await paste(owner);
    expect(res.code, res.stderr).toBe(0);
    const src = s3Client(target(), owner);
    try {
      const listed = await src.send(new ListObjectsV2Command({ Bucket: m.source.bucket }));
      expect((listed.Contents ?? []).map((o) => o.Key).sort()).toEqual(Object.keys(objects).sort());
      for (const [k, v] of Object.entries(objects)) expect(await body(src, m.source.bucket, k)).toBe(v);
    } finally {
      src.destroy();
    }
  }, 60_000);
});

describe("plan.md off-site restore command (example stack, its FTP server on loopback)", () => {
  const FTP_USER = "hbrestorecmdftp";
  const FTP_PASSWORD = "restore-Pa55'word\"%";
  const KEY = randomBytes(32).toString("hex");
  const SOURCE = "offsite-source";
  const files: Record<string, Buffer> = {
    "longhorn/backupstore/volumes/vol-1/backup.cfg": Buffer.from("longhorn backup config\n".repeat(50)),
    "postgres-backups/wiki/wiki-20261123T030000Z.dump": randomBytes(300_000),
    "velero/backups/daily-20261123/velero-backup.json": Buffer.from('{"kind":"Backup"}'),
  };
  let ftp: Vsftpd;
  let offsitePlan: string;
  // rclone 1.60 and vsftpd 3.0.3 fail TLS 1.3 on the data connection (as in test/offsite); the
  // self-signed certificate is still verified through SSL_CERT_FILE.
  const ftpEnv = () => ({ SSL_CERT_FILE: ftp.certFile, OFFSITE_FTP_DISABLE_TLS13: "true" });

  const sh = (args: string[], env: NodeJS.ProcessEnv, stdin = "") =>
    new Promise<{ code: number; stderr: string }>((resolve) => {
      const child = spawn("sh", args, { env, stdio: ["pipe", "ignore", "pipe"] });
      let stderr = "";
      child.stderr.on("data", (d) => (stderr += d));
      child.on("close", (code) => resolve({ code: code ?? -1, stderr }));
      child.stdin.on("error", () => undefined);
      child.stdin.end(stdin);
    });

  beforeAll(async () => {
    const ftpDir = path.join(dir, "ftp");
    mkdirSync(ftpDir);
    chmodSync(dir, 0o755);
    ftp = await startVsftpd(ftpDir, FTP_USER, FTP_PASSWORD);
    // The example stack as written, but its FTP server is the loopback vsftpd and its login the test's user.
    const o = offsiteOf(stack)!;
    const offsite = { ...o, ftp: { ...o.ftp, host: "127.0.0.1", port: ftp.port, user: FTP_USER } };
    offsitePlan = renderPlan({ ...stack, offsite });
    // The copy is made by the program's own scripts: write-config.sh, then offsite-sync.sh from the hub.
    const admin = { accessKeyId: rgw.adminAccessKeyId, secretAccessKey: rgw.adminSecretAccessKey };
    await hub.send(new CreateBucketCommand({ Bucket: SOURCE }));
    for (const [k, v] of Object.entries(files)) await put(hub, SOURCE, k, v);
    const conn = { ...hubConnection(stack.hub!), endpoint: rgw.endpoint, bucket: SOURCE };
    const conf = path.join(dir, "offsite-rclone.conf");
    const base = childEnv({ ...ftpEnv(), OFFSITE_RCLONE_FLAGS: "--retries 1 --low-level-retries 2 --timeout 20s" });
    const wc = await sh(
      [path.join(REPO, "components/offsite/write-config.sh"), conf],
      { ...base, ...offsiteConfigEnv(offsite, conn) },
      offsiteSecretsStdin(FTP_PASSWORD, KEY, admin.accessKeyId, admin.secretAccessKey),
    );
    expect(wc.code, wc.stderr).toBe(0);
    const sync = await sh([path.join(REPO, "components/offsite/offsite-sync.sh")], {
      ...base,
      ...offsiteSyncEnv(offsite, conn, { rcloneConfig: conf, rclone: "rclone" }),
    });
    expect(sync.code, sync.stderr).toBe(0);
  }, 120_000);

  afterAll(async () => {
    await ftp?.stop();
  });

  /**
   * A workstation with a checkout of the repository's restore script and the rclone remotes it sources
   * (the command runs it by its path; it sources ../core/rclone-remotes.sh from its own directory).
   */
  function checkout(): string {
    const ws = workstation();
    for (const f of ["components/offsite/restore-offsite.sh", "components/core/rclone-remotes.sh"]) {
      mkdirSync(path.dirname(path.join(ws, f)), { recursive: true });
      copyFileSync(path.join(REPO, f), path.join(ws, f));
    }
    return ws;
  }

  function restored(root: string): string[] {
    const out: string[] = [];
    const walk = (d: string) => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        if (e.isDirectory()) walk(path.join(d, e.name));
        else out.push(path.relative(root, path.join(d, e.name)));
      }
    };
    walk(root);
    return out.sort();
  }

  it("restores byte-identical files with the key from the stack output and the FTP password from the config", async () => {
    const blocks = shellBlocks(restoreSection("Off-site encrypted copy", offsitePlan));
    expect(blocks).toHaveLength(1);
    const pulumi = (key: string, ws: string) =>
      pulumiStandIn(ws, {
        outputs: outputs({ offsiteEncryptionKey: key }),
        config: { "homelab-backup:offsiteFtpPassword": FTP_PASSWORD },
      });

    const ws = checkout();
    const res = await pasteRun(blocks, { cwd: ws, binDirs: [pulumi(KEY, ws)], env: ftpEnv() });
    expect(res.code, res.stderr).toBe(0);
    const dest = path.join(ws, "offsite-restore");
    expect(restored(dest)).toEqual(Object.keys(files).sort());
    for (const [k, v] of Object.entries(files)) expect(readFileSync(path.join(dest, k)), k).toEqual(v);

    // Another key: the command fails and restores nothing.
    const bad = checkout();
    const failed = await pasteRun(blocks, {
      cwd: bad,
      binDirs: [pulumi(randomBytes(32).toString("hex"), bad)],
      env: ftpEnv(),
    });
    expect(failed.code).not.toBe(0);
    expect(failed.stderr).toContain("WRONG ENCRYPTION KEY");
    expect(readdirSync(bad)).not.toContain("offsite-restore");
  }, 60_000);
});
