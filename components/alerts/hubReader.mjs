// @ts-check
/**
 * The hub reader: what the in-cluster audit (components/alerts/audit.mjs) and the operator's `npm run
 * status` (tools/status.ts) both read to learn each item's newest restore point. Plain ESM with no
 * dependency, as the audit pod runs it with node and no build (it ships beside audit.mjs in the audit's
 * ConfigMap: components/alerts/backupAudit.ts AUDIT_FILES).
 *
 * Every read goes through rclone (`io.rclone(args)`), with the audit reader's key: it may list the
 * bucket and GET only `*.cfg` and `*.json` metadata (components/hub/iam.ts auditReaderPolicy), so no
 * read here names any other object; its one write (putJson, the audit's PVC inventory) is under
 * status/audit/, the only place that key may put.
 *
 * Its cost grows with the number of restore points, not with the number of objects:
 * - No per-object HEAD. rclone's `lsjson` asks each object for its MIME type and modification time
 *   unless told not to (fs/operations/lsjson.go: `if !lj.opt.NoMimeType { item.MimeType =
 *   fs.MimeTypeDirEntry(ctx, entry) }`, and `if !lj.opt.NoModTime { … entry.ModTime(ctx) … }`), and on S3 both read
 *   the object's metadata with a HEAD (backend/s3/s3.go: `MimeType` and `ModTime` call
 *   `o.readMetaData`, which is a HeadObject, unless `--use-server-modtime` for the time). Every listing
 *   here passes `--no-mimetype --use-server-modtime` (the time, where used, is then the listing's
 *   LastModified) and `--s3-no-head-object` (no HEAD of the path itself to see whether it is a file).
 *   Seen on the wire (rclone 1.60, `--dump headers`): a plain `lsjson` of a directory of 5 objects is
 *   1 LIST + 6 HEAD; with these flags, 1 LIST.
 * - One file is read with `rclone cat <its directory> --max-depth 1 --include /<name>`: a LIST of that
 *   one directory level and one GET. (`rclone cat <file>` costs a HEAD, a LIST of the parent and a GET.)
 * - Listings are one directory level (delimiter listings), never recursive over a class's data:
 *   Longhorn's `blocks/` and Velero's Kopia repository (velero/kopia/) are never listed, and nothing
 *   under them is read. Longhorn volumes are discovered (by `status`, which has no cluster) by listing
 *   the backupstore's volume directories to depth 3 only (volumes/<h0:2>/<h2:4>/<volume>).
 * - Where a class has no small record of its own, the job that makes the copy writes one when it
 *   completes, and it is read instead of the copy: a bucket mirror's run record
 *   (components/mirror/mirror.sh: buckets/.records/<name>.json), the off-site copy's run record
 *   (components/offsite/offsite-sync.sh: homelab-backup-offsite.json at the copy's root, encrypted like
 *   the key-check file beside it).
 * - What only the cluster knows is read from the records its jobs leave under status/
 *   (components/core/schema.ts STATUS_PREFIXES): the audit's PVC inventory (written here, putJson, by
 *   audit.mjs after each audit that read the cluster) and each drill's last result
 *   (components/drills/drill-record.sh). Each is one small file read as above, its directory one level.
 * The one recursive listing left is `readUsage` (bytes per storage class of the whole bucket, which S3
 * answers only by listing): LIST requests only (1,000 keys each), no HEAD, no GET; the audit runs it,
 * `status` does not.
 *
 * Each reader returns { found, valid, timestamp?, size?, count?, firstSeen?, why? } (why: what makes
 * the newest restore point not verified) or throws ReadError when the hub cannot be read.
 */

import { createHash } from "node:crypto";

/**
 * @typedef {{ code: number; stdout: string; stderr: string }} RunResult
 * @typedef {{ rclone: (args: string[], input?: string) => Promise<RunResult> }} ReaderIo
 * @typedef {{ found: boolean; valid: boolean; timestamp?: number; size?: number; count?: number; firstSeen?: number; why?: string }} ItemResult
 * @typedef {{ Name: string; Path: string; Size: number; ModTime: string; IsDir: boolean; Tier?: string }} Entry
 */

/** The off-site key-check file and its content (components/offsite/offsite-sync.sh). */
export const KEYCHECK = "homelab-backup-keycheck";
export const KEYCHECK_TEXT = "homelab-backup off-site key check";
/** The off-site copy's run record, at the copy's root beside the key-check file (offsite-sync.sh). */
export const OFFSITE_RECORD = "homelab-backup-offsite.json";
/** The audit's PVC inventory (status/audit/pvcs.json) and a drill's result record (drill-record.sh). */
export const PVC_INVENTORY_FORMAT = "homelab-backup/pvc-inventory/v1";
export const DRILL_RECORD_FORMAT = "homelab-backup/drill-result/v1";
/** Velero's label naming a backup's schedule. */
const VELERO_SCHEDULE_LABEL = "velero.io/schedule-name";
/** How many of a schedule's newest backups are read looking for a Completed one. */
const VELERO_LOOKBACK = 5;
/** How many of a node's most recently uploaded etcd records are read to find its newest snapshot. */
const ETCD_RECORDS_READ = 50;

/** Flags of every listing and read: no HEAD per object (MIME type, metadata time), none of the path itself. */
export const NO_HEAD_FLAGS = ["--no-mimetype", "--use-server-modtime", "--s3-no-head-object"];

export class ReadError extends Error {}

/** The backupstore directory of a Longhorn volume (longhorn/backupstore config.go getVolumePath). */
export function longhornVolumePath(prefix, volume) {
  const h = sha512hex(volume);
  return `${prefix}backupstore/volumes/${h.slice(0, 2)}/${h.slice(2, 4)}/${volume}/`;
}

function sha512hex(s) {
  return createHash("sha512").update(s).digest("hex");
}

/**
 * The run record of the mirror under `prefix` (buckets/<name>/ -> buckets/.records/<name>.json):
 * beside the mirror, outside what its `rclone sync` owns, so the sync never deletes it
 * (components/mirror/mirror.sh computes the same key).
 */
export function mirrorRecordKey(prefix) {
  const p = prefix.replace(/\/+$/, "");
  const i = p.lastIndexOf("/");
  return `${i >= 0 ? p.slice(0, i + 1) : ""}.records/${p.slice(i + 1)}.json`;
}

/** Seconds since the epoch of an RFC 3339 time, or undefined. */
export function epoch(s) {
  if (typeof s !== "string" || s === "") return undefined;
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : t / 1000;
}

const lastLine = (s) => s.trim().split("\n").pop();

/**
 * `rclone lsjson` of one directory level (deeper only with --max-depth/-R in `flags`); a missing
 * directory is an empty list (S3 has no directories), other errors throw.
 * @returns {Promise<Entry[]>}
 */
export async function ls(io, path, flags = []) {
  const r = await io.rclone(["lsjson", ...NO_HEAD_FLAGS, ...flags, path]);
  if (r.code === 3 || /directory not found/.test(r.stderr)) return [];
  if (r.code !== 0) throw new ReadError(`rclone lsjson ${path}: exit ${r.code}: ${lastLine(r.stderr)}`);
  return JSON.parse(r.stdout || "[]");
}

/** rclone filter syntax: a name matched literally. */
const literal = (name) => name.replace(/[\\*?[\]{}]/g, (c) => `\\${c}`);

/** One file's content: `dir` is a remote path ending in ":" or "/", `name` a file directly in it. */
export async function cat(io, dir, name) {
  const r = await io.rclone([
    "cat",
    ...NO_HEAD_FLAGS.filter((f) => f !== "--no-mimetype"),
    "--max-depth",
    "1",
    "--include",
    `/${literal(name)}`,
    dir,
  ]);
  if (r.code === 3 || /directory not found/.test(r.stderr)) return "";
  if (r.code !== 0) throw new ReadError(`rclone cat ${dir}${name}: exit ${r.code}: ${lastLine(r.stderr)}`);
  return r.stdout;
}

/** A JSON file, or undefined when it is absent or not JSON. */
export async function catJson(io, dir, name) {
  const text = await cat(io, dir, name);
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The value of fn, or { error } when it throws (one item's failure does not stop the others). */
export async function guarded(fn) {
  try {
    return await fn();
  } catch (e) {
    return { error: String(e instanceof Error ? e.message : e) };
  }
}

// ---------------------------------------------------------------------------------------------
// One reader per class
// ---------------------------------------------------------------------------------------------

/**
 * Longhorn volumes that have a backup volume directory in the backupstore, without the cluster:
 * volumes/<h0:2>/<h2:4>/<volume>, listed to depth 3 and never below (not the volume's backups/ or
 * blocks/).
 */
export async function listLonghornVolumes(io, bucket, prefix) {
  const base = `hub:${bucket}/${prefix}backupstore/volumes/`;
  const dirs = await ls(io, base, ["--dirs-only", "-R", "--max-depth", "3"]);
  return dirs
    .map((d) => d.Path.split("/"))
    .filter((p) => p.length === 3)
    .map((p) => p[2])
    .sort();
}

/**
 * Newest backup of one Longhorn volume in the backupstore (longhorn/backupstore config.go, deltablock.go):
 * volume.cfg's LastBackupName/LastBackupAt and that backup's backup_<name>.cfg (an in-progress one has
 * an empty CreatedTime). Size is a JSON string.
 * @returns {Promise<ItemResult>}
 */
export async function readLonghornVolume(io, bucket, prefix, volume) {
  const dir = `hub:${bucket}/${longhornVolumePath(prefix, volume)}`;
  const top = await ls(io, dir, ["--files-only"]);
  if (!top.some((e) => e.Name === "volume.cfg")) return { found: false, valid: false, count: 0 };
  const cfg = await catJson(io, dir, "volume.cfg");
  const backups = (await ls(io, `${dir}backups/`, ["--files-only", "--no-modtime"])).filter((e) =>
    /^backup_.+\.cfg$/.test(e.Name),
  );
  const firstSeen = epoch(cfg?.CreatedTime);
  if (!cfg || !cfg.LastBackupName)
    return { found: backups.length > 0, valid: false, count: backups.length, firstSeen, why: "no last backup" };
  const name = `backup_${cfg.LastBackupName}.cfg`;
  if (!backups.some((e) => e.Name === name))
    return { found: true, valid: false, count: backups.length, firstSeen, why: `${name} missing` };
  const b = await catJson(io, `${dir}backups/`, name);
  const valid = !!b && b.Name === cfg.LastBackupName && b.VolumeName === volume && epoch(b.CreatedTime) !== undefined;
  return {
    found: true,
    valid,
    timestamp: epoch(cfg.LastBackupAt) ?? epoch(b?.CreatedTime),
    size: b ? Number(b.Size) : undefined,
    count: backups.length,
    firstSeen,
    ...(valid ? {} : { why: "backup config incomplete" }),
  };
}

/**
 * latest.json of one PostgreSQL dump (components/postgres/dump.sh), its record and the object: size and
 * sha256 must agree.
 * @returns {Promise<ItemResult>}
 */
export async function readPostgresDump(io, bucket, prefix, dump) {
  const dir = `${prefix}${dump}/`;
  const remote = `hub:${bucket}/${dir}`;
  const files = await ls(io, remote, ["--files-only", "--no-modtime"]);
  const dumps = files.filter((f) => /\.sql\.zst$/.test(f.Name));
  const count = dumps.filter((f) => files.some((g) => g.Name === `${f.Name}.json`)).length;
  if (!files.some((f) => f.Name === "latest.json"))
    return { found: dumps.length > 0, valid: false, count, why: "no latest.json" };
  const latest = await catJson(io, remote, "latest.json");
  if (!latest || typeof latest.key !== "string")
    return { found: true, valid: false, count, why: "latest.json unreadable" };
  const base = latest.key.slice(dir.length);
  const object = files.find((f) => f.Name === base);
  const recordObject = files.find((f) => f.Name === `${base}.json`);
  const record = recordObject ? await catJson(io, remote, `${base}.json`) : undefined;
  const why = !latest.key.startsWith(dir)
    ? "latest.json names another prefix"
    : !object
      ? "dump object missing"
      : !record
        ? "dump record missing"
        : record.complete !== true
          ? "record not complete"
          : record.key !== latest.key
            ? "record names another key"
            : record.sha256 !== latest.sha256 || !/^[0-9a-f]{64}$/.test(String(record.sha256))
              ? "sha256 disagrees"
              : Number(record.size) !== Number(latest.size) || Number(record.size) !== object.Size
                ? "size disagrees with the object"
                : undefined;
  return {
    found: true,
    valid: why === undefined,
    timestamp: epoch(latest.finishedAt),
    size: object?.Size,
    count,
    ...(why ? { why } : {}),
  };
}

/**
 * Newest snapshot record of every etcd node under the prefix (components/etcd/offload.sh); expected
 * nodes without one are "never seen".
 * @returns {Promise<Map<string, ItemResult | { error: string }>>}
 */
export async function readEtcd(io, bucket, prefix, expectedNodes) {
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
        const remote = `hub:${bucket}/${prefix}${node}/`;
        const files = await ls(io, remote, ["--files-only"]);
        const records = files.filter((f) => f.Name.endsWith(".json") && files.some((g) => `${g.Name}.json` === f.Name));
        if (records.length === 0) return { found: false, valid: false, count: 0 };
        // The newest snapshot is the one with the newest `mtime` in its record (object times say when
        // it was uploaded, which a batch or a re-upload makes meaningless): read the latest records.
        const recent = [...records]
          .sort((a, b) => Date.parse(b.ModTime) - Date.parse(a.ModTime))
          .slice(0, ETCD_RECORDS_READ);
        let best;
        for (const r of recent) {
          const rec = await catJson(io, remote, r.Name);
          if (rec && Number.isFinite(Number(rec.mtime)) && (!best || Number(rec.mtime) > Number(best.rec.mtime)))
            best = { rec, name: r.Name };
        }
        if (!best) return { found: true, valid: false, count: records.length, why: "no readable record" };
        const { rec } = best;
        const snap = files.find((g) => `${g.Name}.json` === best.name);
        const valid = rec.node === node && Number(rec.size) === snap.Size && /^[0-9a-f]{64}$/.test(String(rec.sha256));
        return {
          found: true,
          valid,
          timestamp: Number(rec.mtime),
          size: snap.Size,
          count: records.length,
          ...(valid ? {} : { why: "record disagrees with the snapshot" }),
        };
      }),
    );
  }
  return out;
}

/** Velero's backup directories (velero/backups/<backup>/): one directory level. */
export async function listVeleroBackups(io, bucket, prefix) {
  return (await ls(io, `hub:${bucket}/${prefix}backups/`, ["--dirs-only", "--no-modtime"])).map((d) => d.Name);
}

/**
 * Newest Completed backup of one Velero schedule, from velero-backup.json in the bucket
 * (velero-io/velero pkg/persistence/object_store_layout.go; scheduled backups are <schedule>-YYYYMMDDHHMMSS).
 * @returns {Promise<ItemResult>}
 */
export async function readVeleroSchedule(io, bucket, prefix, schedule, backupDirs) {
  const re = new RegExp(`^${schedule.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}-(\\d{14})$`);
  const mine = backupDirs
    .filter((n) => re.test(n))
    .sort()
    .reverse();
  if (mine.length === 0) return { found: false, valid: false, count: 0 };
  for (const name of mine.slice(0, VELERO_LOOKBACK)) {
    const remote = `hub:${bucket}/${prefix}backups/${name}/`;
    const files = await ls(io, remote, ["--files-only", "--no-modtime"]);
    if (!files.some((f) => f.Name === "velero-backup.json")) continue;
    const meta = await catJson(io, remote, "velero-backup.json");
    if (!meta || meta.metadata?.labels?.[VELERO_SCHEDULE_LABEL] !== schedule || meta.status?.phase !== "Completed")
      continue;
    const tarball = files.find((f) => f.Name === `${name}.tar.gz`);
    return {
      found: true,
      valid: !!tarball,
      timestamp: epoch(meta.status.completionTimestamp),
      size: tarball?.Size,
      count: mine.length,
      ...(tarball ? {} : { why: "tarball missing" }),
    };
  }
  return { found: true, valid: false, count: mine.length, why: `no Completed backup in the newest ${VELERO_LOOKBACK}` };
}

/**
 * A bucket mirror, from the record mirror.sh writes when a run completes and verifies (objects, bytes,
 * finishedAt). Without a record (never run, or a copy made before records existed) one directory level
 * of the mirror tells whether anything is there.
 * @returns {Promise<ItemResult>}
 */
export async function readMirror(io, bucket, prefix) {
  const key = mirrorRecordKey(prefix);
  const slash = key.lastIndexOf("/");
  const remote = `hub:${bucket}/${key.slice(0, slash + 1)}`;
  const base = key.slice(slash + 1);
  const records = await ls(io, remote, ["--files-only", "--no-modtime"]);
  if (!records.some((f) => f.Name === base)) {
    const any = await ls(io, `hub:${bucket}/${prefix}`, ["--no-modtime"]);
    return { found: any.length > 0, valid: false, count: 0, ...(any.length ? { why: "no run record" } : {}) };
  }
  const rec = await catJson(io, remote, base);
  const valid =
    !!rec &&
    rec.complete === true &&
    rec.prefix === prefix &&
    Number.isFinite(Number(rec.objects)) &&
    epoch(rec.finishedAt) !== undefined;
  return {
    found: true,
    valid,
    timestamp: epoch(rec?.finishedAt),
    size: rec && Number.isFinite(Number(rec.bytes)) ? Number(rec.bytes) : undefined,
    count: rec && Number.isFinite(Number(rec.objects)) ? Number(rec.objects) : undefined,
    ...(valid ? {} : { why: "run record incomplete" }),
  };
}

/**
 * The off-site copy through its remote, from the run record offsite-sync.sh leaves at the copy's root
 * when a run completes, and (encrypted) the key-check file beside it decrypts. Without a record, the
 * top level of the copy tells whether anything is there.
 * @returns {Promise<ItemResult>}
 */
export async function readOffsite(io, remote, encryption) {
  // Both files are stored with filename encryption off (their names are known on the server).
  const root = encryption ? `${remote},filename_encryption=off:` : `${remote}:`;
  const rec = await catJson(io, root, OFFSITE_RECORD);
  let keyOk = true;
  if (encryption) keyOk = (await cat(io, root, KEYCHECK)) === KEYCHECK_TEXT;
  if (!rec) {
    const top = (await ls(io, `${remote}:`, ["--no-modtime"])).filter(
      (f) => f.Name !== KEYCHECK && f.Name !== OFFSITE_RECORD,
    );
    return { found: top.length > 0, valid: false, count: 0, ...(top.length ? { why: "no run record" } : {}) };
  }
  const timestamp = epoch(rec.finishedAt);
  const valid = keyOk && rec.complete === true && timestamp !== undefined;
  return {
    found: true,
    valid,
    timestamp,
    count: 1,
    ...(valid ? {} : { why: keyOk ? "run record incomplete" : "key-check file does not decrypt" }),
  };
}

/**
 * Bytes and objects in the whole bucket per storage class (rclone's `Tier`; STANDARD when absent). S3
 * answers this only by listing every key: LIST requests (1,000 keys each), no HEAD, no GET.
 */
export async function readUsage(io, bucket) {
  const files = await ls(io, `hub:${bucket}`, ["-R", "--files-only", "--fast-list", "--no-modtime"]);
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

// ---------------------------------------------------------------------------------------------
// Status records: what only the cluster knows, left on the hub for `npm run status`
// ---------------------------------------------------------------------------------------------

/** Splits `a/b/c.json` into the remote directory `hub:<bucket>/a/b/` and the name `c.json`. */
function remoteOf(bucket, key) {
  const slash = key.lastIndexOf("/");
  return { dir: `hub:${bucket}/${key.slice(0, slash + 1)}`, name: key.slice(slash + 1) };
}

/**
 * One status record: its parsed JSON, null when it is absent, or { unreadable } when it is there but
 * is no JSON object. One LIST of its directory level and one GET (cat), no HEAD.
 * @returns {Promise<any>}
 */
export async function readStatusRecord(io, bucket, key) {
  const { dir, name } = remoteOf(bucket, key);
  const text = await cat(io, dir, name);
  if (text === "") return null;
  try {
    const v = JSON.parse(text);
    return v && typeof v === "object" && !Array.isArray(v) ? v : { unreadable: "not a JSON object" };
  } catch {
    return { unreadable: "not JSON" };
  }
}

/**
 * Writes a status record (the audit's PVC inventory): one PutObject through `rclone rcat`, without
 * the HEAD rclone makes after an upload (--s3-no-head) or a bucket check (--s3-no-check-bucket): the
 * audit's key may put under status/audit/ only and creates no bucket (components/hub/iam.ts).
 */
export async function putJson(io, bucket, key, value) {
  const r = await io.rclone(
    ["rcat", "--s3-no-head", "--s3-no-check-bucket", `hub:${bucket}/${key}`],
    `${JSON.stringify(value)}\n`,
  );
  if (r.code !== 0) throw new ReadError(`rclone rcat ${key}: exit ${r.code}: ${lastLine(r.stderr)}`);
}

/**
 * A drill's result as status shows it, from its record (drill-record.sh) or its absence (null):
 * { state: "passed" | "failed" | "not recorded" | "unreadable", finishedAt?, ageSeconds?,
 * restoreSeconds?, restored?, reason? }. A record for another drill or without a finish time is
 * unreadable, never passed.
 */
export function judgeDrillRecord(rec, cls, item, now) {
  if (rec === null || rec === undefined) return { state: "not recorded" };
  if (rec.unreadable) return { state: "unreadable", reason: rec.unreadable };
  const finished = epoch(rec.finishedAt);
  const why =
    rec.format !== DRILL_RECORD_FORMAT
      ? `format ${JSON.stringify(rec.format)}`
      : rec.class !== cls || rec.item !== item
        ? `the record names ${rec.class}/${rec.item}`
        : rec.result !== "passed" && rec.result !== "failed"
          ? `result ${JSON.stringify(rec.result)}`
          : finished === undefined
            ? "no finish time"
            : rec.result === "passed" && !Number.isFinite(Number(rec.restoreSeconds))
              ? "no restore time"
              : undefined;
  if (why) return { state: "unreadable", reason: why };
  return {
    state: rec.result,
    finishedAt: rec.finishedAt,
    ageSeconds: Math.max(0, Math.round(now - finished)),
    ...(rec.result === "passed" ? { restoreSeconds: Number(rec.restoreSeconds) } : {}),
    ...(typeof rec.restored === "string" && rec.restored ? { restored: rec.restored } : {}),
    ...(rec.result === "failed" && typeof rec.reason === "string" && rec.reason ? { reason: rec.reason } : {}),
  };
}

/**
 * The PVCs nothing backs up, from the audit's inventory (null: absent): { state: "current" | "old" |
 * "not recorded" | "unreadable", takenAt?, ageSeconds?, uncovered?, ignored?, total? }; "old" when
 * it was taken more than maxAgeSeconds ago (the audit has stopped: its list may be out of date).
 */
export function judgePvcInventory(rec, now, maxAgeSeconds) {
  if (rec === null || rec === undefined) return { state: "not recorded" };
  if (rec.unreadable) return { state: "unreadable", reason: rec.unreadable };
  const taken = epoch(rec.takenAt);
  if (rec.format !== PVC_INVENTORY_FORMAT || taken === undefined || !Array.isArray(rec.pvcs))
    return { state: "unreadable", reason: "not a PVC inventory" };
  const pick = (p) => ({
    namespace: String(p.namespace),
    pvc: String(p.pvc),
    ...(p.storageClass ? { storageClass: String(p.storageClass) } : {}),
    ...(p.size ? { size: String(p.size) } : {}),
  });
  const age = Math.max(0, Math.round(now - taken));
  return {
    state: age > maxAgeSeconds ? "old" : "current",
    takenAt: rec.takenAt,
    ageSeconds: age,
    total: rec.pvcs.length,
    uncovered: rec.pvcs
      .filter((p) => !p.ignored && (!Array.isArray(p.coveredBy) || p.coveredBy.length === 0))
      .map(pick),
    ignored: rec.pvcs.filter((p) => p.ignored).map(pick),
  };
}
