/**
 * The policies of the homelab-backup pack, and an offline evaluator that runs them over recorded
 * resource inputs (`npm run render` writes its verdicts to policy.json).
 *
 * Every policy reads plain props and matches type tokens as strings, so it runs the same under the
 * Pulumi analyzer (`pulumi preview --policy-pack policies`) and under `evaluatePolicies`, which feeds
 * it the unwrapped inputs the mock runtime recorded. Nothing here builds the PolicyPack: constructing
 * one starts a gRPC server, so `index.ts` alone does that.
 */
import type {
  EnforcementLevel,
  Policies,
  PolicyResource,
  ReportViolation,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";
import { imageError, PREFIXES } from "../components/config.js";
import { cronGaps, cronError, formatSeconds } from "../components/core/cron.js";
import { parseGoDuration } from "../components/core/duration.js";
import { metrics, names } from "../components/core/names.js";

// ---------------------------------------------------------------------------------------------
// Plain-data helpers (props are untyped JSON: every access must survive any shape)
// ---------------------------------------------------------------------------------------------

type Obj = Record<string, any>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === "object" && !Array.isArray(v);
const list = (v: unknown): any[] => (Array.isArray(v) ? v : []);
const objs = (v: unknown): Obj[] => list(v).filter(isObj);
const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
const oneOrMany = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined || v === null ? [] : [v]);
const isPositive = (v: unknown): boolean => typeof v === "number" && Number.isFinite(v) && v > 0;

/** Resource validation args as the offline evaluator builds them: which top-level inputs were Pulumi secrets. */
export interface HomelabValidationArgs extends ResourceValidationArgs {
  /** Top-level input keys whose value was a Pulumi secret (secretness hoists to the top-level key). */
  readonly secretPaths?: readonly string[];
}

/**
 * Top-level inputs known to be secret: those the recording saw as secret, plus the resource's
 * `additionalSecretOutputs` (under the real analyzer values arrive unwrapped, and the Kubernetes SDK
 * marks a Secret's `data`/`stringData` that way).
 */
function secretKeysOf(args: ResourceValidationArgs): Set<string> {
  return new Set([...((args as HomelabValidationArgs).secretPaths ?? []), ...(args.opts?.additionalSecretOutputs ?? [])]);
}

/** `Kind namespace/name` of a Kubernetes object for messages, falling back to the logical name. */
function k8sLabel(type: string, props: Obj, fallback: string): string {
  const kind = str(props?.kind) ?? type.split(":").pop() ?? type;
  const md = isObj(props?.metadata) ? props.metadata : {};
  const name = str(md.name) ?? fallback;
  return `${kind} ${md.namespace ? `${md.namespace}/` : ""}${name}`;
}

// ---------------------------------------------------------------------------------------------
// Pod specs of Kubernetes workloads
// ---------------------------------------------------------------------------------------------

const TEMPLATE_POD = (p: Obj) => p?.spec?.template?.spec;
const POD_SPEC_OF: Record<string, (p: Obj) => unknown> = {
  "kubernetes:batch/v1:CronJob": (p) => p?.spec?.jobTemplate?.spec?.template?.spec,
  "kubernetes:batch/v1:Job": TEMPLATE_POD,
  "kubernetes:apps/v1:Deployment": TEMPLATE_POD,
  "kubernetes:apps/v1:DaemonSet": TEMPLATE_POD,
  "kubernetes:apps/v1:StatefulSet": TEMPLATE_POD,
  "kubernetes:apps/v1:ReplicaSet": TEMPLATE_POD,
  "kubernetes:core/v1:ReplicationController": TEMPLATE_POD,
  "kubernetes:core/v1:Pod": (p) => p?.spec,
};

/** The pod spec of a workload (patch variants included), or undefined for anything else. */
function podSpecOf(type: string, props: Obj): { spec: Obj; patch: boolean } | undefined {
  const patch = type.endsWith("Patch");
  const get = POD_SPEC_OF[patch ? type.slice(0, -"Patch".length) : type];
  if (!get) return undefined;
  const spec = get(props);
  return isObj(spec) ? { spec, patch } : { spec: {}, patch };
}

interface NamedContainer {
  readonly where: string;
  readonly c: Obj;
}

function containersOf(spec: Obj): NamedContainer[] {
  const out: NamedContainer[] = [];
  for (const field of ["initContainers", "containers", "ephemeralContainers"]) {
    objs(spec[field]).forEach((c, i) => out.push({ where: `${field}[${i}] (${str(c.name) ?? "unnamed"})`, c }));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// 1. Longhorn: retain must exceed full-backup-interval
// ---------------------------------------------------------------------------------------------

const LONGHORN_RECURRING_JOB = /^kubernetes:longhorn\.io\/v1beta[12]:RecurringJob(Patch)?$/;

export const longhornRetainPolicy: ResourceValidationPolicy = {
  name: "longhorn-retain-exceeds-full-backup-interval",
  description: "A Longhorn RecurringJob with parameters.full-backup-interval keeps more backups than the interval, so the oldest kept chain still has its full backup.",
  enforcementLevel: "mandatory",
  validateResource: (args, report) => {
    if (!LONGHORN_RECURRING_JOB.test(args.type)) args.notApplicable("not a Longhorn RecurringJob");
    const spec = isObj(args.props?.spec) ? args.props.spec : {};
    const raw = isObj(spec.parameters) ? spec.parameters["full-backup-interval"] : undefined;
    if (raw === undefined || raw === null) return;
    const label = k8sLabel(args.type, args.props, args.name);
    if (!/^\d+$/.test(String(raw).trim())) {
      report(`${label}: spec.parameters.full-backup-interval is ${JSON.stringify(raw)}; Longhorn expects a non-negative integer as a string`);
      return;
    }
    const interval = Number(String(raw).trim());
    const retain = spec.retain;
    if (typeof retain !== "number") {
      report(`${label}: spec.retain is not set; with spec.parameters.full-backup-interval ${interval} it must be an integer greater than ${interval}`);
    } else if (retain <= interval) {
      report(
        `${label}: spec.retain (${retain}) must be greater than spec.parameters.full-backup-interval (${interval}): otherwise the oldest kept chain loses its full backup and its incremental backups cannot be restored`,
      );
    }
  },
};

// ---------------------------------------------------------------------------------------------
// 2. Backup CronJobs: the hardened shape
// ---------------------------------------------------------------------------------------------

const UTC_ZONES = new Set(["Etc/UTC", "UTC", "Etc/UCT", "Etc/Universal", "Etc/Zulu", "Etc/GMT", "GMT"]);
/** The only capability a root container may keep: the etcd job reads root-owned snapshot files. */
const ETCD_ROOT_CAPABILITY = "DAC_READ_SEARCH";
const normCap = (c: unknown) => String(c).toUpperCase().replace(/^CAP_/, "");

/** Every way a CronJob departs from the mandatory backup CronJob shape (lib/cronJob.ts). */
export function cronJobProblems(props: Obj): string[] {
  const out: string[] = [];
  const spec = isObj(props?.spec) ? props.spec : {};
  const jobName = str(props?.metadata?.name);
  const isEtcd = jobName === names.etcdCronJob;

  const tz = spec.timeZone;
  if (typeof tz !== "string" || tz === "") out.push("spec.timeZone is not set; set Etc/UTC so the schedule means the same on every cluster");
  else if (!UTC_ZONES.has(tz)) out.push(`spec.timeZone is "${tz}"; every schedule of the stack is UTC, set Etc/UTC`);
  if (spec.concurrencyPolicy !== "Forbid") out.push(`spec.concurrencyPolicy is ${JSON.stringify(spec.concurrencyPolicy ?? null)}; must be "Forbid" so two runs never write the same backup`);
  if (!isPositive(spec.startingDeadlineSeconds)) out.push("spec.startingDeadlineSeconds is not set (a positive number of seconds); without it a controller outage can skip runs silently");
  const jobSpec = spec.jobTemplate?.spec;
  if (!isPositive(jobSpec?.activeDeadlineSeconds)) out.push("spec.jobTemplate.spec.activeDeadlineSeconds is not set (a positive number of seconds); a hung run would block every later run");

  const pod = isObj(jobSpec?.template?.spec) ? jobSpec.template.spec : {};
  const podSc = isObj(pod.securityContext) ? pod.securityContext : {};
  const containers = containersOf(pod);
  if (objs(pod.containers).length === 0) out.push("spec.jobTemplate.spec.template.spec.containers is empty");

  for (const { where, c } of containers) {
    const at = `container ${where}`;
    const limits = isObj(c.resources?.limits) ? c.resources.limits : {};
    for (const r of ["cpu", "memory"]) if (limits[r] === undefined || limits[r] === null || limits[r] === "") out.push(`${at}: resources.limits.${r} is not set`);

    const sc = isObj(c.securityContext) ? c.securityContext : {};
    if (sc.privileged === true) out.push(`${at}: securityContext.privileged is true`);
    if (sc.allowPrivilegeEscalation !== false) out.push(`${at}: securityContext.allowPrivilegeEscalation must be false`);
    if (sc.readOnlyRootFilesystem !== true) out.push(`${at}: securityContext.readOnlyRootFilesystem must be true`);
    const drop = list(sc.capabilities?.drop).map(normCap);
    const add = list(sc.capabilities?.add).map(normCap);
    if (!drop.includes("ALL")) out.push(`${at}: securityContext.capabilities.drop must include ALL`);

    const nonRoot = sc.runAsNonRoot ?? podSc.runAsNonRoot;
    const uid = sc.runAsUser ?? podSc.runAsUser;
    if (nonRoot === true && uid === 0) {
      out.push(`${at}: runAsNonRoot is true but runAsUser is 0; the kubelet refuses to start such a container`);
    } else if (nonRoot !== true || uid === 0) {
      if (!isEtcd) {
        out.push(
          `${at}: ${uid === 0 ? "runs as root (runAsUser 0)" : "securityContext.runAsNonRoot is not true (pod or container), so it may run as root"}; set runAsNonRoot: true and a non-zero runAsUser (only the ${names.etcdCronJob} job may run as uid 0)`,
        );
      } else {
        const extra = add.filter((a) => a !== ETCD_ROOT_CAPABILITY);
        if (extra.length > 0) out.push(`${at}: runs as uid 0, so securityContext.capabilities.add may hold only ${ETCD_ROOT_CAPABILITY}, not ${extra.join(", ")}`);
      }
      continue;
    }
    if (add.length > 0) out.push(`${at}: securityContext.capabilities.add (${add.join(", ")}) must be empty`);
  }

  for (const v of objs(pod.volumes)) {
    if (!isObj(v.hostPath)) continue;
    for (const { where, c } of containers) {
      for (const m of objs(c.volumeMounts)) {
        if (m.name === v.name && m.readOnly !== true) out.push(`container ${where}: volumeMounts "${m.name}" mounts hostPath ${str(v.hostPath.path) ?? ""} without readOnly: true`);
      }
    }
  }
  return out;
}

export const backupCronJobPolicy: ResourceValidationPolicy = {
  name: "backup-cronjob-hardened",
  description: "Every backup CronJob: UTC timeZone, Forbid concurrency, deadlines, resource limits, non-root (etcd job: uid 0 with only DAC_READ_SEARCH), no privilege escalation, read-only root filesystem, read-only hostPath mounts.",
  enforcementLevel: "mandatory",
  validateResource: (args, report) => {
    if (args.type !== "kubernetes:batch/v1:CronJob") args.notApplicable("not a CronJob");
    const label = k8sLabel(args.type, args.props, args.name);
    for (const p of cronJobProblems(args.props)) report(`${label}: ${p}`);
  },
};

// ---------------------------------------------------------------------------------------------
// 3. Pinned images
// ---------------------------------------------------------------------------------------------

const HELM_TYPES = new Set(["kubernetes:helm.sh/v3:Release", "kubernetes:helm.sh/v3:Chart", "kubernetes:helm.sh/v4:Chart"]);

/** Unpinned images in Helm values: `image: "repo:tag"` strings and `image: {repository, tag, digest}` maps. */
export function helmValueImageProblems(values: unknown, path = "values"): string[] {
  const out: string[] = [];
  const walk = (v: unknown, at: string, depth: number) => {
    if (depth > 40) return;
    if (Array.isArray(v)) return v.forEach((x, i) => walk(x, `${at}[${i}]`, depth + 1));
    if (!isObj(v)) return;
    for (const [k, x] of Object.entries(v)) {
      const here = `${at}.${k}`;
      if (k === "image" && typeof x === "string") {
        const err = imageError(x);
        if (err) out.push(`${here}: ${err}`);
      } else if (k === "image" && isObj(x) && typeof x.repository === "string") {
        const tag = x.tag === undefined || x.tag === null ? "" : String(x.tag);
        const digest = str(x.digest) ?? "";
        if (digest !== "") continue;
        if (tag === "latest") out.push(`${here}.tag is "latest"; pin a version or a digest`);
        else if (tag === "" && x.repository.slice(x.repository.lastIndexOf("/") + 1).includes(":")) {
          const err = imageError(x.repository);
          if (err) out.push(`${here}.repository: ${err}`);
        }
        // An empty tag means the chart's appVersion, which the pinned chart version fixes.
      } else walk(x, here, depth + 1);
    }
  };
  walk(values, path, 0);
  return out;
}

export const pinnedImagesPolicy: ResourceValidationPolicy = {
  name: "images-pinned",
  description: "Every container image (workloads and Helm values) has an explicit tag other than latest, or a digest; every Helm release pins its chart version.",
  enforcementLevel: "mandatory",
  validateResource: (args, report) => {
    const props = isObj(args.props) ? args.props : {};
    const pod = podSpecOf(args.type, props);
    if (pod) {
      const label = k8sLabel(args.type, props, args.name);
      for (const { where, c } of containersOf(pod.spec)) {
        if (c.image === undefined && pod.patch) continue;
        const err = imageError(typeof c.image === "string" ? c.image : "");
        if (err) report(`${label}: container ${where} image ${err}`);
      }
      return;
    }
    if (HELM_TYPES.has(args.type)) {
      const chart = str(props.chart) ?? "";
      const local = chart.startsWith(".") || chart.startsWith("/") || chart.endsWith(".tgz");
      if (!local && (typeof props.version !== "string" || props.version === "" || props.version === "latest")) {
        report(`Helm release ${str(props.name) ?? args.name}: version (chart version) is not pinned; set the exact chart version`);
      }
      for (const p of helmValueImageProblems(props.values)) report(`Helm release ${str(props.name) ?? args.name}: ${p}`);
      return;
    }
    args.notApplicable("no container images");
  },
};

// ---------------------------------------------------------------------------------------------
// 4. S3 buckets (stack policy: joins the bucket's configuration resources by bucket name)
// ---------------------------------------------------------------------------------------------

const S3 = {
  bucket: "aws:s3/bucket:Bucket",
  bucketV2: "aws:s3/bucketV2:BucketV2",
  versioning: ["aws:s3/bucketVersioning:BucketVersioning", "aws:s3/bucketVersioningV2:BucketVersioningV2"],
  encryption: ["aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2"],
  publicAccess: ["aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"],
  policy: ["aws:s3/bucketPolicy:BucketPolicy"],
  objectLock: ["aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration", "aws:s3/bucketObjectLockConfigurationV2:BucketObjectLockConfigurationV2"],
  lifecycle: ["aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2"],
} as const;
const PUBLIC_ACCESS_FLAGS = ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"] as const;

function parseJsonDoc(v: unknown): Obj | undefined {
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
      if (isObj(cond) && oneOrMany(cond["aws:SecureTransport"]).some((x) => String(x).toLowerCase() === "false")) return true;
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

function lockDays(rule: unknown): number | undefined {
  const d = isObj(rule) ? (isObj((rule as Obj).defaultRetention) ? (rule as Obj).defaultRetention : list((rule as Obj).defaultRetentions)[0]) : undefined;
  if (!isObj(d)) return undefined;
  if (typeof d.days === "number") return d.days;
  if (typeof d.years === "number") return d.years * 365;
  return undefined;
}

/** The ttl of every Velero schedule of the stack (Schedule resources and Velero chart values). */
function veleroTtls(resources: readonly { type: string; props: Obj }[]): string[] {
  const out: string[] = [];
  for (const r of resources) {
    if (/^kubernetes:velero\.io\/v1:Schedule$/.test(r.type)) {
      const ttl = str(r.props?.spec?.template?.ttl);
      if (ttl) out.push(ttl);
    } else if (HELM_TYPES.has(r.type) && isObj(r.props?.values?.schedules)) {
      for (const s of Object.values<any>(r.props.values.schedules)) if (typeof s?.template?.ttl === "string") out.push(s.template.ttl);
    }
  }
  return out;
}

/** Every way the S3 buckets of the stack depart from the protected-bucket shape, with the bucket's resource. */
export function s3BucketProblems(resources: readonly { type: string; name: string; props: Obj }[]): { resource: string; message: string }[] {
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
      say(`versioning is not Enabled (a ${S3.versioning[0]} with versioningConfiguration.status "Enabled"); without it an overwrite or delete loses the backup`);
    }

    const algorithms = [
      ...of(S3.encryption)
        .filter(sameBucket)
        .flatMap((e) => objs(e.props?.rules)),
      ...objs(b.props?.serverSideEncryptionConfiguration?.rules ?? oneOrMany(b.props?.serverSideEncryptionConfiguration?.rule)),
    ].map((r) => str(r.applyServerSideEncryptionByDefault?.sseAlgorithm));
    if (!algorithms.some((a) => a === "AES256" || a === "aws:kms" || a === "aws:kms:dsse")) {
      say(`default encryption is not configured (a ${S3.encryption[0]} rule with applyServerSideEncryptionByDefault.sseAlgorithm AES256 or aws:kms)`);
    }

    const pab = of(S3.publicAccess).filter(sameBucket);
    const missing = PUBLIC_ACCESS_FLAGS.filter((f) => !pab.some((p) => p.props?.[f] === true));
    if (pab.length === 0) say(`public access is not blocked: add a ${S3.publicAccess[0]} with ${PUBLIC_ACCESS_FLAGS.join(", ")} all true`);
    else if (missing.length > 0) say(`public access block leaves ${missing.join(", ")} not true; all four must be true`);

    if (!of(S3.policy).filter(sameBucket).some((p) => hasTlsOnlyStatement(p.props?.policy))) {
      say('no TLS-only bucket policy: add a Deny of s3:* with Condition Bool aws:SecureTransport "false"');
    }

    const locks = of(S3.objectLock).filter(sameBucket);
    if (locks.length > 0) {
      const retention = new Map<string, number>();
      for (const l of of(S3.lifecycle).filter(sameBucket)) {
        for (const [prefix, days] of lifecycleRetentionByPrefix(l.props?.rules)) retention.set(prefix, Math.max(retention.get(prefix) ?? 0, days));
      }
      // Velero prunes velero/ itself (no lifecycle expiry there): its longest ttl is that class's retention.
      const veleroDays = Math.ceil(Math.max(0, ...veleroTtls(resources).map((t) => parseGoDuration(t) ?? 0)) / 86_400);
      if (veleroDays > 0) retention.set(`${PREFIXES.velero} (Velero ttl)`, Math.max(retention.get(PREFIXES.velero) ?? 0, veleroDays));
      const [longestPrefix, longest] = [...retention.entries()].reduce<[string, number]>((m, e) => (e[1] > m[1] ? e : m), ["", 0]);
      for (const l of locks) {
        const days = lockDays(l.props?.rule) ?? lockDays(list(l.props?.rules)[0]);
        if (days === undefined) say("Object Lock configuration has no rule.defaultRetention days or years");
        else if (days < longest) {
          say(`Object Lock rule.defaultRetention is ${days} days, shorter than the longest retention of a class (${longest} days for prefix "${longestPrefix || "(whole bucket)"}"); backups older than ${days} days would be unprotected`);
        }
      }
    }
  }
  return out;
}

export const s3BucketPolicy: StackValidationPolicy = {
  name: "s3-bucket-protected",
  description: "Every S3 bucket: versioning Enabled, default encryption, public access fully blocked, TLS-only bucket policy; with Object Lock, retention at least the longest class retention.",
  enforcementLevel: "mandatory",
  validateStack: (args, report) => {
    const all = args.resources.map((r) => ({ type: r.type, name: r.name, props: r.props, urn: r.urn }));
    if (!all.some((r) => r.type === S3.bucket || r.type === S3.bucketV2)) args.notApplicable("no S3 bucket");
    for (const p of s3BucketProblems(all)) report(p.message, all.find((r) => r.name === p.resource && (r.type === S3.bucket || r.type === S3.bucketV2))?.urn);
  },
};

// ---------------------------------------------------------------------------------------------
// 5. IAM: least privilege, append-only writers
// ---------------------------------------------------------------------------------------------

const IAM_POLICY_TYPES = new Set(["aws:iam/userPolicy:UserPolicy", "aws:iam/policy:Policy", "aws:iam/rolePolicy:RolePolicy", "aws:iam/groupPolicy:GroupPolicy"]);
/** Prefixes of append-only classes: their writers never delete (retention is the bucket lifecycle's job). */
export const APPEND_ONLY_PREFIXES: readonly string[] = [PREFIXES.postgres, PREFIXES.etcd];
const DELETE_ACTIONS = ["s3:DeleteObject", "s3:DeleteObjectVersion"];

function globRegExp(pattern: string, flags = ""): RegExp {
  return new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`, flags);
}

/** True when a Resource pattern can match an object under `prefix` (of whatever bucket it names). */
export function resourceCoversPrefix(resource: string, prefix: string): boolean {
  if (resource === "*") return true;
  const m = /^arn:aws:s3:::([^/]*)/.exec(resource);
  if (!m) return false;
  const bucket = m[1].replace(/[*?]/g, "x") || "x";
  return globRegExp(resource).test(`arn:aws:s3:::${bucket}/${prefix}probe`);
}

/** Every least-privilege problem of an IAM (or MinIO, same language) policy document. */
export function iamDocumentProblems(policy: unknown): string[] {
  const doc = parseJsonDoc(policy);
  if (!doc) return [`policy is not a JSON policy document`];
  const out: string[] = [];
  objs(oneOrMany(doc.Statement)).forEach((s, i) => {
    if (s.Effect !== "Allow") return;
    const at = `Statement[${i}]${s.Sid ? ` (${s.Sid})` : ""}`;
    const actions = oneOrMany(s.Action).map(String);
    const resources = oneOrMany(s.Resource).map(String);
    if (s.NotAction !== undefined) out.push(`${at}: Allow with NotAction grants every other action`);
    if (s.NotResource !== undefined) out.push(`${at}: Allow with NotResource grants every other resource`);
    for (const a of actions) if (a === "*" || /^[^:]+:\*$/.test(a)) out.push(`${at}: Action "${a}" allows every action; list the actions needed`);
    for (const r of resources) if (r === "*") out.push(`${at}: Resource "*"; name the bucket or prefix`);
    const deletes = DELETE_ACTIONS.filter((d) => actions.some((a) => globRegExp(a, "i").test(d)));
    if (deletes.length > 0) {
      for (const prefix of APPEND_ONLY_PREFIXES) {
        const covering = resources.filter((r) => resourceCoversPrefix(r, prefix));
        if (covering.length > 0) out.push(`${at}: allows ${deletes.join(", ")} on ${covering.join(", ")}, which covers the append-only prefix ${prefix}; its writer must not delete (the lifecycle rule expires old objects)`);
      }
    }
  });
  return out;
}

/** Policy documents in a text: the text itself, or base64 fields of it that decode to one. */
function policyDocumentsIn(text: string | undefined): Obj[] {
  if (text === undefined) return [];
  const whole = parseJsonDoc(text);
  if (whole) return whole.Statement !== undefined ? [whole] : [];
  const out: Obj[] = [];
  for (const token of text.split(/\s+/)) {
    if (token.length < 24 || !/^[A-Za-z0-9+/]+={0,2}$/.test(token)) continue;
    const doc = parseJsonDoc(Buffer.from(token, "base64").toString("utf8"));
    if (doc?.Statement !== undefined) out.push(doc);
  }
  return out;
}

/** The text of a CopyToRemote source when it is a plain string asset (a recorded asset may hold a promise). */
function remoteSourceText(props: Obj): string | undefined {
  const source = props?.source;
  return isObj(source) ? str(source.text) : undefined;
}

export const iamLeastPrivilegePolicy: ResourceValidationPolicy = {
  name: "iam-least-privilege",
  description: "IAM and MinIO policies: no '*' or 'service:*' action, no '*' resource, no NotAction/NotResource grants, and no object deletion under the append-only prefixes postgres-backups/ and etcd-snapshots/.",
  enforcementLevel: "mandatory",
  validateResource: (args, report) => {
    const props = isObj(args.props) ? args.props : {};
    if (IAM_POLICY_TYPES.has(args.type)) {
      const who = str(props.name) ?? args.name;
      for (const p of iamDocumentProblems(props.policy)) report(`${args.type.split(":").pop()} ${who}: policy ${p}`);
      return;
    }
    // MinIO policies are IAM documents too; the hub ships them as files or pipes them to its setup
    // script on stdin, whole or as base64 fields of a line protocol.
    const texts: [string, string | undefined][] =
      args.type === "command:remote:CopyToRemote" ? [["source", remoteSourceText(props)]] : args.type === "command:remote:Command" ? [["stdin", str(props.stdin)]] : [];
    const docs = texts.flatMap(([field, t]) => policyDocumentsIn(t).map((d) => [field, d] as const));
    if (docs.length === 0) args.notApplicable("no policy document");
    for (const [field, d] of docs) for (const p of iamDocumentProblems(d)) report(`${args.name}: ${field} policy document ${p}`);
  },
};

// ---------------------------------------------------------------------------------------------
// 6. Velero Schedules: a ttl that outlives the gap between runs
// ---------------------------------------------------------------------------------------------

const VELERO_SCHEDULE = /^kubernetes:velero\.io\/v1:Schedule$/;
const CRON_DESCRIPTORS: Record<string, string> = {
  "@yearly": "0 0 1 1 *",
  "@annually": "0 0 1 1 *",
  "@monthly": "0 0 1 * *",
  "@weekly": "0 0 * * 0",
  "@daily": "0 0 * * *",
  "@midnight": "0 0 * * *",
  "@hourly": "0 * * * *",
};

/**
 * An upper bound of the gap between runs read off the day fields alone (no month restriction: a run
 * at least every 62 days; a weekday list: every 7 days; every day: every 24 hours), or Infinity.
 * Sampling eight years of runs costs ~0.4 s per expression, and most ttls clear this bound at once.
 */
function cronGapUpperBound(cron: string): number {
  const [, , dom, month, dow] = cron.trim().split(/\s+/);
  const any = (f: string) => f === "*" || f === "?";
  if (!any(month)) return Infinity;
  if (!any(dom)) return 62 * 86_400;
  return any(dow) ? 86_400 : 7 * 86_400;
}

/**
 * Longest gap between runs of a Velero schedule (robfig/cron: 5 fields, descriptors, `@every`,
 * `CRON_TZ=`), or why it cannot be read. With `atMost`, any bound below it is good enough.
 */
export function veleroScheduleMaxGap(schedule: string, atMost?: number): number | string {
  const expr = schedule.trim().replace(/^(CRON_TZ|TZ)=\S+\s+/, "");
  const every = /^@every\s+(\S+)$/.exec(expr);
  if (every) {
    const s = parseGoDuration(every[1]);
    return s !== undefined && s > 0 ? s : `"${schedule}" has an invalid @every duration`;
  }
  const cron = CRON_DESCRIPTORS[expr] ?? expr;
  const err = cronError(cron);
  if (err) return err;
  const bound = cronGapUpperBound(cron);
  return atMost !== undefined && bound < atMost ? bound : cronGaps(cron).maxGapSeconds;
}

/** Problems of one schedule: its ttl must be set, valid, and longer than the longest gap between runs. */
export function veleroScheduleProblems(schedule: unknown, ttl: unknown, at: string): string[] {
  if (typeof schedule !== "string") return [`${at}.schedule is not set`];
  if (ttl === undefined || ttl === null || ttl === "") return [`${at}.template.ttl is not set; set how long each backup is kept (a Go duration such as "720h")`];
  const ttlSeconds = parseGoDuration(String(ttl));
  if (ttlSeconds === undefined) return [`${at}.template.ttl "${ttl}" is not a Go duration (e.g. "720h0m0s")`];
  const gap = veleroScheduleMaxGap(schedule, ttlSeconds);
  if (typeof gap === "string") return [`${at}.schedule: ${gap}`];
  if (ttlSeconds <= gap) {
    return [`${at}.template.ttl ${ttl} (${formatSeconds(ttlSeconds)}) is not longer than the longest gap between runs of "${schedule}" (${formatSeconds(gap)}): the last backup expires before the next one exists`];
  }
  return [];
}

export const veleroTtlPolicy: ResourceValidationPolicy = {
  name: "velero-ttl-covers-interval",
  description: "Every Velero schedule sets template.ttl, and the ttl is longer than the longest gap between its runs, so a backup always exists.",
  enforcementLevel: "mandatory",
  validateResource: (args, report) => {
    const props = isObj(args.props) ? args.props : {};
    if (VELERO_SCHEDULE.test(args.type)) {
      const label = k8sLabel(args.type, props, args.name);
      for (const p of veleroScheduleProblems(props.spec?.schedule, props.spec?.template?.ttl, "spec")) report(`${label}: ${p}`);
      return;
    }
    const chartSchedules = HELM_TYPES.has(args.type) && isObj(props.values?.schedules) ? Object.entries<any>(props.values.schedules) : [];
    if (chartSchedules.length === 0) args.notApplicable("no Velero schedule");
    for (const [key, s] of chartSchedules) {
      if (!isObj(s) || s.disabled === true) continue;
      for (const p of veleroScheduleProblems(s.schedule, s.template?.ttl, `values.schedules.${key}`)) report(`Helm release ${str(props.name) ?? args.name}: ${p}`);
    }
  },
};

// ---------------------------------------------------------------------------------------------
// 7. Every backed-up class has an alert (advisory)
// ---------------------------------------------------------------------------------------------

const PROMETHEUS_RULE = /^kubernetes:monitoring\.coreos\.com\/v1:PrometheusRule$/;
const LONGHORN_BACKUP_TASKS = new Set(["backup", "backup-force-create", "system-backup"]);

interface RuleLike {
  readonly alert?: string;
  readonly record?: string;
  readonly expr: string;
}

function rulesIn(v: unknown, out: RuleLike[], depth = 0): void {
  if (depth > 40) return;
  if (Array.isArray(v)) return v.forEach((x) => rulesIn(x, out, depth + 1));
  if (!isObj(v)) return;
  if ((typeof v.alert === "string" || typeof v.record === "string") && (typeof v.expr === "string" || typeof v.expr === "number")) {
    out.push({ alert: str(v.alert), record: str(v.record), expr: String(v.expr) });
    return;
  }
  for (const x of Object.values(v)) rulesIn(x, out, depth + 1);
}

/** Alert expressions of the stack, each with the recording rules it uses expanded in. */
export function alertTexts(resources: readonly { type: string; props: Obj }[]): string[] {
  const rules: RuleLike[] = [];
  for (const r of resources) {
    if (PROMETHEUS_RULE.test(r.type)) rulesIn(r.props?.spec, rules);
    else if (HELM_TYPES.has(r.type)) rulesIn(r.props?.values, rules);
  }
  const records = rules.filter((r) => r.record);
  return rules
    .filter((r) => r.alert)
    .map((r) => {
      let text = r.expr;
      for (let round = 0; round < 5; round++) {
        const used = records.filter((rec) => text.includes(rec.record!) && !text.includes(`(${rec.expr})`));
        if (used.length === 0) break;
        text += used.map((rec) => ` (${rec.expr})`).join("");
      }
      return text;
    });
}

/** True when an alert text names `name` or has a `=~` matcher (anchored, as in PromQL) that matches it. */
export function textMentions(text: string, name: string): boolean {
  if (text.includes(name)) return true;
  for (const m of text.matchAll(/=~\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|`([^`]*)`)/g)) {
    const source = (m[1] ?? m[2] ?? m[3] ?? "").replace(/\\\\/g, "\\");
    try {
      if (new RegExp(`^(?:${source})$`).test(name)) return true;
    } catch {
      // An expression JavaScript cannot compile (RE2-only syntax) just does not count as a mention.
    }
  }
  return false;
}

function cronJobClass(name: string): string {
  if (name.startsWith("pg-restore-drill-")) return "postgres restore drill";
  if (name.startsWith("pg-dump-")) return "postgres";
  if (name === names.etcdCronJob) return "etcd";
  if (name.startsWith("bucket-mirror-")) return "buckets";
  if (name === names.offsiteCronJob) return "offsite";
  return "backup";
}

/** What must be watched, and whether some alert does. */
export function unalertedBackups(resources: readonly { type: string; name: string; props: Obj }[]): { resource: string; message: string }[] {
  const texts = alertTexts(resources);
  const out: { resource: string; message: string }[] = [];
  const anyMentions = (n: string) => texts.some((t) => textMentions(t, n));
  for (const r of resources) {
    const props = isObj(r.props) ? r.props : {};
    const objName = str(props.metadata?.name) ?? r.name;
    if (r.type === "kubernetes:batch/v1:CronJob") {
      if (!anyMentions(objName)) {
        out.push({ resource: r.name, message: `no alert watches CronJob ${objName} (${cronJobClass(objName)}): add an alert whose expr names it, e.g. kube_cronjob_status_last_successful_time{cronjob="${objName}"}` });
      }
    } else if (VELERO_SCHEDULE.test(r.type)) {
      const covered = anyMentions(objName) || texts.some((t) => t.includes("velero_backup_") && !/schedule\s*=\s*["']/.test(t));
      if (!covered) out.push({ resource: r.name, message: `no alert watches Velero Schedule ${objName}: add an alert on velero_backup_last_successful_timestamp{schedule="${objName}"}` });
    } else if (HELM_TYPES.has(r.type) && isObj(props.values?.schedules)) {
      // The Velero chart names each Schedule `<release fullname>-<key>`.
      for (const [key, sched] of Object.entries<any>(props.values.schedules)) {
        if (!isObj(sched) || sched.disabled === true) continue;
        const covered = anyMentions(key) || texts.some((t) => t.includes("velero_backup_") && !/schedule\s*=\s*["']/.test(t));
        if (!covered) out.push({ resource: r.name, message: `no alert watches the Velero schedule ${key} of Helm release ${str(props.name) ?? r.name}: add an alert on velero_backup_last_successful_timestamp` });
      }
    } else if (LONGHORN_RECURRING_JOB.test(r.type) && !r.type.endsWith("Patch") && LONGHORN_BACKUP_TASKS.has(String(props.spec?.task))) {
      const covered = anyMentions(objName) || texts.some((t) => t.includes("longhorn_volume_last_backup_at") || t.includes("longhorn_backup_state"));
      if (!covered) out.push({ resource: r.name, message: `no alert watches Longhorn RecurringJob ${objName}: add an alert on longhorn_volume_last_backup_at or longhorn_backup_state` });
    } else if (r.type === "command:remote:CopyToRemote" && String(props.remotePath ?? "").includes(names.offsiteUnit)) {
      // The hub's timer ships several units: one verdict for the class is enough.
      if (!texts.some((t) => t.includes("homelab_backup_offsite_")) && !out.some((v) => v.message.startsWith("no alert watches the off-site"))) {
        out.push({ resource: r.name, message: `no alert watches the off-site copy on the hub (${props.remotePath}): add an alert on ${metrics.offsiteLastSuccess}` });
      }
    }
  }
  return out;
}

export const backupsAlertedPolicy: StackValidationPolicy = {
  name: "backups-alerted",
  description: "Every data class the stack backs up (CronJobs, Velero Schedules, Longhorn backup jobs, the hub's off-site copy) is watched by at least one alert.",
  enforcementLevel: "advisory",
  validateStack: (args, report) => {
    for (const v of unalertedBackups(args.resources)) report(v.message, args.resources.find((r) => r.name === v.resource)?.urn);
  },
};

// ---------------------------------------------------------------------------------------------
// 8. No plaintext secrets
// ---------------------------------------------------------------------------------------------

/**
 * Whether a variable or key name holds a secret. Identifiers and references are not secrets:
 * `*_KEY_ID` (an access key id), `*_FILE`/`*_PATH`/`*_DIR` (where a secret lives), `*_NAME`/`*_REF`
 * and Helm's `existingSecret` (which Secret to read).
 * "KEY" is a secret only when qualified as one (ACCESS_KEY, API_KEY, ENCRYPTION_KEY...): a bare
 * `key`, OBJECT_KEY or KEY_PREFIX name S3 object keys.
 */
export function looksLikeSecretName(name: string): boolean {
  const n = name.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toUpperCase().replace(/[^A-Z0-9]+/g, "_");
  if (/(_ID|ID_|FILE|PATH|DIR|_NAME|_REF|_URL|_URI|_ARN|_TYPE|_LENGTH|_ALGORITHM|_VERSION)$/.test(n) || /^EXISTING_/.test(n)) return false;
  if (/PASS|SECRET|TOKEN|CREDENTIAL|PRIVATE/.test(n)) return true;
  return /(^|_)(ACCESS|API|ENCRYPTION|CRYPT|SSH|AUTH|MASTER|SIGNING|SESSION|LICENSE)_?KEY(S)?($|_)|APIKEY/.test(n);
}

/** A value that only points at a secret (empty, a path, a `$VAR`/`$(VAR)` expansion, a template, a mask). */
function isReferenceValue(value: string): boolean {
  const v = value.trim().replace(/^["']|["']$/g, "");
  return v === "" || v === "[secret]" || /^[$%/~<]|^\{\{|^\.\.?\//.test(v) || /^(true|false|null|none|yes|no)$/i.test(v);
}

/**
 * Why a text looks like it carries a secret in plain text, or undefined. Assignments count
 * (`NAME=value` anywhere in a line, as in env files, shell and ini), and so do `name: value` pairs
 * when they are structured (a quoted JSON key, or a YAML key at the start of a line), so that prose
 * such as "same pass: collect ..." does not. Comment lines are prose.
 */
export function secretInText(text: string): string | undefined {
  if (/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(text)) return "a PEM private key";
  for (const line of text.split(/\r?\n/)) {
    if (/^\s*(#|\/\/|;)/.test(line)) continue;
    const pairs = [
      ...line.matchAll(/(?:^|[\s;"'{,=])([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(["']?)([^\s"',;}=]*)/g),
      ...line.matchAll(/"([A-Za-z_][A-Za-z0-9_.-]*)"\s*:\s*(")([^"]*)"/g),
      ...line.matchAll(/^\s*([A-Za-z_][A-Za-z0-9_.-]*):\s+(["']?)([^\s"',;}]*)/g),
    ];
    for (const [, key, , value] of pairs) {
      if (looksLikeSecretName(key) && value !== undefined && !isReferenceValue(value)) return `a value for ${key}`;
    }
  }
  return undefined;
}

/** Secret-looking leaves of Helm values: a secret-named key with a literal value, or a text carrying one. */
function helmValueSecretProblems(values: unknown): string[] {
  const out: string[] = [];
  const walk = (v: unknown, at: string, key: string, depth: number) => {
    if (depth > 40) return;
    if (Array.isArray(v)) return v.forEach((x, i) => walk(x, `${at}[${i}]`, key, depth + 1));
    if (isObj(v)) return Object.entries(v).forEach(([k, x]) => walk(x, `${at}.${k}`, k, depth + 1));
    if (typeof v !== "string") return;
    if (looksLikeSecretName(key) && !isReferenceValue(v)) out.push(`${at} holds a literal secret`);
    else {
      const why = secretInText(v);
      if (why) out.push(`${at} contains ${why}`);
    }
  };
  walk(values, "values", "", 0);
  return out;
}

function envProblems(pod: Obj): string[] {
  const out: string[] = [];
  for (const { where, c } of containersOf(pod)) {
    for (const e of objs(c.env)) {
      const name = str(e.name) ?? "";
      if (typeof e.value === "string" && looksLikeSecretName(name) && !isReferenceValue(e.value)) {
        out.push(`container ${where}: env ${name} has a literal value; put the secret in a Secret (stringData) and use valueFrom.secretKeyRef`);
      }
    }
  }
  return out;
}

export const noPlaintextSecretsPolicy: ResourceValidationPolicy = {
  name: "no-plaintext-secrets",
  description: "No secret in plain text: no secret-named env var with a literal value in a workload, Secret data marked as Pulumi secrets, no Pulumi secret in a ConfigMap, Helm values and remote commands carry secrets only in secret inputs.",
  enforcementLevel: "mandatory",
  validateResource: (args, report) => {
    const props = isObj(args.props) ? args.props : {};
    const secret = secretKeysOf(args);
    const pod = podSpecOf(args.type, props);
    if (pod) {
      const label = k8sLabel(args.type, props, args.name);
      for (const p of envProblems(pod.spec)) report(`${label}: ${p}`);
      return;
    }
    switch (args.type) {
      case "kubernetes:core/v1:Secret":
      case "kubernetes:core/v1:SecretPatch": {
        const label = k8sLabel(args.type, props, args.name);
        for (const field of ["data", "stringData"]) {
          if (isObj(props[field]) && Object.keys(props[field]).length > 0 && !secret.has(field)) {
            report(`${label}: ${field} is not a Pulumi secret, so its values sit in plain text in the state; build it from secret Outputs (pulumi.secret / requireSecret)`);
          }
        }
        return;
      }
      case "kubernetes:core/v1:ConfigMap":
      case "kubernetes:core/v1:ConfigMapPatch": {
        const label = k8sLabel(args.type, props, args.name);
        for (const field of ["data", "binaryData"]) {
          if (secret.has(field)) report(`${label}: ${field} carries a Pulumi secret; a ConfigMap is readable in plain text, use a Secret`);
          else if (isObj(props[field])) {
            for (const [key, text] of Object.entries(props[field])) {
              const why = typeof text === "string" ? secretInText(text) : undefined;
              if (why) report(`${label}: ${field}.${key} contains ${why} in plain text; use a Secret`);
            }
          }
        }
        return;
      }
      case "kubernetes:helm.sh/v3:Release":
      case "kubernetes:helm.sh/v3:Chart":
      case "kubernetes:helm.sh/v4:Chart": {
        if (secret.has("values")) return;
        for (const p of helmValueSecretProblems(props.values)) report(`Helm release ${str(props.name) ?? args.name}: ${p} but values is not a Pulumi secret`);
        return;
      }
      case "command:remote:Command":
      case "command:local:Command": {
        if (isObj(props.environment) && !secret.has("environment")) {
          for (const [k, v] of Object.entries(props.environment)) {
            if (typeof v === "string" && looksLikeSecretName(k) && !isReferenceValue(v)) report(`${args.name}: environment.${k} is not a Pulumi secret; pass it from a secret Output`);
          }
        }
        for (const field of ["stdin", "create", "update", "delete"]) {
          const text = str(props[field]);
          const why = text !== undefined && !secret.has(field) ? secretInText(text) : undefined;
          if (why) report(`${args.name}: ${field} contains ${why} but is not a Pulumi secret`);
        }
        const conn = isObj(props.connection) ? props.connection : {};
        for (const k of ["password", "privateKey", "privateKeyPassword"]) {
          if (typeof conn[k] === "string" && conn[k] !== "" && !secret.has("connection")) report(`${args.name}: connection.${k} is not a Pulumi secret; read it with config.requireSecret`);
        }
        return;
      }
      case "command:remote:CopyToRemote": {
        const text = remoteSourceText(props);
        const why = text !== undefined && !secret.has("source") ? secretInText(text) : undefined;
        if (why) report(`${args.name}: source (${str(props.remotePath) ?? "file"}) contains ${why} but is not a Pulumi secret`);
        const conn = isObj(props.connection) ? props.connection : {};
        for (const k of ["password", "privateKey"]) {
          if (typeof conn[k] === "string" && conn[k] !== "" && !secret.has("connection")) report(`${args.name}: connection.${k} is not a Pulumi secret; read it with config.requireSecret`);
        }
        return;
      }
      default:
        args.notApplicable("carries no secret-bearing input");
    }
  },
};

// ---------------------------------------------------------------------------------------------
// The pack and the offline evaluator
// ---------------------------------------------------------------------------------------------

export const policies: Policies = [
  longhornRetainPolicy,
  backupCronJobPolicy,
  pinnedImagesPolicy,
  s3BucketPolicy,
  iamLeastPrivilegePolicy,
  veleroTtlPolicy,
  backupsAlertedPolicy,
  noPlaintextSecretsPolicy,
];

/** One violation, as policy.json lists it. */
export interface PolicyVerdict {
  readonly policy: string;
  /** Logical name of the resource at fault ("stack" when a stack policy names none). */
  readonly resource: string;
  readonly level: "mandatory" | "advisory";
  readonly message: string;
}

/** A resource as the offline render records it: unwrapped inputs and the top-level keys that were secret. */
export interface PolicyInput {
  readonly type: string;
  readonly name: string;
  readonly props: any;
  readonly secretPaths?: readonly string[];
}

class NotApplicable extends Error {}

const PROJECT_URN = "urn:pulumi:homelab::homelab-backup";
const urnOf = (r: PolicyInput) => `${PROJECT_URN}::${r.type}::${r.name}`;

function levelOf(p: { enforcementLevel?: EnforcementLevel }): "mandatory" | "advisory" | undefined {
  const l = p.enforcementLevel ?? "advisory";
  if (l === "disabled") return undefined;
  return l === "advisory" ? "advisory" : "mandatory";
}

const OPTS = { protect: false, ignoreChanges: [], aliases: [], additionalSecretOutputs: [], customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 } };
const notApplicable = (why?: string): never => {
  throw new NotApplicable(why);
};

function resourceArgs(r: PolicyInput): HomelabValidationArgs {
  const props = isObj(r.props) ? r.props : {};
  return {
    type: r.type,
    name: r.name,
    urn: urnOf(r),
    props,
    secretPaths: r.secretPaths ?? [],
    opts: OPTS,
    stackTags: new Map(),
    isType: (c: any) => c?.__pulumiType === r.type,
    asType: ((c: any) => (c?.__pulumiType === r.type ? props : undefined)) as any,
    getConfig: <T extends object>() => ({}) as T,
    notApplicable,
  };
}

function stackArgs(resources: readonly PolicyInput[]): StackValidationArgs {
  const policyResources: PolicyResource[] = resources.map((r) => {
    const props = isObj(r.props) ? r.props : {};
    return {
      type: r.type,
      name: r.name,
      urn: urnOf(r),
      props,
      opts: OPTS,
      dependencies: [],
      propertyDependencies: {},
      isType: (c: any) => c?.__pulumiType === r.type,
      asType: ((c: any) => (c?.__pulumiType === r.type ? props : undefined)) as any,
    };
  });
  return { resources: policyResources, stackTags: new Map(), getConfig: <T extends object>() => ({}) as T, notApplicable };
}

/**
 * Runs every resource policy over every resource and every stack policy over all of them, like the
 * analyzer does, and returns the violations. Policies that do not apply to a resource say so and are
 * skipped; a policy that throws is reported as a violation at its own level (it could not vouch).
 */
export function evaluatePolicies(resources: readonly PolicyInput[]): PolicyVerdict[] {
  const verdicts: PolicyVerdict[] = [];
  const byUrn = new Map(resources.map((r) => [urnOf(r), r.name]));
  const run = (policy: string, level: "mandatory" | "advisory", fallback: string, call: (report: ReportViolation) => unknown) => {
    const report: ReportViolation = (message: string, urn?: string) => verdicts.push({ policy, resource: (urn && byUrn.get(urn)) || fallback, level, message });
    try {
      const result = call(report);
      if (result && typeof (result as Promise<void>).then === "function") throw new Error("asynchronous policies cannot run offline");
    } catch (e) {
      if (e instanceof NotApplicable) return;
      report(`policy could not be evaluated: ${(e as Error).message}`);
    }
  };
  for (const p of policies) {
    const level = levelOf(p);
    if (!level) continue;
    if ("validateStack" in p) {
      run(p.name, level, "stack", (report) => p.validateStack(stackArgs(resources), report));
      continue;
    }
    const validations = oneOrMany(p.validateResource) as ((a: ResourceValidationArgs, r: ReportViolation) => unknown)[];
    for (const r of resources) for (const v of validations) run(p.name, level, r.name, (report) => v(resourceArgs(r), report));
  }
  return verdicts;
}
