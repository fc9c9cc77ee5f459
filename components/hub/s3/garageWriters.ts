/**
 * A writer's identity and rights on Garage (`flavor: garage`), through its admin API v2 (garageAdmin.ts),
 * in the shape of the madmin writers (madminWriters.ts): apply converges, read reports what the server
 * holds, in the same terms as what the stack wants, so a refresh shows drift as a change.
 *
 * Garage grants read, write and owner per key and per bucket (`ApiBucketKeyPerm`; `src/model/bucket_table.rs`
 * `BucketKeyPerm` at v2.0.0), not per prefix and not per action. Its S3 router decides which operations
 * each flag allows (`src/api/s3/router.rs`, `authorization_type`, v2.0.0): read covers the GET/HEAD/list
 * calls, owner only bucket deletion, website and CORS, and write everything else, DeleteObject and
 * PutBucketLifecycleConfiguration included. So a writer gets read + write on the stack's bucket, a reader
 * read only, and no key gets owner.
 *
 * - Key: one per writer, imported (`ImportKey`) with the access key id and secret the program generated,
 *   so it lives in the Pulumi state like every other flavor's keys; named after the writer's bucket-scoped
 *   user name. Garage refuses to import an id it has ever held, even deleted (`src/api/admin/key.rs`,
 *   `KeyAlreadyExists`), which is why `garageKeyPair` derives the id from both generated values: replacing
 *   either gives a new id.
 * - Apply: the bucket must exist (S3HubBucket creates it); the key is imported if missing; the flags the
 *   writer lacks are allowed, those it should not have are denied, and any right on another bucket is
 *   denied (rights given by hand would outlive the stack). Other keys with the writer's name are keys this
 *   stack gave before (a replaced key): they are deleted, as a replaced madmin user is removed.
 * - Read: the rights as a policy document (`garageGrantPolicy`), equal to the wanted one only when the
 *   key exists, is not expired, cannot create buckets and holds exactly the wanted flags on this bucket and
 *   nothing elsewhere; otherwise `problems`, so the next preview shows an update.
 */
import { createHash } from "node:crypto";
import type { PolicyDocument } from "../iam.js";
import { bucketArn } from "../iam.js";
import { GarageAdminClient, type GarageBucketKeyPerm, type GarageKeyInfo } from "./garageAdmin.js";

export type GarageAccess = "read" | "write";

export interface GarageAdminTarget {
  /** The admin API's URL (`hub.adminEndpoint`), e.g. http://garage.lan:3903. */
  readonly endpoint: string;
  /** The admin bearer token (homelab-backup:hubAdminToken). */
  readonly token: string;
}

export interface GarageWriter {
  /** The key's name on the server: the writer's bucket-scoped user name. */
  readonly name: string;
  readonly bucket: string;
  readonly access: GarageAccess;
  readonly key: { readonly accessKeyId: string; readonly secretAccessKey: string };
}

const hex = (s: string) => createHash("sha256").update(s, "utf8").digest("hex");

/**
 * A Garage key from the program's two generated values (a random access key id and secret): Garage
 * imports only `GK` + 24 hex digits and a 64-hex-digit secret (`src/model/key_table.rs`, `Key::import`,
 * v2.0.0). The id depends on both values so that replacing either gives an id Garage never held.
 */
export function garageKeyPair(seedId: string, seedSecret: string): { accessKeyId: string; secretAccessKey: string } {
  return {
    accessKeyId: `GK${hex(`garage-key-id\0${seedId}\0${seedSecret}`).slice(0, 24)}`,
    secretAccessKey: hex(`garage-secret\0${seedSecret}`),
  };
}

/** The flags a writer or reader must hold on the stack's bucket. */
export function garageWantedPerm(access: GarageAccess): Required<GarageBucketKeyPerm> {
  return { read: true, write: access === "write", owner: false };
}

const flags = (p: GarageBucketKeyPerm): Required<GarageBucketKeyPerm> => ({
  read: p.read === true,
  write: p.write === true,
  owner: p.owner === true,
});

/** What `AllowBucketKey` and `DenyBucketKey` must change (a flag set to true is changed, see garageAdmin.ts). */
export function permChanges(
  held: GarageBucketKeyPerm,
  want: Required<GarageBucketKeyPerm>,
): { allow?: Required<GarageBucketKeyPerm>; deny?: Required<GarageBucketKeyPerm> } {
  const h = flags(held);
  const allow = { read: want.read && !h.read, write: want.write && !h.write, owner: want.owner && !h.owner };
  const deny = { read: !want.read && h.read, write: !want.write && h.write, owner: !want.owner && h.owner };
  const any = (p: Required<GarageBucketKeyPerm>) => p.read || p.write || p.owner;
  return { ...(any(allow) ? { allow } : {}), ...(any(deny) ? { deny } : {}) };
}

/**
 * Garage's grants on one bucket as the IAM policy they amount to (router.rs `authorization_type`, see
 * the file comment), so the same evaluator that judges the other flavors' policies judges these
 * (test/hub/garageProviders.integration.test.ts), and a refresh compares documents as on madmin.
 */
export function garageGrantPolicy(bucket: string, perm: GarageBucketKeyPerm): PolicyDocument {
  const p = flags(perm);
  const arn = bucketArn(bucket);
  const statements: PolicyDocument["Statement"] = [];
  if (p.read) {
    statements.push(
      { Sid: "GarageReadObjects", Effect: "Allow", Action: ["s3:GetObject"], Resource: [`${arn}/*`] },
      {
        Sid: "GarageReadBucket",
        Effect: "Allow",
        Action: [
          "s3:GetBucketLocation",
          "s3:GetLifecycleConfiguration",
          "s3:ListBucket",
          "s3:ListBucketMultipartUploads",
        ],
        Resource: [arn],
      },
    );
  }
  if (p.write) {
    statements.push(
      {
        Sid: "GarageWriteObjects",
        Effect: "Allow",
        Action: ["s3:AbortMultipartUpload", "s3:DeleteObject", "s3:PutObject"],
        Resource: [`${arn}/*`],
      },
      { Sid: "GarageWriteBucket", Effect: "Allow", Action: ["s3:PutLifecycleConfiguration"], Resource: [arn] },
    );
  }
  if (p.owner)
    statements.push({
      Sid: "GarageOwner",
      Effect: "Allow",
      Action: ["s3:DeleteBucket", "s3:PutBucketCORS", "s3:PutBucketWebsite"],
      Resource: [arn],
    });
  return { Version: "2012-10-17", Statement: statements };
}

/** Everything wrong with a key's rights, compared with what the writer must hold (empty when right). */
export function garageKeyProblems(info: GarageKeyInfo, bucketId: string, w: GarageWriter): string[] {
  const out: string[] = [];
  if (info.expired) out.push(`key ${info.accessKeyId} is expired`);
  if (info.permissions.createBucket) out.push(`key ${info.accessKeyId} may create buckets`);
  const want = garageWantedPerm(w.access);
  const on = info.buckets.find((b) => b.id === bucketId);
  const held = flags(on?.permissions ?? {});
  if (JSON.stringify(held) !== JSON.stringify(want))
    out.push(`key ${info.accessKeyId} holds ${JSON.stringify(held)} on ${w.bucket}, not ${JSON.stringify(want)}`);
  for (const b of info.buckets.filter((x) => x.id !== bucketId)) {
    const f = flags(b.permissions);
    if (f.read || f.write || f.owner)
      out.push(`key ${info.accessKeyId} holds ${JSON.stringify(f)} on another bucket ${b.globalAliases[0] ?? b.id}`);
  }
  return out;
}

/** The bucket's id, found by its global alias, or undefined. */
export async function garageBucketId(client: GarageAdminClient, bucket: string): Promise<string | undefined> {
  return (await client.listBuckets()).find((b) => b.globalAliases.includes(bucket))?.id;
}

export async function ensureGarageWriter(admin: GarageAdminTarget, w: GarageWriter): Promise<void> {
  const client = new GarageAdminClient(admin.endpoint, admin.token);
  try {
    const bucketId = await garageBucketId(client, w.bucket);
    if (!bucketId) throw new Error(`no bucket with the global alias ${w.bucket} (the S3HubBucket creates it)`);
    const keys = await client.listKeys();
    if (!keys.some((k) => k.id === w.key.accessKeyId))
      await client.importKey(w.key.accessKeyId, w.key.secretAccessKey, w.name);
    const info = await client.getKeyInfo(w.key.accessKeyId);
    const held = info.buckets.find((b) => b.id === bucketId)?.permissions ?? {};
    const change = permChanges(held, garageWantedPerm(w.access));
    if (change.allow) await client.allowBucketKey(bucketId, w.key.accessKeyId, change.allow);
    if (change.deny) await client.denyBucketKey(bucketId, w.key.accessKeyId, change.deny);
    for (const b of info.buckets.filter((x) => x.id !== bucketId)) {
      const { deny } = permChanges(b.permissions, { read: false, write: false, owner: false });
      if (deny) await client.denyBucketKey(b.id, w.key.accessKeyId, deny);
    }
    for (const k of keys) if (k.name === w.name && k.id !== w.key.accessKeyId) await client.deleteKey(k.id);
  } catch (err) {
    throw new Error(
      `hub.manage (admin): Garage admin API on ${admin.endpoint}: writer ${w.name}: ${(err as Error).message}`,
    );
  }
}

/** What a refresh records: `policy` equal to the wanted one only when the server holds the writer as wanted. */
export async function readGarageWriter(
  admin: GarageAdminTarget,
  w: GarageWriter,
): Promise<{ userName: string; policy?: PolicyDocument; problems?: string[] }> {
  const client = new GarageAdminClient(admin.endpoint, admin.token);
  const bucketId = await garageBucketId(client, w.bucket);
  if (!bucketId) return { userName: w.name, problems: [`no bucket with the global alias ${w.bucket}`] };
  if (!(await client.listKeys()).some((k) => k.id === w.key.accessKeyId))
    return { userName: w.name, problems: [`no key ${w.key.accessKeyId}`] };
  const info = await client.getKeyInfo(w.key.accessKeyId);
  const problems = garageKeyProblems(info, bucketId, w);
  const policy = garageGrantPolicy(w.bucket, info.buckets.find((b) => b.id === bucketId)?.permissions ?? {});
  return { userName: w.name, policy, ...(problems.length ? { problems } : {}) };
}

/** Creates the bucket by its global alias when no bucket has that alias. */
export async function ensureGarageBucket(admin: GarageAdminTarget, bucket: string): Promise<void> {
  const client = new GarageAdminClient(admin.endpoint, admin.token);
  try {
    if (!(await garageBucketId(client, bucket))) await client.createBucket(bucket);
  } catch (err) {
    throw new Error(`hub.bucket: Garage admin API on ${admin.endpoint}: ${(err as Error).message}`);
  }
}

/** The bucket as a refresh records it: `{bucket}`, or with `problems` when no bucket has that alias. */
export async function readGarageBucket(
  admin: GarageAdminTarget,
  bucket: string,
): Promise<{ bucket: string; problems?: string[] }> {
  const client = new GarageAdminClient(admin.endpoint, admin.token);
  const id = await garageBucketId(client, bucket);
  if (!id) return { bucket, problems: [`no bucket with the global alias ${bucket}`] };
  const info = await client.getBucketInfo(id);
  return info.globalAliases.includes(bucket)
    ? { bucket }
    : { bucket, problems: [`bucket ${id} no longer has the global alias ${bucket}`] };
}
