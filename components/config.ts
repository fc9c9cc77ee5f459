/**
 * The stack file contract (`shared/spec/stack-config.md`) as one typed zod schema.
 *
 * `parseStackConfig` takes the raw `homelab-backup:*` config (as `pulumi config` stores it: objects
 * as JSON strings) and returns the typed, defaulted configuration, or throws a `StackConfigError`
 * listing every problem with its key path. Nothing here touches Pulumi resources, so a bad stack file
 * stops the program before anything is registered.
 */
import { z } from "zod";
import { cronError } from "./core/cron.js";
import { parseGoDuration } from "./core/duration.js";
import { VERSIONS } from "./core/versions.js";

export const PROJECT = "homelab-backup";

/** Secret config keys: set with `pulumi config set --secret`, never inside a structured key. */
export const SECRET_KEYS = [
  "hubSshPrivateKey",
  "hubAdminPassword",
  "offsiteFtpPassword",
  "offsiteEncryptionKey",
  "ftpBridgePassword",
  "ftpBridgeEncryptionKey",
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

// ---------------------------------------------------------------------------------------------
// Building blocks
// ---------------------------------------------------------------------------------------------

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

const dnsLabel = (max = 63) =>
  z
    .string()
    .max(max, `must be at most ${max} characters`)
    .regex(DNS_LABEL, "must be a DNS label: lowercase letters, digits and '-', starting and ending with a letter or digit");

const dnsSubdomain = z
  .string()
  .max(253, "must be at most 253 characters")
  .regex(DNS_SUBDOMAIN, "must be a DNS subdomain: lowercase letters, digits, '-' and '.'");

const cron = z.string().superRefine((v, ctx) => {
  const err = cronError(v);
  if (err) ctx.addIssue({ code: "custom", message: `must be a 5-field cron expression in UTC: ${err}` });
});

const goDuration = z.string().superRefine((v, ctx) => {
  const s = parseGoDuration(v);
  if (s === undefined) ctx.addIssue({ code: "custom", message: `"${v}" is not a Go duration; write it with units, e.g. "720h", "5m0s", "90s"` });
  else if (s < 0) ctx.addIssue({ code: "custom", message: `"${v}" is negative` });
});

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a UTC time "HH:MM" (00:00 to 23:59)');
const port = z.number().int("must be an integer").min(1, "must be a port between 1 and 65535").max(65535, "must be a port between 1 and 65535");
const posInt = (min = 1) => z.number().int("must be an integer").min(min, `must be an integer >= ${min}`);
const absolutePath = z.string().regex(/^\/[^\0]*$/, "must be an absolute path (starting with '/')").refine((p) => !p.split("/").includes(".."), "must not contain '..'");
const hostName = z.string().regex(/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$|^\[?[0-9a-fA-F:]+\]?$/, "must be a host name or IP address");
const stringMap = z.record(z.string(), z.string());

/** An image reference with an explicit tag or digest that is not `latest`. */
const pinnedImage = z.string().superRefine((v, ctx) => {
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
  if (!/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(name)) return "may contain only lowercase letters, digits, '.' and '-', and must start and end with a letter or digit";
  if (name.includes("..")) return "must not contain two adjacent periods";
  if (/^\d+\.\d+\.\d+\.\d+$/.test(name)) return "must not be formatted as an IP address";
  if (name.startsWith("xn--") || name.startsWith("sthree-")) return "must not start with 'xn--' or 'sthree-'";
  if (name.endsWith("-s3alias") || name.endsWith("--ol-s3")) return "must not end with '-s3alias' or '--ol-s3'";
  return undefined;
}
const bucketName = z.string().superRefine((v, ctx) => {
  const err = bucketNameError(v);
  if (err) ctx.addIssue({ code: "custom", message: `"${v}" is not a valid bucket name: ${err}` });
});

const notLatest = z.string().min(1).refine((v) => v.toLowerCase() !== "latest", 'must be a pinned release, never "latest"');

const secretRef = z.strictObject({ name: dnsSubdomain, key: z.string().regex(/^[-._a-zA-Z0-9]+$/, "must be a Secret key: letters, digits, '-', '_' and '.'") });

function uniqueBy<T>(items: readonly T[], key: (t: T) => string, what: string, ctx: z.RefinementCtx, path: (string | number)[], field = "name") {
  const seen = new Map<string, number>();
  items.forEach((item, i) => {
    const k = key(item);
    if (seen.has(k)) ctx.addIssue({ code: "custom", path: [...path, i, field], message: `duplicate ${what} "${k}" (also at index ${seen.get(k)}); names must be unique` });
    else seen.set(k, i);
  });
}

// ---------------------------------------------------------------------------------------------
// Sections
// ---------------------------------------------------------------------------------------------

export const ARCHIVE_CLASSES = ["GLACIER", "GLACIER_IR", "DEEP_ARCHIVE", "STANDARD_IA"] as const;

const hubSchema = z.strictObject({
  kind: z.enum(["aws", "pi"]),
  bucket: bucketName,
  region: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, "must be a region label: lowercase letters, digits and '-'").default("us-east-1"),
  archive: z.strictObject({ afterDays: posInt(1), storageClass: z.enum(ARCHIVE_CLASSES) }).optional(),
  objectLock: z.strictObject({ mode: z.enum(["GOVERNANCE", "COMPLIANCE"]), days: posInt(1) }).optional(),
  host: hostName.optional(),
  ssh: z.strictObject({ user: z.string().regex(/^[a-z_][a-z0-9_-]*$/, "must be a Unix user name"), port: port.default(22) }).optional(),
  server: z.enum(["minio", "rustfs"]).default("minio"),
  version: notLatest.optional(),
  dataDir: absolutePath.refine((p) => p !== "/", "must not be the root filesystem").optional(),
  port: port.default(9000),
  consolePort: port.default(9001),
  tls: z.boolean().default(false),
  /** Extension: where node-exporter's textfile collector reads `*.prom` files on the hub. */
  textfileCollectorDir: absolutePath.default("/var/lib/prometheus/node-exporter"),
});

export const LONGHORN_TASKS = ["backup", "backup-force-create", "snapshot", "snapshot-force-create", "snapshot-cleanup", "snapshot-delete", "filesystem-trim", "system-backup"] as const;
/** Tasks whose `retain` Longhorn's mutator forces to 0. */
export const LONGHORN_NO_RETAIN_TASKS: readonly string[] = ["snapshot-cleanup", "filesystem-trim"];
export const LONGHORN_BACKUP_TASKS: readonly string[] = ["backup", "backup-force-create"];
const LONGHORN_GROUP = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

const recurringJobSchema = z.strictObject({
  name: dnsLabel(40),
  cron,
  task: z.enum(LONGHORN_TASKS),
  retain: z.number().int("must be an integer").min(1, "must be an integer >= 1").max(100, "must be at most 100 (Longhorn's recurring-job-max-retention)").optional(),
  concurrency: posInt(1).default(1),
  fullBackupInterval: posInt(0).optional(),
  groups: z.array(z.string().regex(LONGHORN_GROUP, "must be a Longhorn group name: letters, digits, '_', '.', '-' (2+ characters)")).default([]),
  labels: stringMap.default({}),
  pvcs: z.array(z.strictObject({ namespace: dnsLabel(), name: dnsSubdomain })).default([]),
});

const storageClassSchema = z.strictObject({
  name: dnsSubdomain,
  recurringJobs: z.array(z.string()).default([]),
  recurringJobGroups: z.array(z.string()).default([]),
  reclaimPolicy: z.enum(["Retain", "Delete"]).default("Retain"),
  numberOfReplicas: z.number().int("must be an integer").min(1, "must be between 1 and 20").max(20, "must be between 1 and 20").default(2),
  parameters: stringMap.default({}),
});

const longhornSchema = z
  .strictObject({
    namespace: dnsLabel().default("longhorn-system"),
    target: z.enum(["hub", "ftpBridge"]).default("hub"),
    pollInterval: goDuration.default("5m0s"),
    allowRecurringJobWhileVolumeDetached: z.boolean().default(true),
    recurringJobs: z.array(recurringJobSchema).default([]),
    storageClasses: z.array(storageClassSchema).default([]),
  })
  .superRefine((lh, ctx) => {
    uniqueBy(lh.recurringJobs, (j) => j.name, "recurring job", ctx, ["recurringJobs"]);
    uniqueBy(lh.storageClasses, (s) => s.name, "storage class", ctx, ["storageClasses"]);
    lh.recurringJobs.forEach((j, i) => {
      const at = (f: string) => ["recurringJobs", i, f];
      if (j.retain === undefined && !LONGHORN_NO_RETAIN_TASKS.includes(j.task)) {
        ctx.addIssue({ code: "custom", path: at("retain"), message: `is required for task "${j.task}" (an integer >= 1: how many ${j.task.startsWith("backup") ? "backups" : "snapshots"} to keep)` });
      }
      if (j.fullBackupInterval !== undefined) {
        if (!LONGHORN_BACKUP_TASKS.includes(j.task)) {
          ctx.addIssue({ code: "custom", path: at("fullBackupInterval"), message: `applies only to backup tasks (backup, backup-force-create), not "${j.task}"` });
        } else if (j.retain !== undefined && j.retain <= j.fullBackupInterval) {
          ctx.addIssue({
            code: "custom",
            path: at("retain"),
            message: `must be greater than fullBackupInterval (${j.fullBackupInterval}): with retain ${j.retain} the kept backups include ${j.retain < j.fullBackupInterval ? "at times no full backup at all" : "only one full backup"}, so every restore point depends on a single chain of shared blocks and one bad block can break all of them; set retain to at least ${j.fullBackupInterval + 1}`,
          });
        }
      }
    });
    const jobNames = new Set(lh.recurringJobs.map((j) => j.name));
    const groups = new Set(lh.recurringJobs.flatMap((j) => j.groups));
    lh.storageClasses.forEach((sc, i) => {
      sc.recurringJobs.forEach((name, k) => {
        if (!jobNames.has(name)) {
          ctx.addIssue({ code: "custom", path: ["storageClasses", i, "recurringJobs", k], message: `names recurring job "${name}", which is not defined in longhorn.recurringJobs${suggest(name, [...jobNames])}` });
        }
      });
      sc.recurringJobGroups.forEach((g, k) => {
        if (g !== "default" && !groups.has(g)) {
          ctx.addIssue({ code: "custom", path: ["storageClasses", i, "recurringJobGroups", k], message: `names group "${g}", which no recurring job is in, so new volumes of this class would never be backed up${suggest(g, [...groups])}` });
        }
      });
      if (sc.recurringJobs.length === 0 && sc.recurringJobGroups.length === 0) {
        ctx.addIssue({ code: "custom", path: ["storageClasses", i], message: "names no recurringJobs and no recurringJobGroups; volumes of this class would join no job" });
      }
    });
  });

const databaseSchema = z.strictObject({
  name: dnsLabel(40),
  namespace: dnsLabel(),
  host: z.string().regex(/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/, "must be a service or host name"),
  port: port.default(5432),
  database: z.string().min(1).optional(),
  user: z.string().min(1).default("postgres"),
  passwordSecret: secretRef,
  schedule: cron.optional(),
  mode: z.enum(["database", "cluster"]).default("database"),
  image: pinnedImage.optional(),
});

const DEFAULT_CHECK = "SELECT count(*) FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema')";

const postgresSchema = z
  .strictObject({
    image: pinnedImage.default(VERSIONS.postgresImage),
    retentionDays: posInt(1).default(7),
    window: z.strictObject({ start: hhmm, end: hhmm }).default({ start: "03:00", end: "05:00" }),
    databases: z.array(databaseSchema).min(1, "must list at least one database"),
    restoreDrill: z
      .strictObject({
        schedule: cron.default("0 6 * * 0"),
        databases: z.array(z.string()).optional(),
        checks: z.array(z.string().min(1)).min(1, "must list at least one SQL check").default([DEFAULT_CHECK]),
      })
      .optional(),
  })
  .superRefine((pg, ctx) => {
    uniqueBy(pg.databases, (d) => d.name, "database", ctx, ["databases"]);
    if (pg.window.start >= pg.window.end) {
      ctx.addIssue({ code: "custom", path: ["window", "start"], message: `must be earlier than window.end (${pg.window.start} >= ${pg.window.end}); a window that crosses midnight is not supported` });
    }
    const names = pg.databases.map((d) => d.name);
    pg.restoreDrill?.databases?.forEach((n, i) => {
      if (!names.includes(n)) ctx.addIssue({ code: "custom", path: ["restoreDrill", "databases", i], message: `names database "${n}", which is not in postgres.databases${suggest(n, names)}` });
    });
  })
  .transform((pg) => ({
    ...pg,
    databases: pg.databases.map((d) => ({ ...d, database: d.database ?? d.name, image: d.image ?? pg.image })),
    restoreDrill: pg.restoreDrill && { ...pg.restoreDrill, databases: pg.restoreDrill.databases ?? pg.databases.map((d) => d.name) },
  }));

const etcdSchema = z.strictObject({
  schedule: cron.default("0 2 * * *"),
  snapshotDir: absolutePath.default("/var/lib/rancher/k3s/server/db/snapshots"),
  retentionDays: posInt(1).default(7),
  nodeSelector: stringMap.default({ "node-role.kubernetes.io/control-plane": "true" }),
  /** Extension: tolerations so the job can run on tainted control-plane nodes. */
  tolerations: z
    .array(z.strictObject({ key: z.string(), operator: z.enum(["Exists", "Equal"]).default("Exists"), value: z.string().optional(), effect: z.enum(["NoSchedule", "PreferNoSchedule", "NoExecute"]).optional() }))
    .default([
      { key: "node-role.kubernetes.io/control-plane", operator: "Exists", effect: "NoSchedule" },
      { key: "node-role.kubernetes.io/master", operator: "Exists", effect: "NoSchedule" },
    ]),
  /** Extension: the namespace of the CronJob. */
  namespace: dnsLabel().default("kube-system"),
});

const veleroScheduleSchema = z.strictObject({
  name: dnsLabel(),
  cron,
  ttl: goDuration,
  includedNamespaces: z.array(z.string().min(1)).optional(),
});

const veleroSchema = z
  .strictObject({
    namespace: dnsLabel().default("velero"),
    install: z.boolean().default(true),
    fsBackup: z.boolean().default(false),
    excludedNamespaces: z.array(z.string().min(1)).default(["kube-system", "kube-node-lease", "kube-public", "velero"]),
    excludedResources: z.array(z.string().min(1)).default([]),
    schedules: z.array(veleroScheduleSchema).default([{ name: "daily", cron: "0 2 * * *", ttl: "720h" }]),
  })
  .superRefine((v, ctx) => uniqueBy(v.schedules, (s) => s.name, "schedule", ctx, ["schedules"]));

const mirrorSchema = z.strictObject({
  name: dnsLabel(40),
  schedule: cron,
  source: z.strictObject({
    endpoint: z.string().url("must be a URL such as http://rook-ceph-rgw.rook-ceph.svc:80"),
    bucket: bucketName,
    region: z.string().min(1).optional(),
    credentialsSecret: z.strictObject({ namespace: dnsLabel(), name: dnsSubdomain }),
  }),
});

const bucketsSchema = z
  .strictObject({ mirrors: z.array(mirrorSchema).default([]) })
  .superRefine((b, ctx) => uniqueBy(b.mirrors, (m) => m.name, "mirror", ctx, ["mirrors"]));

const offsiteSchema = z.strictObject({
  runOn: z.enum(["hub", "cluster"]).optional(),
  schedule: cron.default("0 6 * * *"),
  ftp: z.strictObject({
    host: hostName,
    port: port.default(21),
    user: z.string().min(1),
    path: z.string().min(1).default("/"),
    explicitTls: z.boolean().default(true),
  }),
  encryption: z
    .strictObject({ enabled: z.boolean().default(true), filenameEncryption: z.enum(["standard", "obfuscate", "off"]).default("standard") })
    .default({ enabled: true, filenameEncryption: "standard" }),
  prefixes: z.array(z.enum(Object.values(PREFIXES) as [string, ...string[]])).min(1).optional(),
  /** Extension: namespace of the CronJob when runOn is cluster. */
  namespace: dnsLabel().default("backup-system"),
});

const ftpBridgeSchema = z.strictObject({
  image: pinnedImage.default(VERSIONS.s3ToFtpImage),
  namespace: dnsLabel().default("longhorn-system"),
  replicas: posInt(1).default(1),
  port: port.default(9000),
  bucket: bucketName.default("longhorn-backups"),
  region: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, "must be a region label").default("us-east-1"),
  ftp: z.strictObject({ host: hostName, port: port.default(21), user: z.string().min(1), path: z.string().min(1).default("/") }),
  encryption: z.boolean().default(true),
});

const alertsSchema = z.strictObject({
  namespace: dnsLabel().default("monitoring"),
  ruleLabels: stringMap.default({ release: "kube-prometheus-stack" }),
  grafanaDashboard: z.boolean().default(true),
  bucketQuotaGiB: z.number().positive("must be a positive number of GiB").optional(),
  hubDiskUsagePercent: z.number().min(1, "must be a percentage between 1 and 100").max(100, "must be a percentage between 1 and 100").default(85),
  restoreTestMaxAgeDays: posInt(1).default(30),
});

const secretsPresentSchema = z.strictObject(Object.fromEntries(SECRET_KEYS.map((k) => [k, z.string().optional()])) as Record<SecretKey, z.ZodOptional<z.ZodString>>);

const SECTIONS = {
  hub: hubSchema,
  longhorn: longhornSchema,
  postgres: postgresSchema,
  etcd: etcdSchema,
  velero: veleroSchema,
  buckets: bucketsSchema,
  offsite: offsiteSchema,
  ftpBridge: ftpBridgeSchema,
  alerts: alertsSchema,
} as const;
export type SectionName = keyof typeof SECTIONS;
export const SECTION_NAMES = Object.keys(SECTIONS) as SectionName[];

const stackSchema = z
  .strictObject({
    hub: hubSchema,
    longhorn: longhornSchema.optional(),
    postgres: postgresSchema.optional(),
    etcd: etcdSchema.optional(),
    velero: veleroSchema.optional(),
    buckets: bucketsSchema.optional(),
    offsite: offsiteSchema.optional(),
    ftpBridge: ftpBridgeSchema.optional(),
    alerts: alertsSchema.optional(),
    secrets: secretsPresentSchema,
  })
  .superRefine((c, ctx) => {
    const hub = c.hub;
    const present = (k: SecretKey) => c.secrets[k] !== undefined && c.secrets[k] !== "";
    if (hub.kind === "pi") {
      for (const k of ["host", "ssh", "dataDir"] as const) {
        if (hub[k] === undefined) ctx.addIssue({ code: "custom", path: ["hub", k], message: `is required when hub.kind is "pi"${k === "dataDir" ? " (an absolute path on an already mounted disk)" : ""}` });
      }
      if (!present("hubSshPrivateKey")) ctx.addIssue({ code: "custom", path: ["secrets", "hubSshPrivateKey"], message: 'is required when hub.kind is "pi": pulumi config set --secret homelab-backup:hubSshPrivateKey < ~/.ssh/id_ed25519' });
      if (hub.archive) ctx.addIssue({ code: "custom", path: ["hub", "archive"], message: 'applies only to hub.kind "aws" (storage classes are an AWS feature)' });
      if (hub.objectLock && hub.server !== "minio") ctx.addIssue({ code: "custom", path: ["hub", "objectLock"], message: `is supported on a pi hub only with server "minio", not "${hub.server}"` });
      if (hub.tls && hub.consolePort === hub.port) ctx.addIssue({ code: "custom", path: ["hub", "consolePort"], message: "must differ from hub.port" });
      if (hub.consolePort === hub.port) ctx.addIssue({ code: "custom", path: ["hub", "consolePort"], message: `must differ from hub.port (${hub.port})` });
    } else {
      for (const k of ["ssh", "dataDir", "host", "version"] as const) {
        if (hub[k] !== undefined) ctx.addIssue({ code: "custom", path: ["hub", k], message: 'applies only to hub.kind "pi"; remove it or set kind: pi' });
      }
    }
    if (c.offsite) {
      const runOn = c.offsite.runOn ?? (hub.kind === "pi" ? "hub" : "cluster");
      if (runOn === "hub" && hub.kind !== "pi") ctx.addIssue({ code: "custom", path: ["offsite", "runOn"], message: 'is "hub", which needs hub.kind "pi" (an AWS bucket cannot run a timer); use runOn: cluster' });
      if (!present("offsiteFtpPassword")) ctx.addIssue({ code: "custom", path: ["secrets", "offsiteFtpPassword"], message: "is required when offsite is set: pulumi config set --secret homelab-backup:offsiteFtpPassword" });
      if (!c.offsite.encryption.enabled && c.offsite.encryption.filenameEncryption !== "standard") {
        ctx.addIssue({ code: "custom", path: ["offsite", "encryption", "filenameEncryption"], message: "has no effect while encryption.enabled is false" });
      }
    }
    if (c.longhorn?.target === "ftpBridge" && !c.ftpBridge) {
      ctx.addIssue({ code: "custom", path: ["longhorn", "target"], message: 'is "ftpBridge", which needs the homelab-backup:ftpBridge section' });
    }
    if (c.ftpBridge) {
      if (!present("ftpBridgePassword")) ctx.addIssue({ code: "custom", path: ["secrets", "ftpBridgePassword"], message: "is required when ftpBridge is set: pulumi config set --secret homelab-backup:ftpBridgePassword" });
      const key = c.secrets.ftpBridgeEncryptionKey;
      if (key !== undefined && !/^[0-9a-fA-F]{64}$/.test(key)) {
        ctx.addIssue({ code: "custom", path: ["secrets", "ftpBridgeEncryptionKey"], message: "must be 64 hexadecimal characters (32 bytes; e.g. openssl rand -hex 32)" });
      }
    }
    if (c.offsite?.prefixes && c.offsite.prefixes.length === 0) ctx.addIssue({ code: "custom", path: ["offsite", "prefixes"], message: "must not be empty" });
  });

/** The typed, defaulted stack configuration; `secrets` records only which secret keys are set. */
export type StackConfig = z.output<typeof stackSchema>;
export type HubConfig = StackConfig["hub"];
export type LonghornConfig = NonNullable<StackConfig["longhorn"]>;
export type RecurringJobConfig = LonghornConfig["recurringJobs"][number];
export type StorageClassConfig = LonghornConfig["storageClasses"][number];
export type PostgresConfig = NonNullable<StackConfig["postgres"]>;
export type DatabaseConfig = PostgresConfig["databases"][number];
export type RestoreDrillConfig = NonNullable<PostgresConfig["restoreDrill"]>;
export type EtcdConfig = NonNullable<StackConfig["etcd"]>;
export type VeleroConfig = NonNullable<StackConfig["velero"]>;
export type VeleroScheduleConfig = VeleroConfig["schedules"][number];
export type BucketsConfig = NonNullable<StackConfig["buckets"]>;
export type MirrorConfig = BucketsConfig["mirrors"][number];
export type OffsiteConfig = NonNullable<StackConfig["offsite"]> & { runOn: "hub" | "cluster" };
export type FtpBridgeConfig = NonNullable<StackConfig["ftpBridge"]>;
export type AlertsConfig = NonNullable<StackConfig["alerts"]>;

// ---------------------------------------------------------------------------------------------
// Parsing and errors
// ---------------------------------------------------------------------------------------------

export interface ConfigProblem {
  /** Key path as users write it: `longhorn.recurringJobs[1].retain`, or `homelab-backup:lognhorn`. */
  readonly path: string;
  readonly message: string;
}

export class StackConfigError extends Error {
  constructor(readonly problems: ConfigProblem[]) {
    super(`invalid stack configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` + problems.map((p) => `  ${p.path}: ${p.message}`).join("\n"));
    this.name = "StackConfigError";
  }
}

/** Damerau-free Levenshtein distance; small strings only (config keys). */
export function editDistance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  let prev = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const cur = [i];
    for (let j = 1; j <= y.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x[i - 1] === y[j - 1] ? 0 : 1));
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

function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const p of path) out += typeof p === "number" ? `[${p}]` : out === "" ? String(p) : `.${String(p)}`;
  return out;
}

/** The object keys a schema accepts at `path` (for did-you-mean on unknown keys). */
function knownKeysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let s: any = schema;
  const unwrap = () => {
    for (;;) {
      const t = s?._zod?.def?.type;
      if (t === "optional" || t === "default" || t === "nullable" || t === "prefault") s = s._zod.def.innerType;
      else if (t === "pipe") s = s._zod.def.in;
      else return;
    }
  };
  unwrap();
  for (const p of path) {
    const t = s?._zod?.def?.type;
    if (t === "object") s = s._zod.def.shape[p as string];
    else if (t === "array") s = s._zod.def.element;
    else if (t === "record") s = s._zod.def.valueType;
    else return [];
    unwrap();
  }
  return s?._zod?.def?.type === "object" ? Object.keys(s._zod.def.shape) : [];
}

function problemsFrom(error: z.ZodError): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  for (const issue of error.issues) {
    if (issue.code === "unrecognized_keys") {
      const known = knownKeysAt(stackSchema, issue.path);
      for (const key of issue.keys) {
        out.push({ path: formatPath([...issue.path, key]), message: `is not a known key${suggest(key, known)} (known keys: ${known.join(", ")})` });
      }
      continue;
    }
    let path = [...issue.path];
    if (path[0] === "secrets") path = [`${PROJECT}:${String(path[1])}`];
    let message = issue.message;
    if (issue.code === "invalid_type") {
      const expected = (issue as any).expected;
      message = (issue as any).input === undefined ? `is required (${expected})` : `must be ${expected === "array" ? "a list" : `a${/^[aeiou]/.test(expected) ? "n" : ""} ${expected}`}`;
    } else if (issue.code === "invalid_value") {
      message = `must be one of ${(issue as any).values.map((v: unknown) => JSON.stringify(v)).join(", ")}`;
    }
    out.push({ path: formatPath(path), message });
  }
  return out;
}

/**
 * Parses the raw `homelab-backup:*` configuration. `raw` maps full keys (`homelab-backup:hub`) or bare
 * keys (`hub`) to values: objects as JSON strings (as `pulumi config` stores them) or as objects.
 * Keys of other namespaces are ignored. Throws `StackConfigError` listing every problem.
 */
export function parseStackConfig(raw: Record<string, unknown>): StackConfig {
  const problems: ConfigProblem[] = [];
  const sections: Record<string, unknown> = {};
  const secrets: Record<string, string> = {};
  const known = [...SECTION_NAMES, ...SECRET_KEYS];
  for (const [fullKey, value] of Object.entries(raw)) {
    const [ns, key] = fullKey.includes(":") ? [fullKey.slice(0, fullKey.indexOf(":")), fullKey.slice(fullKey.indexOf(":") + 1)] : [PROJECT, fullKey];
    if (ns !== PROJECT) continue;
    if ((SECRET_KEYS as readonly string[]).includes(key)) {
      secrets[key] = typeof value === "string" ? value : JSON.stringify(value);
      continue;
    }
    if (!(SECTION_NAMES as string[]).includes(key)) {
      problems.push({ path: `${PROJECT}:${key}`, message: `is not a known key${suggest(key, known)} (known keys: ${known.join(", ")})` });
      continue;
    }
    let parsed = value;
    if (typeof value === "string") {
      try {
        parsed = JSON.parse(value);
      } catch {
        problems.push({ path: key, message: "must be an object (a YAML mapping under the key), not a plain string" });
        continue;
      }
    }
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
      problems.push({ path: key, message: "must be an object (a YAML mapping under the key)" });
      continue;
    }
    sections[key] = parsed;
  }
  if (!("hub" in sections) && !problems.some((p) => p.path === "hub")) {
    problems.push({ path: "hub", message: `is required: every stack needs ${PROJECT}:hub (kind: aws or pi, bucket: ...)` });
  }
  const result = stackSchema.safeParse({ ...sections, secrets });
  if (!result.success) {
    for (const p of problemsFrom(result.error)) if (!(p.path === "hub" && problems.some((q) => q.path === "hub"))) problems.push(p);
  }
  if (problems.length > 0 || !result.success) throw new StackConfigError(problems);
  const config = result.data;
  if (config.offsite) config.offsite.runOn ??= config.hub.kind === "pi" ? "hub" : "cluster";
  return config;
}

/** The offsite section with `runOn` resolved (hub for a pi hub, else cluster). */
export function offsiteOf(config: StackConfig): OffsiteConfig | undefined {
  if (!config.offsite) return undefined;
  return { ...config.offsite, runOn: config.offsite.runOn ?? (config.hub.kind === "pi" ? "hub" : "cluster") };
}

/** Which data classes a stack backs up, in plan order. */
export function configuredClasses(config: StackConfig): string[] {
  const out: string[] = [];
  if (config.longhorn) out.push("longhorn");
  if (config.postgres) out.push("postgres");
  if (config.etcd) out.push("etcd");
  if (config.velero) out.push("velero");
  if (config.buckets && config.buckets.mirrors.length > 0) out.push("buckets");
  if (config.offsite) out.push("offsite");
  return out;
}
