#!/usr/bin/env node
// @ts-check
/**
 * The backup audit: reads what actually landed on the hub (and on the off-site copy) and serves it as
 * Prometheus metrics, so an alert fires even where the tool that made a backup exports nothing (Longhorn
 * before 1.11 has no per-volume last-backup metric) or reports success after a failure.
 *
 * It runs as a small Deployment (components/alerts/audit.ts): one audit at start, then one every
 * AUDIT_INTERVAL_SECONDS; between runs /metrics serves the last result. A CronJob would need somewhere
 * Prometheus scrapes to leave its result (kube-prometheus-stack ships no Pushgateway, and a finished
 * Job's pod is not scraped); the exporter keeps the last audit in memory and says how old it is
 * (homelab_backup_audit_last_run_timestamp_seconds), so a dead audit is itself alerted on.
 *
 * It only reads: the hub through rclone with the audit reader's key (list, and get of *.cfg / *.json
 * metadata only: components/hub/iam.ts), the off-site copy through the crypt remote, and the
 * Kubernetes API with a ClusterRole limited to get/list (components/alerts/audit.ts).
 *
 * Layouts it reads (upstream sources, verified):
 * - Longhorn backupstore (longhorn/backupstore config.go, util/util.go, deltablock.go):
 *   <target path>/backupstore/volumes/<h[0:2]>/<h[2:4]>/<volume>/volume.cfg, h = hex(sha512(volume name)),
 *   and .../<volume>/backups/backup_<name>.cfg. A backup writes its backup_<name>.cfg with an empty
 *   CreatedTime first, then the full one, then volume.cfg's LastBackupName/LastBackupAt (= the
 *   snapshot's creation time, RFC 3339). Size is a JSON string (`json:",string"`).
 * - Velero (velero-io/velero pkg/persistence/object_store_layout.go): <prefix>/backups/<backup>/
 *   velero-backup.json and <backup>.tar.gz; scheduled backups are named <schedule>-YYYYMMDDHHMMSS and
 *   labelled velero.io/schedule-name. The backup finalizer re-uploads velero-backup.json with the final
 *   phase and completionTimestamp (pkg/controller/backup_finalizer_controller.go).
 * - This project's own records: components/postgres/dump.sh (latest.json + <dump>.json),
 *   components/etcd/offload.sh (<snapshot>.json per node), components/offsite/offsite-sync.sh (key-check).
 *
 * Environment: AUDIT_SPEC (JSON file: what to check, written by components/alerts/auditSpec.ts),
 * AUDIT_PORT (9477), AUDIT_INTERVAL_SECONDS (3600), AUDIT_ONCE=1 (one audit to stdout, then exit),
 * RCLONE (rclone), the remotes `hub` and `offsite` as RCLONE_CONFIG_* (defined by audit-entry.sh from
 * a Secret, or in AUDIT_RCLONE_CONFIG, an optional rclone config file), KUBERNETES_API (in-cluster
 * default), AUDIT_KUBE_TOKEN_FILE / AUDIT_KUBE_CA_FILE (the service account's).
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import { request as httpsRequest } from "node:https";
import { request as httpRequest } from "node:http";

/** The off-site key-check file and its content (components/offsite/offsite-sync.sh). */
export const KEYCHECK = "homelab-backup-keycheck";
export const KEYCHECK_TEXT = "homelab-backup off-site key check";
/** Velero's label naming a backup's schedule. */
const VELERO_SCHEDULE_LABEL = "velero.io/schedule-name";
/** How many of a schedule's newest backups are read looking for a Completed one. */
const VELERO_LOOKBACK = 5;
/** How many of a node's most recently uploaded etcd records are read to find its newest snapshot. */
const ETCD_RECORDS_READ = 50;

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
 * }} AuditSpec
 */

// ---------------------------------------------------------------------------------------------
// Pure helpers
// ---------------------------------------------------------------------------------------------

/** The backupstore directory of a Longhorn volume (longhorn/backupstore config.go getVolumePath). */
export function longhornVolumePath(prefix, volume) {
  const h = createHash("sha512").update(volume).digest("hex");
  return `${prefix}backupstore/volumes/${h.slice(0, 2)}/${h.slice(2, 4)}/${volume}/`;
}

/** Seconds since the epoch of an RFC 3339 time, or undefined. */
function epoch(s) {
  if (typeof s !== "string" || s === "") return undefined;
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : t / 1000;
}

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

// ---------------------------------------------------------------------------------------------
// Reading the destination
// ---------------------------------------------------------------------------------------------

class ReadError extends Error {}

/** `rclone lsjson`; a missing directory is an empty list (S3 has no directories), other errors throw. */
async function ls(io, path, flags = []) {
  const r = await io.rclone(["lsjson", ...flags, path]);
  if (r.code === 3 || /directory not found/.test(r.stderr)) return [];
  if (r.code !== 0) throw new ReadError(`rclone lsjson ${path}: exit ${r.code}: ${r.stderr.trim().split("\n").pop()}`);
  return JSON.parse(r.stdout || "[]");
}

async function cat(io, path) {
  const r = await io.rclone(["cat", path]);
  if (r.code !== 0) throw new ReadError(`rclone cat ${path}: exit ${r.code}: ${r.stderr.trim().split("\n").pop()}`);
  return r.stdout;
}

async function catJson(io, path) {
  const text = await cat(io, path);
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

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

async function guarded(fn) {
  try {
    return await fn();
  } catch (e) {
    return { error: String(e instanceof Error ? e.message : e) };
  }
}

/** Newest backup of one Longhorn volume in the backupstore. */
export async function auditLonghornVolume(io, bucket, prefix, volume) {
  const dir = longhornVolumePath(prefix, volume);
  const top = await ls(io, `hub:${bucket}/${dir}`);
  if (!top.some((e) => e.Name === "volume.cfg")) return { found: false, valid: false, count: 0 };
  const cfg = await catJson(io, `hub:${bucket}/${dir}volume.cfg`);
  const backups = (await ls(io, `hub:${bucket}/${dir}backups/`, ["--files-only"])).filter((e) =>
    /^backup_.+\.cfg$/.test(e.Name),
  );
  const firstSeen = epoch(cfg?.CreatedTime);
  if (!cfg || !cfg.LastBackupName) return { found: backups.length > 0, valid: false, count: backups.length, firstSeen };
  const name = `backup_${cfg.LastBackupName}.cfg`;
  if (!backups.some((e) => e.Name === name)) return { found: true, valid: false, count: backups.length, firstSeen };
  const b = await catJson(io, `hub:${bucket}/${dir}backups/${name}`);
  // An in-progress backup config has an empty CreatedTime (deltablock.go); a finished one names its volume.
  const valid = !!b && b.Name === cfg.LastBackupName && b.VolumeName === volume && epoch(b.CreatedTime) !== undefined;
  return {
    found: true,
    valid,
    timestamp: epoch(cfg.LastBackupAt) ?? epoch(b?.CreatedTime),
    size: b ? Number(b.Size) : undefined,
    count: backups.length,
    firstSeen,
  };
}

/** latest.json of one PostgreSQL dump, its record and the object: size and sha256 must agree. */
export async function auditPostgresDump(io, bucket, prefix, dump) {
  const dir = `${prefix}${dump}/`;
  const files = await ls(io, `hub:${bucket}/${dir}`, ["--files-only"]);
  const dumps = files.filter((f) => /\.sql\.zst$/.test(f.Name));
  const count = dumps.filter((f) => files.some((g) => g.Name === `${f.Name}.json`)).length;
  if (!files.some((f) => f.Name === "latest.json")) return { found: dumps.length > 0, valid: false, count };
  const latest = await catJson(io, `hub:${bucket}/${dir}latest.json`);
  if (!latest || typeof latest.key !== "string") return { found: true, valid: false, count };
  const base = latest.key.slice(dir.length);
  const object = files.find((f) => f.Name === base);
  const recordObject = files.find((f) => f.Name === `${base}.json`);
  const record = recordObject ? await catJson(io, `hub:${bucket}/${dir}${base}.json`) : undefined;
  const valid =
    latest.key.startsWith(dir) &&
    !!object &&
    !!record &&
    record.complete === true &&
    record.key === latest.key &&
    record.sha256 === latest.sha256 &&
    /^[0-9a-f]{64}$/.test(String(record.sha256)) &&
    Number(record.size) === Number(latest.size) &&
    Number(record.size) === object.Size;
  return { found: true, valid, timestamp: epoch(latest.finishedAt), size: object?.Size, count };
}

/** Newest snapshot record of every etcd node under the prefix; expected nodes without one are "never seen". */
export async function auditEtcd(io, bucket, prefix, expectedNodes) {
  const dirs = (await ls(io, `hub:${bucket}/${prefix}`, ["--dirs-only"]))
    .map((d) => d.Name)
    .filter((n) => n !== ".partial");
  const nodes = [...new Set([...dirs, ...expectedNodes])].sort();
  const out = new Map();
  for (const node of nodes) {
    out.set(
      node,
      await guarded(async () => {
        if (!dirs.includes(node)) return { found: false, valid: false, count: 0 };
        const files = await ls(io, `hub:${bucket}/${prefix}${node}/`, ["--files-only"]);
        const records = files.filter((f) => f.Name.endsWith(".json") && files.some((g) => `${g.Name}.json` === f.Name));
        if (records.length === 0) return { found: false, valid: false, count: 0 };
        // The newest snapshot is the one with the newest `mtime` in its record (object times say when
        // it was uploaded, which a batch or a re-upload makes meaningless): read the latest records.
        const recent = [...records]
          .sort((a, b) => Date.parse(b.ModTime) - Date.parse(a.ModTime))
          .slice(0, ETCD_RECORDS_READ);
        let best;
        for (const r of recent) {
          const rec = await catJson(io, `hub:${bucket}/${prefix}${node}/${r.Name}`);
          if (rec && Number.isFinite(Number(rec.mtime)) && (!best || Number(rec.mtime) > Number(best.rec.mtime)))
            best = { rec, name: r.Name };
        }
        if (!best) return { found: true, valid: false, count: records.length };
        const { rec } = best;
        const snap = files.find((g) => `${g.Name}.json` === best.name);
        const valid = rec.node === node && Number(rec.size) === snap.Size && /^[0-9a-f]{64}$/.test(String(rec.sha256));
        const ts = Number(rec.mtime);
        return { found: true, valid, timestamp: ts, size: snap.Size, count: records.length };
      }),
    );
  }
  return out;
}

/** Newest Completed backup of one Velero schedule, from velero-backup.json in the bucket. */
export async function auditVeleroSchedule(io, bucket, prefix, schedule, backupDirs) {
  const re = new RegExp(`^${schedule.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}-(\\d{14})$`);
  const mine = backupDirs
    .filter((n) => re.test(n))
    .sort()
    .reverse();
  if (mine.length === 0) return { found: false, valid: false, count: 0 };
  for (const name of mine.slice(0, VELERO_LOOKBACK)) {
    const dir = `${prefix}backups/${name}/`;
    const files = await ls(io, `hub:${bucket}/${dir}`, ["--files-only"]);
    if (!files.some((f) => f.Name === "velero-backup.json")) continue;
    const meta = await catJson(io, `hub:${bucket}/${dir}velero-backup.json`);
    if (!meta || meta.metadata?.labels?.[VELERO_SCHEDULE_LABEL] !== schedule || meta.status?.phase !== "Completed")
      continue;
    const tarball = files.find((f) => f.Name === `${name}.tar.gz`);
    return {
      found: true,
      valid: !!tarball,
      timestamp: epoch(meta.status.completionTimestamp),
      size: tarball?.Size,
      count: mine.length,
    };
  }
  return { found: true, valid: false, count: mine.length };
}

/** A bucket mirror: objects present, their bytes and the newest object's time. */
export async function auditMirror(io, bucket, prefix) {
  const files = await ls(io, `hub:${bucket}/${prefix}`, ["-R", "--files-only", "--fast-list"]);
  if (files.length === 0) return { found: false, valid: false, count: 0 };
  const newest = Math.max(...files.map((f) => Date.parse(f.ModTime) / 1000));
  return {
    found: true,
    valid: true,
    timestamp: newest,
    size: files.reduce((a, f) => a + f.Size, 0),
    count: files.length,
  };
}

/** The off-site copy through its crypt remote: newest file, and the key-check file decrypts. */
export async function auditOffsite(io, remote, encryption) {
  const files = (await ls(io, `${remote}:`, ["-R", "--files-only"])).filter((f) => f.Path !== KEYCHECK);
  let keyOk = true;
  if (encryption) {
    const r = await io.rclone(["cat", `${remote},filename_encryption=off:${KEYCHECK}`]);
    keyOk = r.code === 0 && r.stdout === KEYCHECK_TEXT;
  }
  if (files.length === 0) return { found: false, valid: false, count: 0 };
  const newest = Math.max(...files.map((f) => Date.parse(f.ModTime) / 1000));
  return {
    found: true,
    valid: keyOk,
    timestamp: newest,
    size: files.reduce((a, f) => a + f.Size, 0),
    count: files.length,
  };
}

/** Bytes and objects in the whole bucket per storage class (rclone's `Tier`; STANDARD when absent). */
export async function auditUsage(io, bucket) {
  const files = await ls(io, `hub:${bucket}`, ["-R", "--files-only", "--fast-list"]);
  const by = new Map();
  for (const f of files) {
    const tier = f.Tier || "STANDARD";
    const cur = by.get(tier) ?? { bytes: 0, objects: 0 };
    cur.bytes += f.Size;
    cur.objects += 1;
    by.set(tier, cur);
  }
  return by;
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
      const r = await guarded(() => auditLonghornVolume(io, bucket, lh.prefix, v.metadata.name));
      push(
        itemSamples("longhorn", v.metadata.name, { ...r, expected: Math.max(...covering.map((j) => j.retain)) }, extra),
      );
    }
  }
  for (const dump of spec.postgres?.dumps ?? [])
    push(itemSamples("postgres", dump, await guarded(() => auditPostgresDump(io, bucket, spec.postgres.prefix, dump))));
  if (spec.etcd) {
    const expected = (cluster?.nodes ?? []).map((n) => n.metadata.name);
    const r = await guarded(() => auditEtcd(io, bucket, spec.etcd.prefix, expected));
    if ("error" in r) push(itemSamples("etcd", "*", r));
    else for (const [node, res] of r) push(itemSamples("etcd", node, res));
  }
  if (spec.velero) {
    const dirs = await guarded(async () =>
      (await ls(io, `hub:${bucket}/${spec.velero.prefix}backups/`, ["--dirs-only"])).map((d) => d.Name),
    );
    for (const s of spec.velero.schedules) {
      const r = Array.isArray(dirs)
        ? await guarded(() => auditVeleroSchedule(io, bucket, spec.velero.prefix, s.name, dirs))
        : dirs;
      push(itemSamples("velero", s.name, r));
    }
  }
  for (const m of spec.mirrors ?? [])
    push(itemSamples("buckets", m.name, await guarded(() => auditMirror(io, bucket, m.prefix))));
  if (spec.offsite)
    push(
      itemSamples(
        "offsite",
        "offsite",
        await guarded(() => auditOffsite(io, spec.offsite.remote, spec.offsite.encryption)),
      ),
    );

  if (spec.usage) {
    const u = await guarded(() => auditUsage(io, bucket));
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
  return (args) =>
    new Promise((resolve) => {
      const full = [...(config ? ["--config", config] : ["--config", ""]), ...args];
      execFile(bin, full, { env, maxBuffer: 256 * 1024 * 1024 }, (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      });
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
