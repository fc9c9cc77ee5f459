/**
 * The audit against a real S3 peer on loopback holding Longhorn-format, Velero-format and this
 * project's own backups (fresh, stale, never made, and one Postgres dump whose record disagrees with
 * its object), an off-site crypt remote made by rclone itself, and a Kubernetes API on loopback that
 * replays recorded list answers (test/fixtures/kube/). The exporter runs as shipped (`node audit.mjs`,
 * AUDIT_ONCE=1) and its metrics are parsed and checked.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { childEnv, startS3Peer, type S3Peer } from "../support/s3peer.js";
import { parseMetrics, type MetricSample } from "../support/promText.js";
import { expandAnnotations, promtoolTest } from "../support/promtool.js";
import { AUDIT_METRICS } from "../../components/alerts/auditMetrics.js";
import { auditRules } from "../../components/alerts/auditRules.js";
import { validateCustomResource } from "../support/crds.js";
import { iso, longhornBackupCfg, longhornVolumeCfg } from "../support/statusData.js";
import { longhornVolumePath } from "../../components/alerts/hubReader.mjs";

const ROOT = path.resolve(__dirname, "..", "..");
const AUDIT = path.join(ROOT, "components", "alerts", "audit.mjs");
const KUBE_FIXTURES = path.join(ROOT, "test", "fixtures", "kube");
const BUCKET = "backups";
const NOW = Math.floor(Date.now() / 1000);
const HOUR = 3600;
const DAY = 86_400;
const stamp = (t: number) => iso(t).replace(/[-:TZ]/g, "");

function run(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  stdin?: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.on("error", () => undefined);
    child.stdin.end(stdin ?? "");
  });
}

let peer: S3Peer;
let dir: string;
let kube: Server;
let kubePort = 0;
const kubeRequests: string[] = [];
let rcloneConf: string;
let env: NodeJS.ProcessEnv;
let samples: MetricSample[];
let auditStderr = "";

/** Objects are staged in a local tree and uploaded with one `rclone copy` (one process, not one per object). */
async function put(key: string, body: string | Buffer): Promise<void> {
  const file = path.join(dir, "stage", key);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, body);
}

/** A Longhorn volume with `times.length` completed backups (newest last), as longhorn/backupstore writes them. */
async function longhornVolume(
  volume: string,
  created: number,
  times: number[],
  lastPointsAt = times.length ? `backup-${volume.slice(-6)}-${times.length - 1}` : "",
) {
  const d = longhornVolumePath("longhorn/", volume);
  for (const [i, t] of times.entries()) {
    const name = `backup-${volume.slice(-6)}-${i}`;
    await put(`${d}backups/backup_${name}.cfg`, longhornBackupCfg(volume, name, i, t));
    await put(`${d}blocks/aa/bb/block${i}.blk`, "x".repeat(64));
  }
  const last = times.at(-1);
  await put(
    `${d}volume.cfg`,
    longhornVolumeCfg(volume, created, { lastBackupName: lastPointsAt, lastBackupAt: last, blocks: 1 }),
  );
}

async function veleroBackup(schedule: string, t: number, phase: string, withTarball = true) {
  const name = `${schedule}-${stamp(t)}`;
  const d = `velero/backups/${name}/`;
  await put(
    `${d}velero-backup.json`,
    JSON.stringify({
      kind: "Backup",
      apiVersion: "velero.io/v1",
      metadata: {
        name,
        namespace: "velero",
        labels: { "velero.io/schedule-name": schedule, "velero.io/storage-location": "default" },
      },
      spec: { ttl: "720h0m0s" },
      status: { phase, startTimestamp: iso(t), completionTimestamp: iso(t + 120), version: 1 },
    }),
  );
  if (withTarball) await put(`${d}${name}.tar.gz`, "t".repeat(4096));
  await put(`${d}${name}-logs.gz`, "l");
}

/** A dump as components/postgres/dump.sh leaves it: object, record, latest.json. */
async function pgDump(db: string, t: number, body: string, tamper?: { recordSize?: number; latestSha?: string }) {
  const base = `${db}-${stamp(t).replace(/^(\d{8})(\d{6})$/, "$1T$2Z")}.sql.zst`;
  const key = `postgres-backups/${db}/${base}`;
  const sha = createHash("sha256").update(body).digest("hex");
  await put(key, body);
  await put(
    `${key}.json`,
    JSON.stringify(
      {
        format: "homelab-backup/postgres-dump/v1",
        name: db,
        mode: "database",
        key,
        size: tamper?.recordSize ?? body.length,
        sha256: sha,
        complete: true,
        finishedAt: iso(t),
      },
      null,
      2,
    ),
  );
  await put(
    `postgres-backups/${db}/latest.json`,
    JSON.stringify(
      { key, record: `${key}.json`, size: body.length, sha256: tamper?.latestSha ?? sha, finishedAt: iso(t) },
      null,
      2,
    ),
  );
}

async function etcdSnapshot(node: string, t: number, body: string) {
  const file = `etcd-snapshot-${node}-${t}`;
  const sha = createHash("sha256").update(body).digest("hex");
  await put(`etcd-snapshots/${node}/${file}`, body);
  await put(
    `etcd-snapshots/${node}/${file}.json`,
    JSON.stringify({ file, node, size: body.length, sha256: sha, check: "etcdctl", mtime: t, uploadedAt: iso(t + 30) }),
  );
}

function kubeServer(): Promise<void> {
  const answers: Record<string, string> = {
    "/api/v1/persistentvolumeclaims": "pvcs.json",
    "/api/v1/persistentvolumes": "pvs.json",
    "/api/v1/pods": "pods.json",
    "/apis/longhorn.io/v1beta2/namespaces/longhorn-system/volumes": "longhorn-volumes.json",
    "/apis/longhorn.io/v1beta2/namespaces/longhorn-system/backuptargets": "longhorn-backuptargets.json",
    "/api/v1/nodes?labelSelector=node-role.kubernetes.io%2Fcontrol-plane%3Dtrue": "nodes-control-plane.json",
  };
  kube = createServer((req, res) => {
    kubeRequests.push(`${req.method} ${req.url}`);
    const file = answers[req.url ?? ""];
    if (req.method !== "GET" || !file) {
      res.writeHead(404, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ kind: "Status", status: "Failure", code: 404 }));
      return;
    }
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end(readFileSync(path.join(KUBE_FIXTURES, file)));
  });
  return new Promise((resolve) =>
    kube.listen(0, "127.0.0.1", () => ((kubePort = (kube.address() as { port: number }).port), resolve())),
  );
}

const spec = {
  bucket: BUCKET,
  usage: true,
  longhorn: {
    prefix: "longhorn/",
    namespace: "longhorn-system",
    jobs: [{ name: "daily-backup", groups: ["default"], retain: 3 }],
    storageClasses: [{ name: "longhorn-backup", jobs: [], groups: ["default"] }],
  },
  postgres: { prefix: "postgres-backups/", dumps: ["wiki", "shop", "never"] },
  etcd: { prefix: "etcd-snapshots/", nodeSelector: { "node-role.kubernetes.io/control-plane": "true" } },
  velero: {
    prefix: "velero/",
    schedules: [
      { name: "daily", includedNamespaces: ["*"], excludedNamespaces: ["kube-system"], volumesByDefault: false },
      { name: "weekly", includedNamespaces: ["*"], excludedNamespaces: [], volumesByDefault: false },
      { name: "monthly", includedNamespaces: ["*"], excludedNamespaces: [], volumesByDefault: false },
    ],
  },
  mirrors: [
    { name: "photos", prefix: "buckets/photos/" },
    { name: "empty", prefix: "buckets/empty/" },
  ],
  offsite: { remote: "offsite", encryption: true },
  coverage: { ignore: ["scratch", "media/cache"] },
};

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "audit-"));
  peer = await startS3Peer([BUCKET]);
  await kubeServer();
  const key = "correct-horse-battery-staple-0123456789";
  const obscured = (await run("rclone", ["obscure", key], childEnv())).stdout.trim();
  rcloneConf = path.join(dir, "rclone.conf");
  // The hub as the exporter sees it, plus the off-site copy: a crypt remote over a local directory
  // standing in for the FTP server (the audit only ever names the `offsite` remote).
  writeFileSync(
    rcloneConf,
    readFileSync(peer.rcloneConfig(), "utf8") +
      `\n[offsite_raw]\ntype = alias\nremote = ${path.join(dir, "ftp")}\n\n[offsite]\ntype = crypt\nremote = offsite_raw:\nfilename_encryption = standard\ndirectory_name_encryption = true\npassword = ${obscured}\npassword2 = ${obscured}\n`,
  );
  env = childEnv();

  // Longhorn: fresh (3 backups, retain 3), stale (newest 3 days old), fewer restore points than retain,
  // a volume.cfg whose last backup config is missing, and a covered volume that never got a backup.
  await longhornVolume("pvc-11111111-fresh1", NOW - 10 * DAY, [NOW - 3 * DAY, NOW - 2 * DAY, NOW - HOUR]);
  await longhornVolume("pvc-22222222-stale2", NOW - 20 * DAY, [NOW - 5 * DAY, NOW - 4 * DAY, NOW - 3 * DAY]);
  await longhornVolume("pvc-33333333-short3", NOW - 30 * DAY, [NOW - 2 * HOUR]);
  await longhornVolume("pvc-44444444-broke4", NOW - 5 * DAY, [NOW - 2 * DAY, NOW - DAY], "backup-broke4-9");
  // Velero: daily fresh; weekly's newest PartiallyFailed, an older one Completed; monthly never ran.
  await veleroBackup("daily", NOW - 2 * HOUR, "Completed");
  await veleroBackup("daily", NOW - 26 * HOUR, "Completed");
  await veleroBackup("weekly", NOW - DAY, "PartiallyFailed");
  await veleroBackup("weekly", NOW - 8 * DAY, "Completed");
  await veleroBackup("daily-extra", NOW - HOUR, "Completed"); // another schedule whose name starts like "daily"
  // Postgres: wiki fresh and consistent; shop's record says another size than the object has.
  await pgDump("wiki", NOW - 30 * 3600, "older dump");
  await pgDump("wiki", NOW - 3 * HOUR, "-- PostgreSQL database dump complete\n");
  await pgDump("shop", NOW - 2 * HOUR, "shop dump bytes", { recordSize: 999 });
  // etcd: cp-1 has snapshots; cp-2 is a control-plane node the hub never saw.
  await etcdSnapshot("cp-1", NOW - 26 * HOUR, "snap-a");
  await etcdSnapshot("cp-1", NOW - 2 * HOUR, "snap-b-newer");
  await put("etcd-snapshots/.partial/cp-1/etcd-snapshot-cp-1-x", "partial");
  // Mirror photos: two objects and the record of its last verified run (components/mirror/mirror.sh);
  // mirror "empty" never copied anything.
  await put("buckets/photos/a.jpg", "a".repeat(100));
  await put("buckets/photos/dir/b.jpg", "b".repeat(50));
  await put(
    "buckets/.records/photos.json",
    JSON.stringify({
      format: "homelab-backup/mirror-run/v1",
      name: "photos",
      source: "rgw-photos",
      prefix: "buckets/photos/",
      finishedAt: iso(NOW - 5 * HOUR),
      objects: 2,
      bytes: 150,
      complete: true,
    }),
  );
  const up = await run("rclone", ["--config", rcloneConf, "copy", path.join(dir, "stage"), `hub:${BUCKET}`], env);
  expect(up.code, up.stderr).toBe(0);
  // Off-site: two files and the key-check file, written through the crypt remote by rclone itself.
  const rc = (args: string[], stdin?: string) => run("rclone", ["--config", rcloneConf, ...args], env, stdin);
  expect((await rc(["rcat", "offsite:postgres-backups/wiki/one.sql.zst"], "one")).code).toBe(0);
  expect((await rc(["rcat", "offsite:velero/backups/x/x.tar.gz"], "two-two")).code).toBe(0);
  expect(
    (await rc(["rcat", "offsite,filename_encryption=off:homelab-backup-keycheck"], "homelab-backup off-site key check"))
      .code,
  ).toBe(0);
  // The run record offsite-sync.sh leaves at the copy's root when a run completes.
  const offsiteRecord = JSON.stringify({
    format: "homelab-backup/offsite-run/v1",
    bucket: BUCKET,
    prefixes: [],
    finishedAt: iso(NOW - 7 * HOUR),
    transferredFiles: 2,
    transferredBytes: 10,
    complete: true,
  });
  expect((await rc(["rcat", "offsite,filename_encryption=off:homelab-backup-offsite.json"], offsiteRecord)).code).toBe(
    0,
  );

  writeFileSync(path.join(dir, "spec.json"), JSON.stringify(spec));
  const r = await run(process.execPath, [AUDIT], {
    ...env,
    AUDIT_ONCE: "1",
    AUDIT_SPEC: path.join(dir, "spec.json"),
    AUDIT_RCLONE_CONFIG: rcloneConf,
    RCLONE: "rclone",
    KUBERNETES_API: `http://127.0.0.1:${kubePort}`,
    AUDIT_KUBE_TOKEN_FILE: path.join(dir, "no-token"),
  });
  auditStderr = r.stderr;
  expect(r.code, r.stderr).toBe(0);
  samples = parseMetrics(r.stdout);
});

afterAll(async () => {
  await new Promise((r) => kube?.close(r));
  await peer?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function value(name: string, labels: Record<string, string>): number | undefined {
  const hit = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (hit.length > 1) throw new Error(`${name} ${JSON.stringify(labels)} matches ${hit.length} series`);
  return hit[0]?.value;
}
const item = (cls: string, name: string) => ({ class: cls, item: name });
// The names the alert rules and the dashboard query (components/alerts/audit-metrics.json): the exporter
// must serve its series under exactly these.
const M = {
  ts: AUDIT_METRICS.timestamp,
  size: AUDIT_METRICS.size,
  valid: AUDIT_METRICS.valid,
  found: AUDIT_METRICS.found,
  count: AUDIT_METRICS.count,
  expected: AUDIT_METRICS.expectedCount,
  error: AUDIT_METRICS.itemError,
};

describe("audit of a real S3 peer", () => {
  it("ran every check without a read error", () => {
    expect(
      samples.filter((s) => s.name === M.error && s.value !== 0),
      auditStderr,
    ).toEqual([]);
    expect(value(AUDIT_METRICS.lastRunSuccess, {})).toBe(1);
    expect(Math.abs(value(AUDIT_METRICS.lastRun, {})! - NOW)).toBeLessThan(300);
  });

  it("Longhorn: the newest backup of every covered volume, from volume.cfg and its backup config", () => {
    const fresh = item("longhorn", "pvc-11111111-fresh1");
    expect(value(M.ts, fresh)).toBe(NOW - HOUR);
    expect(value(M.valid, fresh)).toBe(1);
    expect(value(M.size, fresh)).toBe(3 * 2097152);
    expect(value(M.count, fresh)).toBe(3);
    expect(value(M.expected, fresh)).toBe(3);
    expect(samples.find((s) => s.name === M.ts && s.labels.item === "pvc-11111111-fresh1")!.labels).toMatchObject({
      pvc: "data-wiki-0",
      pvc_namespace: "wiki",
    });
    expect(value(M.ts, item("longhorn", "pvc-22222222-stale2"))).toBe(NOW - 3 * DAY);
    expect(value(M.count, item("longhorn", "pvc-33333333-short3"))).toBe(1);
    expect(value(AUDIT_METRICS.firstSeen, item("longhorn", "pvc-33333333-short3"))).toBe(NOW - 30 * DAY);
    // volume.cfg names a backup whose config is not there: found, not valid.
    expect(value(M.found, item("longhorn", "pvc-44444444-broke4"))).toBe(1);
    expect(value(M.valid, item("longhorn", "pvc-44444444-broke4"))).toBe(0);
  });

  it("Longhorn: a covered volume that never got a backup is found=0 with no timestamp; an uncovered volume is not an item", () => {
    const never = item("longhorn", "pvc-55555555-never5");
    expect(value(M.found, never)).toBe(0);
    expect(value(M.valid, never)).toBe(0);
    expect(value(M.ts, never)).toBeUndefined();
    expect(samples.some((s) => s.labels.item === "pvc-66666666-nojob6")).toBe(false);
  });

  it("Longhorn: BackupTarget availability from the API", () => {
    expect(value(AUDIT_METRICS.targetAvailable, { backup_target: "default" })).toBe(1);
    expect(value(AUDIT_METRICS.targetAvailable, { backup_target: "offsite-nfs" })).toBe(0);
  });

  it("Velero: the newest Completed backup of each schedule from velero-backup.json", () => {
    expect(value(M.ts, item("velero", "daily"))).toBe(NOW - 2 * HOUR + 120);
    expect(value(M.size, item("velero", "daily"))).toBe(4096);
    expect(value(M.count, item("velero", "daily"))).toBe(2);
    // The newest weekly backup is PartiallyFailed: the restore point is the older Completed one.
    expect(value(M.ts, item("velero", "weekly"))).toBe(NOW - 8 * DAY + 120);
    expect(value(M.valid, item("velero", "weekly"))).toBe(1);
    expect(value(M.found, item("velero", "monthly"))).toBe(0);
  });

  it("Postgres: latest.json, record and object agree for a good dump; a disagreeing record is invalid", () => {
    expect(value(M.valid, item("postgres", "wiki"))).toBe(1);
    expect(value(M.ts, item("postgres", "wiki"))).toBe(NOW - 3 * HOUR);
    expect(value(M.size, item("postgres", "wiki"))).toBe("-- PostgreSQL database dump complete\n".length);
    expect(value(M.count, item("postgres", "wiki"))).toBe(2);
    expect(value(M.found, item("postgres", "shop"))).toBe(1);
    expect(value(M.valid, item("postgres", "shop"))).toBe(0);
    expect(value(M.found, item("postgres", "never"))).toBe(0);
  });

  it("etcd: each node's newest snapshot record; an expected control-plane node without any is found=0", () => {
    expect(value(M.ts, item("etcd", "cp-1"))).toBe(NOW - 2 * HOUR);
    expect(value(M.valid, item("etcd", "cp-1"))).toBe(1);
    expect(value(M.size, item("etcd", "cp-1"))).toBe("snap-b-newer".length);
    expect(value(M.count, item("etcd", "cp-1"))).toBe(2);
    expect(value(M.found, item("etcd", "cp-2"))).toBe(0);
    expect(samples.some((s) => s.labels.item === ".partial")).toBe(false);
  });

  it("mirrors and the off-site copy from the records their runs leave", () => {
    expect(value(M.count, item("buckets", "photos"))).toBe(2);
    expect(value(M.size, item("buckets", "photos"))).toBe(150);
    expect(value(M.valid, item("buckets", "photos"))).toBe(1);
    expect(value(M.ts, item("buckets", "photos"))).toBe(NOW - 5 * HOUR);
    expect(value(M.found, item("buckets", "empty"))).toBe(0);
    expect(value(M.found, item("offsite", "offsite"))).toBe(1);
    expect(value(M.valid, item("offsite", "offsite"))).toBe(1);
    expect(value(M.count, item("offsite", "offsite"))).toBe(1);
    expect(value(M.ts, item("offsite", "offsite"))).toBe(NOW - 7 * HOUR);
  });

  it("bucket usage per storage class covers every object", () => {
    const bytes = value(AUDIT_METRICS.bucketBytes, { bucket: BUCKET, storage_class: "STANDARD" })!;
    expect(bytes).toBeGreaterThan(4096 * 4);
    expect(value(AUDIT_METRICS.bucketObjects, { bucket: BUCKET, storage_class: "STANDARD" })).toBeGreaterThan(30);
  });

  it("coverage: an uncovered PVC is reported, ignored ones (namespace and namespace/pvc) and covered ones are not", () => {
    const uncovered = samples
      .filter((s) => s.name === AUDIT_METRICS.pvcUncovered)
      .map((s) => `${s.labels.namespace}/${s.labels.persistentvolumeclaim}`);
    expect(uncovered.sort()).toEqual(["apps/uploads", "wiki/nojob"]);
    expect(value(AUDIT_METRICS.pvcs, { state: "ignored" })).toBe(2);
    expect(value(AUDIT_METRICS.pvcs, { state: "uncovered" })).toBe(2);
    // velero opt-in annotation on the pod covers apps/opted-in; the StorageClass covers the unbound new PVC.
    expect(value(AUDIT_METRICS.pvcs, { state: "covered" })).toBe(5);
  });

  it("the recorded Longhorn answers are valid Volume and BackupTarget objects (their CRDs)", () => {
    for (const f of ["longhorn-volumes.json", "longhorn-backuptargets.json"]) {
      for (const item of JSON.parse(readFileSync(path.join(KUBE_FIXTURES, f), "utf8")).items)
        expect(validateCustomResource(item), f).toEqual([]);
    }
  });

  it("only read the Kubernetes API", () => {
    expect(kubeRequests.length).toBeGreaterThan(0);
    expect(kubeRequests.every((r) => r.startsWith("GET "))).toBe(true);
  });

  it("promtool: the alert rules fire on exactly the stale, missing, invalid and uncovered items of this audit", async () => {
    // The audit's real output as promtool input: constant series over two days, every Unix-time
    // value shifted so that "now" is the evaluation time (promtool's clock starts at 0).
    const E = 2 * DAY;
    const shift = (s: MetricSample) => (s.name.endsWith("_timestamp_seconds") ? s.value - NOW + E : s.value);
    const steps = E / 600;
    const input_series = samples.map((s) => ({
      series: `${s.name}{${Object.entries(s.labels)
        .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
        .join(", ")}}`,
      values: `${shift(s)}x${steps}`,
    }));
    const T = {
      longhorn: DAY + 2 * HOUR,
      dump: DAY + 600 + HOUR,
      etcd: DAY + 600 + HOUR,
      veleroDaily: DAY + HOUR,
      veleroWeekly: 7 * DAY + HOUR,
      veleroMonthly: 31 * DAY + HOUR,
      mirror: DAY + 600 + 6 * HOUR,
      offsite: DAY + 600 + 23 * HOUR,
    };
    const items = [
      { cls: "longhorn", what: "Longhorn volumes", thresholdSeconds: T.longhorn, why: "", staleness: true },
      ...spec.postgres.dumps.map((d) => ({
        cls: "postgres",
        item: d,
        what: `dump ${d}`,
        thresholdSeconds: T.dump,
        why: "",
        staleness: true,
      })),
      { cls: "etcd", what: "etcd snapshots", thresholdSeconds: T.etcd, why: "", staleness: true },
      { cls: "velero", item: "daily", what: "daily", thresholdSeconds: T.veleroDaily, why: "", staleness: true },
      { cls: "velero", item: "weekly", what: "weekly", thresholdSeconds: T.veleroWeekly, why: "", staleness: true },
      { cls: "velero", item: "monthly", what: "monthly", thresholdSeconds: T.veleroMonthly, why: "", staleness: true },
      ...spec.mirrors.map((m) => ({
        cls: "buckets",
        item: m.name,
        what: m.name,
        thresholdSeconds: T.mirror,
        why: "",
        staleness: false,
      })),
      { cls: "offsite", item: "offsite", what: "off-site copy", thresholdSeconds: T.offsite, why: "", staleness: true },
    ];
    const { rules } = auditRules({
      runbook: (a) => `https://example.test/#${a}`,
      auditIntervalSeconds: HOUR,
      items,
      longhorn: { longestGapSeconds: DAY, allowanceSeconds: 2 * HOUR },
      bucket: BUCKET,
      coverage: true,
    });
    const exp = (alert: string, list: Record<string, string>[]) =>
      list.map((labels) => {
        const rule = rules.find(
          (r) => r.alert === alert && Object.entries(r.labels).every(([k, v]) => v.includes("{{") || labels[k] === v),
        )!;
        // Labels the rule templates (backup_namespace), filled in from the series labels.
        const templated = Object.fromEntries(
          Object.entries(rule.labels)
            .filter(([, v]) => v.includes("{{"))
            .map(([k, v]) => [k, v.replace(/\{\{ \$labels\.(\w+) \}\}/g, (_, n: string) => labels[n] ?? "")]),
        );
        // An empty label is one the alert lacks: Go templates expand it to "", promtool does not list it.
        return {
          exp_labels: Object.fromEntries(Object.entries({ ...labels, ...templated }).filter(([, v]) => v !== "")),
          exp_annotations: expandAnnotations(rule.annotations, labels),
        };
      });
    const lh = (item: string, extra: Record<string, string> = {}) => ({
      severity: "critical",
      class: "longhorn",
      item,
      ...extra,
    });
    const at = `${E / 60}m`;
    const alert_rule_test = [
      {
        eval_time: at,
        alertname: "BackupRestorePointStale",
        exp_alerts: exp("BackupRestorePointStale", [
          lh("pvc-22222222-stale2"),
          { severity: "critical", class: "velero", item: "weekly" },
        ]),
      },
      {
        eval_time: at,
        alertname: "BackupRestorePointMissing",
        exp_alerts: exp("BackupRestorePointMissing", [
          lh("pvc-55555555-never5"),
          { severity: "critical", class: "postgres", item: "never" },
          { severity: "critical", class: "etcd", item: "cp-2" },
          { severity: "critical", class: "buckets", item: "empty" },
        ]),
      },
      {
        eval_time: at,
        alertname: "BackupRestorePointInvalid",
        exp_alerts: exp("BackupRestorePointInvalid", [
          lh("pvc-44444444-broke4"),
          { severity: "critical", class: "postgres", item: "shop" },
        ]),
      },
      {
        eval_time: at,
        alertname: "LonghornBackupsBelowRetain",
        exp_alerts: exp("LonghornBackupsBelowRetain", [
          { severity: "warning", class: "longhorn", item: "pvc-33333333-short3", pvc: "pg2", pvc_namespace: "db" },
          { severity: "warning", class: "longhorn", item: "pvc-44444444-broke4", pvc: "", pvc_namespace: "" },
        ]),
      },
      {
        eval_time: at,
        alertname: "LonghornBackupTargetUnavailable",
        exp_alerts: exp("LonghornBackupTargetUnavailable", [
          { severity: "critical", class: "longhorn", backup_target: "offsite-nfs" },
        ]),
      },
      { eval_time: at, alertname: "BackupAuditFailing", exp_alerts: [] },
      {
        eval_time: at,
        alertname: "PersistentVolumeClaimNotBackedUp",
        exp_alerts: exp("PersistentVolumeClaimNotBackedUp", [
          { severity: "warning", class: "coverage", namespace: "apps", persistentvolumeclaim: "uploads" },
          { severity: "warning", class: "coverage", namespace: "wiki", persistentvolumeclaim: "nojob" },
        ]),
      },
    ];
    const { check, test } = await promtoolTest(
      [{ name: "audit", rules }],
      [{ interval: "10m", input_series, alert_rule_test }],
      "10m",
    );
    expect(check.code, check.output).toBe(0);
    expect(test.code, test.output).toBe(0);
  });

  it("runs as the pod runs it: audit-entry.sh under BusyBox sh defines the hub remote from the environment and starts the exporter", async () => {
    writeFileSync(path.join(dir, "spec-pg.json"), JSON.stringify({ bucket: BUCKET, postgres: spec.postgres }));
    // The pod's /tmp: the remotes are environment variables (components/core/rclone-remotes.sh), no file.
    const podTmp = mkdtempSync(path.join(dir, "pod-tmp-"));
    const r = await run("busybox", ["sh", path.join(ROOT, "components", "alerts", "audit-entry.sh")], {
      ...env,
      AUDIT_ONCE: "1",
      AUDIT_SPEC: path.join(dir, "spec-pg.json"),
      AUDIT_S3_ACCESS_KEY_ID: peer.accessKeyId,
      AUDIT_S3_SECRET_ACCESS_KEY: peer.secretAccessKey,
      AUDIT_S3_ENDPOINT: peer.endpoint,
      AUDIT_S3_REGION: "us-east-1",
      AUDIT_S3_PROVIDER: "Other",
      AUDIT_S3_PATH_STYLE: "true",
      RCLONE: "rclone",
      TMPDIR: podTmp,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(podTmp)).toEqual([]);
    const got = parseMetrics(r.stdout);
    const v = (name: string, item: string) => got.find((s) => s.name === name && s.labels.item === item)?.value;
    expect(v(M.valid, "wiki")).toBe(1);
    expect(v(M.valid, "shop")).toBe(0);
    expect(v(M.found, "never")).toBe(0);
  });
});
