/**
 * Every writer's policy evaluated by a real IAM policy evaluator (@cloud-copilot/iam-simulate): what
 * each may do on its own prefix, that it can do nothing on the others, that the append-only writers
 * can never delete and the offsite reader never write. A deliberately broad policy (the usual
 * bucket-wide one) is allowed on the very requests ours are denied, so the evaluator is known to bite.
 */
import { runSimulation } from "@cloud-copilot/iam-simulate";
import { describe, expect, it } from "vitest";
import { PREFIXES } from "../../components/config.js";
import { WRITERS, type WriterName } from "../../components/core/hubConnection.js";
import {
  APPEND_ONLY_WRITERS,
  PRUNING_WRITERS,
  tlsOnlyBucketPolicy,
  writerPolicies,
  writerPolicy,
  writerUserName,
  type PolicyDocument,
} from "../../components/hub/iam.js";

const ACCOUNT = "123456789012";
const BUCKET = "homelab-backups";
const BUCKET_ARN = `arn:aws:s3:::${BUCKET}`;
const obj = (key: string) => `${BUCKET_ARN}/${key}`;

type Decision = "Allowed" | "ImplicitlyDenied" | "ExplicitlyDenied";

/** The evaluator's decision; an invalid policy, action or context key fails the test instead of denying. */
async function decide(
  identity: object | undefined,
  action: string,
  resource: string,
  ctx: Record<string, string> = {},
  resourcePolicy?: object,
): Promise<Decision> {
  const res = await runSimulation(
    {
      request: {
        principal: `arn:aws:iam::${ACCOUNT}:user/writer`,
        action,
        resource: { resource, accountId: ACCOUNT },
        contextVariables: ctx,
      },
      identityPolicies: identity ? [{ name: "writer", policy: JSON.parse(JSON.stringify(identity)) }] : [],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      ...(resourcePolicy ? { resourcePolicy: JSON.parse(JSON.stringify(resourcePolicy)) } : {}),
    },
    {},
  );
  if (res.resultType === "error")
    throw new Error(`simulation refused: ${res.errors.message} ${JSON.stringify(res.errors)}`);
  if (res.resultType !== "single") throw new Error(`unexpected result type ${res.resultType}`);
  return res.overallResult as Decision;
}

const prefixOf = (w: Exclude<WriterName, "offsite" | "drills" | "audit">) => PREFIXES[w];
const others = (w: Exclude<WriterName, "offsite" | "drills" | "audit">) =>
  Object.values(PREFIXES).filter((p) => p !== prefixOf(w));
const list = (prefix: string) => ({ "s3:prefix": prefix });

/** Requests no writer may ever make: bucket configuration, retention bypass, version deletion. */
const ADMIN_REQUESTS: [string, string][] = [
  ["s3:PutBucketPolicy", BUCKET_ARN],
  ["s3:PutLifecycleConfiguration", BUCKET_ARN],
  ["s3:PutBucketVersioning", BUCKET_ARN],
  ["s3:PutBucketObjectLockConfiguration", BUCKET_ARN],
  ["s3:DeleteBucket", BUCKET_ARN],
  ["s3:BypassGovernanceRetention", obj("postgres-backups/wiki/a.sql.gz")],
  ["s3:PutObjectRetention", obj("postgres-backups/wiki/a.sql.gz")],
  ["s3:DeleteObjectVersion", obj("longhorn/backupstore/volumes/x")],
];

describe.each(PRUNING_WRITERS.map((w) => [w]))("pruning writer %s", (writer) => {
  const policy = writerPolicy(writer, BUCKET);
  const key = `${prefixOf(writer)}some/deep/object.blk`;

  it("may read, write, delete and manage multipart uploads under its own prefix", async () => {
    for (const action of [
      "s3:GetObject",
      "s3:PutObject",
      "s3:DeleteObject",
      "s3:AbortMultipartUpload",
      "s3:ListMultipartUploadParts",
    ]) {
      expect(await decide(policy, action, obj(key)), action).toBe("Allowed");
    }
    expect(await decide(policy, "s3:ListBucket", BUCKET_ARN, list(prefixOf(writer)))).toBe("Allowed");
    expect(await decide(policy, "s3:ListBucket", BUCKET_ARN, list(`${prefixOf(writer)}backups/`))).toBe("Allowed");
    expect(await decide(policy, "s3:GetBucketLocation", BUCKET_ARN)).toBe("Allowed");
  });

  it("can neither touch nor list any other prefix, nor list the whole bucket", async () => {
    for (const p of [...others(writer), "", "other/"]) {
      for (const action of ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]) {
        expect(await decide(policy, action, obj(`${p}x`)), `${action} on ${p}x`).not.toBe("Allowed");
      }
      if (p) expect(await decide(policy, "s3:ListBucket", BUCKET_ARN, list(p)), `list ${p}`).not.toBe("Allowed");
    }
    expect(await decide(policy, "s3:ListBucket", BUCKET_ARN)).not.toBe("Allowed");
    // A look-alike prefix without the slash is another class's namespace.
    expect(await decide(policy, "s3:PutObject", obj(`${prefixOf(writer).slice(0, -1)}-evil/x`))).not.toBe("Allowed");
  });

  it("can change no bucket setting and permanently delete no version", async () => {
    for (const [action, res] of ADMIN_REQUESTS) expect(await decide(policy, action, res), action).not.toBe("Allowed");
  });
});

describe.each(APPEND_ONLY_WRITERS.map((w) => [w]))("append-only writer %s", (writer) => {
  const policy = writerPolicy(writer, BUCKET);
  const prefix = prefixOf(writer);

  it("may upload to its staging prefix and final keys, read them back and abort multipart uploads", async () => {
    for (const key of [
      `${prefix}.partial/wiki/wiki-20260101T030000Z.sql.gz`,
      `${prefix}wiki/wiki-20260101T030000Z.sql.gz`,
    ]) {
      for (const action of ["s3:PutObject", "s3:GetObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"]) {
        expect(await decide(policy, action, obj(key)), `${action} ${key}`).toBe("Allowed");
      }
    }
    expect(await decide(policy, "s3:ListBucket", BUCKET_ARN, list(`${prefix}wiki/`))).toBe("Allowed");
  });

  it("can never delete, not even its own staging objects, and the deny is explicit", async () => {
    for (const key of [`${prefix}wiki/a.sql.gz`, `${prefix}.partial/a.sql.gz`, "longhorn/x", "velero/x"]) {
      expect(await decide(policy, "s3:DeleteObject", obj(key)), key).toBe("ExplicitlyDenied");
      expect(await decide(policy, "s3:DeleteObjectVersion", obj(key)), key).toBe("ExplicitlyDenied");
    }
    // Even beside a policy that allows everything in the bucket, the deny wins.
    const both = {
      Version: "2012-10-17",
      Statement: [
        ...policy.Statement,
        { Sid: "Broad", Effect: "Allow", Action: ["s3:*"], Resource: [`${BUCKET_ARN}/*`] },
      ],
    };
    expect(await decide(both, "s3:DeleteObject", obj(`${prefix}a`))).toBe("ExplicitlyDenied");
  });

  it("can neither write nor list outside its prefix", async () => {
    for (const p of others(writer)) {
      expect(await decide(policy, "s3:PutObject", obj(`${p}x`)), p).not.toBe("Allowed");
      expect(await decide(policy, "s3:GetObject", obj(`${p}x`)), p).not.toBe("Allowed");
      expect(await decide(policy, "s3:ListBucket", BUCKET_ARN, list(p)), p).not.toBe("Allowed");
    }
    expect(await decide(policy, "s3:ListBucket", BUCKET_ARN)).not.toBe("Allowed");
    for (const [action, res] of ADMIN_REQUESTS) expect(await decide(policy, action, res), action).not.toBe("Allowed");
  });
});

describe("status writers: audit and drills put their records under their own status prefix only", () => {
  const both = (p: PolicyDocument) => ({
    Version: "2012-10-17",
    Statement: [...p.Statement, { Sid: "Broad", Effect: "Allow", Action: ["s3:*"], Resource: [`${BUCKET_ARN}/*`] }],
  });
  const cases = [
    { writer: "audit", own: "status/audit/pvcs.json", other: "status/drills/etcd/etcd.json" },
    { writer: "drills", own: "status/drills/velero/velero.json", other: "status/audit/pvcs.json" },
  ] as const;
  for (const { writer, own, other } of cases)
    for (const [label, opts] of [
      ["reading some prefixes", { drillPrefixes: ["velero/", "etcd-snapshots/"] }],
      ["reading the whole bucket", { drillPrefixes: [""] }],
      ["with no drill reading the hub", { drillPrefixes: [] }],
      ["with Longhorn at the bucket root", { drillPrefixes: [""], longhornPrefix: "" }],
    ] as const) {
      it(`${writer}, ${label}: puts its own record; cannot put under any class prefix (explicitly), the other's records or elsewhere; deletes nothing`, async () => {
        const policy = writerPolicy(writer, BUCKET, opts);
        expect(await decide(policy, "s3:PutObject", obj(own)), own).toBe("Allowed");
        const classes = [...Object.values(PREFIXES), ...("longhornPrefix" in opts ? ["backupstore/"] : [])];
        for (const p of classes) {
          // Explicit: even a broad grant added beside it cannot open a backup prefix.
          expect(await decide(both(policy), "s3:PutObject", obj(`${p}x`)), p).toBe("ExplicitlyDenied");
          expect(await decide(both(policy), "s3:DeleteObject", obj(`${p}x`)), p).toBe("ExplicitlyDenied");
        }
        expect(await decide(both(policy), "s3:PutObject", obj(other)), other).toBe("ExplicitlyDenied");
        for (const key of ["x", "status/x.json", ".homelab-backup-conformance/x"])
          expect(await decide(policy, "s3:PutObject", obj(key)), key).not.toBe("Allowed");
        for (const key of [own, other, "longhorn/x", "status/x"])
          for (const action of ["s3:DeleteObject", "s3:DeleteObjectVersion"])
            expect(await decide(both(policy), action, obj(key)), `${action} ${key}`).toBe("ExplicitlyDenied");
        for (const [action, res] of ADMIN_REQUESTS)
          expect(await decide(policy, action, res), action).not.toBe("Allowed");
      });
    }

  it("the PostgreSQL writer (the PostgreSQL drill's key) may put its drill record, under status/drills/postgres/ only", async () => {
    const policy = writerPolicy("postgres", BUCKET);
    expect(await decide(policy, "s3:PutObject", obj("status/drills/postgres/wiki.json"))).toBe("Allowed");
    for (const key of ["status/drills/etcd/etcd.json", "status/audit/pvcs.json", "status/x"])
      expect(await decide(policy, "s3:PutObject", obj(key)), key).not.toBe("Allowed");
    expect(await decide(policy, "s3:DeleteObject", obj("status/drills/postgres/wiki.json"))).toBe("ExplicitlyDenied");
  });
});

describe("offsite reader", () => {
  it("reads and lists the whole bucket but cannot write or delete anything", async () => {
    const policy = writerPolicy("offsite", BUCKET);
    for (const p of Object.values(PREFIXES)) {
      expect(await decide(policy, "s3:GetObject", obj(`${p}x`)), p).toBe("Allowed");
      expect(await decide(policy, "s3:ListBucket", BUCKET_ARN, list(p)), p).toBe("Allowed");
      for (const action of ["s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion", "s3:AbortMultipartUpload"]) {
        expect(await decide(policy, action, obj(`${p}x`)), `${action} ${p}`).not.toBe("Allowed");
      }
    }
    for (const [action, res] of ADMIN_REQUESTS) expect(await decide(policy, action, res), action).not.toBe("Allowed");
  });

  it("with offsite.prefixes, reads only those", async () => {
    const policy = writerPolicy("offsite", BUCKET, { offsitePrefixes: ["postgres-backups/", "etcd-snapshots/"] });
    expect(await decide(policy, "s3:GetObject", obj("postgres-backups/wiki/a.sql.gz"))).toBe("Allowed");
    expect(await decide(policy, "s3:ListBucket", BUCKET_ARN, list("etcd-snapshots/"))).toBe("Allowed");
    expect(await decide(policy, "s3:GetObject", obj("longhorn/backupstore/x"))).not.toBe("Allowed");
    expect(await decide(policy, "s3:ListBucket", BUCKET_ARN, list("velero/"))).not.toBe("Allowed");
    expect(await decide(policy, "s3:ListBucket", BUCKET_ARN)).not.toBe("Allowed");
    expect(await decide(policy, "s3:PutObject", obj("postgres-backups/x"))).not.toBe("Allowed");
  });
});

describe("negative control: the evaluator bites", () => {
  // The bucket-wide policy commonly given to a backup user.
  const broad = {
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Action: ["s3:PutObject", "s3:GetObject", "s3:ListBucket", "s3:DeleteObject", "s3:GetBucketLocation"],
        Resource: [BUCKET_ARN, `${BUCKET_ARN}/*`],
      },
    ],
  };
  const cases: [WriterName, string, string, Record<string, string>][] = [
    ["postgres", "s3:DeleteObject", obj("postgres-backups/wiki/a.sql.gz"), {}],
    ["etcd", "s3:DeleteObject", obj("etcd-snapshots/snap.db"), {}],
    ["longhorn", "s3:PutObject", obj("postgres-backups/wiki/a.sql.gz"), {}],
    ["velero", "s3:DeleteObject", obj("longhorn/backupstore/volumes/x"), {}],
    ["buckets", "s3:ListBucket", BUCKET_ARN, {}],
    ["offsite", "s3:PutObject", obj("velero/backups/x"), {}],
  ];
  it.each(cases)(
    "%s: %s on %s is allowed by the broad policy and denied by ours",
    async (writer, action, resource, ctx) => {
      expect(await decide(broad, action, resource, ctx)).toBe("Allowed");
      expect(await decide(writerPolicy(writer, BUCKET), action, resource, ctx)).not.toBe("Allowed");
    },
  );

  it("an empty policy set allows nothing, and a misspelt action is an error, not a denial", async () => {
    expect(await decide(undefined, "s3:GetObject", obj("longhorn/x"))).toBe("ImplicitlyDenied");
    await expect(decide(writerPolicy("longhorn", BUCKET), "s3:DeleteObjekt", obj("longhorn/x"))).rejects.toThrow(
      /refused/,
    );
  });
});

describe("tlsOnlyBucketPolicy", () => {
  const bucketPolicy = tlsOnlyBucketPolicy(BUCKET_ARN);
  const writer = writerPolicy("longhorn", BUCKET);

  it("denies a permitted request made without TLS, on objects and on the bucket", async () => {
    expect(
      await decide(writer, "s3:PutObject", obj("longhorn/x"), { "aws:SecureTransport": "false" }, bucketPolicy),
    ).toBe("ExplicitlyDenied");
    expect(
      await decide(
        writer,
        "s3:ListBucket",
        BUCKET_ARN,
        { ...list("longhorn/"), "aws:SecureTransport": "false" },
        bucketPolicy,
      ),
    ).toBe("ExplicitlyDenied");
  });

  it("lets the same request through over TLS, and without the bucket policy plain HTTP would pass", async () => {
    expect(
      await decide(writer, "s3:PutObject", obj("longhorn/x"), { "aws:SecureTransport": "true" }, bucketPolicy),
    ).toBe("Allowed");
    expect(await decide(writer, "s3:PutObject", obj("longhorn/x"), { "aws:SecureTransport": "false" })).toBe("Allowed");
  });
});

describe("document shape", () => {
  it("no statement of any writer grants `*` as action or resource, or a service-wide wildcard", () => {
    for (const [w, doc] of Object.entries(writerPolicies(BUCKET)) as [WriterName, PolicyDocument][]) {
      for (const s of doc.Statement) {
        for (const a of s.Action) expect(a, `${w} ${s.Sid}`).not.toMatch(/^\*$|^s3:\*$/);
        for (const r of s.Resource) expect(r, `${w} ${s.Sid}`).not.toMatch(/^\*$|^arn:aws:s3:::\*$/);
        expect(s.Principal, `${w} ${s.Sid}`).toBeUndefined();
      }
    }
  });

  it("gives IAM user names within IAM's 64 characters and distinct per writer, even for a 63-character bucket", () => {
    const long = "b".repeat(63);
    const users = WRITERS.map((w) => writerUserName(long, w));
    for (const u of users) expect(u.length, u).toBeLessThanOrEqual(64);
    for (const u of users) expect(u, u).toMatch(/^[\w+=,.@-]+$/);
    expect(new Set(users).size).toBe(WRITERS.length);
  });

  it("covers every writer with a distinct document", () => {
    const docs = writerPolicies(BUCKET);
    expect(Object.keys(docs).sort()).toEqual([...WRITERS].sort());
    expect(new Set(Object.values(docs).map((d) => JSON.stringify(d))).size).toBe(WRITERS.length);
  });
});
