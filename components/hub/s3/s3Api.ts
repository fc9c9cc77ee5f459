/**
 * The S3 calls that configure and read an s3 hub's bucket, with a real S3 client (@aws-sdk/client-s3),
 * plus the writer identities of a Ceph RGW through its admin ops API and its IAM user policies.
 *
 * Every error names the setting and the stack key it serves. A `NotImplemented` answer (HTTP 501) is
 * never taken as success: it means the server cannot provide the guarantee, and the caller fails.
 */
import {
  CreateBucketCommand,
  DeleteBucketLifecycleCommand,
  DeleteBucketPolicyCommand,
  GetBucketLifecycleConfigurationCommand,
  GetBucketPolicyCommand,
  GetBucketVersioningCommand,
  GetObjectLockConfigurationCommand,
  HeadBucketCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketPolicyCommand,
  PutBucketVersioningCommand,
  PutObjectLockConfigurationCommand,
  S3Client,
  type LifecycleRule,
} from "@aws-sdk/client-s3";
import { GetUserPolicyCommand, IAMClient, PutUserPolicyCommand } from "@aws-sdk/client-iam";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import { Hash } from "@smithy/hash-node";
import type { PolicyDocument } from "../iam.js";
import type { HubBucketSettings, S3LifecycleRule } from "./s3Settings.js";

export interface S3Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

export interface S3Target {
  readonly endpoint: string;
  readonly region: string;
}

/** A path-style S3 client for one hub and one credential. */
export function s3Client(
  target: S3Target,
  creds: S3Credentials,
  opts: { maxAttempts?: number; checksums?: boolean } = {},
): S3Client {
  return new S3Client({
    endpoint: target.endpoint,
    region: target.region,
    forcePathStyle: true,
    credentials: creds,
    maxAttempts: opts.maxAttempts ?? 3,
    // `false`: no request checksum unless the operation requires one (what Velero does with checksumAlgorithm "").
    ...(opts.checksums === false ? { requestChecksumCalculation: "WHEN_REQUIRED" as const } : {}),
  });
}

/** The error's S3 code (`AccessDenied`, `NotImplemented`, …) and HTTP status. */
export function s3ErrorCode(err: unknown): { code: string; status?: number } {
  const e = err as { name?: string; Code?: string; $metadata?: { httpStatusCode?: number } };
  return { code: e?.Code ?? e?.name ?? String(err), status: e?.$metadata?.httpStatusCode };
}

export function isNotImplemented(err: unknown): boolean {
  const { code, status } = s3ErrorCode(err);
  return code === "NotImplemented" || status === 501;
}

/** Runs one S3 call; any failure becomes an error naming the setting and the stack key. */
async function step<T>(what: string, key: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    const { code, status } = s3ErrorCode(err);
    if (isNotImplemented(err))
      throw new Error(`${key}: the server answered NotImplemented to ${what}: it cannot provide this guarantee`);
    throw new Error(`${key}: ${what} failed: ${code}${status ? ` (HTTP ${status})` : ""}: ${(err as Error).message}`);
  }
}

/** True when the bucket exists (and the credentials may see it). */
export async function bucketExists(client: S3Client, bucket: string): Promise<boolean> {
  try {
    await client.send(new HeadBucketCommand({ Bucket: bucket }));
    return true;
  } catch (err) {
    const { code, status } = s3ErrorCode(err);
    if (status === 404 || code === "NotFound" || code === "NoSuchBucket") return false;
    throw new Error(`hub.bucket: cannot check bucket ${bucket}: ${code}${status ? ` (HTTP ${status})` : ""}`);
  }
}

/** The bucket's current settings, as the server reports them (what a refresh records). */
export interface BucketState {
  readonly versioning: string;
  readonly objectLock?: { mode: string; days: number };
  /** Whether object lock is enabled on the bucket at all (it can only be enabled at creation). */
  readonly objectLockEnabled: boolean;
  readonly lifecycleRules: Record<string, any>[];
  readonly bucketPolicy?: PolicyDocument;
}

const missing = (err: unknown, ...codes: string[]) =>
  codes.includes(s3ErrorCode(err).code) || s3ErrorCode(err).status === 404;

export async function readBucketState(client: S3Client, bucket: string): Promise<BucketState> {
  const v = await step("GetBucketVersioning", "hub.bucket", () =>
    client.send(new GetBucketVersioningCommand({ Bucket: bucket })),
  );
  let objectLock: BucketState["objectLock"];
  let objectLockEnabled = false;
  try {
    const l = await client.send(new GetObjectLockConfigurationCommand({ Bucket: bucket }));
    objectLockEnabled = l.ObjectLockConfiguration?.ObjectLockEnabled === "Enabled";
    const r = l.ObjectLockConfiguration?.Rule?.DefaultRetention;
    if (r?.Mode && r.Days !== undefined) objectLock = { mode: r.Mode, days: r.Days };
  } catch (err) {
    if (isNotImplemented(err))
      throw new Error("hub.objectLock: the server answered NotImplemented to GetObjectLockConfiguration");
    if (!missing(err, "ObjectLockConfigurationNotFoundError", "InvalidRequest")) throw err;
  }
  let lifecycleRules: Record<string, any>[] = [];
  try {
    lifecycleRules = ((await client.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket }))).Rules ??
      []) as Record<string, any>[];
  } catch (err) {
    if (isNotImplemented(err))
      throw new Error("hub lifecycle: the server answered NotImplemented to GetBucketLifecycleConfiguration");
    if (!missing(err, "NoSuchLifecycleConfiguration", "NoSuchBucketLifecycle")) throw err;
  }
  let bucketPolicy: PolicyDocument | undefined;
  try {
    const p = await client.send(new GetBucketPolicyCommand({ Bucket: bucket }));
    if (p.Policy) bucketPolicy = JSON.parse(p.Policy) as PolicyDocument;
  } catch (err) {
    if (isNotImplemented(err))
      throw new Error("hub bucket policy: the server answered NotImplemented to GetBucketPolicy");
    if (!missing(err, "NoSuchBucketPolicy")) throw err;
  }
  return { versioning: v.Status ?? "Off", objectLock, objectLockEnabled, lifecycleRules, bucketPolicy };
}

/**
 * Creates the bucket when missing (with object lock when the stack asks for it: S3 allows enabling
 * it only at creation), then sets versioning, the default retention, the lifecycle rules and the
 * bucket policy. Idempotent: each run converges to `s`.
 */
export async function applyBucketSettings(client: S3Client, s: HubBucketSettings): Promise<void> {
  if (!(await bucketExists(client, s.bucket))) {
    await step("CreateBucket", "hub.bucket", () =>
      client.send(
        new CreateBucketCommand({ Bucket: s.bucket, ...(s.objectLock ? { ObjectLockEnabledForBucket: true } : {}) }),
      ),
    );
  }
  const versioning = s.versioning;
  if (versioning)
    await step("PutBucketVersioning", "hub (versioning)", () =>
      client.send(
        new PutBucketVersioningCommand({ Bucket: s.bucket, VersioningConfiguration: { Status: versioning } }),
      ),
    );
  if (s.objectLock) {
    const lock = s.objectLock;
    const state = await readBucketState(client, s.bucket);
    if (!state.objectLockEnabled) {
      throw new Error(
        `hub.objectLock: bucket ${s.bucket} exists without object lock, which S3 can enable only when a bucket is created; use a new bucket or remove hub.objectLock`,
      );
    }
    await step("PutObjectLockConfiguration", "hub.objectLock", () =>
      client.send(
        new PutObjectLockConfigurationCommand({
          Bucket: s.bucket,
          ObjectLockConfiguration: {
            ObjectLockEnabled: "Enabled",
            Rule: { DefaultRetention: { Mode: lock.mode, Days: lock.days } },
          },
        }),
      ),
    );
  }
  const rules = s.lifecycleRules ?? [];
  if (rules.length > 0) {
    await step("PutBucketLifecycleConfiguration", "hub (lifecycle)", () =>
      client.send(
        new PutBucketLifecycleConfigurationCommand({
          Bucket: s.bucket,
          LifecycleConfiguration: { Rules: rules as LifecycleRule[] },
        }),
      ),
    );
  } else {
    await step("DeleteBucketLifecycle", "hub (lifecycle)", () =>
      client.send(new DeleteBucketLifecycleCommand({ Bucket: s.bucket })),
    );
  }
  if (s.bucketPolicy) {
    const policy = JSON.stringify(s.bucketPolicy);
    await step("PutBucketPolicy", "hub (bucket policy)", () =>
      client.send(new PutBucketPolicyCommand({ Bucket: s.bucket, Policy: policy })),
    );
  } else {
    await step("DeleteBucketPolicy", "hub (bucket policy)", () =>
      client.send(new DeleteBucketPolicyCommand({ Bucket: s.bucket })),
    );
  }
}

/** Re-exported for callers that hold settings and state side by side. */
export type { S3LifecycleRule };

// ---------------------------------------------------------------------------------------------
// Ceph RGW identities: admin ops API (users and keys) and IAM user policies (rights)
// ---------------------------------------------------------------------------------------------

/** The name of the user policy each writer gets on RGW. */
export const RGW_POLICY_NAME = "homelab-backup";

/** One signed request to RGW's admin ops API (`/admin/...`), JSON answer (docs.ceph.com radosgw/adminops). */
async function rgwAdmin(
  target: S3Target,
  admin: S3Credentials,
  method: "GET" | "PUT" | "DELETE",
  path: string,
  query: Record<string, string>,
): Promise<{ status: number; body: any }> {
  const url = new URL(target.endpoint);
  const signer = new SignatureV4({
    credentials: admin,
    region: target.region,
    service: "s3",
    sha256: Hash.bind(null, "sha256"),
    uriEscapePath: true,
  });
  const request = new HttpRequest({
    method,
    protocol: url.protocol,
    hostname: url.hostname,
    port: url.port ? Number(url.port) : undefined,
    path,
    query: { ...query, format: "json" },
    headers: { host: url.host },
  });
  const signed = await signer.sign(request);
  const qs = new URLSearchParams(signed.query as Record<string, string>).toString().replace(/\+/g, "%20");
  const res = await fetch(`${url.protocol}//${url.host}${path}?${qs}`, {
    method,
    headers: signed.headers as Record<string, string>,
  });
  const text = await res.text();
  let body: any = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // an XML or empty error body
  }
  return { status: res.status, body };
}

/**
 * Makes sure the RGW user `userName` exists with exactly this S3 key and carries `policy` as its
 * user policy. Idempotent.
 */
export async function ensureRgwWriter(
  target: S3Target,
  admin: S3Credentials,
  writer: { userName: string; key: S3Credentials; policy: PolicyDocument },
): Promise<void> {
  const fail = (what: string, r: { status: number; body: any }) => {
    throw new Error(
      `hub.manage (admin): RGW admin ops ${what} for ${writer.userName} failed: HTTP ${r.status} ${typeof r.body === "string" ? r.body.slice(0, 200) : JSON.stringify(r.body)}`,
    );
  };
  const get = await rgwAdmin(target, admin, "GET", "/admin/user", { uid: writer.userName });
  if (get.status === 501) fail("GET user (NotImplemented)", get);
  if (get.status === 404) {
    const created = await rgwAdmin(target, admin, "PUT", "/admin/user", {
      uid: writer.userName,
      "display-name": `homelab-backup ${writer.userName}`,
      "access-key": writer.key.accessKeyId,
      "secret-key": writer.key.secretAccessKey,
      "key-type": "s3",
    });
    if (created.status !== 200) fail("create user", created);
  } else if (get.status === 200) {
    const keys = (get.body?.keys ?? []) as { access_key: string; secret_key: string }[];
    if (!keys.some((k) => k.access_key === writer.key.accessKeyId && k.secret_key === writer.key.secretAccessKey)) {
      const key = await rgwAdmin(target, admin, "PUT", "/admin/user", {
        key: "",
        uid: writer.userName,
        "access-key": writer.key.accessKeyId,
        "secret-key": writer.key.secretAccessKey,
        "key-type": "s3",
      });
      if (key.status !== 200) fail("set key", key);
    }
    // Keys this program did not give (a rotated key) would keep the old rights: remove them.
    for (const k of keys.filter((k) => k.access_key !== writer.key.accessKeyId)) {
      const removed = await rgwAdmin(target, admin, "DELETE", "/admin/user", {
        key: "",
        uid: writer.userName,
        "access-key": k.access_key,
        "key-type": "s3",
      });
      if (removed.status !== 200) fail("remove old key", removed);
    }
  } else fail("GET user", get);
  const iam = rgwIamClient(target, admin);
  await step(`PutUserPolicy ${writer.userName}`, "hub.manage (admin)", () =>
    iam.send(
      new PutUserPolicyCommand({
        UserName: writer.userName,
        PolicyName: RGW_POLICY_NAME,
        PolicyDocument: JSON.stringify(writer.policy),
      }),
    ),
  );
}

/** The user policy RGW holds for a writer (undefined when the user has none). */
export async function readRgwWriterPolicy(
  target: S3Target,
  admin: S3Credentials,
  userName: string,
): Promise<PolicyDocument | undefined> {
  try {
    const r = await rgwIamClient(target, admin).send(
      new GetUserPolicyCommand({ UserName: userName, PolicyName: RGW_POLICY_NAME }),
    );
    return r.PolicyDocument ? (JSON.parse(decodeURIComponent(r.PolicyDocument)) as PolicyDocument) : undefined;
  } catch (err) {
    if (isNotImplemented(err))
      throw new Error("hub.manage (admin): the server answered NotImplemented to GetUserPolicy");
    if (missing(err, "NoSuchEntity", "NoSuchEntityException")) return undefined;
    throw err;
  }
}

/** RGW serves the IAM user-policy calls on its S3 endpoint (docs.ceph.com radosgw/iam). */
function rgwIamClient(target: S3Target, admin: S3Credentials): IAMClient {
  return new IAMClient({ endpoint: target.endpoint, region: target.region, credentials: admin, maxAttempts: 3 });
}
