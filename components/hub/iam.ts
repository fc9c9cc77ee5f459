/**
 * Least-privilege S3 policies for the hub's writers, as plain JSON in IAM grammar. The same documents
 * are attached to IAM users on an AWS hub and loaded as MinIO policies on a Pi hub (MinIO reads the
 * IAM grammar, `s3:prefix` conditions included).
 *
 * - longhorn, velero, buckets prune their own data, so they may delete, but only under their prefix.
 * - postgres and etcd are append-only: they can add and read objects under their prefix and nothing
 *   can make them delete one (an explicit Deny backs the missing Allow). A leaked key cannot erase
 *   the dumps; the hub's lifecycle (components/hub/retention.ts) is what removes old ones.
 * - offsite only reads.
 * - audit and drills read, and each puts its status records under a prefix of its own
 *   (`status/audit/`, `status/drills/`: components/core/schema.ts STATUS_PREFIXES), which `npm run status`
 *   reads with the cluster gone. Explicit Denies keep both off every backup class's prefix and off the
 *   other's records, and neither can delete anything. The PostgreSQL restore drill runs with the dump
 *   writer's key (components/stack.ts), so that writer may also put its drill record, under
 *   `status/drills/postgres/` only.
 * No statement grants `*` as an action or `*` as a resource.
 */
import { PREFIXES, STATUS_PREFIX, STATUS_PREFIXES } from "../core/schema.js";
import { WRITERS, type WriterName } from "../core/hubConnection.js";

export interface PolicyStatement {
  Sid: string;
  Effect: "Allow" | "Deny";
  Principal?: "*" | { AWS: string | string[] };
  Action: string[];
  Resource: string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

export interface PolicyDocument {
  Version: "2012-10-17";
  Statement: PolicyStatement[];
}

/** Writers that delete their own objects (they prune by their own retention). */
export const PRUNING_WRITERS = ["longhorn", "velero", "buckets"] as const satisfies readonly WriterName[];
/** Writers that can only add: their objects are removed by the hub's lifecycle, never by them. */
export const APPEND_ONLY_WRITERS = ["postgres", "etcd"] as const satisfies readonly WriterName[];

/** Object actions a pruning writer needs (multipart abort so a failed upload leaves nothing billed). */
export const PRUNING_OBJECT_ACTIONS = [
  "s3:GetObject",
  "s3:PutObject",
  "s3:DeleteObject",
  "s3:AbortMultipartUpload",
  "s3:ListMultipartUploadParts",
];
/** Object actions of an append-only writer: put, read back (server-side copy reads the staging object), abort multipart. */
export const APPEND_ONLY_OBJECT_ACTIONS = [
  "s3:GetObject",
  "s3:PutObject",
  "s3:AbortMultipartUpload",
  "s3:ListMultipartUploadParts",
];
/** What an append-only writer must never do. */
export const DELETE_ACTIONS = ["s3:DeleteObject", "s3:DeleteObjectVersion"];

export const bucketArn = (bucket: string) => `arn:aws:s3:::${bucket}`;
const objectsArn = (bucket: string, prefix: string) => `arn:aws:s3:::${bucket}/${prefix}*`;

/** ListBucket restricted to keys under the prefixes (a listing without a prefix is refused). */
function listUnder(bucket: string, prefixes: readonly string[], sid: string): PolicyStatement {
  return {
    Sid: sid,
    Effect: "Allow",
    Action: ["s3:ListBucket"],
    Resource: [bucketArn(bucket)],
    Condition: { StringLike: { "s3:prefix": prefixes.map((p) => `${p}*`) } },
  };
}

/**
 * The keys Longhorn writes under for a target prefix: the prefix itself, or at the bucket root
 * (`longhorn.prefix: ""`) its `backupstore/` directory, which is where Longhorn keeps everything
 * (longhorn/backupstore backupstore.go: `backupstoreBase = "backupstore"`), so the longhorn writer
 * still cannot touch the other classes' prefixes.
 */
export function longhornObjectPrefix(prefix: string): string {
  return prefix === "" ? "backupstore/" : prefix;
}

/** Where the PostgreSQL restore drills put their results (drillRecordKey("postgres", <database>)). */
export const POSTGRES_DRILL_RECORDS = `${STATUS_PREFIXES.drills}postgres/`;

/** The prefixes of every backup class (the configured Longhorn prefix included): no status writer puts or deletes there. */
export function backupClassPrefixes(longhornPrefix?: string): string[] {
  const lh = longhornObjectPrefix(longhornPrefix ?? PREFIXES.longhorn);
  return [...new Set([...Object.values(PREFIXES), lh])];
}

/**
 * The status writers' rights (audit, drills): put under their own status prefix, and explicit Denies
 * of put and delete on every backup class prefix and on the other's records, and of delete anywhere.
 * Overwriting a record is all they need; the hub's lifecycle removes old versions
 * (components/hub/retention.ts).
 */
function statusWriterStatements(
  bucket: string,
  writer: keyof typeof STATUS_PREFIXES,
  longhornPrefix?: string,
): PolicyStatement[] {
  const other = writer === "audit" ? STATUS_PREFIXES.drills : STATUS_PREFIXES.audit;
  return [
    {
      Sid: "PutStatusRecords",
      Effect: "Allow",
      Action: ["s3:PutObject"],
      Resource: [objectsArn(bucket, STATUS_PREFIXES[writer])],
    },
    {
      Sid: "NeverWrite",
      Effect: "Deny",
      Action: ["s3:PutObject", ...DELETE_ACTIONS],
      Resource: [...backupClassPrefixes(longhornPrefix), other].map((p) => objectsArn(bucket, p)),
    },
    { Sid: "NeverDelete", Effect: "Deny", Action: DELETE_ACTIONS, Resource: [`${bucketArn(bucket)}/*`] },
  ];
}

/** Statement ids may contain only letters and digits (IAM; MinIO follows). */
const sid = (...parts: string[]) => parts.map((p) => p.replace(/[^A-Za-z0-9]/g, "")).join("");

/**
 * The policy of one writer. `offsitePrefixes` limits the offsite reader to those prefixes (all of the
 * bucket when absent).
 */
export function writerPolicy(
  writer: WriterName,
  bucket: string,
  opts: { offsitePrefixes?: readonly string[]; drillPrefixes?: readonly string[]; longhornPrefix?: string } = {},
): PolicyDocument {
  if (writer === "audit") return auditReaderPolicy(bucket, opts.longhornPrefix);
  if (writer === "drills") {
    // The restore drills read (components/drills/logic.ts drillReadPrefixes: "" is the whole bucket)
    // and put their last result under status/drills/; no drill reading the hub leaves only the put.
    const prefixes = opts.drillPrefixes ?? [];
    const whole = prefixes.includes("");
    const statusRights = statusWriterStatements(bucket, "drills", opts.longhornPrefix);
    if (prefixes.length === 0)
      return {
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "NoDrillReads",
            Effect: "Deny",
            Action: ["s3:ListBucket", "s3:GetObject"],
            Resource: [bucketArn(bucket), `${bucketArn(bucket)}/*`],
          },
          ...statusRights,
        ],
      };
    return {
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "DrillsReadObjects",
          Effect: "Allow",
          Action: ["s3:GetObject"],
          Resource: whole ? [`${bucketArn(bucket)}/*`] : prefixes.map((p) => objectsArn(bucket, p)),
        },
        whole
          ? { Sid: "DrillsListBucket", Effect: "Allow", Action: ["s3:ListBucket"], Resource: [bucketArn(bucket)] }
          : listUnder(bucket, prefixes, "DrillsListPrefixes"),
        ...statusRights,
      ],
    };
  }
  if (writer === "offsite") {
    const prefixes = opts.offsitePrefixes?.length ? [...opts.offsitePrefixes] : undefined;
    return {
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "ReadObjects",
          Effect: "Allow",
          Action: ["s3:GetObject"],
          Resource: prefixes ? prefixes.map((p) => objectsArn(bucket, p)) : [`${bucketArn(bucket)}/*`],
        },
        prefixes
          ? listUnder(bucket, prefixes, "ListPrefixes")
          : { Sid: "ListBucket", Effect: "Allow", Action: ["s3:ListBucket"], Resource: [bucketArn(bucket)] },
      ],
    };
  }
  const prefix =
    writer === "longhorn" ? longhornObjectPrefix(opts.longhornPrefix ?? PREFIXES.longhorn) : PREFIXES[writer];
  if ((APPEND_ONLY_WRITERS as readonly string[]).includes(writer)) {
    return {
      Version: "2012-10-17",
      Statement: [
        {
          Sid: sid("AppendUnder", writer),
          Effect: "Allow",
          Action: APPEND_ONLY_OBJECT_ACTIONS,
          Resource: [objectsArn(bucket, prefix)],
        },
        listUnder(bucket, [prefix], sid("ListUnder", writer)),
        // The PostgreSQL restore drill runs with this key (components/stack.ts) and leaves its result
        // where `npm run status` reads it (components/postgres/restore-drill.sh).
        ...(writer === "postgres"
          ? [
              {
                Sid: "PutDrillRecords",
                Effect: "Allow" as const,
                Action: ["s3:PutObject"],
                Resource: [objectsArn(bucket, POSTGRES_DRILL_RECORDS)],
              },
            ]
          : []),
        { Sid: "NeverDelete", Effect: "Deny", Action: DELETE_ACTIONS, Resource: [`${bucketArn(bucket)}/*`] },
      ],
    };
  }
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: sid("ReadWriteUnder", writer),
        Effect: "Allow",
        Action: PRUNING_OBJECT_ACTIONS,
        Resource: [objectsArn(bucket, prefix)],
      },
      listUnder(bucket, [prefix], sid("ListUnder", writer)),
      { Sid: "BucketLocation", Effect: "Allow", Action: ["s3:GetBucketLocation"], Resource: [bucketArn(bucket)] },
    ],
  };
}

/** IAM user names: at most 64 characters; bucket names are globally unique, so this one is too. */
export function writerUserName(bucket: string, writer: WriterName): string {
  return `${bucket.slice(0, 63 - writer.length)}-${writer}`;
}

/** Every writer's policy, keyed by writer (what PiHub loads into MinIO/RustFS). */
export function writerPolicies(
  bucket: string,
  opts: { offsitePrefixes?: readonly string[]; drillPrefixes?: readonly string[]; longhornPrefix?: string } = {},
): Record<WriterName, PolicyDocument> {
  return Object.fromEntries(WRITERS.map((w) => [w, writerPolicy(w, bucket, opts)])) as Record<
    WriterName,
    PolicyDocument
  >;
}

/** Bucket policy refusing every request that does not arrive over TLS. */
export function tlsOnlyBucketPolicy(bucketArnValue: string): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "DenyInsecureTransport",
        Effect: "Deny",
        Principal: "*",
        Action: ["s3:*"],
        Resource: [bucketArnValue, `${bucketArnValue}/*`],
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      },
    ],
  };
}

/** One line per writer for a person: what it may do, where (derived from the documents themselves). */
export function describePolicy(doc: PolicyDocument): { allow: string; deny: string } {
  const fmt = (s: PolicyStatement) => {
    const cond = s.Condition?.StringLike?.["s3:prefix"];
    const where = s.Resource.map((r) => r.replace(/^arn:aws:s3:::/, "")).join(", ");
    return `${s.Action.map((a) => a.replace(/^s3:/, "")).join(", ")} on ${where}${cond ? ` (keys ${[cond].flat().join(", ")})` : ""}`;
  };
  return {
    allow: doc.Statement.filter((s) => s.Effect === "Allow")
      .map(fmt)
      .join("; "),
    deny: doc.Statement.filter((s) => s.Effect === "Deny")
      .map(fmt)
      .join("; "),
  };
}

// ---------------------------------------------------------------------------------------------
// The audit reader (components/alerts/audit.mjs): it may list the whole bucket (newest restore
// points, bucket usage) and read only metadata objects: Longhorn's `*.cfg`, this project's `*.json`
// records (postgres, etcd, the bucket mirrors' run records, the status records under status/) and
// Velero's `velero-backup.json`. It can read no backup data (no block, dump, snapshot or tarball), put
// only its PVC inventory under status/audit/, and delete nothing; explicit Denies back the missing Allows.
// ---------------------------------------------------------------------------------------------

/**
 * `<prefix>*<suffix>`, and the same with 1..`dots` more `*.` before the suffix. On IAM these add nothing
 * (each is a subset of the first). Ceph RGW (seen with Ceph 16, test/status/status.integration.test.ts)
 * matches a `*` only up to the first occurrence of the character that follows it, without backtracking:
 * `postgres-backups/*.json` allows `postgres-backups/w/a.json` but refuses
 * `postgres-backups/w/wiki-20261207T030000Z.sql.zst.json` (403), so a key with k dots before its suffix
 * needs a pattern with k `*.` segments.
 */
function dottedSuffixPatterns(prefix: string, suffix: string, dots = 6): string[] {
  return Array.from({ length: dots + 1 }, (_, k) => `${prefix}${"*.".repeat(k)}*${suffix}`);
}

/** The object keys the audit reads (IAM resource wildcards, after `<bucket>/`). */
export function auditReadableKeys(): string[] {
  return [
    ...dottedSuffixPatterns(PREFIXES.longhorn, ".cfg"),
    // dump.sh's records: <db>/<db>-<time>.sql.zst.json and <db>/latest.json.
    ...dottedSuffixPatterns(PREFIXES.postgres, ".json"),
    // offload.sh's records: <node>/etcd-snapshot-<node>-<time>.json, node names may hold dots.
    ...dottedSuffixPatterns(PREFIXES.etcd, ".json"),
    `${PREFIXES.velero}backups/*/velero-backup.json`,
    // The bucket mirrors' run records (components/mirror/mirror.sh; hubReader.mjs mirrorRecordKey).
    `${PREFIXES.buckets}.records/*.json`,
    // What only the cluster knows, for `npm run status`: the audit's PVC inventory and the drills'
    // results (components/core/schema.ts STATUS_PREFIXES); drill items may hold dots.
    ...dottedSuffixPatterns(STATUS_PREFIX, ".json"),
  ];
}

export function auditReaderPolicy(bucket: string, longhornPrefix?: string): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      { Sid: "ListBucket", Effect: "Allow", Action: ["s3:ListBucket"], Resource: [bucketArn(bucket)] },
      {
        Sid: "ReadMetadata",
        Effect: "Allow",
        Action: ["s3:GetObject"],
        Resource: auditReadableKeys().map((k) => `${bucketArn(bucket)}/${k}`),
      },
      ...statusWriterStatements(bucket, "audit", longhornPrefix),
    ],
  };
}
