/**
 * The conformance check of an S3 hub: does the server hold what the stack promised? It runs after
 * `pulumi up` against the real hub (conformance-check.ts, started by BackupHub) and, unchanged, in the
 * tests against a real Ceph RGW (test/hub/s3Hub.integration.test.ts). Each check reads back or tries
 * the thing itself with the writers' own keys:
 *
 * - versioning: the bucket reports `Enabled`;
 * - lifecycle: the rules read back as written (s3Settings.ts `lifecycleDifferences`);
 * - objectLock: the default retention reads back, and deleting a locked version is refused;
 * - writers: each key can put under its own prefix and nowhere else; an append-only writer cannot
 *   delete (not even its own object); the read-only identities write no backup, and the audit and the
 *   drills can put their status records (a fixed probe key under their prefix, `recordProbeKey`);
 * - trailingChecksum: an upload the way Velero's AWS plugin does it by default (aws-sdk default: CRC32
 *   sent as a trailing checksum of an aws-chunked body) succeeds with the velero writer's key. Where
 *   the stack's Velero sends no checksum (`checksumAlgorithm: ""`, velero/logic.ts, on every non-AWS
 *   hub), the upload as Velero sends it must succeed, and whether the server takes trailing checksums
 *   is reported. Both uploads carry the empty `x-amz-tagging` header the pinned plugin sends when
 *   `veleroEmptyTagging` is set (components/core/versions.ts VELERO_AWS_PLUGIN_EMPTY_TAGGING), so a
 *   server that refuses it fails `pulumi up` here rather than every backup's last upload.
 *
 * Probe objects: pruning writers delete theirs; append-only writers put theirs under their `.partial/`
 * staging prefix, which the lifecycle expires after a day; the lock probe sits under
 * `.homelab-backup-conformance/` and is removed with a governance bypass (a COMPLIANCE probe stays until
 * its retention ends: a few bytes per run). No probe is a directory under a writer's prefix, so
 * Velero's layout check and Longhorn's backupstore listing never see one.
 */
import { Readable } from "node:stream";
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { VELERO_AWS_PLUGIN_EMPTY_TAGGING } from "../../core/versions.js";
import { readBucketState, s3Client, s3ErrorCode, type S3Credentials, type S3Target } from "./s3Api.js";
import { lifecycleDifferences, type HubBucketSettings, type HubWriterSpec } from "./s3Settings.js";

export interface ConformanceInput {
  readonly target: S3Target;
  readonly settings: HubBucketSettings;
  readonly writers: readonly HubWriterSpec[];
  /** Each writer's key, by writer name. */
  readonly writerKeys: Readonly<Record<string, S3Credentials>>;
  /** The admin (bucket owner) key; without it the bucket settings cannot be read (manage: none). */
  readonly admin?: S3Credentials;
  /** Whether the stack's Velero sends request checksums (the plugin default), or none (`checksumAlgorithm: ""`). */
  readonly veleroChecksums: boolean;
  /** Whether Velero's plugin sends an empty `x-amz-tagging` header on every PutObject. @default false */
  readonly veleroEmptyTagging?: boolean;
}

/** Adds an empty `x-amz-tagging` header to every request, before signing, as velero-plugin-for-aws v1.14.1 does. */
export function sendEmptyTaggingHeader(client: S3Client): void {
  client.middlewareStack.add(
    (next) => async (args) => {
      const request = args.request as { headers?: Record<string, string> };
      if (request.headers) request.headers["x-amz-tagging"] = "";
      return next(args);
    },
    { step: "build", name: "homelabBackupEmptyTagging" },
  );
}

export interface CheckResult {
  readonly check: "versioning" | "lifecycle" | "objectLock" | "writers" | "trailingChecksum";
  readonly ok: boolean;
  /** What was found (the failures, or what passed). */
  readonly detail: string;
}

const PROBE_BODY = "homelab-backup conformance probe\n";
export const LOCK_PROBE_PREFIX = ".homelab-backup-conformance/";

/** Where a writer puts its probe object: its own prefix, or the staging prefix that expires for append-only writers. */
export function probeKey(w: HubWriterSpec, runId: string): string {
  return w.access === "append"
    ? `${w.prefix}.partial/conformance-${runId}`
    : `${w.prefix}.homelab-backup-conformance-${runId}`;
}

/** The object a read-only identity's record check puts (`npm run status` reads only `*.json` records, never this). */
export function recordProbeKey(recordPrefix: string): string {
  return `${recordPrefix}.homelab-backup-conformance`;
}

async function outcome(call: () => Promise<unknown>): Promise<{ ok: true } | { ok: false; code: string }> {
  try {
    await call();
    return { ok: true };
  } catch (err) {
    return { ok: false, code: s3ErrorCode(err).code };
  }
}

const put = (c: S3Client, bucket: string, key: string) =>
  c.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: PROBE_BODY }));
const del = (c: S3Client, bucket: string, key: string, versionId?: string) =>
  c.send(new DeleteObjectCommand({ Bucket: bucket, Key: key, ...(versionId ? { VersionId: versionId } : {}) }));

async function checkWriters(input: ConformanceInput, runId: string): Promise<CheckResult> {
  const bucket = input.settings.bucket;
  const failures: string[] = [];
  const passed: string[] = [];
  const writing = input.writers.filter((w) => w.access !== "read");
  for (const w of input.writers) {
    const key = input.writerKeys[w.writer];
    if (!key) {
      failures.push(`${w.writer}: no key`);
      continue;
    }
    const client = s3Client(input.target, key, { maxAttempts: 1 });
    try {
      if (w.access === "read") {
        for (const other of writing) {
          const r = await outcome(() => put(client, bucket, probeKey(other, runId)));
          if (r.ok) failures.push(`${w.writer} (read-only) could write under ${other.prefix}`);
        }
        if (w.recordPrefix) {
          // One fixed key, overwritten by every run: the identity may not delete, so a key per run would pile up.
          const r = await outcome(() => put(client, bucket, recordProbeKey(w.recordPrefix!)));
          if (!r.ok) failures.push(`${w.writer} cannot put its status records under ${w.recordPrefix}: ${r.code}`);
          passed.push(`${w.writer} writes no backup and puts its records under ${w.recordPrefix}`);
        } else passed.push(`${w.writer} cannot write`);
        continue;
      }
      const own = probeKey(w, runId);
      const wrote = await outcome(() => put(client, bucket, own));
      if (!wrote.ok) failures.push(`${w.writer} cannot put under its own prefix ${w.prefix}: ${wrote.code}`);
      for (const other of writing.filter(
        (o) => o.writer !== w.writer && !w.prefix.startsWith(o.prefix) && !o.prefix.startsWith(w.prefix),
      )) {
        const r = await outcome(() =>
          put(client, bucket, `${other.prefix}.homelab-backup-conformance-${w.writer}-${runId}`),
        );
        if (r.ok) failures.push(`${w.writer} could write under ${other.writer}'s prefix ${other.prefix}`);
      }
      if (wrote.ok) {
        const removed = await outcome(() => del(client, bucket, own));
        if (w.access === "append" && removed.ok) failures.push(`${w.writer} is append-only but could delete ${own}`);
        if (w.access === "prune" && !removed.ok)
          failures.push(`${w.writer} cannot delete its own object ${own}: ${removed.code}`);
      }
      passed.push(`${w.writer} puts under ${w.prefix}${w.access === "append" ? " and cannot delete" : ""}`);
    } finally {
      client.destroy();
    }
  }
  return {
    check: "writers",
    ok: failures.length === 0,
    detail: failures.length ? failures.join("; ") : passed.join("; "),
  };
}

/** The answers servers give to the empty header: R2 501 NotImplemented, B2 InvalidArgument, ECS 400 UnexpectedContent (velero#9931, #10400, plugin PR #304). */
const TAGGING_REFUSAL_CODES = ["NotImplemented", "InvalidArgument", "UnexpectedContent"];

/** What the failure says when the server may refuse the plugin's empty tagging header. */
export const VELERO_TAGGING_REFUSED = `${VELERO_AWS_PLUGIN_EMPTY_TAGGING.image} sends an empty x-amz-tagging header on every upload, which some servers refuse (velero-io/velero#9931); the fix is in plugin ${VELERO_AWS_PLUGIN_EMPTY_TAGGING.fixedIn}: remove the velero section or use a server that accepts the header until this program pins it`;

/** Puts 256 KiB and reads it back; `trailing`: as a stream, which the SDK sends aws-chunked with a trailing CRC32. */
async function upload(
  input: ConformanceInput,
  key: S3Credentials,
  objectKey: string,
  trailing: boolean,
): Promise<{ ok: true } | { ok: false; code: string }> {
  const client = s3Client(input.target, key, { maxAttempts: 1, checksums: trailing });
  if (input.veleroEmptyTagging) sendEmptyTaggingHeader(client);
  const body = Buffer.alloc(256 * 1024, "velero");
  try {
    const sent = await outcome(() =>
      client.send(
        new PutObjectCommand({
          Bucket: input.settings.bucket,
          Key: objectKey,
          Body: trailing ? Readable.from([body]) : body,
          ContentLength: body.length,
        }),
      ),
    );
    if (!sent.ok) return sent;
    const back = await client.send(new GetObjectCommand({ Bucket: input.settings.bucket, Key: objectKey }));
    const bytes = Buffer.from(await back.Body!.transformToByteArray());
    await outcome(() => del(client, input.settings.bucket, objectKey));
    return bytes.equals(body)
      ? { ok: true }
      : { ok: false, code: `read back ${bytes.length} bytes that differ from the ${body.length} uploaded` };
  } finally {
    client.destroy();
  }
}

/** A Velero-style upload with the velero writer's key (see the file comment). */
async function checkTrailingChecksum(input: ConformanceInput, runId: string): Promise<CheckResult> {
  const w = input.writers.find((x) => x.writer === "velero");
  const key = w && input.writerKeys[w.writer];
  if (!w || !key) return { check: "trailingChecksum", ok: true, detail: "no velero writer" };
  const base = `${w.prefix}.homelab-backup-conformance-checksum-${runId}`;
  const header = input.veleroEmptyTagging ? " (with the plugin's empty x-amz-tagging header)" : "";
  const trailing = await upload(input, key, `${base}-crc32`, true);
  if (input.veleroChecksums) {
    return trailing.ok
      ? {
          check: "trailingChecksum",
          ok: true,
          detail: `velero uploaded with a trailing CRC32 checksum${header} and read it back`,
        }
      : {
          check: "trailingChecksum",
          ok: false,
          detail: `upload with a trailing CRC32 checksum${header} as velero failed: ${trailing.code}`,
        };
  }
  const plain = await upload(input, key, `${base}-plain`, false);
  const server = trailing.ok
    ? "the server also takes trailing CRC32 checksums"
    : `the server refuses trailing CRC32 checksums (${trailing.code}), which is why Velero sends none here`;
  return plain.ok
    ? {
        check: "trailingChecksum",
        ok: true,
        detail: `velero uploaded without a request checksum${header}, as Velero is configured; ${server}`,
      }
    : {
        check: "trailingChecksum",
        ok: false,
        detail: `upload without a request checksum${header} as velero failed: ${plain.code}; ${server}${input.veleroEmptyTagging && TAGGING_REFUSAL_CODES.includes(plain.code) ? `. ${VELERO_TAGGING_REFUSED}` : ""}`,
      };
}

/** Runs every check that applies and returns one result per check. */
export async function checkHubConformance(
  input: ConformanceInput,
  opts: { runId?: string } = {},
): Promise<CheckResult[]> {
  const runId =
    opts.runId ??
    new Date()
      .toISOString()
      .replace(/[^0-9]/g, "")
      .slice(0, 14);
  const s = input.settings;
  const results: CheckResult[] = [];
  if (input.admin) {
    const admin = s3Client(input.target, input.admin, { maxAttempts: 1 });
    try {
      const state = await readBucketState(admin, s.bucket);
      // Settings the stack does not hold on this flavor (Garage: s3Settings.ts hubBucketSettings) are not checked.
      if (s.versioning)
        results.push({
          check: "versioning",
          ok: state.versioning === s.versioning,
          detail: `versioning is ${state.versioning}${state.versioning === s.versioning ? "" : `, want ${s.versioning}`}`,
        });
      if (s.lifecycleRules) {
        const diff = lifecycleDifferences(s.lifecycleRules, state.lifecycleRules);
        results.push({
          check: "lifecycle",
          ok: diff.length === 0,
          detail: diff.length ? diff.join("; ") : `${s.lifecycleRules.length} rules read back as written`,
        });
      }
      if (s.objectLock) {
        const want = s.objectLock;
        const problems: string[] = [];
        if (!state.objectLock || state.objectLock.mode !== want.mode || state.objectLock.days !== want.days) {
          problems.push(
            `default retention is ${state.objectLock ? `${state.objectLock.mode} ${state.objectLock.days}d` : "not set"}, want ${want.mode} ${want.days}d`,
          );
        }
        const probe = `${LOCK_PROBE_PREFIX}lock-${runId}`;
        const put1 = await admin.send(new PutObjectCommand({ Bucket: s.bucket, Key: probe, Body: PROBE_BODY }));
        const removed = await outcome(() => del(admin, s.bucket, probe, put1.VersionId));
        if (removed.ok) problems.push(`deleting the locked version ${probe} (${put1.VersionId}) succeeded`);
        else if (want.mode === "GOVERNANCE") {
          await outcome(() =>
            admin.send(
              new DeleteObjectCommand({
                Bucket: s.bucket,
                Key: probe,
                VersionId: put1.VersionId,
                BypassGovernanceRetention: true,
              }),
            ),
          );
        }
        results.push({
          check: "objectLock",
          ok: problems.length === 0,
          detail: problems.length
            ? problems.join("; ")
            : `deleting a locked version is refused (${want.mode} ${want.days}d)`,
        });
      }
    } catch (err) {
      results.push({ check: "versioning", ok: false, detail: (err as Error).message });
    } finally {
      admin.destroy();
    }
  }
  results.push(await checkWriters(input, runId));
  results.push(await checkTrailingChecksum(input, runId));
  return results;
}

/** One line per check for a person, failures first. */
export function formatResults(results: readonly CheckResult[]): string {
  return [...results]
    .sort((a, b) => Number(a.ok) - Number(b.ok))
    .map((r) => `${r.ok ? "ok  " : "FAIL"} ${r.check}: ${r.detail}`)
    .join("\n");
}
