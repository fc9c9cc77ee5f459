/**
 * What an s3 hub (`hub.kind: s3`) promises, as plain JSON in S3 API terms: the bucket settings
 * (versioning, object lock default retention, lifecycle rules, bucket policy) and one writer per data
 * class with its policy and what it may do. The same objects are the inputs of the Pulumi resources
 * that configure the server (s3HubResources.ts), the configurator's input (s3Admin.ts) and what the
 * conformance check compares the server against (conformance.ts), so nothing is copied by hand.
 *
 * The lifecycle rules are the AWS hub's rules (retention.ts `awsLifecycleRule`) converted to the S3
 * API's shape, so both hub kinds expire exactly the same objects.
 */
import type { PolicyDocument } from "../iam.js";
import { APPEND_ONLY_WRITERS, tlsOnlyBucketPolicy, writerPolicy, bucketArn } from "../iam.js";
import { ABORT_MULTIPART_DAYS, type PrefixLifecycle, awsLifecycleRule } from "../retention.js";
import { writerPrefix, type WriterName } from "../../core/hubConnection.js";
import { STATUS_PREFIXES } from "../../core/schema.js";
import type { S3Flavor } from "./s3Flavors.js";

/** One S3 lifecycle rule, in the S3 API's (and the AWS SDK's) shape. */
export interface S3LifecycleRule {
  ID: string;
  Status: "Enabled" | "Disabled";
  Filter: { Prefix: string };
  Expiration?: { Days?: number; ExpiredObjectDeleteMarker?: boolean };
  NoncurrentVersionExpiration?: { NoncurrentDays: number };
  AbortIncompleteMultipartUpload?: { DaysAfterInitiation: number };
  Transitions?: { Days: number; StorageClass: string }[];
}

export interface HubBucketSettings {
  readonly bucket: string;
  /**
   * Versioning is on wherever the server has it: a deletion or overwrite stays recoverable for the
   * noncurrent grace period. Absent on Garage, which has none (s3Flavors.ts).
   */
  readonly versioning?: "Enabled";
  readonly objectLock?: { readonly mode: "GOVERNANCE" | "COMPLIANCE"; readonly days: number };
  /** Absent on Garage: this version configures only the bucket's existence there (see hubBucketSettings). */
  readonly lifecycleRules?: S3LifecycleRule[];
  /** A bucket policy, or undefined for none (TLS-only when the endpoint is https). */
  readonly bucketPolicy?: PolicyDocument;
}

/** What a writer may do under its prefix. */
export type WriterAccess = "prune" | "append" | "read";

export interface HubWriterSpec {
  readonly writer: WriterName;
  /** The server-side user name (RGW uid, IAM user name). */
  readonly userName: string;
  /** Where it writes (`""` for the offsite reader: it reads the whole bucket). */
  readonly prefix: string;
  readonly access: WriterAccess;
  readonly policy: PolicyDocument;
  /**
   * Where a read-only identity puts its status records (the audit's PVC inventory, the drills' results:
   * components/core/schema.ts STATUS_PREFIXES), which the conformance step proves it can. Absent where
   * the program did not make the rights (manage: none) or the server cannot scope them by prefix (Garage).
   */
  readonly recordPrefix?: string;
}

/** The AWS hub's lifecycle rule of one prefix, in the S3 API's shape. */
export function s3LifecycleRule(l: PrefixLifecycle): S3LifecycleRule {
  const r = awsLifecycleRule(l) as {
    id: string;
    status: "Enabled" | "Disabled";
    filter: { prefix: string };
    expiration: { days?: number; expiredObjectDeleteMarker?: boolean };
    noncurrentVersionExpiration: { noncurrentDays: number };
    abortIncompleteMultipartUpload: { daysAfterInitiation: number };
    transitions?: { days: number; storageClass: string }[];
  };
  return {
    ID: r.id,
    Status: r.status,
    Filter: { Prefix: r.filter.prefix },
    Expiration:
      r.expiration.days !== undefined
        ? { Days: r.expiration.days }
        : { ExpiredObjectDeleteMarker: r.expiration.expiredObjectDeleteMarker },
    NoncurrentVersionExpiration: { NoncurrentDays: r.noncurrentVersionExpiration.noncurrentDays },
    AbortIncompleteMultipartUpload: {
      DaysAfterInitiation: r.abortIncompleteMultipartUpload.daysAfterInitiation ?? ABORT_MULTIPART_DAYS,
    },
    ...(r.transitions
      ? { Transitions: r.transitions.map((t) => ({ Days: t.days, StorageClass: t.storageClass })) }
      : {}),
  };
}

/** The bucket settings of an s3 hub. */
export function hubBucketSettings(args: {
  bucket: string;
  endpoint: string;
  objectLock?: { mode: "GOVERNANCE" | "COMPLIANCE"; days: number };
  lifecycles: readonly PrefixLifecycle[];
  /** @default "generic" */
  flavor?: S3Flavor;
}): HubBucketSettings {
  // Garage has no versioning and no bucket policy (its S3 router answers NotImplemented, s3Flavors.ts),
  // and its bucket exists through the admin API (garageWriters.ts). Its lifecycle (Expiration and
  // AbortIncompleteMultipartUpload only) would go through the S3 API with a key holding write on the
  // bucket, which this version does not make: the bucket's settings are its name alone, and plan.md
  // says the lifecycle is not configured (s3Plan.ts).
  if (args.flavor === "garage") return { bucket: args.bucket };
  return {
    bucket: args.bucket,
    versioning: "Enabled",
    ...(args.objectLock ? { objectLock: { mode: args.objectLock.mode, days: args.objectLock.days } } : {}),
    lifecycleRules: args.lifecycles.map(s3LifecycleRule),
    // Over plain HTTP a TLS-only policy would refuse every request; RGW does not evaluate it on HTTP at all.
    ...(args.endpoint.startsWith("https://") ? { bucketPolicy: tlsOnlyBucketPolicy(bucketArn(args.bucket)) } : {}),
  };
}

/** The server-side user name of a writer: bucket-scoped, so two stacks on one server do not collide. */
export function s3WriterUserName(bucket: string, writer: WriterName): string {
  return `${bucket.slice(0, 63 - writer.length)}-${writer}`;
}

/** One writer spec per writer the stack uses, with the same policy documents as the AWS and pi hubs. */
export function hubWriterSpecs(
  bucket: string,
  writers: readonly WriterName[],
  opts: { offsitePrefixes?: readonly string[]; drillPrefixes?: readonly string[]; records?: boolean } = {},
): HubWriterSpec[] {
  return writers.map((writer) => ({
    writer,
    ...(opts.records && (writer === "audit" || writer === "drills") ? { recordPrefix: STATUS_PREFIXES[writer] } : {}),
    userName: s3WriterUserName(bucket, writer),
    prefix: writerPrefix(writer),
    access:
      writer === "offsite" || writer === "drills" || writer === "audit"
        ? "read"
        : (APPEND_ONLY_WRITERS as readonly string[]).includes(writer)
          ? "append"
          : "prune",
    policy: writerPolicy(writer, bucket, opts),
  }));
}

/** A lifecycle rule as some server returned it, reduced to the fields this program sets. */
function normalizeRule(r: Record<string, any>): S3LifecycleRule {
  const prefix = r.Filter?.Prefix ?? r.Filter?.And?.Prefix ?? r.Prefix ?? "";
  const out: S3LifecycleRule = { ID: r.ID ?? "", Status: r.Status, Filter: { Prefix: prefix } };
  if (r.Expiration && (r.Expiration.Days !== undefined || r.Expiration.ExpiredObjectDeleteMarker !== undefined)) {
    out.Expiration =
      r.Expiration.Days !== undefined
        ? { Days: Number(r.Expiration.Days) }
        : {
            ExpiredObjectDeleteMarker:
              r.Expiration.ExpiredObjectDeleteMarker === true || r.Expiration.ExpiredObjectDeleteMarker === "true",
          };
  }
  if (r.NoncurrentVersionExpiration?.NoncurrentDays !== undefined)
    out.NoncurrentVersionExpiration = { NoncurrentDays: Number(r.NoncurrentVersionExpiration.NoncurrentDays) };
  if (r.AbortIncompleteMultipartUpload?.DaysAfterInitiation !== undefined) {
    out.AbortIncompleteMultipartUpload = {
      DaysAfterInitiation: Number(r.AbortIncompleteMultipartUpload.DaysAfterInitiation),
    };
  }
  if (r.Transitions?.length)
    out.Transitions = r.Transitions.map((t: any) => ({ Days: Number(t.Days), StorageClass: String(t.StorageClass) }));
  return out;
}

/** Rules in the shape this program sets, sorted by ID: what a read returns and what a diff compares. */
export function normalizeLifecycle(rules: readonly Record<string, any>[]): S3LifecycleRule[] {
  return rules.map(normalizeRule).sort((a, b) => a.ID.localeCompare(b.ID));
}

/**
 * How the rules a server holds differ from the rules wanted, one line per difference (empty when
 * they match). Rules are matched by ID; order does not matter.
 */
export function lifecycleDifferences(
  wanted: readonly S3LifecycleRule[],
  actual: readonly Record<string, any>[],
): string[] {
  const got = new Map(actual.map((r) => normalizeRule(r)).map((r) => [r.ID, r]));
  const out: string[] = [];
  for (const w of wanted) {
    const a = got.get(w.ID);
    got.delete(w.ID);
    if (!a) {
      out.push(`rule ${w.ID} (${w.Filter.Prefix}) is missing`);
      continue;
    }
    const want = JSON.stringify(normalizeRule(w));
    const have = JSON.stringify(a);
    if (want !== have) out.push(`rule ${w.ID} is ${have}, want ${want}`);
  }
  for (const extra of got.keys()) out.push(`rule ${extra} is not one of the stack's rules`);
  return out;
}
