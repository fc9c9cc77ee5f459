/**
 * Building blocks of the stack-file schema that every area uses: names, crons, durations, ports,
 * pinned images, bucket names, and the did-you-mean helper behind the error messages. Each area's
 * `schema.ts` builds its section from these; `components/config.ts` composes the sections.
 */
import { z } from "zod";
import { cronError } from "./cron.js";
import { parseGoDuration } from "./duration.js";

export const PROJECT = "homelab-backup";

/** Secret config keys: set with `pulumi config set --secret`, never inside a structured key. */
export const SECRET_KEYS = [
  "hubSshPrivateKey",
  "hubAdminPassword",
  "hubAdminToken",
  "hubWriterKeys",
  "offsiteFtpPassword",
  "offsiteEncryptionKey",
  "ftpBridgePassword",
  "ftpBridgeEncryptionKey",
  "veleroRepositoryPassword",
  "alertsNtfyToken",
  "alertsSlackWebhookUrl",
  "alertsSmtpPassword",
  "alertsHeartbeatUrl",
] as const;
export type SecretKey = (typeof SECRET_KEYS)[number];

/** Bucket prefixes, one per data class; each writer may write only under its own. */
export const PREFIXES = {
  longhorn: "longhorn/",
  postgres: "postgres-backups/",
  etcd: "etcd-snapshots/",
  velero: "velero/",
  buckets: "buckets/",
} as const;
export type DataClass = keyof typeof PREFIXES;

/**
 * What only the cluster knows, written to the hub so that `npm run status` (tools/status.ts) can read it
 * with the cluster gone: the audit's PVC inventory and each restore drill's last result. A prefix of
 * its own, apart from every class's prefix, so no status writer reaches a backup and no backup writer
 * reaches a status record (components/hub/iam.ts).
 */
export const STATUS_PREFIXES = {
  /** Written by the audit (components/alerts/audit.mjs) with the audit identity. */
  audit: "status/audit/",
  /** Written by each restore drill when it ends (components/drills/drill-record.sh). */
  drills: "status/drills/",
} as const;
/** The prefix both live under. */
export const STATUS_PREFIX = "status/";
/** The audit's PVC inventory, overwritten after each audit that read the cluster. */
export const PVC_INVENTORY_KEY = `${STATUS_PREFIXES.audit}pvcs.json`;
/** The last result of one drill: `status/drills/<class>/<item>.json` (drill-record.sh writes the same key). */
export function drillRecordKey(cls: string, item: string): string {
  return `${STATUS_PREFIXES.drills}${cls}/${item}.json`;
}

export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export const dnsLabel = (max = 63) =>
  z
    .string()
    .max(max, `must be at most ${max} characters`)
    .regex(
      DNS_LABEL,
      "must be a DNS label: lowercase letters, digits and '-', starting and ending with a letter or digit",
    );

export const dnsSubdomain = z
  .string()
  .max(253, "must be at most 253 characters")
  .regex(DNS_SUBDOMAIN, "must be a DNS subdomain: lowercase letters, digits, '-' and '.'");

/**
 * Kubernetes refuses to create a CronJob whose name is longer than 52 characters: its controller
 * names each Job `<cronjob>-<11-character timestamp suffix>` and a Job name is at most 63
 * (pkg/apis/batch/validation ValidateCronJobCreate; sources in test/fixtures/README.md).
 */
export const CRONJOB_NAME_MAX = 52;
/**
 * A Job's name is copied into its pods' `job-name` label, and a label value is at most 63 characters
 * (kubernetes/kubernetes#50850: `spec.template.labels: Invalid value: ...: must be no more than 63 characters`).
 */
export const JOB_NAME_MAX = 63;

/** A Kubernetes object name the program makes from a configured name, and the longest one Kubernetes accepts. */
export interface DerivedName {
  /** "CronJob", "Job": what the derived name names. */
  readonly kind: string;
  /** The derived name of a configured name. */
  readonly of: (configured: string) => string;
  /** The longest name Kubernetes accepts for it. */
  readonly max: number;
}

/** The longest configured name every derived name accepts, and the derived name that sets it. */
export function nameLimit(derived: readonly DerivedName[], configured: string): { limit: number; by?: DerivedName } {
  let limit = Infinity;
  let by: DerivedName | undefined;
  for (const d of derived) {
    const allowed = d.max - (d.of(configured).length - configured.length);
    if (allowed < limit) [limit, by] = [allowed, d];
  }
  return { limit, by };
}

/**
 * Adds ONE issue at `path` (the configured name's key) when any name derived from it breaks its
 * Kubernetes limit: the limit stated is the tightest of them, so a name never gets two different ones.
 */
export function checkNameFits(
  ctx: z.RefinementCtx,
  path: (string | number)[],
  configured: string,
  derived: readonly DerivedName[],
): void {
  const { limit, by } = nameLimit(derived, configured);
  if (!by || configured.length <= limit) return;
  const made = by.of(configured);
  ctx.addIssue({
    code: "custom",
    path,
    message: `"${configured}" is ${configured.length} characters; use at most ${limit}: it makes the ${by.kind} name "${made}" (${made.length} characters), and Kubernetes refuses ${by.kind} names over ${by.max}`,
  });
}

/** A DNS label whose length is checked by checkNameFits against the names made from it. */
export const derivingName = z
  .string()
  .min(1, "must not be empty")
  .regex(
    DNS_LABEL,
    "must be a DNS label: lowercase letters, digits and '-', starting and ending with a letter or digit",
  );

export const cron = z.string().superRefine((v, ctx) => {
  const err = cronError(v);
  if (err) ctx.addIssue({ code: "custom", message: `must be a 5-field cron expression in UTC: ${err}` });
});

export const goDuration = z.string().superRefine((v, ctx) => {
  const s = parseGoDuration(v);
  if (s === undefined)
    ctx.addIssue({
      code: "custom",
      message: `"${v}" is not a Go duration; write it with units, e.g. "720h", "5m0s", "90s"`,
    });
  else if (s < 0) ctx.addIssue({ code: "custom", message: `"${v}" is negative` });
});

export const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a UTC time "HH:MM" (00:00 to 23:59)');
export const port = z
  .number()
  .int("must be an integer")
  .min(1, "must be a port between 1 and 65535")
  .max(65535, "must be a port between 1 and 65535");
export const posInt = (min = 1) => z.number().int("must be an integer").min(min, `must be an integer >= ${min}`);
export const absolutePath = z
  .string()
  .regex(/^\/[^\0]*$/, "must be an absolute path (starting with '/')")
  .refine((p) => !p.split("/").includes(".."), "must not contain '..'");
export const hostName = z
  .string()
  .regex(/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$|^\[?[0-9a-fA-F:]+\]?$/, "must be a host name or IP address");
export const stringMap = z.record(z.string(), z.string());

/** An image reference with an explicit tag or digest that is not `latest`. */
export const pinnedImage = z.string().superRefine((v, ctx) => {
  const err = imageError(v);
  if (err) ctx.addIssue({ code: "custom", message: err });
});

/** Why an image reference is not pinned, or undefined when it is. Shared with the policy pack. */
export function imageError(image: string): string | undefined {
  if (!image) return "must be an image reference";
  if (/@sha256:[0-9a-f]{64}$/.test(image)) return undefined;
  const lastSlash = image.lastIndexOf("/");
  const colon = image.indexOf(":", lastSlash + 1);
  if (colon < 0) return `"${image}" has no tag; pin a version (e.g. "${image}:1.2.3") or a digest`;
  const tag = image.slice(colon + 1);
  if (tag === "" || tag === "latest") return `"${image}" uses the "latest" tag; pin a version or a digest`;
  return undefined;
}

/** S3 bucket naming rules (AWS general purpose buckets; MinIO and RustFS follow them). */
export function bucketNameError(name: string): string | undefined {
  if (name.length < 3 || name.length > 63) return "must be 3 to 63 characters long";
  if (!/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(name))
    return "may contain only lowercase letters, digits, '.' and '-', and must start and end with a letter or digit";
  if (name.includes("..")) return "must not contain two adjacent periods";
  if (/^\d+\.\d+\.\d+\.\d+$/.test(name)) return "must not be formatted as an IP address";
  if (name.startsWith("xn--") || name.startsWith("sthree-")) return "must not start with 'xn--' or 'sthree-'";
  if (name.endsWith("-s3alias") || name.endsWith("--ol-s3")) return "must not end with '-s3alias' or '--ol-s3'";
  return undefined;
}
export const bucketName = z.string().superRefine((v, ctx) => {
  const err = bucketNameError(v);
  if (err) ctx.addIssue({ code: "custom", message: `"${v}" is not a valid bucket name: ${err}` });
});

export const notLatest = z
  .string()
  .min(1)
  .refine((v) => v.toLowerCase() !== "latest", 'must be a pinned release, never "latest"');

export const secretRef = z.strictObject({
  name: dnsSubdomain,
  key: z.string().regex(/^[-._a-zA-Z0-9]+$/, "must be a Secret key: letters, digits, '-', '_' and '.'"),
});

/** Adds an issue for every item whose key repeats an earlier one. */
export function uniqueBy<T>(
  items: readonly T[],
  key: (t: T) => string,
  what: string,
  ctx: z.RefinementCtx,
  path: (string | number)[],
  field = "name",
) {
  const seen = new Map<string, number>();
  items.forEach((item, i) => {
    const k = key(item);
    if (seen.has(k))
      ctx.addIssue({
        code: "custom",
        path: [...path, i, field],
        message: `duplicate ${what} "${k}" (also at index ${seen.get(k)}); names must be unique`,
      });
    else seen.set(k, i);
  });
}

/** Damerau-free Levenshtein distance; small strings only (config keys). */
export function editDistance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  let prev = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const cur = [i];
    for (let j = 1; j <= y.length; j++)
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x[i - 1] === y[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[y.length];
}

/** `; did you mean "x"?` for the nearest candidate within a third of the word's length, else "". */
export function suggest(word: string, candidates: readonly string[]): string {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(word, c);
    if (d < bestD) [best, bestD] = [c, d];
  }
  return best !== undefined && bestD <= Math.max(2, Math.ceil(word.length / 3)) ? `; did you mean "${best}"?` : "";
}
