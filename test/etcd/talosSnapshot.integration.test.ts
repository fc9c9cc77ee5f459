/**
 * talos-snapshot.sh under BusyBox (the rclone image is Alpine) against a real etcd 3.4, a real S3 peer
 * and a loopback HTTP server that plays the Talos release page.
 *
 * No Talos API can run here. talosctl is replaced by a stand-in served from the loopback "release page"
 * that keeps talosctl's contract for `etcd snapshot <path>` (siderolabs/talos
 * cmd/talosctl/cmd/talos/etcd.go): stream etcd's snapshot to `<path>.part`, rename it to `<path>`
 * only when complete, exit non-zero on any error. The snapshot itself is real: the stand-in asks the
 * real etcd for it (`etcdctl snapshot save`, the same Maintenance/Snapshot stream the Talos API
 * relays), and the faults are what a broken stream or a refused role would produce.
 */
import { execFile, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { talosRestoreRunbook } from "../../components/etcd/restore.js";
import { pasteRun, pulumiStandIn, shellBlocks } from "../support/pasteRun.js";
import { childEnv, startS3Peer, type S3Peer } from "../support/s3peer.js";
import { freePort } from "../support/net.js";
import { startEtcd, stopEtcd, type Etcd } from "../support/etcd.js";

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, "..", "..");
const TALOS_SCRIPT = path.join(ROOT, "components", "etcd", "talos-snapshot.sh");
const OFFLOAD_SCRIPT = path.join(ROOT, "components", "etcd", "offload.sh");

/** The stand-in talosctl; FAKE_MODE picks the fault, FAKE_LOG records each invocation's arguments. */
const FAKE_TALOSCTL = `#!/bin/sh
set -eu
printf '%s\\n' "$*" >> "$FAKE_LOG"
while [ "$1" = --nodes ]; do shift 2; done
[ "$1 $2" = "etcd snapshot" ] || { echo "unexpected: $*" >&2; exit 2; }
dest="$3"
case "$FAKE_MODE" in
  denied) echo 'rpc error: code = PermissionDenied desc = not authorized' >&2; exit 1 ;;
  ok) etcdctl --endpoints "$FAKE_ETCD" snapshot save "$dest.part" >/dev/null ;;
  corrupt) head -c 65568 /dev/urandom > "$dest.part" ;;
  truncated) etcdctl --endpoints "$FAKE_ETCD" snapshot save "$dest.full" >/dev/null
             size=$(stat -c %s "$dest.full"); head -c $((size - 4096)) "$dest.full" > "$dest.part"; rm "$dest.full" ;;
  empty) : ;;
esac
[ "$FAKE_MODE" = empty ] && exit 0
mv "$dest.part" "$dest"
echo "etcd snapshot saved to \\"$dest\\" ($(stat -c %s "$dest") bytes)"
`;
const FAKE_SHA = createHash("sha256").update(FAKE_TALOSCTL).digest("hex");
const VERSION = "v1.13.10";

let peer: S3Peer;
let dir: string;
let bbDir: string;
let etcd1: Etcd | undefined;
let etcd2: Etcd | undefined;
let releases: Server;
let releaseBase: string;
let downloads: string[] = [];
let servedBinary = FAKE_TALOSCTL;

async function talosSnapshot(
  extra: Record<string, string> = {},
): Promise<{ code: number; stderr: string; work: string }> {
  const work = mkdtempSync(path.join(dir, "work-"));
  return new Promise((resolve) => {
    const child = spawn("busybox", ["sh", TALOS_SCRIPT], {
      env: childEnv({
        ...peer.rcloneEnv,
        // BusyBox applets first, as in the Alpine image; rclone and etcdctl from the host.
        PATH: `${bbDir}:${process.env.PATH}`,
        WORK_DIR: work,
        HUB_BUCKET: "backups",
        HUB_PREFIX: "etcd-snapshots",
        TALOSCTL_VERSION: VERSION,
        TALOSCTL_URL_BASE: releaseBase,
        TALOSCTL_SHA256_AMD64: FAKE_SHA,
        TALOSCTL_SHA256_ARM64: FAKE_SHA,
        OFFLOAD_SCRIPT,
        RCLONE_CONFIG: path.join(dir, "none.conf"),
        HOME: work,
        FAKE_ETCD: etcd1!.client,
        FAKE_LOG: path.join(dir, "talosctl.log"),
        FAKE_MODE: "ok",
        ...extra,
      }),
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr!.on("data", (d) => (stderr += d));
    child.on("exit", (code) => resolve({ code: code ?? -1, stderr, work }));
  });
}

async function hubList(): Promise<string[]> {
  const { stdout } = await run("rclone", ["lsf", "-R", "--files-only", "hub:backups/etcd-snapshots/"], {
    env: childEnv(peer.rcloneEnv),
  });
  return stdout.split("\n").filter(Boolean).sort();
}
const finals = async () => (await hubList()).filter((f) => f.startsWith("talos/") && !f.endsWith(".json"));

beforeAll(async () => {
  peer = await startS3Peer(["backups"]);
  dir = mkdtempSync(path.join(tmpdir(), "talos-snapshot-"));
  bbDir = path.join(dir, "busybox");
  mkdirSync(bbDir);
  const { stdout } = await run("busybox", ["--list"]);
  for (const applet of stdout.split("\n").filter(Boolean)) symlinkSync("/usr/bin/busybox", path.join(bbDir, applet));
  releases = createServer((req, res) => {
    downloads.push(req.url ?? "");
    const m = /^\/v[\d.]+\/talosctl-linux-(amd64|arm64)$/.exec(req.url ?? "");
    if (!m) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": "application/octet-stream" }).end(servedBinary);
  });
  const port = await freePort();
  await new Promise<void>((r) => releases.listen(port, "127.0.0.1", r));
  releaseBase = `http://127.0.0.1:${port}`;
  etcd1 = await startEtcd("t1", path.join(dir, "data1"), await freePort(), await freePort());
  for (let i = 0; i < 40; i++)
    await run("etcdctl", ["--endpoints", etcd1.client, "put", `/registry/talos/key-${i}`, `value-${i}`], {
      env: childEnv(),
    });
}, 60_000);

afterAll(async () => {
  await stopEtcd(etcd1);
  await stopEtcd(etcd2);
  await new Promise((r) => releases?.close(r));
  await peer?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("talos-snapshot.sh: snapshot through the Talos API, offloaded like k3s", () => {
  it("fetches the pinned talosctl, takes a snapshot, stages it, and writes a record whose sha256 matches", async () => {
    const res = await talosSnapshot({ TALOS_NODE: "10.0.0.2" });
    expect(res.code, res.stderr).toBe(0);
    expect(downloads.at(-1)).toMatch(new RegExp(`^/${VERSION}/talosctl-linux-(amd64|arm64)$`));
    expect(readFileSync(path.join(dir, "talosctl.log"), "utf8").trim().split("\n").at(-1)).toMatch(
      /^--nodes 10\.0\.0\.2 etcd snapshot \/.+\/snapshots\/etcd-snapshot-talos-\d{8}T\d{6}Z$/,
    );
    const listed = await hubList();
    const [snap] = await finals();
    expect(snap).toMatch(/^talos\/etcd-snapshot-talos-\d{8}T\d{6}Z$/);
    expect(listed).toContain(`.partial/${snap}`);
    expect(listed).toContain(`${snap}.json`);

    const local = path.join(dir, "download");
    mkdirSync(local);
    await run("rclone", ["copy", "hub:backups/etcd-snapshots/talos/", local], { env: childEnv(peer.rcloneEnv) });
    const file = path.join(local, path.basename(snap));
    const record = JSON.parse(readFileSync(`${file}.json`, "utf8"));
    expect(record.sha256).toBe(createHash("sha256").update(readFileSync(file)).digest("hex"));
    expect(record.size).toBe(statSync(file).size);
    expect(record.node).toBe("talos");
    expect(record.check).toBe("size-stable+sha256+etcd sha256 trailer ok");

    // The offloaded snapshot restores into a new etcd that serves the keys.
    const peerPort = await freePort();
    const data2 = path.join(dir, "data2");
    await run(
      "etcdctl",
      [
        "snapshot",
        "restore",
        file,
        "--data-dir",
        data2,
        "--name",
        "t2",
        "--initial-cluster",
        `t2=http://127.0.0.1:${peerPort}`,
        "--initial-advertise-peer-urls",
        `http://127.0.0.1:${peerPort}`,
      ],
      { env: childEnv() },
    );
    etcd2 = await startEtcd("t2", data2, await freePort(), peerPort);
    const { stdout } = await run(
      "etcdctl",
      ["--endpoints", etcd2.client, "get", "--prefix", "/registry/talos/", "--keys-only"],
      { env: childEnv() },
    );
    expect(stdout.split("\n").filter(Boolean)).toHaveLength(40);
    await stopEtcd(etcd2);
  }, 60_000);

  it("the plan's Talos restore steps 1-2 run as pasted: fetch the newest snapshot and check it against its record", async () => {
    const ws = mkdtempSync(path.join(dir, "workstation-"));
    const outputs = {
      hubEndpoint: peer.endpoint,
      hubRegion: "us-east-1",
      hubBucket: "backups",
      etcdRestoreAccessKeyId: peer.accessKeyId,
      etcdRestoreSecretAccessKey: peer.secretAccessKey,
    };
    const bin = pulumiStandIn(ws, { outputs });
    const book = talosRestoreRunbook({
      kind: "pi",
      endpoint: "http://hub.lan:9000",
      bucket: "backups",
      region: "us-east-1",
      pathStyle: true,
      server: "minio",
    });
    const blocks = shellBlocks(book);
    expect(blocks).toHaveLength(3);
    const res = await pasteRun(blocks.slice(0, 2), { cwd: ws, binDirs: [bin] });
    expect(res.code, res.stderr).toBe(0);
    const [snap] = await finals();
    const name = path.basename(snap);
    expect(res.stdout).toContain(`./${name}: OK`);
    expect(readFileSync(path.join(ws, name))).toEqual(readFileSync(path.join(dir, "download", name)));

    // A record that does not match stops the paste before anything is reset.
    const bad = mkdtempSync(path.join(dir, "workstation-"));
    const badBin = pulumiStandIn(bad, { outputs });
    const tampered = blocks[1].replace(
      `"./$SNAP.json"\n`,
      // Every digit replaced: a record that names another digest whatever the real one is.
      `"./$SNAP.json"\nsed -i 's/"sha256":"[0-9a-f]*"/"sha256":"${"0".repeat(64)}"/' "./$SNAP.json"\n`,
    );
    expect(tampered).not.toBe(blocks[1]);
    const failed = await pasteRun([blocks[0], tampered], { cwd: bad, binDirs: [badBin] });
    expect(failed.code).not.toBe(0);
    expect(failed.stdout + failed.stderr).toMatch(/FAILED/);
  }, 60_000);

  it("refuses a talosctl whose sha256 is not the pinned one and never runs it", async () => {
    const before = await hubList();
    const logBefore = readFileSync(path.join(dir, "talosctl.log"), "utf8");
    servedBinary = FAKE_TALOSCTL.replace("set -eu", "set -eu # tampered");
    try {
      const res = await talosSnapshot();
      expect(res.code).not.toBe(0);
      expect(res.stderr).toContain(`FAIL talosctl ${VERSION}`);
      expect(res.stderr).toContain("refusing to run it");
      expect(readdirSync(path.join(res.work, "bin"))).toEqual([]);
    } finally {
      servedBinary = FAKE_TALOSCTL;
    }
    expect(readFileSync(path.join(dir, "talosctl.log"), "utf8")).toBe(logBefore);
    expect(await hubList()).toEqual(before);
  }, 30_000);

  it("fails without uploading when the Talos API refuses the role", async () => {
    const before = await hubList();
    const res = await talosSnapshot({ FAKE_MODE: "denied" });
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain("PermissionDenied");
    expect(res.stderr).toContain("FAIL talosctl etcd snapshot");
    expect(await hubList()).toEqual(before);
  }, 30_000);

  it.each([
    ["corrupt", "random bytes"],
    ["truncated", "a snapshot cut short"],
  ])(
    "refuses a %s snapshot (%s) that talosctl handed over as finished, uploads nothing, fails the run",
    async (mode) => {
      const before = await hubList();
      const res = await talosSnapshot({ FAKE_MODE: mode });
      expect(res.code).not.toBe(0);
      expect(res.stderr).toMatch(/FAIL etcd-snapshot-talos-\d{8}T\d{6}Z: no valid sha256 trailer/);
      expect(await hubList()).toEqual(before);
    },
    30_000,
  );

  it("fails when talosctl exits 0 but wrote nothing", async () => {
    const res = await talosSnapshot({ FAKE_MODE: "empty" });
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain("wrote no snapshot");
  }, 30_000);

  it("fails, with nothing final at the hub, when the hub refuses the upload", async () => {
    const before = await finals();
    const res = await talosSnapshot({ HUB_BUCKET: "no-such-bucket" });
    expect(res.code).not.toBe(0);
    expect(await finals()).toEqual(before);
  }, 30_000);

  it("refuses a CPU it has no pinned talosctl for", async () => {
    const res = await talosSnapshot({ ARCH: "riscv64" });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain("no pinned talosctl for CPU riscv64");
  });
});
