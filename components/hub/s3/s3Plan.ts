/**
 * The s3 hub's part of plan.md (plan.ts calls these): which server it is and who manages it, what the
 * hub guarantees and what it cannot (from the flavor's capabilities, s3Flavors.ts), how the
 * conformance step proves it after `pulumi up`, and how to rotate a writer's key or bring back a version.
 */
import { PROJECT } from "../../core/schema.js";
import type { HubConfig } from "../../config.js";
import type { HubConnection, WriterName } from "../../core/hubConnection.js";
import { type AdminApi, DEFAULT_S3_FLAVOR, effectiveManage, FLAVOR_CAPABILITIES } from "./s3Flavors.js";
import { s3WriterUserName } from "./s3Settings.js";

type S3Hub = HubConfig;

/** How each admin API is named in the plan: what configures the writers. */
const ADMIN_API_TEXT: Record<AdminApi, string> = {
  madmin: "MinIO's admin API (madmin, `/minio/admin/v3`: users, canned policies attached per user)",
  "rustfs-admin":
    "RustFS's admin API: users and canned policies attached per user, through `/rustfs/admin/v3` with plain JSON over https, and through its `/minio/admin/v3` alias with madmin's body encryption over plain http",
  "garage-admin-v2":
    "Garage's admin API v2 (`/v2/ImportKey`, `/v2/AllowBucketKey`, `/v2/DenyBucketKey`: one key per writer with read/write flags on this bucket only)",
  "rgw-admin-ops": "the RGW admin ops API (`/admin/user`) and IAM user policies (PutUserPolicy)",
};

/** One line: the bucket, the server, and who configures it. */
export function s3HubSummary(hub: S3Hub, conn: HubConnection): string {
  const flavor = hub.flavor ?? DEFAULT_S3_FLAVOR;
  const manage = effectiveManage(flavor, hub.manage);
  return `Bucket \`${hub.bucket}\` on an existing ${flavor} server at \`${conn.endpoint}\` (path-style addressing, region label \`${hub.region}\`). ${
    manage === "admin" && flavor === "garage"
      ? `Managed: \`pulumi up\` creates the bucket by its global alias and one key per writer with its bucket permissions through ${ADMIN_API_TEXT["garage-admin-v2"]}, at \`${hub.adminEndpoint}\` with the bearer token \`homelab-backup:hubAdminToken\`; nothing runs over SSH.`
      : manage === "admin"
        ? `Managed: \`pulumi up\` configures the bucket (versioning, object lock, lifecycle, bucket policy) through the S3 API, and one user per writer with its own policy through ${ADMIN_API_TEXT[FLAVOR_CAPABILITIES[flavor].adminApi!]}, with the admin key \`${hub.adminAccessKeyId}\`; nothing runs over SSH.`
        : "Not managed (manage: none): the program changes nothing on the server; the writers use the keys in `homelab-backup:hubWriterKeys`, and the bucket's settings are yours to keep."
  }`;
}

/** One row per thing the program configures on the server: which API does it, or why nothing does. */
export function s3HubApis(hub: S3Hub): string[][] {
  const flavor = hub.flavor ?? DEFAULT_S3_FLAVOR;
  const caps = FLAVOR_CAPABILITIES[flavor];
  if (effectiveManage(flavor, hub.manage) === "none")
    return [["everything", "nothing: manage: none (the server owner configures the bucket and the keys)"]];
  const identities = ADMIN_API_TEXT[caps.adminApi!];
  if (flavor === "garage")
    return [
      [
        "bucket",
        "Garage admin API v2: `/v2/ListBuckets`, `/v2/CreateBucket` (by global alias), `/v2/GetBucketInfo` on refresh",
      ],
      ["versioning", "refused: Garage has none (its S3 API answers NotImplemented)"],
      ["object lock", "refused: Garage has none (`hub.objectLock` is refused)"],
      ["bucket policy (TLS only)", "refused: Garage has no bucket policies; keep the endpoint on TLS yourself"],
      [
        "lifecycle",
        "not configured by this version: Garage's S3 API takes Expiration and AbortIncompleteMultipartUpload, but only with a key that may write the bucket, which the program does not make; incomplete multipart uploads stay until removed by hand",
      ],
      [
        "writer keys",
        "Garage admin API v2: `/v2/ListKeys`, `/v2/ImportKey`, `/v2/GetKeyInfo` on refresh, `/v2/DeleteKey` for a replaced key",
      ],
      [
        "writer rights",
        "Garage admin API v2: `/v2/AllowBucketKey`, `/v2/DenyBucketKey` (read for readers, read and write for the one writing section, never owner)",
      ],
      ["append-only writers", "refused: Garage's write permission includes DeleteObject"],
      ["rights per prefix", "refused: Garage grants per key and bucket, so one writing section per bucket"],
    ];
  return [
    ["bucket", "S3 API: CreateBucket"],
    ["versioning", "S3 API: PutBucketVersioning"],
    ["object lock", hub.objectLock ? "S3 API: PutObjectLockConfiguration" : "not asked (hub.objectLock)"],
    ["lifecycle", "S3 API: PutBucketLifecycleConfiguration"],
    ["bucket policy (TLS only)", "S3 API: PutBucketPolicy (https endpoints)"],
    ["writer identities and rights", identities],
  ];
}

/** What the hub guarantees, what it cannot, and how that is proven. */
export function s3HubGuarantees(hub: S3Hub): string[] {
  const flavor = hub.flavor ?? DEFAULT_S3_FLAVOR;
  const caps = FLAVOR_CAPABILITIES[flavor];
  const manage = effectiveManage(flavor, hub.manage);
  const can: string[] = [];
  const cannot: string[] = [];
  (caps.versioning ? can : cannot).push(
    "versioning (a deleted or overwritten backup stays recoverable for its noncurrent period)",
  );
  (caps.objectLock ? can : cannot).push("object lock");
  (caps.appendOnlyWriters ? can : cannot).push("append-only writers (put without delete)");
  (caps.prefixRights ? can : cannot).push(
    "rights per prefix (no writer reaches another's prefix; without them one writing section per bucket)",
  );
  if (!caps.lifecycle.noncurrentExpiration) cannot.push("expiry of noncurrent versions");
  const garageAdmin = flavor === "garage" && manage === "admin";
  const apis = s3HubApis(hub);
  const out = [
    "",
    `Guarantees: ${can.length ? can.join("; ") : "none known for this flavor"}.${cannot.length ? ` Cannot: ${cannot.join("; ")}; a stack that asks for one of these is refused.` : ""}`,
    // The audit and drills keys put their status records under status/ only where rights are per
    // prefix (components/hub/iam.ts); a bucket-wide write would reach every backup.
    ...(caps.prefixRights
      ? []
      : [
          "",
          "Give the audit and drills keys read rights only: a write right here covers the whole bucket. They then cannot leave the status records (`status/audit/pvcs.json`, `status/drills/`), each logs that, and `npm run status` shows the PVC inventory and the drills as not recorded.",
        ]),
    "",
    `Who configures what on this ${flavor} server:`,
    "",
    "| what | API |",
    "| --- | --- |",
    ...apis.map(([what, how]) => `| ${what} | ${how.replace(/\|/g, "\\|")} |`),
    "",
    `After every \`pulumi up\` that changes the hub, the conformance step (\`node --import tsx components/hub/s3-hub.ts check\`) proves against the server, with each writer's own key, that ${
      manage === "admin" && !garageAdmin
        ? "versioning is on, the lifecycle rules read back as written, " +
          (hub.objectLock ? "a locked version cannot be deleted, " : "")
        : ""
    }${garageAdmin ? "(Garage has no S3 admin key, so the bucket's settings are not read there) " : ""}each writer can put under its own prefix and nowhere else, append-only writers cannot delete, the off-site reader cannot write, ${
      manage === "admin" && caps.prefixRights
        ? "the audit and the drills can put their status records (a probe object `.homelab-backup-conformance` under `status/audit/` and `status/drills/`) and nothing else, "
        : ""
    }and an upload as Velero sends it succeeds; \`pulumi up\` fails if any of these does not hold.${
      manage === "none"
        ? " With manage: none it has no admin key, so versioning, object lock and lifecycle are not checked: keep them on the server yourself."
        : ""
    }`,
  ];
  if (manage === "admin")
    out.push(
      "",
      garageAdmin
        ? "`pulumi refresh` reads the bucket (by its alias) and each writer's key and bucket permissions back through the admin API; a permission removed or added there, a right on another bucket or a deleted key shows as an update in the next preview, which puts the stack's rights back."
        : "`pulumi refresh` reads the bucket's settings and each writer's policy back from the server; a change made there shows as an update in the next preview, which puts the stack's settings back.",
    );
  return out;
}

/** The S3 user name column of the writer table. */
export function s3WriterIdentity(hub: S3Hub, writer: WriterName): string {
  const flavor = hub.flavor ?? DEFAULT_S3_FLAVOR;
  return effectiveManage(flavor, hub.manage) === "admin"
    ? `\`${s3WriterUserName(hub.bucket, writer)}\``
    : `\`hubWriterKeys.${writer}\``;
}

/** Restore and rotation commands of an s3 hub. */
export function s3HubRestore(
  hub: S3Hub,
  conn: HubConnection,
  componentName: string,
  shellUrn: (urn: string) => string,
): string[] {
  const flavor = hub.flavor ?? DEFAULT_S3_FLAVOR;
  const manage = effectiveManage(flavor, hub.manage);
  const s3 = `urn:pulumi:STACK-NAME-MARK::${PROJECT}::${PROJECT}:index:BackupHub$${PROJECT}:index:S3Hub`;
  const rotate =
    manage === "admin"
      ? [
          "**Rotate a writer's key** (here `postgres`). Pulumi generates a new key, sets it on the server (the old key is removed) and rewrites every Kubernetes Secret that carries it:",
          "",
          "```sh",
          "STACK=$(pulumi stack --show-name)",
          `pulumi up --replace ${shellUrn(`${s3}$random:index/randomString:RandomString::${componentName}-s3-postgres-access-key`)} --replace ${shellUrn(`${s3}$random:index/randomPassword:RandomPassword::${componentName}-s3-postgres-secret-key`)}`,
          "```",
        ]
      : [
          "**Rotate a writer's key** (here `postgres`): create the new key on the server, put it in `homelab-backup:hubWriterKeys`, run `pulumi up` (it rewrites every Kubernetes Secret that carries it and runs the conformance step with it), then remove the old key from the server.",
        ];
  if (!FLAVOR_CAPABILITIES[flavor].versioning)
    return [
      ...rotate,
      "",
      `**Bring back a deleted or overwritten backup**: ${flavor} keeps no versions, so it is gone from the hub; restore it from the off-site copy, if the stack has one.`,
    ];
  return [
    ...rotate,
    "",
    "**Bring back a version that was deleted or overwritten** (within its noncurrent period), with an admin key of the server:",
    "",
    "```sh",
    `aws --endpoint-url ${conn.endpoint} s3api list-object-versions --bucket ${hub.bucket} --prefix postgres-backups/<name>/`,
    `aws --endpoint-url ${conn.endpoint} s3api copy-object --bucket ${hub.bucket} --key <key> --copy-source "${hub.bucket}/<key>?versionId=<version-id>"`,
    "```",
  ];
}
