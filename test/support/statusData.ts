/**
 * Hub contents for `npm run status` tests, staged in a local tree as each producer lays them out
 * (Longhorn's backupstore, Velero's layout, this project's postgres/etcd/mirror records; the same
 * shapes as test/alerts/audit.integration.test.ts), then uploaded with one `rclone copy`: fresh, stale,
 * missing items and a dump record that disagrees with its object; the records only the cluster knows
 * (drill results as components/drills/drill-record.sh writes them, the audit's PVC inventory as
 * components/alerts/audit.mjs pvcInventory writes it). Also Longhorn block objects and Velero Kopia
 * objects, which the reader must never touch.
 */
import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { DRILL_RECORD_FORMAT, longhornVolumePath, PVC_INVENTORY_FORMAT } from "../../components/alerts/hubReader.mjs";
import { drillRecordKey, PVC_INVENTORY_KEY } from "../../components/core/schema.js";
import type { StatusSpec } from "../../components/alerts/statusSpec.js";

export const HOUR = 3600;
export const DAY = 86_400;
export const iso = (t: number) => new Date(t * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
const stamp = (t: number) => iso(t).replace(/[-:TZ]/g, "");

/** A completed backup's `backups/backup_<name>.cfg`, as longhorn/backupstore writes it (the `i`-th, taken at `t`). */
export function longhornBackupCfg(volume: string, name: string, i: number, t: number): string {
  return JSON.stringify({
    Name: name,
    VolumeName: volume,
    SnapshotName: `snap-${i}`,
    SnapshotCreatedAt: iso(t),
    CreatedTime: iso(t + 60),
    Size: String(2097152 * (i + 1)),
    Labels: {},
    IsIncremental: i > 0,
    CompressionMethod: "lz4",
    Blocks: [],
  });
}

/** A volume's `volume.cfg`, as longhorn/backupstore writes it, pointing at its last backup. */
export function longhornVolumeCfg(
  volume: string,
  created: number,
  last: { lastBackupName: string; lastBackupAt?: number; blocks: number },
): string {
  return JSON.stringify({
    Name: volume,
    Size: "10737418240",
    Labels: {},
    CreatedTime: iso(created),
    LastBackupName: last.lastBackupName,
    LastBackupAt: last.lastBackupAt !== undefined ? iso(last.lastBackupAt) : "",
    BlockCount: String(last.blocks),
    CompressionMethod: "lz4",
    DataEngine: "v1",
  });
}

export class HubStage {
  constructor(readonly dir: string) {}

  put(key: string, body: string | Buffer): void {
    const file = path.join(this.dir, key);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, body);
  }

  /** A Longhorn volume with completed backups at `times` (newest last) and `blocks` block objects. */
  longhorn(volume: string, created: number, times: number[], blocks = 1): void {
    const d = longhornVolumePath("longhorn/", volume);
    for (const [i, t] of times.entries()) {
      const name = `backup-${volume.slice(-6)}-${i}`;
      this.put(`${d}backups/backup_${name}.cfg`, longhornBackupCfg(volume, name, i, t));
    }
    for (let b = 0; b < blocks; b++) {
      const h = createHash("sha256").update(`${volume}-${b}`).digest("hex");
      this.put(`${d}blocks/${h.slice(0, 2)}/${h.slice(2, 4)}/${h}.blk`, "x".repeat(16));
    }
    this.put(
      `${d}volume.cfg`,
      longhornVolumeCfg(volume, created, {
        lastBackupName: times.length ? `backup-${volume.slice(-6)}-${times.length - 1}` : "",
        lastBackupAt: times.at(-1),
        blocks,
      }),
    );
  }

  velero(schedule: string, t: number, phase = "Completed"): void {
    const name = `${schedule}-${stamp(t)}`;
    const d = `velero/backups/${name}/`;
    this.put(
      `${d}velero-backup.json`,
      JSON.stringify({
        kind: "Backup",
        apiVersion: "velero.io/v1",
        metadata: { name, namespace: "velero", labels: { "velero.io/schedule-name": schedule } },
        status: { phase, startTimestamp: iso(t), completionTimestamp: iso(t + 120), version: 1 },
      }),
    );
    this.put(`${d}${name}.tar.gz`, "t".repeat(4096));
  }

  /** Kopia repository objects of Velero's file-system backups (never read by the reader). */
  kopia(n: number): void {
    for (let i = 0; i < n; i++) this.put(`velero/kopia/default/p${String(i).padStart(32, "0")}`, "k");
  }

  postgres(db: string, t: number, body: string, tamper?: { recordSize?: number }): void {
    const base = `${db}-${stamp(t).replace(/^(\d{8})(\d{6})$/, "$1T$2Z")}.sql.zst`;
    const key = `postgres-backups/${db}/${base}`;
    const sha = createHash("sha256").update(body).digest("hex");
    this.put(key, body);
    this.put(
      `${key}.json`,
      JSON.stringify({
        format: "homelab-backup/postgres-dump/v1",
        name: db,
        mode: "database",
        key,
        size: tamper?.recordSize ?? body.length,
        sha256: sha,
        complete: true,
        finishedAt: iso(t),
      }),
    );
    this.put(
      `postgres-backups/${db}/latest.json`,
      JSON.stringify({ key, record: `${key}.json`, size: body.length, sha256: sha, finishedAt: iso(t) }),
    );
  }

  etcd(node: string, t: number, body: string): void {
    const file = `etcd-snapshot-${node}-${t}`;
    const sha = createHash("sha256").update(body).digest("hex");
    this.put(`etcd-snapshots/${node}/${file}`, body);
    this.put(
      `etcd-snapshots/${node}/${file}.json`,
      JSON.stringify({ file, node, size: body.length, sha256: sha, check: "etcdctl", mtime: t }),
    );
  }

  /** A mirror's objects and the record mirror.sh leaves after a verified run. */
  mirror(name: string, t: number, objects: Record<string, string>): void {
    let bytes = 0;
    for (const [k, v] of Object.entries(objects)) {
      this.put(`buckets/${name}/${k}`, v);
      bytes += v.length;
    }
    this.put(
      `buckets/.records/${name}.json`,
      JSON.stringify({
        format: "homelab-backup/mirror-run/v1",
        name,
        source: `src-${name}`,
        prefix: `buckets/${name}/`,
        finishedAt: iso(t),
        objects: Object.keys(objects).length,
        bytes,
        complete: true,
      }),
    );
  }

  /** A drill's last result, as drill-record.sh leaves it. */
  drill(
    cls: string,
    item: string,
    finished: number,
    r: { result: "passed" | "failed"; seconds: number; restored?: string; reason?: string; recordItem?: string },
  ): void {
    this.put(
      drillRecordKey(cls, item),
      JSON.stringify({
        format: DRILL_RECORD_FORMAT,
        class: cls,
        item: r.recordItem ?? item,
        result: r.result,
        startedAt: iso(finished - r.seconds),
        finishedAt: iso(finished),
        seconds: r.seconds,
        ...(r.result === "passed" ? { restoreSeconds: r.seconds } : {}),
        restored: r.restored ?? "",
        reason: r.reason ?? "",
      }) + "\n",
    );
  }

  /** The audit's PVC inventory, as audit.mjs pvcInventory leaves it. */
  pvcInventory(taken: number, pvcs: object[]): void {
    this.put(PVC_INVENTORY_KEY, JSON.stringify({ format: PVC_INVENTORY_FORMAT, takenAt: iso(taken), pvcs }) + "\n");
  }
}

/** The records the status test data holds (each row's drill cell and the PVC line follow from these). */
export function stageStatusRecords(s: HubStage, now: number): void {
  s.drill("postgres", "wiki", now - 5 * HOUR, {
    result: "passed",
    seconds: 312,
    restored: "postgres-backups/wiki/wiki-20261207T000000Z.sql.zst",
  });
  s.drill("postgres", "shop", now - 4 * HOUR, {
    result: "failed",
    seconds: 40,
    reason: "the newest dump did not restore",
  });
  s.drill("etcd", "etcd", now - DAY, { result: "passed", seconds: 95, restored: "etcd-snapshots/cp-1/x" });
  // A record that names another drill than its key: never taken for a pass.
  s.drill("buckets", "photos", now - 2 * HOUR, { result: "passed", seconds: 30, recordItem: "videos" });
  s.pvcInventory(now - 20 * 60, [
    { namespace: "media", pvc: "photos", storageClass: "longhorn", size: "20Gi", coveredBy: ["longhorn"] },
    { namespace: "media", pvc: "scratch", storageClass: "local-path", size: "5Gi", coveredBy: [] },
    { namespace: "tmp", pvc: "cache", storageClass: "local-path", coveredBy: [], ignored: true },
  ]);
}

/** The test's status spec: the audit spec's shape and a threshold per item (as components/alerts/statusSpec.ts builds it). */
export function statusSpecFor(
  hub: { endpoint: string; bucket: string; provider?: string },
  parts: { velero?: string[]; postgres?: string[]; mirrors?: string[] } = {},
): StatusSpec {
  const postgres = parts.postgres ?? ["wiki", "shop", "never"];
  const velero = parts.velero ?? ["daily", "weekly"];
  const mirrors = parts.mirrors ?? ["photos"];
  return {
    format: "homelab-backup/status-spec/v1",
    hub: {
      provider: hub.provider ?? "Other",
      endpoint: hub.endpoint,
      region: "us-east-1",
      pathStyle: true,
      bucket: hub.bucket,
    },
    audit: {
      bucket: hub.bucket,
      usage: true,
      longhorn: {
        prefix: "longhorn/",
        namespace: "longhorn-system",
        jobs: [{ name: "daily-backup", groups: ["default"], retain: 3 }],
        storageClasses: [],
      },
      postgres: { prefix: "postgres-backups/", dumps: postgres },
      etcd: { prefix: "etcd-snapshots/", nodeSelector: { "node-role.kubernetes.io/control-plane": "true" } },
      velero: {
        prefix: "velero/",
        schedules: velero.map((name) => ({
          name,
          includedNamespaces: ["*"],
          excludedNamespaces: [],
          volumesByDefault: false,
        })),
      },
      mirrors: mirrors.map((name) => ({ name, prefix: `buckets/${name}/` })),
      coverage: { ignore: [] },
      pvcInventory: PVC_INVENTORY_KEY,
    },
    records: {
      pvcInventory: { key: PVC_INVENTORY_KEY, maxAgeSeconds: 3 * HOUR },
      // No Longhorn drill: its rows say "no drill"; Velero's drill has never written a record.
      drills: [
        ...postgres.map((item) => ({ cls: "postgres", item, key: drillRecordKey("postgres", item) })),
        { cls: "etcd", item: "etcd", key: drillRecordKey("etcd", "etcd") },
        { cls: "velero", item: "velero", key: drillRecordKey("velero", "velero") },
        ...mirrors.map((item) => ({ cls: "buckets", item, key: drillRecordKey("buckets", item) })),
      ],
    },
    items: [
      { cls: "longhorn", thresholdSeconds: DAY + 2 * HOUR, why: "daily + 2h" },
      ...postgres.map((item) => ({ cls: "postgres", item, thresholdSeconds: DAY + 2 * HOUR, why: "daily + 2h" })),
      { cls: "etcd", thresholdSeconds: DAY + 2 * HOUR, why: "daily + 2h" },
      ...velero.map((item) => ({ cls: "velero", item, thresholdSeconds: DAY + HOUR, why: "daily + 1h" })),
      ...mirrors.map((item) => ({ cls: "buckets", item, thresholdSeconds: DAY + 6 * HOUR, why: "daily + 6h" })),
    ],
  };
}
