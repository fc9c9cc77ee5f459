#!/usr/bin/env node
// @ts-check
/**
 * The backup audit: reads what actually landed on the hub (and on the off-site copy) and serves it as
 * Prometheus metrics, so an alert fires even where the tool that made a backup exports nothing (Longhorn
 * before 1.11 has no per-volume last-backup metric) or reports success after a failure.
 *
 * It runs as a small Deployment (components/alerts/backupAudit.ts): one audit at start, then one every
 * AUDIT_INTERVAL_SECONDS; between runs /metrics serves the last result. A CronJob would need somewhere
 * Prometheus scrapes to leave its result (kube-prometheus-stack ships no Pushgateway, and a finished
 * Job's pod is not scraped); the exporter keeps the last audit in memory and says how old it is
 * (homelab_backup_audit_last_run_timestamp_seconds), so a dead audit is itself alerted on.
 *
 * It reads the hub through rclone with the audit reader's key (list, and get of *.cfg / *.json
 * metadata only: components/hub/iam.ts), the off-site copy through the crypt remote, and the
 * Kubernetes API with a ClusterRole limited to get/list (components/alerts/backupAudit.ts). The one
 * thing it writes is its PVC inventory, for `npm run status` with the cluster gone (pvcInventory
 * below; the key may put under status/audit/ and nowhere else).
 *
 * What it reads on the hub and how (layouts, upstream sources, the cost of each read) is
 * components/alerts/hubReader.mjs, which `npm run status` (tools/status.ts) reads the hub with too.
 *
 * Environment: AUDIT_SPEC (JSON file: what to check, written by components/alerts/auditSpec.ts),
 * AUDIT_PORT (9477), AUDIT_INTERVAL_SECONDS (3600), AUDIT_ONCE=1 (one audit to stdout, then exit),
 * RCLONE (rclone), the remotes `hub` and `offsite` as RCLONE_CONFIG_* (defined by audit-entry.sh from
 * a Secret, or in AUDIT_RCLONE_CONFIG, an optional rclone config file), KUBERNETES_API (in-cluster
 * default), AUDIT_KUBE_TOKEN_FILE / AUDIT_KUBE_CA_FILE (the service account's).
 */
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import { request as httpsRequest } from "node:https";
import { request as httpRequest } from "node:http";
import {
  guarded,
  listVeleroBackups,
  putJson,
  PVC_INVENTORY_FORMAT,
  readEtcd,
  readLonghornVolume,
  readMirror,
  readOffsite,
  readPostgresDump,
  readUsage,
  readVeleroSchedule,
} from "./hubReader.mjs";

// The readers under the names the audit has always exported.
export {
  KEYCHECK,
  KEYCHECK_TEXT,
  longhornVolumePath,
  readLonghornVolume as auditLonghornVolume,
  readPostgresDump as auditPostgresDump,
  readEtcd as auditEtcd,
  readVeleroSchedule as auditVeleroSchedule,
  readMirror as auditMirror,
  readOffsite as auditOffsite,
  readUsage as auditUsage,
} from "./hubReader.mjs";

/**
 * Metric names, by what they measure: components/alerts/audit-metrics.json, read from beside this file (in
 * the pod the same ConfigMap carries both). The alert rules and the dashboard read the same file
 * (components/alerts/auditMetrics.ts), so what is served is what they query.
 */
const M = JSON.parse(readFileSync(new URL("./audit-metrics.json", import.meta.url), "utf8"));

const HELP = {
  [M.timestamp]: ["gauge", "Unix time of the newest valid restore point found at the destination."],
  [M.size]: ["gauge", "Bytes of the newest restore point (Longhorn: volume data in the backup; Velero: the tarball)."],
  [M.valid]: [
    "gauge",
    "1 when the newest restore point is complete and its metadata agrees with the stored object, else 0.",
  ],
  [M.found]: ["gauge", "1 when the destination holds any restore point of the item, 0 when it never saw one."],
  [M.count]: ["gauge", "Restore points of the item kept at the destination."],
  [M.expectedCount]: [
    "gauge",
    "Restore points the item's retention should keep (Longhorn: the covering jobs' largest retain).",
  ],
  [M.firstSeen]: ["gauge", "Unix time the destination first held the item (Longhorn: backup volume creation)."],
  [M.itemError]: ["gauge", "1 when the audit could not read the item (its other series are then absent)."],
  [M.bucketBytes]: ["gauge", "Bytes stored in the hub bucket, per S3 storage class."],
  [M.bucketObjects]: ["gauge", "Objects stored in the hub bucket, per S3 storage class."],
  [M.targetAvailable]: ["gauge", "Longhorn BackupTarget status.available (1/0)."],
  [M.pvcUncovered]: ["gauge", "A PVC that no backup class covers and alerts.coverage.ignore does not list."],
  [M.pvcs]: ["gauge", "PVCs in the cluster by coverage state."],
  [M.lastRun]: ["gauge", "Unix time the last audit finished."],
  [M.lastRunSuccess]: ["gauge", "1 when every check of the last audit could read its data."],
  [M.duration]: ["gauge", "Seconds the last audit took."],
};

/**
 * @typedef {{ name: string; value: number; labels: Record<string, string> }} Sample
 * @typedef {{ code: number; stdout: string; stderr: string }} RunResult
 * @typedef {{ rclone: (args: string[]) => Promise<RunResult>; kube: (path: string) => Promise<any>; now: () => number }} AuditIo
 * @typedef {{ name: string; groups: string[]; retain: number }} LonghornJob
 * @typedef {{
 *   bucket: string;
 *   usage?: boolean;
 *   longhorn?: { prefix: string; namespace: string; jobs: LonghornJob[]; storageClasses: { name: string; jobs: string[]; groups: string[] }[] };
 *   postgres?: { prefix: string; dumps: string[] };
 *   etcd?: { prefix: string; nodeSelector: Record<string, string> };
 *   velero?: { prefix: string; schedules: { name: string; includedNamespaces: string[]; excludedNamespaces: string[]; volumesByDefault: boolean }[] };
 *   mirrors?: { name: string; prefix: string }[];
 *   offsite?: { remote: string; encryption: boolean };
 *   coverage?: { ignore: string[] };
 *   pvcInventory?: string;
 * }} AuditSpec
 */

// ---------------------------------------------------------------------------------------------
// Pure helpers
// ---------------------------------------------------------------------------------------------

function escapeLabel(v) {
  return String(v).replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

/** Prometheus text exposition format 0.0.4, HELP/TYPE once per metric, series sorted for stable output. */
export function renderMetrics(samples) {
  const byName = new Map();
  for (const s of samples) byName.set(s.name, [...(byName.get(s.name) ?? []), s]);
  const out = [];
  for (const [name, list] of [...byName.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    const [type, help] = HELP[name] ?? ["gauge", name];
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    const lines = list.map((s) => {
      const labels = Object.entries(s.labels)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
        .join(",");
      return `${name}${labels ? `{${labels}}` : ""} ${Number.isFinite(s.value) ? s.value : 0}`;
    });
    out.push(...lines.sort());
  }
  return out.join("\n") + "\n";
}

/** Does `recurring-job(-group).longhorn.io/<x>: enabled` on these labels put the volume in a backup job? */
export function longhornJobsCovering(labels, jobs) {
  const l = labels ?? {};
  return jobs.filter(
    (j) =>
      l[`recurring-job.longhorn.io/${j.name}`] === "enabled" ||
      j.groups.some((g) => l[`recurring-job-group.longhorn.io/${g}`] === "enabled"),
  );
}

/** Jobs a StorageClass's recurringJobSelector (as the stack wrote it) puts new volumes in. */
function jobsOfStorageClass(sc, jobs) {
  return jobs.filter((j) => sc.jobs.includes(j.name) || j.groups.some((g) => sc.groups.includes(g)));
}

/** Is this namespace in a Velero schedule's scope? */
function veleroCoversNamespace(schedule, ns) {
  const inc =
    schedule.includedNamespaces.length === 0 ||
    schedule.includedNamespaces.includes("*") ||
    schedule.includedNamespaces.includes(ns);
  return inc && !schedule.excludedNamespaces.includes(ns);
}

/** `namespace` or `namespace/pvc` entries of alerts.coverage.ignore. */
export function isIgnored(ignore, ns, pvc) {
  return ignore.includes(ns) || ignore.includes(`${ns}/${pvc}`);
}

/**
 * Which PVCs no class covers. A PVC is covered by Longhorn when its bound Longhorn volume carries a
 * backup job/group label of the stack (a StorageClass's recurringJobSelector lands there when the volume
 * is created; before that the StorageClass itself counts), by Velero when a schedule backs up its
 * namespace with fs-backup by default and no pod opts the volume out, or when a pod opts it in
 * (backup.velero.io/backup-volumes).
 */
export function coverage(spec, k8s) {
  const ignore = spec.coverage?.ignore ?? [];
  const jobs = spec.longhorn?.jobs ?? [];
  const volumes = new Map((k8s.volumes ?? []).map((v) => [v.metadata.name, v]));
  const pvs = new Map((k8s.pvs ?? []).map((p) => [p.metadata.name, p]));
  const scs = spec.longhorn?.storageClasses ?? [];
  /** PVC key -> {opted in, opted out} from pod annotations. */
  const podOpt = new Map();
  for (const pod of k8s.pods ?? []) {
    const ann = pod.metadata.annotations ?? {};
    const split = (k) =>
      (ann[k] ?? "")
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean);
    const incl = split("backup.velero.io/backup-volumes");
    const excl = split("backup.velero.io/backup-volumes-excludes");
    for (const vol of pod.spec?.volumes ?? []) {
      const claim = vol.persistentVolumeClaim?.claimName;
      if (!claim) continue;
      const key = `${pod.metadata.namespace}/${claim}`;
      const cur = podOpt.get(key) ?? { in: false, out: false };
      if (incl.includes(vol.name)) cur.in = true;
      if (excl.includes(vol.name)) cur.out = true;
      podOpt.set(key, cur);
    }
  }
  const result = { uncovered: [], covered: [], ignored: [] };
  for (const pvc of k8s.pvcs ?? []) {
    const ns = pvc.metadata.namespace;
    const name = pvc.metadata.name;
    const key = `${ns}/${name}`;
    const by = [];
    if (spec.longhorn) {
      const pv = pvc.spec?.volumeName ? pvs.get(pvc.spec.volumeName) : undefined;
      const volName = pv?.spec?.csi?.driver === "driver.longhorn.io" ? pv.spec.csi.volumeHandle : undefined;
      const vol = volName ? volumes.get(volName) : undefined;
      if (vol && longhornJobsCovering(vol.metadata.labels, jobs).length > 0) by.push("longhorn");
      else if (!vol) {
        const sc = scs.find((s) => s.name === pvc.spec?.storageClassName);
        if (sc && jobsOfStorageClass(sc, jobs).length > 0) by.push("longhorn");
      }
    }
    if (spec.velero) {
      const opt = podOpt.get(key) ?? { in: false, out: false };
      const inScope = spec.velero.schedules.filter((s) => veleroCoversNamespace(s, ns));
      if (inScope.some((s) => (s.volumesByDefault && !opt.out) || opt.in)) by.push("velero");
    }
    if (by.length > 0) result.covered.push({ namespace: ns, pvc: name, by });
    else if (isIgnored(ignore, ns, name)) result.ignored.push({ namespace: ns, pvc: name });
    else result.uncovered.push({ namespace: ns, pvc: name });
  }
  return result;
}

/**
 * The PVC inventory the audit leaves on the hub (spec.pvcInventory, status/audit/pvcs.json) so that
 * `npm run status` knows with the cluster gone which PVCs nothing backs up: every PVC with its storage
 * class and requested size where known, the classes covering it (coverage above; none: uncovered),
 * and whether alerts.coverage.ignore lists it.
 */
export function pvcInventory(spec, k8s, nowMs) {
  const c = coverage(spec, k8s);
  const by = new Map(c.covered.map((p) => [`${p.namespace}/${p.pvc}`, p.by]));
  const ignored = new Set(c.ignored.map((p) => `${p.namespace}/${p.pvc}`));
  const pvcs = (k8s.pvcs ?? [])
    .map((pvc) => {
      const key = `${pvc.metadata.namespace}/${pvc.metadata.name}`;
      const storageClass = pvc.spec?.storageClassName;
      const size = pvc.status?.capacity?.storage ?? pvc.spec?.resources?.requests?.storage;
      return {
        namespace: pvc.metadata.namespace,
        pvc: pvc.metadata.name,
        ...(storageClass ? { storageClass } : {}),
        ...(size ? { size: String(size) } : {}),
        coveredBy: by.get(key) ?? [],
        ...(ignored.has(key) ? { ignored: true } : {}),
      };
    })
    .sort((a, b) => `${a.namespace}/${a.pvc}`.localeCompare(`${b.namespace}/${b.pvc}`));
  return { format: PVC_INVENTORY_FORMAT, takenAt: new Date(nowMs).toISOString().replace(/\.\d{3}Z$/, "Z"), pvcs };
}

// ---------------------------------------------------------------------------------------------
// Reading the destination (components/alerts/hubReader.mjs, shared with `npm run status`)
// ---------------------------------------------------------------------------------------------

/** One item's result: found/valid/timestamp/size/count, or an error. */
function itemSamples(cls, item, r, extra = {}) {
  const labels = { class: cls, item, ...extra };
  if (r.error) return [{ name: M.itemError, value: 1, labels }];
  const out = [
    { name: M.itemError, value: 0, labels },
    { name: M.found, value: r.found ? 1 : 0, labels },
    { name: M.valid, value: r.valid ? 1 : 0, labels },
  ];
  if (r.timestamp !== undefined) out.push({ name: M.timestamp, value: r.timestamp, labels });
  if (r.size !== undefined) out.push({ name: M.size, value: r.size, labels });
  if (r.count !== undefined) out.push({ name: M.count, value: r.count, labels });
  if (r.expected !== undefined) out.push({ name: M.expectedCount, value: r.expected, labels });
  if (r.firstSeen !== undefined) out.push({ name: M.firstSeen, value: r.firstSeen, labels });
  return out;
}

function selector(labels) {
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
}

/** Everything the Kubernetes API tells the audit (read-only, one list per kind). */
async function readCluster(spec, io) {
  const lh = spec.longhorn;
  const list = async (path) => (await io.kube(path)).items ?? [];
  return {
    pvcs: spec.coverage ? await list("/api/v1/persistentvolumeclaims") : [],
    pvs: spec.coverage && lh ? await list("/api/v1/persistentvolumes") : [],
    pods: spec.coverage && spec.velero ? await list("/api/v1/pods") : [],
    volumes: lh ? await list(`/apis/longhorn.io/v1beta2/namespaces/${lh.namespace}/volumes`) : [],
    backupTargets: lh ? await list(`/apis/longhorn.io/v1beta2/namespaces/${lh.namespace}/backuptargets`) : [],
    nodes: spec.etcd
      ? await list(`/api/v1/nodes?labelSelector=${encodeURIComponent(selector(spec.etcd.nodeSelector))}`)
      : [],
  };
}

/** One full audit: every sample the exporter serves. */
export async function audit(spec, io) {
  const started = io.now();
  /** @type {Sample[]} */
  const samples = [];
  let ok = true;
  const push = (list) => {
    for (const s of list) {
      if (s.name === M.itemError && s.value === 1) ok = false;
      samples.push(s);
    }
  };
  const bucket = spec.bucket;

  const k8s = await guarded(() => readCluster(spec, io));
  if ("error" in k8s) {
    ok = false;
    push([{ name: M.itemError, value: 1, labels: { class: "kubernetes", item: "api" } }]);
  } else {
    push([{ name: M.itemError, value: 0, labels: { class: "kubernetes", item: "api" } }]);
  }
  const cluster = "error" in k8s ? undefined : k8s;

  const lh = spec.longhorn;
  if (lh && cluster) {
    for (const t of cluster.backupTargets)
      push([
        {
          name: M.targetAvailable,
          value: t.status?.available === true ? 1 : 0,
          labels: { backup_target: t.metadata.name },
        },
      ]);
    for (const v of cluster.volumes) {
      const covering = longhornJobsCovering(v.metadata.labels, lh.jobs);
      if (covering.length === 0) continue;
      const ks = v.status?.kubernetesStatus ?? {};
      const extra = { pvc: ks.pvcName ?? "", pvc_namespace: ks.namespace ?? "" };
      const r = await guarded(() => readLonghornVolume(io, bucket, lh.prefix, v.metadata.name));
      push(
        itemSamples("longhorn", v.metadata.name, { ...r, expected: Math.max(...covering.map((j) => j.retain)) }, extra),
      );
    }
  }
  for (const dump of spec.postgres?.dumps ?? [])
    push(itemSamples("postgres", dump, await guarded(() => readPostgresDump(io, bucket, spec.postgres.prefix, dump))));
  if (spec.etcd) {
    const expected = (cluster?.nodes ?? []).map((n) => n.metadata.name);
    const r = await guarded(() => readEtcd(io, bucket, spec.etcd.prefix, expected));
    if ("error" in r) push(itemSamples("etcd", "*", r));
    else for (const [node, res] of r) push(itemSamples("etcd", node, res));
  }
  if (spec.velero) {
    const dirs = await guarded(() => listVeleroBackups(io, bucket, spec.velero.prefix));
    for (const s of spec.velero.schedules) {
      const r = Array.isArray(dirs)
        ? await guarded(() => readVeleroSchedule(io, bucket, spec.velero.prefix, s.name, dirs))
        : dirs;
      push(itemSamples("velero", s.name, r));
    }
  }
  for (const m of spec.mirrors ?? [])
    push(itemSamples("buckets", m.name, await guarded(() => readMirror(io, bucket, m.prefix))));
  if (spec.offsite)
    push(
      itemSamples(
        "offsite",
        "offsite",
        await guarded(() => readOffsite(io, spec.offsite.remote, spec.offsite.encryption)),
      ),
    );

  if (spec.usage) {
    const u = await guarded(() => readUsage(io, bucket));
    if (u instanceof Map) {
      if (u.size === 0) u.set("STANDARD", { bytes: 0, objects: 0 });
      for (const [tier, { bytes, objects }] of u) {
        push([
          { name: M.bucketBytes, value: bytes, labels: { bucket, storage_class: tier } },
          { name: M.bucketObjects, value: objects, labels: { bucket, storage_class: tier } },
        ]);
      }
      push([{ name: M.itemError, value: 0, labels: { class: "hub", item: bucket } }]);
    } else push([{ name: M.itemError, value: 1, labels: { class: "hub", item: bucket } }]);
  }

  if (spec.coverage && cluster) {
    const c = coverage(spec, cluster);
    for (const p of c.uncovered)
      push([{ name: M.pvcUncovered, value: 1, labels: { namespace: p.namespace, persistentvolumeclaim: p.pvc } }]);
    push([
      { name: M.pvcs, value: c.covered.length, labels: { state: "covered" } },
      { name: M.pvcs, value: c.uncovered.length, labels: { state: "uncovered" } },
      { name: M.pvcs, value: c.ignored.length, labels: { state: "ignored" } },
    ]);
    // Only from an audit that read the cluster: without it the inventory on the hub stays, and status
    // says how old it is. A failed write is the audit's own failure (BackupAuditFailing).
    if (spec.pvcInventory) {
      const w = await guarded(() => putJson(io, bucket, spec.pvcInventory, pvcInventory(spec, cluster, io.now())));
      push([
        { name: M.itemError, value: w && "error" in w ? 1 : 0, labels: { class: "status", item: "pvc-inventory" } },
      ]);
      if (w && "error" in w) console.error(`audit: the PVC inventory was not written: ${w.error}`);
    }
  }

  const finished = io.now();
  samples.push({ name: M.lastRun, value: Math.round(finished / 1000), labels: {} });
  samples.push({ name: M.lastRunSuccess, value: ok ? 1 : 0, labels: {} });
  samples.push({ name: M.duration, value: (finished - started) / 1000, labels: {} });
  return samples;
}

// ---------------------------------------------------------------------------------------------
// Running it
// ---------------------------------------------------------------------------------------------

function rcloneRunner(env) {
  const bin = env.RCLONE || "rclone";
  const config = env.AUDIT_RCLONE_CONFIG;
  return (args, input) =>
    new Promise((resolve) => {
      const full = [...(config ? ["--config", config] : ["--config", ""]), ...args];
      const child = execFile(bin, full, { env, maxBuffer: 256 * 1024 * 1024 }, (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      });
      // `rclone rcat` reads the object from stdin; nothing else here reads it.
      child.stdin?.end(input ?? "");
    });
}

function kubeClient(env) {
  const base = new URL(env.KUBERNETES_API || "https://kubernetes.default.svc");
  const tokenFile = env.AUDIT_KUBE_TOKEN_FILE || "/var/run/secrets/kubernetes.io/serviceaccount/token";
  const caFile = env.AUDIT_KUBE_CA_FILE || "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt";
  return (path) =>
    new Promise((resolve, reject) => {
      const url = new URL(path, base);
      const headers = { Accept: "application/json" };
      // The projected token rotates: read it on every request.
      if (existsSync(tokenFile)) headers.Authorization = `Bearer ${readFileSync(tokenFile, "utf8").trim()}`;
      const opts = {
        method: "GET",
        headers,
        timeout: 30_000,
        ...(url.protocol === "https:" && existsSync(caFile) ? { ca: readFileSync(caFile) } : {}),
      };
      const req = (url.protocol === "https:" ? httpsRequest : httpRequest)(url, opts, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d) => (body += d));
        res.on("end", () => {
          if ((res.statusCode ?? 500) >= 300) reject(new Error(`GET ${url.pathname}: HTTP ${res.statusCode}`));
          else resolve(JSON.parse(body));
        });
      });
      req.on("timeout", () => req.destroy(new Error(`GET ${url.pathname}: timeout`)));
      req.on("error", reject);
      req.end();
    });
}

async function main() {
  const env = process.env;
  const spec = JSON.parse(readFileSync(env.AUDIT_SPEC || "/etc/audit/spec.json", "utf8"));
  const io = { rclone: rcloneRunner(env), kube: kubeClient(env), now: () => Date.now() };
  if (env.AUDIT_ONCE === "1") {
    process.stdout.write(renderMetrics(await audit(spec, io)));
    return;
  }
  const port = Number(env.AUDIT_PORT || 9477);
  const interval = Number(env.AUDIT_INTERVAL_SECONDS || 3600) * 1000;
  let text = "";
  const run = async () => {
    try {
      text = renderMetrics(await audit(spec, io));
    } catch (e) {
      console.error(`audit failed: ${e instanceof Error ? e.stack : e}`);
    }
    setTimeout(run, interval);
  };
  createServer((req, res) => {
    if (req.url === "/metrics" && text) {
      res.writeHead(200, { "Content-Type": "text/plain; version=0.0.4; charset=utf-8" });
      res.end(text);
    } else if (req.url === "/healthz") {
      res.writeHead(200, { "Content-Type": "text/plain" });
      res.end("ok\n");
    } else {
      res.writeHead(text ? 404 : 503);
      res.end();
    }
  }).listen(port, () => console.error(`audit: serving :${port}/metrics, auditing every ${interval / 1000}s`));
  await run();
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((e) => {
    console.error(e instanceof Error ? e.stack : e);
    process.exit(1);
  });
}
