/**
 * `npm run status -- [--stack <name> | --outputs <file>] [--json]`: what is backed up now, read from the
 * hub directly (not the cluster, which may be the thing that died), with the read-only key the stack
 * exports (contract: ../shared/spec/render.md, section `status`).
 *
 * Inputs are the stack's outputs (`pulumi stack output --json --show-secrets`, run here with --stack or
 * saved to a file for --outputs): `statusSpec` (what to read and each item's staleness threshold,
 * components/alerts/statusSpec.ts), `statusReaderAccessKeyId` / `statusReaderSecretAccessKey` (the audit
 * reader: list, and get of metadata only), and for the off-site copy `statusOffsiteFtpPassword` and
 * `offsiteEncryptionKey`. The hub is read with components/alerts/hubReader.mjs, the same reader as the
 * in-cluster audit, through rclone remotes defined by components/core/rclone-remotes.sh.
 *
 * One row per item: class, item, newest restore point, its age against the threshold, size, verified,
 * restore points, last drill and measured restore time, age of the off-site copy; then the PVCs nothing
 * backs up. What only the cluster knows is read from the records its jobs leave under status/: each
 * drill's last result (components/drills/drill-record.sh) and the audit's PVC inventory
 * (components/alerts/audit.mjs), at the keys statusSpec.records names.
 *
 * Exit 0 when every item is fresh and verified, 1 when any is stale, missing or not verified, 2 when
 * the hub cannot be read (or the outputs lack what it needs). A failed or missing drill record and an
 * uncovered PVC are reported, not counted in the exit status: the contract's exit status is about
 * restore points (../shared/spec/render.md, section `status`: 0 everything fresh, 1 anything stale
 * or missing), and the alerts (components/drills/alerts.ts, PersistentVolumeClaimNotBackedUp) page
 * on both already.
 */
import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import {
  judgeDrillRecord,
  judgePvcInventory,
  listLonghornVolumes,
  listVeleroBackups,
  ls,
  readEtcd,
  readLonghornVolume,
  readMirror,
  readOffsite,
  readPostgresDump,
  readStatusRecord,
  readVeleroSchedule,
  type DrillJudgement,
  type InventoryJudgement,
  type ItemResult,
  type PvcRef,
  type ReaderIo,
} from "../components/alerts/hubReader.mjs";
import type { StatusItem, StatusSpec } from "../components/alerts/statusSpec.js";

const REPO = path.resolve(__dirname, "..");

export type RowState = "fresh" | "stale" | "missing" | "unverified" | "unreadable";

export interface StatusRow {
  cls: string;
  item: string;
  state: RowState;
  /** RFC 3339 time of the newest restore point. */
  newest?: string;
  ageSeconds?: number;
  thresholdSeconds?: number;
  size?: number;
  verified: boolean;
  /** Why it is not verified, or what could not be read. */
  why?: string;
  restorePoints?: number;
  /** The last drill of the item as a person reads it: "passed 2d 3h ago, restore 4m", "failed ...", "not recorded", "no drill". */
  drill: string;
  /** The drill record read (status/drills/<cls>/<item>.json); absent when no drill proves the item. */
  lastDrill?: DrillJudgement & { key: string };
  /** Age of the off-site copy holding this item's class, "not copied", or "no off-site copy". */
  offsite: string;
}

export interface StatusReport {
  generatedAt: string;
  bucket: string;
  rows: StatusRow[];
  /** The PVCs nothing backs up, from the audit's inventory; null: not known (no audit, no readable inventory). */
  uncoveredPvcs: PvcRef[] | null;
  /** The audit's PVC inventory as read (absent: the stack runs no audit, so nothing writes one). */
  pvcInventory?: InventoryJudgement & { key: string; maxAgeSeconds: number };
  notes: string[];
  exitCode: 0 | 1 | 2;
}

export class StatusError extends Error {}

/** Seconds as a person reads an age: 45s, 12m, 5h 3m, 2d 4h. */
export function formatAge(s: number): string {
  const t = Math.max(0, Math.round(s));
  if (t < 60) return `${t}s`;
  if (t < 3600) return `${Math.floor(t / 60)}m`;
  if (t < 86_400) return `${Math.floor(t / 3600)}h ${Math.floor((t % 3600) / 60)}m`;
  return `${Math.floor(t / 86_400)}d ${Math.floor((t % 86_400) / 3600)}h`;
}

export function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${v.toFixed(1)} ${units[u]}`;
}

/** What the DRILL cell says when no drill of the stack proves the item. */
const NO_DRILL = "no drill";

/** The drill record of a row: the item's own drill, else its class's one drill. */
function drillOf(spec: StatusSpec, cls: string, item: string) {
  const d = spec.records?.drills ?? [];
  return d.find((x) => x.cls === cls && x.item === item) ?? d.find((x) => x.cls === cls && x.item === cls);
}

/** The DRILL cell. */
export function drillText(j: DrillJudgement | undefined): string {
  if (!j) return NO_DRILL;
  const ago = j.ageSeconds !== undefined ? ` ${formatAge(j.ageSeconds)} ago` : "";
  switch (j.state) {
    case "passed":
      return `passed${ago}, restore ${formatAge(j.restoreSeconds!)}`;
    case "failed":
      return `failed${ago}${j.reason ? ` (${j.reason})` : ""}`;
    case "unreadable":
      return `record unreadable (${j.reason})`;
    default:
      return "not recorded";
  }
}

function thresholdOf(spec: StatusSpec, cls: string, item?: string): StatusItem | undefined {
  return spec.items.find((i) => i.cls === cls && i.item === item) ?? spec.items.find((i) => i.cls === cls && !i.item);
}

/** The bucket prefix of a class (what the off-site prefixes are compared with). */
function classPrefix(spec: StatusSpec, cls: string): string | undefined {
  const a = spec.audit;
  switch (cls) {
    case "longhorn":
      return a.longhorn?.prefix;
    case "postgres":
      return a.postgres?.prefix;
    case "etcd":
      return a.etcd?.prefix;
    case "velero":
      return a.velero?.prefix;
    case "buckets":
      return a.mirrors?.[0]?.prefix.replace(/[^/]+\/$/, "");
    default:
      return undefined;
  }
}

/** Reads every item of the spec and judges it; throws StatusError when the hub cannot be read at all. */
export async function readStatus(spec: StatusSpec, io: ReaderIo, now: number, offsiteReadable: boolean) {
  const bucket = spec.hub.bucket;
  const a = spec.audit;
  // The hub answers at all: one listing of the bucket's top level.
  try {
    await ls(io, `hub:${bucket}`, ["--dirs-only", "--no-modtime"]);
  } catch (e) {
    throw new StatusError(`the hub cannot be read: ${(e as Error).message}`);
  }
  const raw: { cls: string; item: string; r: ItemResult | { error: string } }[] = [];
  const safe = async <T>(fn: () => Promise<T>): Promise<T | { error: string }> => {
    try {
      return await fn();
    } catch (e) {
      return { error: (e as Error).message };
    }
  };
  if (a.longhorn) {
    const lh = a.longhorn;
    const volumes = await safe(() => listLonghornVolumes(io, bucket, lh.prefix));
    if ("error" in volumes) raw.push({ cls: "longhorn", item: "*", r: volumes });
    else if (volumes.length === 0)
      raw.push({ cls: "longhorn", item: "(no backup volume)", r: { found: false, valid: false } });
    for (const v of Array.isArray(volumes) ? volumes : [])
      raw.push({ cls: "longhorn", item: v, r: await safe(() => readLonghornVolume(io, bucket, lh.prefix, v)) });
  }
  for (const d of a.postgres?.dumps ?? [])
    raw.push({ cls: "postgres", item: d, r: await safe(() => readPostgresDump(io, bucket, a.postgres!.prefix, d)) });
  if (a.etcd) {
    const nodes = await safe(() => readEtcd(io, bucket, a.etcd!.prefix, []));
    if (!(nodes instanceof Map)) raw.push({ cls: "etcd", item: "*", r: nodes });
    else if (nodes.size === 0) raw.push({ cls: "etcd", item: "(no node)", r: { found: false, valid: false } });
    else for (const [node, r] of nodes) raw.push({ cls: "etcd", item: node, r });
  }
  if (a.velero) {
    const dirs = await safe(() => listVeleroBackups(io, bucket, a.velero!.prefix));
    for (const s of a.velero.schedules)
      raw.push({
        cls: "velero",
        item: s.name,
        r: Array.isArray(dirs)
          ? await safe(() => readVeleroSchedule(io, bucket, a.velero!.prefix, s.name, dirs))
          : dirs,
      });
  }
  for (const m of a.mirrors ?? [])
    raw.push({ cls: "buckets", item: m.name, r: await safe(() => readMirror(io, bucket, m.prefix)) });

  let offsiteRow: StatusRow | undefined;
  if (a.offsite) {
    const r: ItemResult | { error: string } = offsiteReadable
      ? await safe(() => readOffsite(io, a.offsite!.remote, a.offsite!.encryption))
      : { error: "no FTP password (statusOffsiteFtpPassword) or crypt key (offsiteEncryptionKey) in the outputs" };
    offsiteRow = judge(spec, "offsite", "offsite", r, now, "");
  }
  const offsiteAge = (cls: string): string => {
    if (!spec.offsite || !offsiteRow) return "no off-site copy";
    const p = classPrefix(spec, cls);
    const prefixes = spec.offsite.prefixes;
    if (p !== undefined && prefixes.length > 0 && !prefixes.some((q) => p.startsWith(q) || q.startsWith(p)))
      return "not copied";
    return offsiteRow.ageSeconds !== undefined ? formatAge(offsiteRow.ageSeconds) : offsiteRow.state;
  };
  const rows = raw.map(({ cls, item, r }) => judge(spec, cls, item, r, now, offsiteAge(cls)));
  if (offsiteRow) rows.push(offsiteRow);
  // Each drill record once, however many rows its class has.
  const drills = new Map<string, DrillJudgement>();
  for (const d of spec.records?.drills ?? []) {
    const rec = await safe(() => readStatusRecord(io, bucket, d.key));
    drills.set(
      d.key,
      rec && typeof rec === "object" && "error" in rec && Object.keys(rec).length === 1
        ? { state: "unreadable", reason: String(rec.error) }
        : judgeDrillRecord(rec, d.cls, d.item, now),
    );
  }
  return rows.map((row) => {
    const d = drillOf(spec, row.cls, row.item);
    if (!d) return row;
    const j = drills.get(d.key)!;
    return { ...row, drill: drillText(j), lastDrill: { ...j, key: d.key } };
  });
}

/** The audit's PVC inventory (undefined when the stack runs no audit); throws nothing. */
export async function readPvcInventory(
  spec: StatusSpec,
  io: ReaderIo,
  now: number,
): Promise<StatusReport["pvcInventory"]> {
  const p = spec.records?.pvcInventory;
  if (!p) return undefined;
  let j: InventoryJudgement;
  try {
    j = judgePvcInventory(await readStatusRecord(io, spec.hub.bucket, p.key), now, p.maxAgeSeconds);
  } catch (e) {
    j = { state: "unreadable", reason: (e as Error).message };
  }
  return { ...j, key: p.key, maxAgeSeconds: p.maxAgeSeconds };
}

function judge(
  spec: StatusSpec,
  cls: string,
  item: string,
  r: ItemResult | { error: string },
  now: number,
  offsite: string,
): StatusRow {
  const t = thresholdOf(spec, cls, item === "*" ? undefined : item);
  const base = { cls, item, drill: NO_DRILL, offsite, thresholdSeconds: t?.thresholdSeconds };
  if ("error" in r) return { ...base, state: "unreadable", verified: false, why: r.error };
  const age = r.timestamp !== undefined ? now - r.timestamp : undefined;
  const state: RowState = !r.found
    ? "missing"
    : r.timestamp === undefined
      ? r.valid
        ? "stale"
        : "unverified"
      : t && age! > t.thresholdSeconds
        ? "stale"
        : r.valid
          ? "fresh"
          : "unverified";
  return {
    ...base,
    state,
    ...(r.timestamp !== undefined
      ? { newest: new Date(r.timestamp * 1000).toISOString().replace(/\.000Z$/, "Z"), ageSeconds: Math.round(age!) }
      : {}),
    ...(r.size !== undefined ? { size: r.size } : {}),
    verified: r.found && r.valid,
    ...(r.why ? { why: r.why } : {}),
    ...(r.count !== undefined ? { restorePoints: r.count } : {}),
  };
}

export function report(
  spec: StatusSpec,
  rows: StatusRow[],
  now: number,
  pvcInventory?: StatusReport["pvcInventory"],
): StatusReport {
  const notes: string[] = [];
  if (!pvcInventory)
    notes.push("uncovered PVCs: not known without the cluster (the stack runs no audit: alerts.audit)");
  else if (pvcInventory.state === "old")
    notes.push(
      `uncovered PVCs: the PVC inventory is old (taken ${formatAge(pvcInventory.ageSeconds!)} ago, more than ${formatAge(pvcInventory.maxAgeSeconds)}): the audit has stopped writing it`,
    );
  else if (pvcInventory.state === "not recorded")
    notes.push(
      `uncovered PVCs: not recorded (no PVC inventory at ${pvcInventory.key}: the audit has not written one yet)`,
    );
  else if (pvcInventory.state === "unreadable")
    notes.push(`uncovered PVCs: the PVC inventory at ${pvcInventory.key} is unreadable (${pvcInventory.reason})`);
  const failed = rows.filter((r) => r.lastDrill?.state === "failed").map((r) => `${r.cls}/${r.item}`);
  if (failed.length) notes.push(`last drill failed: ${failed.join(", ")}`);
  const bad = rows.some((r) => r.state !== "fresh");
  const unreadable = rows.some((r) => r.state === "unreadable" && r.cls !== "offsite");
  const known = pvcInventory?.state === "current" || pvcInventory?.state === "old";
  return {
    generatedAt: new Date(now * 1000).toISOString(),
    bucket: spec.hub.bucket,
    rows,
    uncoveredPvcs: known ? pvcInventory!.uncovered! : null,
    ...(pvcInventory ? { pvcInventory } : {}),
    notes,
    exitCode: unreadable ? 2 : bad ? 1 : 0,
  };
}

/** The PVC line of the table. */
export function pvcLine(rep: StatusReport): string {
  const inv = rep.pvcInventory;
  if (rep.uncoveredPvcs === null || !inv)
    return `PVCs nothing backs up: not known without the cluster (${inv ? `PVC inventory ${inv.state}` : "no audit writes a PVC inventory"})`;
  const when = `inventory ${formatAge(inv.ageSeconds!)} old${inv.state === "old" ? ", OLD" : ""}`;
  const pvc = (p: PvcRef) =>
    `${p.namespace}/${p.pvc}${p.storageClass || p.size ? ` (${[p.storageClass, p.size].filter(Boolean).join(", ")})` : ""}`;
  return rep.uncoveredPvcs.length === 0
    ? `PVCs nothing backs up: none (${when})`
    : `PVCs nothing backs up (${when}): ${rep.uncoveredPvcs.map(pvc).join(", ")}`;
}

/** The table a person reads: one row per item, then the notes. */
export function renderTable(rep: StatusReport): string {
  const head = ["CLASS", "ITEM", "STATE", "NEWEST", "AGE / MAX", "SIZE", "VERIFIED", "POINTS", "DRILL", "OFF-SITE"];
  const lines = rep.rows.map((r) => [
    r.cls,
    r.item,
    r.state,
    r.newest ?? "-",
    `${r.ageSeconds !== undefined ? formatAge(r.ageSeconds) : "-"} / ${r.thresholdSeconds !== undefined ? formatAge(r.thresholdSeconds) : "-"}`,
    r.size !== undefined ? formatBytes(r.size) : "-",
    r.verified ? "yes" : `no${r.why ? ` (${r.why})` : ""}`,
    r.restorePoints !== undefined ? String(r.restorePoints) : "-",
    r.drill,
    r.offsite,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmt = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]))
      .join("  ")
      .trimEnd();
  return [
    `hub bucket ${rep.bucket}, ${rep.generatedAt}`,
    fmt(head),
    ...lines.map(fmt),
    "",
    pvcLine(rep),
    ...rep.notes.map((n) => `note: ${n}`),
    "",
  ].join("\n");
}

/** The stack outputs `status` needs, from `pulumi stack output --json --show-secrets`. */
export interface StatusOutputs {
  statusSpec?: StatusSpec;
  statusReaderAccessKeyId?: string;
  statusReaderSecretAccessKey?: string;
  statusOffsiteFtpPassword?: string;
  offsiteEncryptionKey?: string;
}

/**
 * An rclone config file (mode 0600, in a fresh temp directory) with the remotes of
 * components/core/rclone-remotes.sh: `hub` with the reader's key and, when the outputs carry the FTP
 * password (and with encryption the crypt key), ftp, offsite_raw and offsite. Secrets reach the shell
 * through its environment, never its command line.
 */
export function writeRcloneConfig(
  spec: StatusSpec,
  out: StatusOutputs,
): { file: string; offsite: boolean; dir: string } {
  const dir = mkdtempSync(path.join(tmpdir(), "homelab-status-"));
  const file = path.join(dir, "rclone.conf");
  const o = spec.offsite;
  const encryption = o?.env.OFFSITE_ENCRYPTION !== "false";
  const offsite = !!o && !!out.statusOffsiteFtpPassword && (!encryption || !!out.offsiteEncryptionKey);
  const script = [
    `. "${path.join(REPO, "components/core/rclone-remotes.sh")}"`,
    'rclone_print_hub_remote "$S_PROVIDER" "$S_ENDPOINT" "$S_REGION" "$S_PATH_STYLE" "$S_KEY_ID" "$S_SECRET"',
    ...(offsite ? ["echo", "rclone_print_offsite_remotes"] : []),
  ].join("\n");
  const conf = execFileSync("sh", ["-c", `set -eu\n${script}`], {
    encoding: "utf8",
    env: {
      ...process.env,
      S_PROVIDER: spec.hub.provider,
      S_ENDPOINT: spec.hub.endpoint,
      S_REGION: spec.hub.region,
      S_PATH_STYLE: String(spec.hub.pathStyle),
      S_KEY_ID: out.statusReaderAccessKeyId,
      S_SECRET: out.statusReaderSecretAccessKey,
      ...(offsite
        ? {
            ...o!.env,
            OFFSITE_FTP_PASSWORD: out.statusOffsiteFtpPassword,
            ...(out.offsiteEncryptionKey ? { OFFSITE_ENCRYPTION_KEY: out.offsiteEncryptionKey } : {}),
          }
        : {}),
    },
  });
  writeFileSync(file, conf, { mode: 0o600 });
  return { file, offsite, dir };
}

export function rcloneIo(config: string, rclone = process.env.RCLONE || "rclone"): ReaderIo {
  return {
    rclone: (args) =>
      new Promise((resolve) => {
        execFile(rclone, ["--config", config, ...args], { maxBuffer: 256 << 20 }, (err, stdout, stderr) => {
          const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
          resolve({ code, stdout: String(stdout), stderr: String(stderr) });
        });
      }),
  };
}

/** The whole command: outputs in, report out. */
export async function status(out: StatusOutputs, now = Date.now() / 1000): Promise<StatusReport> {
  const spec = out.statusSpec;
  if (!spec)
    throw new StatusError("the outputs have no statusSpec (a stack without a hub, or deployed before status existed)");
  if (!out.statusReaderAccessKeyId || !out.statusReaderSecretAccessKey)
    throw new StatusError(
      "the outputs have no statusReaderAccessKeyId/statusReaderSecretAccessKey (with an s3 hub and manage: none, add an `audit` key to hubWriterKeys)",
    );
  const conf = writeRcloneConfig(spec, out);
  try {
    const io = rcloneIo(conf.file);
    const rows = await readStatus(spec, io, now, conf.offsite);
    return report(spec, rows, now, await readPvcInventory(spec, io, now));
  } finally {
    rmSync(conf.dir, { recursive: true, force: true });
  }
}

function parseArgs(argv: string[]): { stack?: string; outputs?: string; json: boolean } {
  const o: { stack?: string; outputs?: string; json: boolean } = { json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--json") o.json = true;
    else if (a === "--stack") o.stack = argv[++i];
    else if (a === "--outputs") o.outputs = argv[++i];
    else throw new StatusError(`unknown argument ${a}: npm run status -- [--stack <name> | --outputs <file>] [--json]`);
  }
  if (o.stack && o.outputs) throw new StatusError("give --stack or --outputs, not both");
  return o;
}

function readOutputs(o: { stack?: string; outputs?: string }): StatusOutputs {
  if (o.outputs) return JSON.parse(readFileSync(o.outputs, "utf8")) as StatusOutputs;
  const args = ["stack", "output", "--json", "--show-secrets", ...(o.stack ? ["--stack", o.stack] : [])];
  return JSON.parse(execFileSync("pulumi", args, { encoding: "utf8", maxBuffer: 64 << 20 })) as StatusOutputs;
}

async function main(): Promise<number> {
  let opts: { stack?: string; outputs?: string; json: boolean };
  try {
    opts = parseArgs(process.argv.slice(2));
    const rep = await status(readOutputs(opts));
    process.stdout.write(opts.json ? JSON.stringify(rep, null, 2) + "\n" : renderTable(rep));
    return rep.exitCode;
  } catch (e) {
    process.stderr.write(`status: ${e instanceof StatusError ? e.message : ((e as Error).stack ?? e)}\n`);
    return 2;
  }
}

if (require.main === module) main().then((code) => process.exit(code));
