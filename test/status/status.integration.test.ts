/**
 * `npm run status` against a real Ceph RGW (test/support/rgw.ts) holding every class's backups as their
 * producers lay them out: fresh, stale and missing items, a PostgreSQL dump whose record disagrees with
 * its object, and Longhorn block and Velero Kopia objects nobody should touch. It reads with the audit
 * reader's real policy (components/hub/iam.ts auditReaderPolicy, attached to an RGW user as the hub
 * does: ensureRgwWriter), through a recording proxy that sees every request the server gets.
 *
 * The command runs as a person runs it (`tsx tools/status.ts --outputs <file>`, no cluster, no
 * Kubernetes API anywhere), once for the table and once with --json; each row and the exit code are
 * checked, and the table says what the JSON says. Then the request log: no 403, no HEAD, nothing under
 * a Longhorn blocks/ directory or Velero's kopia/. The in-cluster audit (audit.mjs, same reader) is run
 * against the same hub with the same key and held to the same log, once without a cluster and once
 * against a loopback stand-in of the Kubernetes API, when it writes its PVC inventory; the drills'
 * record writer (components/drills/drill-record.sh) writes with the drills identity's and the
 * PostgreSQL writer's real policies; no 403 in either log, and status reads back what they wrote.
 */
import { spawn } from "node:child_process";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomBytes } from "node:crypto";
import { CreateBucketCommand } from "@aws-sdk/client-s3";
import { childEnv } from "../support/s3peer.js";
import { startRgw, type RgwServer } from "../support/rgw.js";
import { startRecordingProxy, type RecordingProxy } from "../support/recordingProxy.js";
import { DAY, HOUR, HubStage, stageStatusRecords, statusSpecFor } from "../support/statusData.js";
import type { StatusReport, StatusRow } from "../../tools/status.js";
import { auditReaderPolicy, writerPolicy } from "../../components/hub/iam.js";
import { AUDIT_METRICS } from "../../components/alerts/auditMetrics.js";
import { ensureRgwWriter, s3Client, type S3Credentials } from "../../components/hub/s3/s3Api.js";
import { offsiteOf, parseStackConfig } from "../../components/config.js";
import { hubConnection } from "../../components/core/hubConnection.js";
import {
  offsiteConfigEnv,
  offsiteFtpEnv,
  offsiteSecretsStdin,
  offsiteSyncEnv,
} from "../../components/offsite/logic.js";
import { exampleStack } from "../support/stackFiles.js";
import { startVsftpd, type Vsftpd } from "../support/vsftpd.js";

const ROOT = path.resolve(__dirname, "..", "..");
const BUCKET = "homelab-status";
const NOW = Math.floor(Date.now() / 1000);

let rgw: RgwServer;
let ftp: Vsftpd;
let proxy: RecordingProxy;
const FTP_USER = "hbstatusftp";
const FTP_PASSWORD = "st4tus-Ftp-pw";
const CRYPT_KEY = randomBytes(32).toString("hex");
let dir: string;
let reader: S3Credentials;
let admin: S3Credentials;

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", path.join(ROOT, "tools/status.ts"), ...args], {
      cwd: ROOT,
      env: childEnv(),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

function outputsFile(name: string, spec: object, key = { id: reader.accessKeyId, secret: reader.secretAccessKey }) {
  const file = path.join(dir, `${name}.json`);
  writeFileSync(
    file,
    JSON.stringify({
      statusSpec: spec,
      statusReaderAccessKeyId: key.id,
      statusReaderSecretAccessKey: key.secret,
      hubBucket: BUCKET,
    }),
  );
  return file;
}

let table: { code: number; stdout: string; stderr: string };
let json: { code: number; stdout: string; stderr: string };
let rep: StatusReport;
const row = (cls: string, item: string): StatusRow => {
  const r = rep.rows.find((x) => x.cls === cls && x.item === item);
  if (!r) throw new Error(`no row ${cls}/${item} in ${JSON.stringify(rep.rows.map((x) => `${x.cls}/${x.item}`))}`);
  return r;
};

const hubSpec = (over: Parameters<typeof statusSpecFor>[1] = {}) =>
  statusSpecFor({ endpoint: proxy.endpoint, bucket: BUCKET, provider: "Ceph" }, over);

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "status-"));
  // vsftpd's user must reach its home below it.
  chmodSync(dir, 0o755);
  [rgw, ftp] = await Promise.all([
    startRgw({ timeoutMs: 480_000 }),
    startVsftpd(path.join(dir, "ftp"), FTP_USER, FTP_PASSWORD),
  ]);
  admin = { accessKeyId: rgw.adminAccessKeyId, secretAccessKey: rgw.adminSecretAccessKey };
  const target = { endpoint: rgw.endpoint, region: "us-east-1" };
  await s3Client(target, admin).send(new CreateBucketCommand({ Bucket: BUCKET }));
  reader = {
    accessKeyId: randomBytes(10).toString("hex").toUpperCase(),
    secretAccessKey: randomBytes(20).toString("base64url"),
  };
  await ensureRgwWriter(target, admin, { userName: "status-audit", key: reader, policy: auditReaderPolicy(BUCKET) });
  const s = new HubStage(path.join(dir, "stage"));
  s.longhorn("pvc-11111111-fresh1", NOW - 10 * DAY, [NOW - 2 * DAY, NOW - HOUR], 3);
  s.longhorn("pvc-22222222-stale2", NOW - 20 * DAY, [NOW - 4 * DAY, NOW - 3 * DAY], 3);
  s.postgres("wiki", NOW - 30 * HOUR, "older dump");
  s.postgres("wiki", NOW - 3 * HOUR, "-- PostgreSQL database dump complete\n");
  s.postgres("shop", NOW - 2 * HOUR, "shop dump bytes", { recordSize: 999 });
  s.etcd("cp-1", NOW - 2 * HOUR, "snap-b");
  s.velero("daily", NOW - 2 * HOUR);
  s.velero("daily", NOW - 26 * HOUR);
  s.kopia(5);
  s.mirror("photos", NOW - 5 * HOUR, { "a.jpg": "a".repeat(100), "dir/b.jpg": "b".repeat(50) });
  stageStatusRecords(s, NOW);
  const up = await new Promise<number>((resolve) =>
    spawn("rclone", ["--config", "", "copy", "--transfers", "16", s.dir, `up:${BUCKET}`], {
      env: childEnv({
        RCLONE_CONFIG_UP_TYPE: "s3",
        RCLONE_CONFIG_UP_PROVIDER: "Ceph",
        RCLONE_CONFIG_UP_ENDPOINT: rgw.endpoint,
        RCLONE_CONFIG_UP_REGION: "us-east-1",
        RCLONE_CONFIG_UP_FORCE_PATH_STYLE: "true",
        RCLONE_CONFIG_UP_ACCESS_KEY_ID: admin.accessKeyId,
        RCLONE_CONFIG_UP_SECRET_ACCESS_KEY: admin.secretAccessKey,
      }),
      stdio: "ignore",
    }).on("close", (c) => resolve(c ?? 1)),
  );
  expect(up).toBe(0);
  proxy = await startRecordingProxy(rgw.endpoint);
  const file = outputsFile("outputs", hubSpec());
  table = await run(["--outputs", file]);
  json = await run(["--outputs", file, "--json"]);
  rep = JSON.parse(json.stdout) as StatusReport;
}, 900_000);

afterAll(async () => {
  await proxy?.stop();
  await Promise.all([rgw?.stop(), ftp?.stop()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 60_000);

/** What the request log must never show: a 403 (a read the policy refuses), a HEAD, a block or Kopia object. */
function forbiddenRequests() {
  return proxy.requests.filter(
    (r) =>
      r.status === 403 ||
      r.method === "HEAD" ||
      /\/blocks(\/|%2F)|blocks%2F|\/kopia(\/|%2F)|kopia%2F/i.test(r.url) ||
      (r.method === "GET" && /\.(blk|tar\.gz|zst)(\?|$)/.test(r.url)),
  );
}

describe("npm run status on the audit's kind of test data", () => {
  it("exits 1 (something stale or missing), the same with --json, and writes nothing to stderr", () => {
    expect(table.code, table.stderr).toBe(1);
    expect(json.code, json.stderr).toBe(1);
    expect(rep.exitCode).toBe(1);
    expect(table.stderr).toBe("");
  });

  it("Longhorn: volumes found on the hub without the cluster, fresh and stale", () => {
    expect(row("longhorn", "pvc-11111111-fresh1")).toMatchObject({
      state: "fresh",
      verified: true,
      newest: new Date((NOW - HOUR) * 1000).toISOString().replace(/\.000Z$/, "Z"),
      thresholdSeconds: DAY + 2 * HOUR,
      size: 2 * 2097152,
      restorePoints: 2,
    });
    expect(row("longhorn", "pvc-11111111-fresh1").ageSeconds! - HOUR).toBeLessThan(600);
    expect(row("longhorn", "pvc-22222222-stale2")).toMatchObject({ state: "stale", verified: true });
    expect(row("longhorn", "pvc-22222222-stale2").ageSeconds! - 3 * DAY).toBeLessThan(600);
  });

  it("PostgreSQL: a consistent dump is fresh, a record that disagrees with its object is not verified, a dump never made is missing", () => {
    expect(row("postgres", "wiki")).toMatchObject({
      state: "fresh",
      verified: true,
      size: "-- PostgreSQL database dump complete\n".length,
      restorePoints: 2,
    });
    expect(row("postgres", "shop")).toMatchObject({
      state: "unverified",
      verified: false,
      why: "size disagrees with the object",
    });
    expect(row("postgres", "never")).toMatchObject({ state: "missing", verified: false });
    expect(row("postgres", "never").newest).toBeUndefined();
  });

  it("etcd, Velero and the bucket mirror (from its run record)", () => {
    expect(row("etcd", "cp-1")).toMatchObject({ state: "fresh", verified: true, size: 6 });
    expect(row("velero", "daily")).toMatchObject({ state: "fresh", verified: true, size: 4096, restorePoints: 2 });
    expect(row("velero", "weekly")).toMatchObject({ state: "missing" });
    expect(row("buckets", "photos")).toMatchObject({ state: "fresh", verified: true, size: 150, restorePoints: 2 });
    expect(row("buckets", "photos").ageSeconds! - 5 * HOUR).toBeLessThan(600);
  });

  it("each item's last drill from the drills' records: passed with the measured restore time, failed with why, never recorded, a record naming another drill, no drill", () => {
    expect(row("postgres", "wiki").lastDrill).toEqual({
      state: "passed",
      finishedAt: new Date((NOW - 5 * HOUR) * 1000).toISOString().replace(/\.000Z$/, "Z"),
      ageSeconds: expect.any(Number),
      restoreSeconds: 312,
      restored: "postgres-backups/wiki/wiki-20261207T000000Z.sql.zst",
      key: "status/drills/postgres/wiki.json",
    });
    expect(row("postgres", "wiki").drill).toMatch(/^passed 5h [0-9]+m ago, restore 5m$/);
    expect(row("postgres", "shop").lastDrill).toMatchObject({
      state: "failed",
      reason: "the newest dump did not restore",
    });
    expect(row("postgres", "shop").drill).toMatch(/^failed 4h [0-9]+m ago \(the newest dump did not restore\)$/);
    expect(row("postgres", "never")).toMatchObject({ drill: "not recorded", lastDrill: { state: "not recorded" } });
    // The etcd drill proves the class: its record is every node's row.
    expect(row("etcd", "cp-1").drill).toMatch(/^passed 1d 0h ago, restore 1m$/);
    expect(row("velero", "daily").drill).toBe("not recorded");
    expect(row("velero", "weekly").drill).toBe("not recorded");
    expect(row("buckets", "photos")).toMatchObject({
      drill: "record unreadable (the record names buckets/videos)",
      lastDrill: { state: "unreadable" },
    });
    for (const v of ["pvc-11111111-fresh1", "pvc-22222222-stale2"]) {
      expect(row("longhorn", v).drill).toBe("no drill");
      expect(row("longhorn", v).lastDrill).toBeUndefined();
    }
    expect(rep.notes).toContain("last drill failed: postgres/shop");
    expect(table.stdout).toContain("note: last drill failed: postgres/shop");
  });

  it("the PVCs nothing backs up, from the audit's inventory: the uncovered one with its class and size, not the ignored one; no off-site copy in this stack", () => {
    expect(rep.uncoveredPvcs).toEqual([
      { namespace: "media", pvc: "scratch", storageClass: "local-path", size: "5Gi" },
    ]);
    expect(rep.pvcInventory).toMatchObject({
      state: "current",
      key: "status/audit/pvcs.json",
      total: 3,
      ignored: [{ namespace: "tmp", pvc: "cache", storageClass: "local-path" }],
    });
    expect(table.stdout).toMatch(/^PVCs nothing backs up \(inventory 2\dm old\): media\/scratch \(local-path, 5Gi\)$/m);
    for (const r of rep.rows) expect(r.offsite).toBe("no off-site copy");
  });

  it("an inventory older than the audit's staleness is said to be old, its list still shown", async () => {
    const spec = hubSpec();
    const old = {
      ...spec,
      records: { ...spec.records, pvcInventory: { key: "status/audit/pvcs.json", maxAgeSeconds: 600 } },
    };
    const file = outputsFile("old-inventory", old);
    const [t, j] = await Promise.all([run(["--outputs", file]), run(["--outputs", file, "--json"])]);
    const got = JSON.parse(j.stdout) as StatusReport;
    expect(got.pvcInventory).toMatchObject({ state: "old", maxAgeSeconds: 600 });
    expect(got.uncoveredPvcs).toEqual(rep.uncoveredPvcs);
    expect(got.notes.some((n) => /PVC inventory is old \(taken 2\dm ago, more than 10m\)/.test(n))).toBe(true);
    expect(t.stdout).toMatch(/^PVCs nothing backs up \(inventory 2\dm old, OLD\): media\/scratch/m);
    expect(j.code).toBe(t.code);
  });

  it("the table shows every JSON row with the same state, verification and size", () => {
    const lines = table.stdout.split("\n");
    expect(lines[1]).toMatch(
      /^CLASS\s+ITEM\s+STATE\s+NEWEST\s+AGE \/ MAX\s+SIZE\s+VERIFIED\s+POINTS\s+DRILL\s+OFF-SITE$/,
    );
    const body = lines.slice(2, 2 + rep.rows.length);
    expect(body).toHaveLength(rep.rows.length);
    for (const [i, r] of rep.rows.entries()) {
      const cells = body[i].split(/\s{2,}/);
      expect(cells.slice(0, 4), body[i]).toEqual([r.cls, r.item, r.state, r.newest ?? "-"]);
      expect(cells[6], body[i]).toBe(r.verified ? "yes" : `no${r.why ? ` (${r.why})` : ""}`);
      expect(cells[8], body[i]).toBe(r.drill);
    }
    expect(rep.rows.map((r) => `${r.cls}/${r.item}`).sort()).toEqual(
      [
        "buckets/photos",
        "etcd/cp-1",
        "longhorn/pvc-11111111-fresh1",
        "longhorn/pvc-22222222-stale2",
        "postgres/never",
        "postgres/shop",
        "postgres/wiki",
        "velero/daily",
        "velero/weekly",
      ].sort(),
    );
  });

  it("exits 0 when every item is fresh and verified, a failed or unrecorded drill and an uncovered PVC reported but not counted (the contract's exit status is about restore points)", async () => {
    // The fresh items only (a stack without Longhorn, one dump, one schedule).
    const spec = hubSpec({ postgres: ["wiki"], velero: ["daily"] });
    const fresh = { ...spec, audit: { ...spec.audit, longhorn: undefined } };
    const r = await run(["--outputs", outputsFile("fresh", fresh), "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const got = JSON.parse(r.stdout) as StatusReport;
    expect(got.rows.every((x) => x.state === "fresh")).toBe(true);
    expect(got.rows.find((x) => x.cls === "velero")!.drill).toBe("not recorded");
    expect(got.uncoveredPvcs).toHaveLength(1);
  });

  it("exits 2 when the hub cannot be read (a wrong key), with the reason and no table", async () => {
    const r = await run([
      "--outputs",
      // Straight to RGW, not through the proxy: its refusal is not the readers' to answer for.
      outputsFile("wrong", statusSpecFor({ endpoint: rgw.endpoint, bucket: BUCKET, provider: "Ceph" }), {
        id: "WRONG",
        secret: "WRONG",
      }),
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^status: the hub cannot be read/);
    expect(r.stdout).toBe("");
  });

  it("exits 2 on outputs without what it needs", async () => {
    const file = path.join(dir, "empty.json");
    writeFileSync(file, "{}");
    const r = await run(["--outputs", file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("no statusSpec");
  });
});

describe("what the readers asked the real RGW, with the audit reader's real policy", () => {
  it("status: no 403, no HEAD, no request under Longhorn blocks/ or Velero's kopia/, no GET of backup data", () => {
    expect(proxy.requests.length).toBeGreaterThan(0);
    if (process.env.STATUS_DUMP) writeFileSync(process.env.STATUS_DUMP, JSON.stringify(proxy.requests, null, 1));
    expect(forbiddenRequests()).toEqual([]);
  });

  it("the in-cluster audit (audit.mjs, the same reader) with the same key: no 403 either, bucket usage included", async () => {
    proxy.reset();
    const spec = hubSpec();
    writeFileSync(path.join(dir, "audit-spec.json"), JSON.stringify({ ...spec.audit, offsite: undefined }));
    const r = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [path.join(ROOT, "components/alerts/audit.mjs")], {
        env: childEnv({
          AUDIT_ONCE: "1",
          AUDIT_SPEC: path.join(dir, "audit-spec.json"),
          RCLONE: "rclone",
          KUBERNETES_API: "http://127.0.0.1:9",
          AUDIT_KUBE_TOKEN_FILE: path.join(dir, "no-token"),
          RCLONE_CONFIG_HUB_TYPE: "s3",
          RCLONE_CONFIG_HUB_PROVIDER: "Ceph",
          RCLONE_CONFIG_HUB_ENDPOINT: proxy.endpoint,
          RCLONE_CONFIG_HUB_REGION: "us-east-1",
          RCLONE_CONFIG_HUB_FORCE_PATH_STYLE: "true",
          RCLONE_CONFIG_HUB_NO_CHECK_BUCKET: "true",
          RCLONE_CONFIG_HUB_ACCESS_KEY_ID: reader.accessKeyId,
          RCLONE_CONFIG_HUB_SECRET_ACCESS_KEY: reader.secretAccessKey,
        }),
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d) => (stdout += d));
      child.stderr.on("data", (d) => (stderr += d));
      child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
    });
    expect(r.code, r.stderr).toBe(0);
    // Every hub read succeeded (the only item error is the Kubernetes API, absent here on purpose).
    const errors = r.stdout.split("\n").filter((l) => l.startsWith(`${AUDIT_METRICS.itemError}{`) && / 1$/.test(l));
    expect(errors, r.stderr).toEqual([expect.stringContaining('class="kubernetes"')]);
    expect(r.stdout).toContain(`${AUDIT_METRICS.valid}{class="postgres",item="wiki"} 1`);
    expect(r.stdout).toContain(`${AUDIT_METRICS.valid}{class="buckets",item="photos"} 1`);
    expect(proxy.requests.length).toBeGreaterThan(0);
    if (process.env.STATUS_DUMP) writeFileSync(process.env.STATUS_DUMP, JSON.stringify(proxy.requests, null, 1));
    expect(forbiddenRequests()).toEqual([]);
  });
});

/** A loopback stand-in of the Kubernetes API answering the audit's lists (components/alerts/audit.mjs readCluster). */
function kubeStandIn(lists: Record<string, object[]>): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const p = (req.url ?? "").split("?")[0];
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end(JSON.stringify({ items: lists[p] ?? [] }));
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () =>
      resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server }),
    ),
  );
}

function runNode(args: string[], env: Record<string, string>) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, env: childEnv(env), stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

const hubRemote = (key: S3Credentials) => ({
  RCLONE_CONFIG_HUB_TYPE: "s3",
  RCLONE_CONFIG_HUB_PROVIDER: "Ceph",
  RCLONE_CONFIG_HUB_ENDPOINT: proxy.endpoint,
  RCLONE_CONFIG_HUB_REGION: "us-east-1",
  RCLONE_CONFIG_HUB_FORCE_PATH_STYLE: "true",
  RCLONE_CONFIG_HUB_NO_CHECK_BUCKET: "true",
  RCLONE_CONFIG_HUB_ACCESS_KEY_ID: key.accessKeyId,
  RCLONE_CONFIG_HUB_SECRET_ACCESS_KEY: key.secretAccessKey,
});

describe("the writers of the status records, with their real policies on RGW", () => {
  it("the audit writes its PVC inventory from the cluster it reads; status reads it back; no 403, no HEAD", async () => {
    proxy.reset();
    const kube = await kubeStandIn({
      "/api/v1/persistentvolumeclaims": [
        {
          metadata: { namespace: "shop", name: "data" },
          spec: { storageClassName: "local-path", resources: { requests: { storage: "8Gi" } } },
        },
      ],
    });
    try {
      const spec = hubSpec();
      writeFileSync(path.join(dir, "audit-spec-k8s.json"), JSON.stringify({ ...spec.audit, offsite: undefined }));
      const r = await runNode([path.join(ROOT, "components/alerts/audit.mjs")], {
        AUDIT_ONCE: "1",
        AUDIT_SPEC: path.join(dir, "audit-spec-k8s.json"),
        RCLONE: "rclone",
        KUBERNETES_API: kube.url,
        AUDIT_KUBE_TOKEN_FILE: path.join(dir, "no-token"),
        ...hubRemote(reader),
      });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(`${AUDIT_METRICS.itemError}{class="status",item="pvc-inventory"} 0`);
      expect(r.stdout).toContain(`${AUDIT_METRICS.itemError}{class="kubernetes",item="api"} 0`);
    } finally {
      kube.server.close();
    }
    expect(proxy.requests.some((q) => q.method === "PUT" && /status\/audit\/pvcs\.json/.test(q.url))).toBe(true);
    expect(forbiddenRequests()).toEqual([]);
    const got = JSON.parse(
      (await run(["--outputs", outputsFile("after-audit", hubSpec()), "--json"])).stdout,
    ) as StatusReport;
    expect(got.pvcInventory).toMatchObject({ state: "current", total: 1 });
    expect(got.pvcInventory!.ageSeconds!).toBeLessThan(600);
    expect(got.uncoveredPvcs).toEqual([{ namespace: "shop", pvc: "data", storageClass: "local-path", size: "8Gi" }]);
  });

  it("drill-record.sh writes with the drills identity's and the PostgreSQL writer's policies; status reads each record back", async () => {
    const target = { endpoint: rgw.endpoint, region: "us-east-1" };
    const key = () => ({
      accessKeyId: randomBytes(10).toString("hex").toUpperCase(),
      secretAccessKey: randomBytes(20).toString("base64url"),
    });
    const drills = key();
    const pg = key();
    await ensureRgwWriter(target, admin, {
      userName: "status-drills",
      key: drills,
      policy: writerPolicy("drills", BUCKET, { drillPrefixes: ["velero/", "etcd-snapshots/"] }),
    });
    await ensureRgwWriter(target, admin, {
      userName: "status-postgres",
      key: pg,
      policy: writerPolicy("postgres", BUCKET),
    });
    proxy.reset();
    const write = (k: S3Credentials, cls: string, item: string, status: number) =>
      new Promise<{ code: number; stderr: string }>((resolve) => {
        const child = spawn(
          "sh",
          [
            "-c",
            `. "${path.join(ROOT, "components/drills/drill-record.sh")}"; drill_record_begin; drill_record_restored=velero/backups/daily-1; ` +
              `[ "$1" -eq 0 ] || drill_record_failed "no Completed Velero backup holds namespace wiki"; drill_record_write "$1"`,
            "sh",
            String(status),
          ],
          {
            env: childEnv({ ...hubRemote(k), HUB_BUCKET: BUCKET, DRILL_RECORD_CLASS: cls, DRILL_RECORD_ITEM: item }),
            stdio: ["ignore", "ignore", "pipe"],
          },
        );
        let stderr = "";
        child.stderr.on("data", (d) => (stderr += d));
        child.on("close", (code) => resolve({ code: code ?? -1, stderr }));
      });
    const v = await write(drills, "velero", "velero", 0);
    expect(v.stderr).toContain("recorded passed at status/drills/velero/velero.json");
    const p = await write(pg, "postgres", "never", 1);
    expect(p.stderr).toContain("recorded failed at status/drills/postgres/never.json");
    expect(forbiddenRequests()).toEqual([]);
    const got = JSON.parse(
      (await run(["--outputs", outputsFile("after-drills", hubSpec()), "--json"])).stdout,
    ) as StatusReport;
    expect(got.rows.find((x) => x.cls === "velero" && x.item === "daily")!.lastDrill).toMatchObject({
      state: "passed",
      restored: "velero/backups/daily-1",
    });
    expect(got.rows.find((x) => x.cls === "postgres" && x.item === "never")!.lastDrill).toMatchObject({
      state: "failed",
      reason: "no Completed Velero backup holds namespace wiki",
    });
    // The audit's key cannot put a drill's record: RGW refuses it, the writer logs it, and the drill's
    // own exit status stands (drill-record.sh).
    proxy.reset();
    const refused = await write(reader, "velero", "velero", 0);
    expect(refused.code).toBe(0);
    expect(refused.stderr).toContain("status record NOT written to status/drills/velero/velero.json");
    const denied = proxy.requests.filter((q) => q.status === 403);
    expect(denied.length).toBeGreaterThan(0);
    expect(denied.every((q) => q.method === "PUT")).toBe(true);
  });
});

describe("with the off-site copy, made by offsite-sync.sh to a real vsftpd", () => {
  it("reads the copy's run record with the FTP password and crypt key from the outputs; classes outside its prefixes are not copied", async () => {
    const stack = parseStackConfig(exampleStack().config);
    const o = offsiteOf(stack)!;
    // Only the PostgreSQL dumps are copied here, so the other classes show "not copied".
    const offsite = {
      ...o,
      prefixes: ["postgres-backups/"],
      encryption: { ...o.encryption, enabled: true },
      ftp: { ...o.ftp, host: "127.0.0.1", port: ftp.port, user: FTP_USER },
    };
    const conn = { ...hubConnection(stack.hub!), endpoint: rgw.endpoint, bucket: BUCKET, region: "us-east-1" };
    const conf = path.join(dir, "offsite-rclone.conf");
    const ftpEnv = { SSL_CERT_FILE: ftp.certFile, OFFSITE_FTP_DISABLE_TLS13: "true" };
    const sh = (args: string[], env: Record<string, string>, stdin = "") =>
      new Promise<{ code: number; stderr: string }>((resolve) => {
        const child = spawn("sh", args, { env: childEnv({ ...ftpEnv, ...env }), stdio: ["pipe", "ignore", "pipe"] });
        let stderr = "";
        child.stderr.on("data", (d) => (stderr += d));
        child.on("close", (code) => resolve({ code: code ?? -1, stderr }));
        child.stdin.end(stdin);
      });
    const wc = await sh(
      [path.join(ROOT, "components/offsite/write-config.sh"), conf],
      offsiteConfigEnv(offsite, conn),
      offsiteSecretsStdin(FTP_PASSWORD, CRYPT_KEY, admin.accessKeyId, admin.secretAccessKey),
    );
    expect(wc.code, wc.stderr).toBe(0);
    const sync = await sh([path.join(ROOT, "components/offsite/offsite-sync.sh")], {
      ...offsiteSyncEnv(offsite, conn, { rcloneConfig: conf, rclone: "rclone" }),
    });
    expect(sync.code, sync.stderr).toBe(0);

    const spec = hubSpec();
    const withOffsite = {
      ...spec,
      audit: { ...spec.audit, offsite: { remote: "offsite", encryption: true } },
      items: [...spec.items, { cls: "offsite", item: "offsite", thresholdSeconds: 2 * DAY, why: "daily + 1d" }],
      offsite: { env: { ...offsiteFtpEnv(offsite), OFFSITE_FTP_DISABLE_TLS13: "true" }, prefixes: offsite.prefixes },
    };
    const file = path.join(dir, "offsite-outputs.json");
    writeFileSync(
      file,
      JSON.stringify({
        statusSpec: withOffsite,
        statusReaderAccessKeyId: reader.accessKeyId,
        statusReaderSecretAccessKey: reader.secretAccessKey,
        statusOffsiteFtpPassword: FTP_PASSWORD,
        offsiteEncryptionKey: CRYPT_KEY,
      }),
    );
    const r = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(
        process.execPath,
        ["--import", "tsx", path.join(ROOT, "tools/status.ts"), "--outputs", file, "--json"],
        {
          cwd: ROOT,
          env: childEnv({ SSL_CERT_FILE: ftp.certFile }),
          stdio: ["ignore", "pipe", "pipe"],
        },
      );
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d) => (stdout += d));
      child.stderr.on("data", (d) => (stderr += d));
      child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
    });
    expect(r.code, r.stderr).toBe(1);
    const got = JSON.parse(r.stdout) as StatusReport;
    const off = got.rows.find((x) => x.cls === "offsite")!;
    expect(off).toMatchObject({ item: "offsite", state: "fresh", verified: true, restorePoints: 1 });
    expect(off.ageSeconds!).toBeLessThan(600);
    const pg = got.rows.find((x) => x.cls === "postgres" && x.item === "wiki")!;
    expect(pg.offsite).toMatch(/^\d+(s|m)$/);
    expect(got.rows.find((x) => x.cls === "longhorn")!.offsite).toBe("not copied");
    expect(got.rows.find((x) => x.cls === "velero")!.offsite).toBe("not copied");
  });
});
