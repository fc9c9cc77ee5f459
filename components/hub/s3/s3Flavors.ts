/**
 * What an existing S3 server (`hub.kind: s3`) can guarantee, per `hub.flavor`, and the refusals that
 * follow: a stack that asks for a guarantee its server lacks is refused before anything is created,
 * naming the key, never silently weakened. What a server claims is then proven after `pulumi up` by
 * the conformance check (conformance.ts), which fails the update when the server does not hold it.
 *
 * Sources of the capability facts (upstream, checked in late 2026):
 * - Garage: no versioning, no object lock, no bucket policies (the S3 router answers 501 NotImplemented:
 *   deuxfleurs/garage src/api/s3/router.rs); lifecycle has Expiration and AbortIncompleteMultipartUpload
 *   only (src/api/s3/lifecycle.rs); permissions are read/write/owner per key and bucket, and write
 *   includes DeleteObject, so an append-only writer cannot be expressed; admin API v2 (`/v2/CreateKey`,
 *   `ImportKey`, `CreateBucket`, `AllowBucketKey`) with a bearer token on the admin port (doc/api/garage-admin-v2.json).
 * - MinIO and its maintained fork Silo (pgsty/silo): versioning, object lock, ILM (expiration, noncurrent
 *   expiration, expired delete markers), IAM-grammar user policies with Deny and `s3:prefix`; users and
 *   policies through the madmin API `/minio/admin/v3` with encrypted bodies (minio/madmin-go encrypt.go).
 * - RustFS >= 1.0.0: versioning, object lock (regressed several times: rustfs/rustfs#1509, #2473,
 *   #4293, #5984), lifecycle without noncurrent transitions; the madmin alias from 1.0.0-alpha.87
 *   (rustfs/rustfs#2202) and the native `/rustfs/admin/v3` with plain JSON bodies
 *   (docs/architecture/minio-rustfs-router-compatibility.md).
 * - Ceph RGW: versioning, object lock, lifecycle, bucket policies, IAM user policies (PutUserPolicy at
 *   the S3 endpoint, caps `user-policy=*`), users and keys through the admin ops API `/admin/user`
 *   (docs.ceph.com/en/pacific/radosgw/adminops, /radosgw/iam). Proven here by the tests against a real
 *   RGW (test/hub/s3Hub.integration.test.ts).
 * - generic: nothing is known; the program manages nothing on it and the conformance check after
 *   `pulumi up` is what proves each guarantee.
 */

export const S3_FLAVORS = ["minio", "silo", "rustfs", "garage", "ceph-rgw", "generic"] as const;
export type S3Flavor = (typeof S3_FLAVORS)[number];
/** `hub.flavor` when the stack does not set it: nothing is known about the server. */
export const DEFAULT_S3_FLAVOR = "generic" satisfies S3Flavor;

/** How the program creates writer identities and their rights on a server it manages. */
export type AdminApi = "madmin" | "rustfs-admin" | "garage-admin-v2" | "rgw-admin-ops";

export interface FlavorCapabilities {
  /** Bucket versioning (noncurrent versions kept, so an overwrite or a deletion can be undone). */
  readonly versioning: boolean;
  /** Object lock with a default retention, enforced on delete. */
  readonly objectLock: boolean;
  /** A writer that can put but never delete (append-only postgres and etcd writers). */
  readonly appendOnlyWriters: boolean;
  /** Bucket policies (the TLS-only policy of an https endpoint). */
  readonly bucketPolicy: boolean;
  /** Rights per prefix of one bucket, so that no writer reaches another's prefix. */
  readonly prefixRights: boolean;
  /** Lifecycle actions the server accepts. */
  readonly lifecycle: {
    readonly expiration: boolean;
    readonly noncurrentExpiration: boolean;
    readonly expiredDeleteMarker: boolean;
    readonly abortMultipart: boolean;
  };
  /** The admin API `manage: admin` uses, or undefined when the program cannot manage this server. */
  readonly adminApi?: AdminApi;
  /** The admin APIs this program implements today (the others are refused with `manage: admin`). */
  readonly adminImplemented: boolean;
  /** `hub.manage` when the stack does not set it (the contract: admin for minio/silo/rustfs/garage). */
  readonly defaultManage: "admin" | "none";
}

const FULL_LIFECYCLE = {
  expiration: true,
  noncurrentExpiration: true,
  expiredDeleteMarker: true,
  abortMultipart: true,
} as const;

export const FLAVOR_CAPABILITIES: Record<S3Flavor, FlavorCapabilities> = {
  minio: {
    versioning: true,
    objectLock: true,
    appendOnlyWriters: true,
    prefixRights: true,
    bucketPolicy: true,
    lifecycle: FULL_LIFECYCLE,
    adminApi: "madmin",
    // components/hub/s3/madmin.ts, golden-tested against madmin-go (test/hub/madmin.integration.test.ts).
    adminImplemented: true,
    defaultManage: "admin",
  },
  silo: {
    versioning: true,
    objectLock: true,
    appendOnlyWriters: true,
    prefixRights: true,
    bucketPolicy: true,
    lifecycle: FULL_LIFECYCLE,
    adminApi: "madmin",
    // components/hub/s3/madmin.ts, golden-tested against madmin-go (test/hub/madmin.integration.test.ts).
    adminImplemented: true,
    defaultManage: "admin",
  },
  rustfs: {
    versioning: true,
    objectLock: true,
    appendOnlyWriters: true,
    prefixRights: true,
    bucketPolicy: true,
    lifecycle: FULL_LIFECYCLE,
    adminApi: "rustfs-admin",
    // components/hub/s3/madmin.ts dialect `rustfs`, checked against RustFS's router and request types
    // (test/hub/rustfsAdmin.integration.test.ts, test/fixtures/rustfs/).
    adminImplemented: true,
    defaultManage: "admin",
  },
  garage: {
    versioning: false,
    objectLock: false,
    appendOnlyWriters: false,
    prefixRights: false,
    bucketPolicy: false,
    lifecycle: { expiration: true, noncurrentExpiration: false, expiredDeleteMarker: false, abortMultipart: true },
    adminApi: "garage-admin-v2",
    // components/hub/s3/garageAdmin.ts and garageWriters.ts, its requests validated against Garage's
    // OpenAPI document (test/hub/garageAdmin.test.ts, test/fixtures/garage/).
    adminImplemented: true,
    defaultManage: "admin",
  },
  "ceph-rgw": {
    versioning: true,
    objectLock: true,
    appendOnlyWriters: true,
    prefixRights: true,
    bucketPolicy: true,
    lifecycle: FULL_LIFECYCLE,
    adminApi: "rgw-admin-ops",
    adminImplemented: true,
    defaultManage: "none",
  },
  generic: {
    versioning: true,
    objectLock: true,
    appendOnlyWriters: true,
    prefixRights: true,
    bucketPolicy: true,
    lifecycle: FULL_LIFECYCLE,
    adminImplemented: false,
    defaultManage: "none",
  },
};

/** The part of the stack an s3 hub's refusals look at. */
export interface S3HubRequest {
  readonly flavor: S3Flavor;
  readonly manage?: "admin" | "none";
  readonly endpoint?: string;
  readonly adminAccessKeyId?: string;
  /** Garage's admin API URL (`hub.adminEndpoint`). */
  readonly adminEndpoint?: string;
  readonly objectLock?: { readonly mode: string; readonly days: number };
  /** Writers the stack uses, and whether each must be append-only. */
  readonly writers: readonly { readonly name: string; readonly appendOnly: boolean; readonly section: string }[];
  /** Which secret keys are set (and the writer names `hubWriterKeys` has keys for, when set). */
  readonly secrets: {
    readonly hubAdminPassword: boolean;
    /** Whether homelab-backup:hubAdminToken (Garage's admin bearer token) is set. @default false */
    readonly hubAdminToken?: boolean;
    readonly hubWriterKeys?: readonly string[];
  };
}

export interface S3HubProblem {
  /** Key path: `["hub", "objectLock"]`, or `["secrets", "hubWriterKeys"]` for a secret key. */
  readonly path: (string | number)[];
  readonly message: string;
}

/** `hub.manage` with the flavor's default applied. */
export function effectiveManage(flavor: S3Flavor, manage?: "admin" | "none"): "admin" | "none" {
  return manage ?? FLAVOR_CAPABILITIES[flavor].defaultManage;
}

/** Identities that only read: they may read every prefix, so they never break another writer's isolation. */
const READ_ONLY_IDENTITIES: readonly string[] = ["offsite", "drills", "audit"];

/** Every reason this s3 hub cannot be built as asked (empty when it can). */
export function s3HubProblems(req: S3HubRequest): S3HubProblem[] {
  const caps = FLAVOR_CAPABILITIES[req.flavor];
  const manage = effectiveManage(req.flavor, req.manage);
  const out: S3HubProblem[] = [];
  if (!req.endpoint)
    out.push({
      path: ["hub", "endpoint"],
      message: 'is required when hub.kind is "s3": the existing server\'s S3 endpoint, e.g. https://s3.lan:9000',
    });
  if (req.objectLock && !caps.objectLock) {
    out.push({
      path: ["hub", "objectLock"],
      message: `cannot be enforced by flavor "${req.flavor}": it has no object lock (S3 answers NotImplemented); remove hub.objectLock or use a server that locks objects (silo, rustfs, ceph-rgw)`,
    });
  }
  const appendOnly = req.writers.filter((w) => w.appendOnly);
  if (appendOnly.length > 0 && !caps.appendOnlyWriters) {
    out.push({
      path: ["hub", "flavor"],
      message: `"${req.flavor}" cannot give a writer put without delete (its write permission includes DeleteObject), but ${appendOnly.map((w) => w.section).join(" and ")} ${appendOnly.length > 1 ? "need" : "needs"} an append-only writer so a leaked key cannot erase backups; use a server with IAM policies (silo, rustfs, ceph-rgw) or remove ${appendOnly.map((w) => w.section).join(" and ")}`,
    });
  }
  // Garage grants read/write/owner per key and per bucket (admin API v2 `AllowBucketKey`,
  // doc/api/garage-admin-v2.json; src/model/key_table.rs): two writers of one bucket could each
  // overwrite or delete the other's backups, which the stack promises cannot happen.
  const writing = req.writers.filter((w) => !READ_ONLY_IDENTITIES.includes(w.name));
  if (writing.length > 1 && !caps.prefixRights) {
    out.push({
      path: ["hub", "flavor"],
      message: `"${req.flavor}" grants rights per key and bucket, not per prefix, so ${writing.map((w) => w.section).join(", ")} writing to one bucket could each overwrite or delete the others' backups; keep one of these sections in this stack and move each other one to a stack of its own with another hub.bucket, or use a server with prefix policies (silo, rustfs, ceph-rgw)`,
    });
  }
  if (manage === "admin") {
    if (!caps.adminApi)
      out.push({
        path: ["hub", "manage"],
        message: `is "admin", but flavor "${req.flavor}" has no admin API the program knows; set manage: none and give the writers' keys in homelab-backup:hubWriterKeys`,
      });
    else if (!caps.adminImplemented) {
      out.push({
        path: ["hub", "manage"],
        message: `is "admin", but this version of the program cannot yet create identities through the ${caps.adminApi} API of "${req.flavor}"; set manage: none and give the writers' keys in homelab-backup:hubWriterKeys`,
      });
    }
    if (caps.adminApi === "garage-admin-v2") {
      // Garage's admin API takes a bearer token on its own port (src/api/admin/api_server.rs at v2.0.0,
      // `verify_authorization`) and has no S3 admin key: every key has rights on named buckets only.
      if (!req.adminEndpoint)
        out.push({
          path: ["hub", "adminEndpoint"],
          message:
            "is required with flavor garage and manage: admin: the URL of Garage's admin API (its admin port, 3903 by default), e.g. http://garage.lan:3903",
        });
      if (!req.secrets.hubAdminToken)
        out.push({
          path: ["secrets", "hubAdminToken"],
          message:
            "is required with flavor garage and manage: admin: an admin API bearer token of the server (its admin_token, or one made with CreateAdminToken): pulumi config set --secret homelab-backup:hubAdminToken",
        });
      if (req.adminAccessKeyId)
        out.push({
          path: ["hub", "adminAccessKeyId"],
          message:
            "does not apply to flavor garage: Garage has no S3 admin key, the program uses its admin API with homelab-backup:hubAdminToken; remove it",
        });
    } else {
      if (!req.adminAccessKeyId)
        out.push({
          path: ["hub", "adminAccessKeyId"],
          message: "is required with manage: admin: the access key id of an admin user of the server",
        });
      if (!req.secrets.hubAdminPassword) {
        out.push({
          path: ["secrets", "hubAdminPassword"],
          message:
            "is required with hub.kind s3 and manage: admin: the admin user's secret key (pulumi config set --secret homelab-backup:hubAdminPassword)",
        });
      }
      if (req.adminEndpoint)
        out.push({
          path: ["hub", "adminEndpoint"],
          message: `applies only to flavor garage (its admin API); "${req.flavor}" is managed with hub.adminAccessKeyId and homelab-backup:hubAdminPassword`,
        });
    }
  } else {
    if (req.adminEndpoint)
      out.push({
        path: ["hub", "adminEndpoint"],
        message: "applies only with manage: admin (with manage: none the program configures nothing on the server)",
      });
    if (req.adminAccessKeyId)
      out.push({
        path: ["hub", "adminAccessKeyId"],
        message: "applies only with manage: admin (with manage: none the program configures nothing on the server)",
      });
    if (req.objectLock) {
      out.push({
        path: ["hub", "objectLock"],
        message:
          "needs manage: admin (the program sets the default retention); with manage: none, lock the bucket yourself and remove hub.objectLock",
      });
    }
    if (req.secrets.hubWriterKeys === undefined) {
      out.push({
        path: ["secrets", "hubWriterKeys"],
        message: `is required with hub.kind s3 and manage: none: a map {writer: {accessKeyId, secretAccessKey}} for ${req.writers.map((w) => w.name).join(", ")} (pulumi config set --secret homelab-backup:hubWriterKeys '{...}')`,
      });
    } else {
      for (const w of req.writers) {
        if (!req.secrets.hubWriterKeys.includes(w.name))
          out.push({
            path: ["secrets", "hubWriterKeys"],
            message: `has no key for writer "${w.name}" (used by ${w.section})`,
          });
      }
    }
  }
  return out;
}

export interface WriterKey {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/**
 * Parses `homelab-backup:hubWriterKeys` (YAML or JSON; JSON is YAML) into writer → key, or throws an
 * error naming the key. Never echoes a value.
 */
export function parseWriterKeys(text: string, parseYaml: (s: string) => unknown): Record<string, WriterKey> {
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch {
    throw new Error("homelab-backup:hubWriterKeys: is not valid YAML or JSON");
  }
  if (!value || typeof value !== "object" || Array.isArray(value))
    throw new Error("homelab-backup:hubWriterKeys: must be a map {writer: {accessKeyId, secretAccessKey}}");
  const out: Record<string, WriterKey> = {};
  for (const [writer, key] of Object.entries(value as Record<string, unknown>)) {
    const k = key as Record<string, unknown> | null;
    if (
      !k ||
      typeof k.accessKeyId !== "string" ||
      !k.accessKeyId ||
      typeof k.secretAccessKey !== "string" ||
      !k.secretAccessKey
    ) {
      throw new Error(
        `homelab-backup:hubWriterKeys.${writer}: must have accessKeyId and secretAccessKey (non-empty strings)`,
      );
    }
    out[writer] = { accessKeyId: k.accessKeyId, secretAccessKey: k.secretAccessKey };
  }
  return out;
}
