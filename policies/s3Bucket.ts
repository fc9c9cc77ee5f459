/** Policy 4 (stack policy): the hub bucket is private, TLS-only, versioned and expires what it should; joins the bucket's configuration resources by bucket name. */
import type { StackValidationPolicy } from "@pulumi/policy";
import { PREFIXES } from "../components/core/schema.js";
import { parseGoDuration } from "../components/core/duration.js";
import { Obj } from "./support.js";
import { isObj } from "./support.js";
import { objs } from "./support.js";
import { oneOrMany } from "./support.js";
import { list } from "./support.js";
import { str } from "./support.js";
import { HELM_TYPES } from "./images.js";

export const S3 = {
  bucket: "aws:s3/bucket:Bucket",
  bucketV2: "aws:s3/bucketV2:BucketV2",
  versioning: ["aws:s3/bucketVersioning:BucketVersioning", "aws:s3/bucketVersioningV2:BucketVersioningV2"],
  encryption: [
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
  ],
  publicAccess: ["aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"],
  policy: ["aws:s3/bucketPolicy:BucketPolicy"],
  objectLock: [
    "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
    "aws:s3/bucketObjectLockConfigurationV2:BucketObjectLockConfigurationV2",
  ],
  lifecycle: [
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2",
  ],
} as const;
export const PUBLIC_ACCESS_FLAGS = [
  "blockPublicAcls",
  "blockPublicPolicy",
  "ignorePublicAcls",
  "restrictPublicBuckets",
] as const;

export function parseJsonDoc(v: unknown): Obj | undefined {
  if (isObj(v)) return v;
  if (typeof v !== "string") return undefined;
  try {
    const doc = JSON.parse(v);
    return isObj(doc) ? doc : undefined;
  } catch {
    return undefined;
  }
}

/** True when a bucket policy has a Deny of every S3 action for requests without TLS. */
export function hasTlsOnlyStatement(policy: unknown): boolean {
  const doc = parseJsonDoc(policy);
  return objs(oneOrMany(doc?.Statement)).some((s) => {
    if (s.Effect !== "Deny") return false;
    const actions = oneOrMany(s.Action).map(String);
    if (!actions.some((a) => a === "*" || a.toLowerCase() === "s3:*")) return false;
    for (const op of ["Bool", "BoolIfExists"]) {
      const cond = s.Condition?.[op];
      if (isObj(cond) && oneOrMany(cond["aws:SecureTransport"]).some((x) => String(x).toLowerCase() === "false"))
        return true;
    }
    return false;
  });
}

/** Longest expiration (days) of the enabled rules of a lifecycle configuration, by prefix. */
export function lifecycleRetentionByPrefix(rules: unknown): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of objs(rules)) {
    if (r.status !== undefined && r.status !== "Enabled") continue;
    const days = r.expiration?.days ?? list(r.expirations)[0]?.days;
    if (typeof days !== "number") continue;
    const prefix = str(r.filter?.prefix) ?? str(r.filter?.and?.prefix) ?? str(r.prefix) ?? "";
    out.set(prefix, Math.max(out.get(prefix) ?? 0, days));
  }
  return out;
}

export function lockDays(rule: unknown): number | undefined {
  const d = isObj(rule)
    ? isObj((rule as Obj).defaultRetention)
      ? (rule as Obj).defaultRetention
      : list((rule as Obj).defaultRetentions)[0]
    : undefined;
  if (!isObj(d)) return undefined;
  if (typeof d.days === "number") return d.days;
  if (typeof d.years === "number") return d.years * 365;
  return undefined;
}

/** The ttl of every Velero schedule of the stack (Schedule resources and Velero chart values). */
export function veleroTtls(resources: readonly { type: string; props: Obj }[]): string[] {
  const out: string[] = [];
  for (const r of resources) {
    if (/^kubernetes:velero\.io\/v1:Schedule$/.test(r.type)) {
      const ttl = str(r.props?.spec?.template?.ttl);
      if (ttl) out.push(ttl);
    } else if (HELM_TYPES.has(r.type) && isObj(r.props?.values?.schedules)) {
      for (const s of Object.values<any>(r.props.values.schedules))
        if (typeof s?.template?.ttl === "string") out.push(s.template.ttl);
    }
  }
  return out;
}

/** Every way the S3 buckets of the stack depart from the protected-bucket shape, with the bucket's resource. */
export function s3BucketProblems(
  resources: readonly { type: string; name: string; props: Obj }[],
): { resource: string; message: string }[] {
  const out: { resource: string; message: string }[] = [];
  const buckets = resources.filter((r) => r.type === S3.bucket || r.type === S3.bucketV2);
  if (buckets.length === 0) return out;
  const of = (types: readonly string[]) => resources.filter((r) => types.includes(r.type));
  for (const b of buckets) {
    const explicit = str(b.props?.bucket);
    const bucketName = explicit ?? b.name;
    // Without an explicit name the provider generates `<logical name>-<suffix>`.
    const sameBucket = (r: { props: Obj }) => {
      const ref = str(r.props?.bucket);
      if (ref === undefined) return false;
      return explicit !== undefined ? ref === explicit : ref === b.name || ref.startsWith(`${b.name}-`);
    };
    const say = (message: string) => out.push({ resource: b.name, message: `bucket ${bucketName}: ${message}` });

    const inlineVersioning = b.props?.versioning?.enabled === true || list(b.props?.versionings)[0]?.enabled === true;
    const versionings = of(S3.versioning).filter(sameBucket);
    if (!inlineVersioning && !versionings.some((v) => v.props?.versioningConfiguration?.status === "Enabled")) {
      say(
        `versioning is not Enabled (a ${S3.versioning[0]} with versioningConfiguration.status "Enabled"); without it an overwrite or delete loses the backup`,
      );
    }

    const algorithms = [
      ...of(S3.encryption)
        .filter(sameBucket)
        .flatMap((e) => objs(e.props?.rules)),
      ...objs(
        b.props?.serverSideEncryptionConfiguration?.rules ??
          oneOrMany(b.props?.serverSideEncryptionConfiguration?.rule),
      ),
    ].map((r) => str(r.applyServerSideEncryptionByDefault?.sseAlgorithm));
    if (!algorithms.some((a) => a === "AES256" || a === "aws:kms" || a === "aws:kms:dsse")) {
      say(
        `default encryption is not configured (a ${S3.encryption[0]} rule with applyServerSideEncryptionByDefault.sseAlgorithm AES256 or aws:kms)`,
      );
    }

    const pab = of(S3.publicAccess).filter(sameBucket);
    const missing = PUBLIC_ACCESS_FLAGS.filter((f) => !pab.some((p) => p.props?.[f] === true));
    if (pab.length === 0)
      say(`public access is not blocked: add a ${S3.publicAccess[0]} with ${PUBLIC_ACCESS_FLAGS.join(", ")} all true`);
    else if (missing.length > 0)
      say(`public access block leaves ${missing.join(", ")} not true; all four must be true`);

    if (
      !of(S3.policy)
        .filter(sameBucket)
        .some((p) => hasTlsOnlyStatement(p.props?.policy))
    ) {
      say('no TLS-only bucket policy: add a Deny of s3:* with Condition Bool aws:SecureTransport "false"');
    }

    const locks = of(S3.objectLock).filter(sameBucket);
    if (locks.length > 0) {
      const retention = new Map<string, number>();
      for (const l of of(S3.lifecycle).filter(sameBucket)) {
        for (const [prefix, days] of lifecycleRetentionByPrefix(l.props?.rules))
          retention.set(prefix, Math.max(retention.get(prefix) ?? 0, days));
      }
      // Velero prunes velero/ itself (no lifecycle expiry there): its longest ttl is that class's retention.
      const veleroDays = Math.ceil(Math.max(0, ...veleroTtls(resources).map((t) => parseGoDuration(t) ?? 0)) / 86_400);
      if (veleroDays > 0)
        retention.set(`${PREFIXES.velero} (Velero ttl)`, Math.max(retention.get(PREFIXES.velero) ?? 0, veleroDays));
      const [longestPrefix, longest] = [...retention.entries()].reduce<[string, number]>(
        (m, e) => (e[1] > m[1] ? e : m),
        ["", 0],
      );
      for (const l of locks) {
        const days = lockDays(l.props?.rule) ?? lockDays(list(l.props?.rules)[0]);
        if (days === undefined) say("Object Lock configuration has no rule.defaultRetention days or years");
        else if (days < longest) {
          say(
            `Object Lock rule.defaultRetention is ${days} days, shorter than the longest retention of a class (${longest} days for prefix "${longestPrefix || "(whole bucket)"}"); backups older than ${days} days would be unprotected`,
          );
        }
      }
    }
  }
  return out;
}

export const s3BucketPolicy: StackValidationPolicy = {
  name: "s3-bucket-protected",
  description:
    "Every S3 bucket: versioning Enabled, default encryption, public access fully blocked, TLS-only bucket policy; with Object Lock, retention at least the longest class retention.",
  enforcementLevel: "mandatory",
  validateStack: (args, report) => {
    const all = args.resources.map((r) => ({ type: r.type, name: r.name, props: r.props, urn: r.urn }));
    if (!all.some((r) => r.type === S3.bucket || r.type === S3.bucketV2)) args.notApplicable("no S3 bucket");
    for (const p of s3BucketProblems(all))
      report(
        p.message,
        all.find((r) => r.name === p.resource && (r.type === S3.bucket || r.type === S3.bucketV2))?.urn,
      );
  },
};
