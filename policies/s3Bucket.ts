/**
 * Policy 4 (stack policies): the hub's bucket holds its guarantees on every hub kind that can enforce
 * them, read from what each kind registers:
 * - aws: the aws:s3 resources, joined by bucket name (versioning, encryption, public access, TLS-only
 *   bucket policy, Object Lock, lifecycle);
 * - pi and s3 with manage admin: the S3HubBucket dynamic resource (components/hub/s3/s3HubResources.ts),
 *   whose `want` the configurator applies, with its `endpoint` and `flavor` (type S3_HUB_BUCKET); a Pi
 *   hub's bucket is configured through the same resource (components/hub/backupHub.ts), and its
 *   `endpointKey` names `hub.tls` as the key that decides the scheme; s3 with manage none: the
 *   conformance Command's input (the program configures nothing on that server).
 * The rules: TLS wherever the hub is reached over the network, unless the stack opts out with
 * `hub.allowPlainHttp: true`; versioning on; an Object Lock that protects recent restore points
 * without outliving the shortest retention on the bucket (0 < lock days <= the shortest class
 * retention), because a lock outlives lifecycle expiry: every expired dump, and every block Longhorn or
 * Velero deletes, would stay on the hub's disk until its lock ends. What a server cannot enforce, or
 * what the stack chose to accept, is the advisory `hub-guarantees-reported`, never a silent pass.
 * Every verdict names the stack key to change.
 */
import type { StackValidationPolicy } from "@pulumi/policy";
import { parseGoDuration } from "../components/core/duration.js";
import { withStackKey } from "../components/core/stackKey.js";
import { FLAVOR_CAPABILITIES, type S3Flavor } from "../components/hub/s3/s3Flavors.js";
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

/** A class's retention on the bucket: lifecycle expiry of a prefix, or a Velero schedule's ttl. */
export interface ClassRetention {
  readonly what: string;
  readonly seconds: number;
}

/** Staging prefixes (`postgres-backups/.partial/`) hold no restore point: their one-day expiry is no class's retention. */
const isStaging = (prefix: string) => /(^|\/)\.partial\/$/.test(prefix);

/** Every class retention of the stack: `[prefix, days]` expiries (staging prefixes left out) and every Velero ttl. */
export function classRetentions(
  expiries: readonly (readonly [string, number])[],
  resources: readonly { type: string; props: Obj }[],
): ClassRetention[] {
  const out: ClassRetention[] = expiries
    .filter(([prefix, days]) => !isStaging(prefix) && days > 0)
    .map(([prefix, days]) => ({ what: `lifecycle expiry of "${prefix || "(whole bucket)"}"`, seconds: days * 86_400 }));
  // Velero prunes velero/ itself (no lifecycle expiry there): each ttl is a retention on the bucket.
  for (const ttl of veleroTtls(resources)) {
    const seconds = parseGoDuration(ttl);
    if (seconds !== undefined && seconds > 0) out.push({ what: `Velero ttl ${ttl}`, seconds });
  }
  return out;
}

const fmtDays = (seconds: number) => {
  const d = seconds / 86_400;
  return `${Number.isInteger(d) ? d : d.toFixed(1)} day${d === 1 ? "" : "s"}`;
};

/** Why a default lock of `days` breaks the lock rule, or undefined when it holds. */
export function lockRuleProblem(days: number | undefined, retentions: readonly ClassRetention[]): string | undefined {
  if (days === undefined || !Number.isFinite(days)) return "Object Lock has no default retention in days or years";
  if (days <= 0)
    return `Object Lock default retention is ${days} days; a lock protects nothing unless it is more than 0 days`;
  if (retentions.length === 0) return undefined;
  const shortest = retentions.reduce((m, r) => (r.seconds < m.seconds ? r : m));
  if (days * 86_400 > shortest.seconds) {
    return `Object Lock default retention is ${days} days, longer than the shortest retention on the bucket (${fmtDays(shortest.seconds)}, ${shortest.what}): a lock outlives lifecycle expiry, so every expired restore point and every block Longhorn or Velero deletes would stay on the hub until its lock ends; set it to at most ${Math.floor(shortest.seconds / 86_400)} days`;
  }
  return undefined;
}

/** One departure from the protected-bucket shape. */
export interface BucketProblem {
  /** Logical name of the resource at fault. */
  readonly resource: string;
  readonly message: string;
  /** The stack-file key to change. */
  readonly key: string;
  /** Advisory: the server cannot enforce it, or the stack accepted it explicitly. */
  readonly advisory?: boolean;
}

const PLAIN_HTTP_RISK =
  "every writer's key and every backup crosses the network readable and alterable by anyone on the path";

/** The AWS hub: every S3 bucket of the stack, joined with its configuration resources by bucket name. */
function awsBucketProblems(resources: readonly { type: string; name: string; props: Obj }[]): BucketProblem[] {
  const out: BucketProblem[] = [];
  const buckets = resources.filter((r) => r.type === S3.bucket || r.type === S3.bucketV2);
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
    const say = (message: string, key = "hub") =>
      out.push({ resource: b.name, key, message: `bucket ${bucketName}: ${message}` });

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
      const expiries: [string, number][] = [];
      for (const l of of(S3.lifecycle).filter(sameBucket)) {
        for (const r of objs(l.props?.rules)) {
          if (r.status !== undefined && r.status !== "Enabled") continue;
          const days = r.expiration?.days ?? list(r.expirations)[0]?.days;
          const prefix = str(r.filter?.prefix) ?? str(r.filter?.and?.prefix) ?? str(r.prefix) ?? "";
          if (typeof days === "number") expiries.push([prefix, days]);
        }
      }
      const retentions = classRetentions(expiries, resources);
      for (const l of locks) {
        const problem = lockRuleProblem(lockDays(l.props?.rule) ?? lockDays(list(l.props?.rules)[0]), retentions);
        if (problem) say(problem, "hub.objectLock.days");
      }
    }
  }
  return out;
}

/** The S3HubBucket: registered as `pulumi-nodejs:dynamic/homelab-backup:S3HubBucket` (a dynamic resource with a module and type name). */
export const S3_HUB_BUCKET = "pulumi-nodejs:dynamic/homelab-backup:S3HubBucket";
// By its type; a Garage bucket's `want` is its name alone (components/hub/s3/s3Settings.ts), so the
// lifecycle rules identify only a registration under the SDK's generic dynamic type.
const isS3HubBucket = (r: { type: string; props: Obj }) =>
  isObj(r.props?.want) &&
  (r.type === S3_HUB_BUCKET ||
    (r.type === "pulumi-nodejs:dynamic:Resource" && Array.isArray(r.props.want.lifecycleRules)));
const isConformance = (r: { type: string; props: Obj }) =>
  r.type === "command:local:Command" && /components\/hub\/s3-hub\.ts check\b/.test(str(r.props?.create) ?? "");

function plainHttpProblem(
  say: (key: string, message: string, advisory?: boolean) => void,
  endpoint: string | undefined,
  allowPlainHttp: boolean,
  key = "hub.endpoint",
): void {
  if (endpoint === undefined || endpoint.startsWith("https://")) return;
  // A Pi hub's endpoint follows from hub.tls (the server is installed with or without a certificate).
  const fix =
    key === "hub.tls" ? "set hub.tls: true (with a certificate on the hub)" : "use the server's https:// endpoint";
  if (allowPlainHttp)
    say(
      key,
      `endpoint ${endpoint} is plain HTTP, as the stack accepts (hub.allowPlainHttp: true): ${PLAIN_HTTP_RISK}`,
      true,
    );
  else
    say(
      key,
      `endpoint ${JSON.stringify(endpoint)} is not https: ${PLAIN_HTTP_RISK}; ${fix}, or set hub.allowPlainHttp: true to accept plain HTTP on a network you trust`,
    );
}

/** The s3 hub: the S3HubBucket's `want` (manage admin), or what the conformance step is told (manage none). */
function s3HubProblems(resources: readonly { type: string; name: string; props: Obj }[]): BucketProblem[] {
  const out: BucketProblem[] = [];
  for (const b of resources.filter(isS3HubBucket)) {
    const want = b.props.want as Obj;
    const bucket = str(want.bucket) ?? "(unnamed)";
    const endpoint = str(b.props.endpoint);
    const flavor = str(b.props.flavor) as S3Flavor | undefined;
    const caps = flavor ? FLAVOR_CAPABILITIES[flavor] : undefined;
    const endpointKey = str(b.props.endpointKey) ?? "hub.endpoint";
    const kind = endpointKey === "hub.tls" ? "pi" : "s3";
    const say = (key: string, message: string, advisory = false) =>
      out.push({
        resource: b.name,
        key,
        message: `${kind} hub bucket ${bucket}: ${message}`,
        ...(advisory ? { advisory } : {}),
      });
    if (endpoint === undefined)
      say("hub.endpoint", "the S3HubBucket names no endpoint, so whether it is reached over TLS cannot be told");
    plainHttpProblem(say, endpoint, b.props.allowPlainHttp === true, endpointKey);
    // A flavor that has no bucket policy or no versioning cannot be asked for one (the stack schema
    // refuses nothing there, s3Settings.ts leaves them out): what it cannot enforce is reported below.
    if (caps && !caps.bucketPolicy) {
      if (endpoint?.startsWith("https://"))
        say(
          "hub.flavor",
          `flavor "${flavor}" has no bucket policies: nothing on the server refuses a request made without TLS`,
          true,
        );
    } else if (endpoint?.startsWith("https://") && !hasTlsOnlyStatement(want.bucketPolicy))
      say(
        "hub",
        'no TLS-only bucket policy: the bucket policy needs a Deny of s3:* with Condition Bool aws:SecureTransport "false"',
      );
    if (want.versioning !== "Enabled" && !(caps && !caps.versioning))
      say(
        "hub",
        `versioning is ${JSON.stringify(want.versioning ?? null)}, not "Enabled"; without it an overwrite or delete loses the backup`,
      );
    if (caps && !caps.versioning)
      say(
        "hub.flavor",
        `flavor "${flavor}" cannot enforce versioning: an overwrite or delete by a leaked key loses the backup`,
        true,
      );
    if (want.objectLock !== undefined) {
      if (caps && !caps.objectLock)
        say("hub.flavor", `flavor "${flavor}" cannot enforce Object Lock: hub.objectLock protects nothing there`, true);
      const expiries: [string, number][] = objs(want.lifecycleRules)
        .filter((r) => r.Status === "Enabled" && typeof r.Expiration?.Days === "number")
        .map((r) => [str(r.Filter?.Prefix) ?? "", r.Expiration.Days as number]);
      const problem = lockRuleProblem(
        isObj(want.objectLock) && typeof want.objectLock.days === "number" ? want.objectLock.days : undefined,
        classRetentions(expiries, resources),
      );
      if (problem) say("hub.objectLock.days", problem);
    }
  }
  if (resources.some(isS3HubBucket)) return out;
  // manage none: nothing configures the bucket; the conformance step's input says where the hub is.
  for (const c of resources.filter(isConformance)) {
    const input = parseJsonDoc(c.props.stdin);
    const endpoint = str(input?.target?.endpoint);
    const bucket = str(input?.settings?.bucket) ?? "(unnamed)";
    const say = (key: string, message: string, advisory = false) =>
      out.push({
        resource: c.name,
        key,
        message: `s3 hub bucket ${bucket}: ${message}`,
        ...(advisory ? { advisory } : {}),
      });
    plainHttpProblem(say, endpoint, input?.allowPlainHttp === true);
    say(
      "hub.manage",
      "with manage: none the program configures nothing on the server: versioning, Object Lock and the lifecycle rules are the server owner's, and the conformance step after pulumi up checks only what the writers' keys can see",
      true,
    );
  }
  return out;
}

/** Every way the hub's bucket departs from the protected shape, on every hub kind, each with the stack key to change. */
export function s3BucketProblems(resources: readonly { type: string; name: string; props: Obj }[]): BucketProblem[] {
  const all = resources.map((r) => ({ ...r, props: isObj(r.props) ? r.props : {} }));
  return [...awsBucketProblems(all), ...s3HubProblems(all)];
}

const hubResources = (rs: readonly { type: string; props: any }[]) =>
  rs.some(
    (r) =>
      r.type === S3.bucket ||
      r.type === S3.bucketV2 ||
      isS3HubBucket({ type: r.type, props: isObj(r.props) ? r.props : {} }) ||
      isConformance({ type: r.type, props: isObj(r.props) ? r.props : {} }),
  );

function reportProblems(
  args: Parameters<StackValidationPolicy["validateStack"]>[0],
  report: Parameters<StackValidationPolicy["validateStack"]>[1],
  advisory: boolean,
): void {
  if (!hubResources(args.resources)) args.notApplicable("no hub bucket");
  for (const p of s3BucketProblems(args.resources))
    if ((p.advisory === true) === advisory)
      report(withStackKey(p.message, p.key), args.resources.find((r) => r.name === p.resource)?.urn);
}

export const s3BucketPolicy: StackValidationPolicy = {
  name: "s3-bucket-protected",
  description:
    "The hub's bucket on every hub kind: versioning Enabled; TLS wherever it is reached over the network (unless hub.allowPlainHttp); on AWS default encryption, public access blocked and a TLS-only bucket policy; with Object Lock, a default retention above 0 days and no longer than the shortest retention on the bucket.",
  enforcementLevel: "mandatory",
  validateStack: (args, report) => reportProblems(args, report, false),
};

export const hubGuaranteesReportedPolicy: StackValidationPolicy = {
  name: "hub-guarantees-reported",
  description:
    "What the hub's server cannot enforce (its flavor lacks versioning or Object Lock, manage: none) and what the stack accepted explicitly (plain HTTP with hub.allowPlainHttp) is said, never silently passed.",
  enforcementLevel: "advisory",
  validateStack: (args, report) => reportProblems(args, report, true),
};
