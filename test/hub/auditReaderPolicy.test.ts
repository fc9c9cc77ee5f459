/**
 * The audit reader's policy in a real IAM evaluator (@cloud-copilot/iam-simulate): it lists the
 * bucket and reads the metadata the audit needs, and nothing else: no backup data, no write, no
 * delete. A bucket-wide read policy is allowed on the very requests ours refuses, so the evaluator bites.
 */
import { runSimulation } from "@cloud-copilot/iam-simulate";
import { describe, expect, it } from "vitest";
import { auditReaderPolicy } from "../../components/hub/iam.js";

const ACCOUNT = "123456789012";
const BUCKET = "homelab-backups";
const BUCKET_ARN = `arn:aws:s3:::${BUCKET}`;
const obj = (key: string) => `${BUCKET_ARN}/${key}`;

async function decide(
  policy: object,
  action: string,
  resource: string,
  ctx: Record<string, string> = {},
): Promise<string> {
  const res = await runSimulation(
    {
      request: {
        principal: `arn:aws:iam::${ACCOUNT}:user/audit`,
        action,
        resource: { resource, accountId: ACCOUNT },
        contextVariables: ctx,
      },
      identityPolicies: [{ name: "audit", policy: JSON.parse(JSON.stringify(policy)) }],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
    },
    {},
  );
  if (res.resultType !== "single") throw new Error(`simulation: ${JSON.stringify(res)}`);
  return res.overallResult;
}

const policy = auditReaderPolicy(BUCKET);
const broad = {
  Version: "2012-10-17",
  Statement: [
    { Effect: "Allow", Action: ["s3:GetObject", "s3:ListBucket"], Resource: [BUCKET_ARN, `${BUCKET_ARN}/*`] },
  ],
};

/** Objects the audit reads (components/alerts/hubReader.mjs). */
const READS = [
  "longhorn/backupstore/volumes/5e/b1/pvc-1/volume.cfg",
  "longhorn/backupstore/volumes/5e/b1/pvc-1/backups/backup_abc.cfg",
  "postgres-backups/wiki/latest.json",
  "postgres-backups/wiki/wiki-20261201T030000Z.sql.zst.json",
  "etcd-snapshots/cp-1/etcd-snapshot-cp-1-1796000000.json",
  "velero/backups/daily-20261201020000/velero-backup.json",
  "buckets/.records/photos.json",
  // The status records (components/core/schema.ts STATUS_PREFIXES), dotted items included.
  "status/audit/pvcs.json",
  "status/drills/postgres/wiki.json",
  "status/drills/buckets/photos.v2.json",
];
/** Backup data it must never read. */
const DATA = [
  "longhorn/backupstore/volumes/5e/b1/pvc-1/blocks/aa/bb/aabb.blk",
  "postgres-backups/wiki/wiki-20261201T030000Z.sql.zst",
  "etcd-snapshots/cp-1/etcd-snapshot-cp-1-1796000000",
  "velero/backups/daily-20261201020000/daily-20261201020000.tar.gz",
  "velero/kopia/default/p0123456789",
  "buckets/photos/a.jpg",
  "buckets/photos/data.json",
];

describe("audit reader policy", () => {
  it("lists the whole bucket and reads every metadata object the audit reads", async () => {
    expect(await decide(policy, "s3:ListBucket", BUCKET_ARN)).toBe("Allowed");
    expect(await decide(policy, "s3:ListBucket", BUCKET_ARN, { "s3:prefix": "velero/backups/" })).toBe("Allowed");
    for (const k of READS) expect(await decide(policy, "s3:GetObject", obj(k)), k).toBe("Allowed");
  });

  it("reads no backup data (a bucket-wide reader would)", async () => {
    for (const k of DATA) {
      expect(await decide(policy, "s3:GetObject", obj(k)), k).toBe("ImplicitlyDenied");
      expect(await decide(broad, "s3:GetObject", obj(k)), k).toBe("Allowed");
    }
  });

  it("puts its PVC inventory under status/audit/ and nowhere else; never writes backup data or deletes, explicitly", async () => {
    expect(await decide(policy, "s3:PutObject", obj("status/audit/pvcs.json"))).toBe("Allowed");
    expect(await decide(policy, "s3:PutObject", obj("status/drills/etcd/etcd.json"))).toBe("ExplicitlyDenied");
    expect(await decide(policy, "s3:PutObject", obj("elsewhere.json"))).toBe("ImplicitlyDenied");
    for (const k of [...READS.filter((r) => !r.startsWith("status/")), ...DATA])
      expect(await decide(policy, "s3:PutObject", obj(k)), k).toBe("ExplicitlyDenied");
    for (const k of [...READS, ...DATA])
      for (const action of ["s3:DeleteObject", "s3:DeleteObjectVersion"])
        expect(await decide(policy, action, obj(k)), `${action} ${k}`).toBe("ExplicitlyDenied");
    for (const action of ["s3:PutBucketPolicy", "s3:PutLifecycleConfiguration"])
      expect(await decide(policy, action, BUCKET_ARN), action).toBe("ImplicitlyDenied");
  });
});
