/**
 * The stack file contract as one typed zod schema, composed from each area's section
 * (`components/<area>/schema.ts`).
 *
 * `parseStackConfig` takes the raw `homelab-backup:*` config (as `pulumi config` stores it: objects
 * as JSON strings) and returns the typed, defaulted configuration, or throws a `StackConfigError`
 * listing every problem with its key path. Nothing here touches Pulumi resources, so a bad stack file
 * stops the program before anything is registered.
 */
import { z } from "zod";
import { stackArchivePlan } from "./hub/archive.js";
import { alertsSchema } from "./alerts/schema.js";
import { PROJECT, SECRET_KEYS, suggest, type SecretKey } from "./core/schema.js";
import { drillsSchema } from "./drills/schema.js";
import { etcdSchema } from "./etcd/schema.js";
import { ftpBridgeSchema } from "./ftpBridge/schema.js";
import { hubSchema } from "./hub/schema.js";
import { s3StackIssues } from "./hub/s3/s3Stack.js";
import { checkPiHub } from "./hub/pi/schemaPi.js";
import { longhornSchema } from "./longhorn/schema.js";
import { bucketsSchema } from "./mirror/schema.js";
import { defaultRunOn, offsiteSchema } from "./offsite/schema.js";
import { postgresSchema, restoreDrillWithDefaults } from "./postgres/schema.js";
import { veleroSchema } from "./velero/schema.js";

export {
  bucketNameError,
  editDistance,
  imageError,
  PREFIXES,
  PROJECT,
  SECRET_KEYS,
  suggest,
  type DataClass,
  type SecretKey,
} from "./core/schema.js";
export { ARCHIVE_CLASSES } from "./hub/schema.js";
export { LONGHORN_BACKUP_TASKS, LONGHORN_NO_RETAIN_TASKS, LONGHORN_TASKS } from "./longhorn/schema.js";

const secretsPresentSchema = z.strictObject(
  Object.fromEntries(SECRET_KEYS.map((k) => [k, z.string().optional()])) as Record<
    SecretKey,
    z.ZodOptional<z.ZodString>
  >,
);

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
  drills: drillsSchema,
} as const;
export type SectionName = keyof typeof SECTIONS;
export const SECTION_NAMES = Object.keys(SECTIONS) as SectionName[];

const stackSchema = z
  .strictObject({
    hub: hubSchema.optional(),
    longhorn: longhornSchema.optional(),
    postgres: postgresSchema.optional(),
    etcd: etcdSchema.optional(),
    velero: veleroSchema.optional(),
    buckets: bucketsSchema.optional(),
    offsite: offsiteSchema.optional(),
    ftpBridge: ftpBridgeSchema.optional(),
    alerts: alertsSchema.optional(),
    drills: drillsSchema.optional(),
    secrets: secretsPresentSchema,
  })
  .superRefine((c, ctx) => {
    const hub = c.hub;
    const present = (k: SecretKey) => c.secrets[k] !== undefined && c.secrets[k] !== "";
    // The hub exists only for the sections that write to it; a stack that stores only through the FTP bridge has none.
    const writers = hubWriters(c);
    if (!hub) {
      if (writers.length > 0) {
        ctx.addIssue({
          code: "custom",
          path: ["hub"],
          message: `is required: ${writers.join(" and ")} write${writers.length === 1 ? "s" : ""} to it (kind: aws or pi, bucket: ...)`,
        });
      }
    } else if (hub.kind === "pi") {
      for (const k of ["host", "ssh", "dataDir"] as const) {
        if (hub[k] === undefined)
          ctx.addIssue({
            code: "custom",
            path: ["hub", k],
            message: `is required when hub.kind is "pi"${k === "dataDir" ? " (an absolute path on an already mounted disk)" : ""}`,
          });
      }
      if (!present("hubSshPrivateKey"))
        ctx.addIssue({
          code: "custom",
          path: ["secrets", "hubSshPrivateKey"],
          message:
            'is required when hub.kind is "pi": pulumi config set --secret homelab-backup:hubSshPrivateKey < ~/.ssh/id_ed25519',
        });
      if (hub.archive)
        ctx.addIssue({
          code: "custom",
          path: ["hub", "archive"],
          message: 'applies only to hub.kind "aws" (storage classes are an AWS feature)',
        });
      if (hub.adopt)
        ctx.addIssue({
          code: "custom",
          path: ["hub", "adopt"],
          message:
            'applies to hub.kind "aws" and "s3": a pi hub creates its bucket when missing and keeps it when it exists',
        });
      checkPiHub(hub, ctx);
      if (hub.tls && hub.consolePort === hub.port)
        ctx.addIssue({ code: "custom", path: ["hub", "consolePort"], message: "must differ from hub.port" });
      if (hub.consolePort === hub.port)
        ctx.addIssue({
          code: "custom",
          path: ["hub", "consolePort"],
          message: `must differ from hub.port (${hub.port})`,
        });
    } else {
      for (const k of ["ssh", "dataDir", "host", "version", "sha256"] as const) {
        if (hub[k] !== undefined)
          ctx.addIssue({
            code: "custom",
            path: ["hub", k],
            message: 'applies only to hub.kind "pi"; remove it or set kind: pi',
          });
      }
    }
    if (hub)
      for (const p of s3StackIssues({ ...c, hub })) ctx.addIssue({ code: "custom", path: p.path, message: p.message });
    if (c.offsite) {
      const runOn = c.offsite.runOn ?? defaultRunOn(hub?.kind);
      if (hub && runOn === "hub" && hub.kind !== "pi")
        ctx.addIssue({
          code: "custom",
          path: ["offsite", "runOn"],
          message: 'is "hub", which needs hub.kind "pi" (an AWS bucket cannot run a timer); use runOn: cluster',
        });
      if (!present("offsiteFtpPassword"))
        ctx.addIssue({
          code: "custom",
          path: ["secrets", "offsiteFtpPassword"],
          message: "is required when offsite is set: pulumi config set --secret homelab-backup:offsiteFtpPassword",
        });
      if (!c.offsite.encryption.enabled && c.offsite.encryption.filenameEncryption !== "standard") {
        ctx.addIssue({
          code: "custom",
          path: ["offsite", "encryption", "filenameEncryption"],
          message: "has no effect while encryption.enabled is false",
        });
      }
    }
    if (c.longhorn?.target === "ftpBridge" && !c.ftpBridge) {
      ctx.addIssue({
        code: "custom",
        path: ["longhorn", "target"],
        message: 'is "ftpBridge", which needs the homelab-backup:ftpBridge section',
      });
    }
    if (c.ftpBridge) {
      if (!present("ftpBridgePassword"))
        ctx.addIssue({
          code: "custom",
          path: ["secrets", "ftpBridgePassword"],
          message: "is required when ftpBridge is set: pulumi config set --secret homelab-backup:ftpBridgePassword",
        });
      const key = c.secrets.ftpBridgeEncryptionKey;
      if (key !== undefined && !/^[0-9a-fA-F]{64}$/.test(key)) {
        ctx.addIssue({
          code: "custom",
          path: ["secrets", "ftpBridgeEncryptionKey"],
          message: "must be 64 hexadecimal characters (32 bytes; e.g. openssl rand -hex 32)",
        });
      }
    }
    if (c.offsite?.prefixes && c.offsite.prefixes.length === 0)
      ctx.addIssue({ code: "custom", path: ["offsite", "prefixes"], message: "must not be empty" });
    // A drill proves a class the stack backs up: without the class there is nothing to restore.
    const d = c.drills;
    if (d) {
      const needs: [keyof typeof d, boolean, string][] = [
        ["postgres", !!c.postgres, "the homelab-backup:postgres section"],
        ["velero", !!c.velero, "the homelab-backup:velero section"],
        ["longhorn", !!c.longhorn, "the homelab-backup:longhorn section"],
        ["etcd", !!c.etcd, "the homelab-backup:etcd section"],
        ["offsite", !!c.offsite, "the homelab-backup:offsite section"],
        ["buckets", (c.buckets?.mirrors.length ?? 0) > 0, "at least one buckets.mirrors entry"],
      ];
      for (const [cls, present, what] of needs) {
        if (d[cls] !== undefined && !present)
          ctx.addIssue({
            code: "custom",
            path: ["drills", cls],
            message: `needs ${what}: there is nothing to restore`,
          });
      }
      if (d.postgres && c.postgres?.restoreDrill)
        ctx.addIssue({
          code: "custom",
          path: ["drills", "postgres"],
          message: "and postgres.restoreDrill are the same drill: keep one of them",
        });
      const dbs = c.postgres?.databases.map((x) => x.name) ?? [];
      d.postgres?.databases?.forEach((n, i) => {
        if (c.postgres && !dbs.includes(n))
          ctx.addIssue({
            code: "custom",
            path: ["drills", "postgres", "databases", i],
            message: `names database "${n}", which is not in postgres.databases${suggest(n, dbs)}`,
          });
      });
      d.velero?.namespaces.forEach((n, i) => {
        if (c.velero?.excludedNamespaces?.includes(n))
          ctx.addIssue({
            code: "custom",
            path: ["drills", "velero", "namespaces", i],
            message: `names namespace "${n}", which velero.excludedNamespaces keeps out of every backup`,
          });
      });
    }
    // hub.archive: only for classes it pays off for, never freezing what restores read without allowThaw.
    for (const message of stackArchivePlan(c as StackConfig)?.errors ?? []) {
      ctx.addIssue({ code: "custom", path: ["hub", "archive"], message });
    }
    const a = c.alerts;
    if (a) {
      const needs = (on: boolean, key: SecretKey, what: string) => {
        if (on && !present(key))
          ctx.addIssue({
            code: "custom",
            path: ["secrets", key],
            message: `is required when ${what} is set: pulumi config set --secret homelab-backup:${key}`,
          });
      };
      needs(a.notify?.slack !== undefined, "alertsSlackWebhookUrl", "alerts.notify.slack");
      needs(a.notify?.email !== undefined, "alertsSmtpPassword", "alerts.notify.email");
      needs(a.heartbeat !== undefined, "alertsHeartbeatUrl", "alerts.heartbeat");
      if (a.monthlyCostUsd !== undefined && c.hub?.kind !== "aws")
        ctx.addIssue({
          code: "custom",
          path: ["alerts", "monthlyCostUsd"],
          message: 'applies only to hub.kind "aws" (a Pi hub has no storage bill); use alerts.bucketQuotaGiB',
        });
    }
  });

/** The typed, defaulted stack configuration; `secrets` records only which secret keys are set. */
export type StackConfig = z.output<typeof stackSchema>;
export type HubConfig = NonNullable<StackConfig["hub"]>;
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
export type DrillsConfig = NonNullable<StackConfig["drills"]>;

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
    super(
      `invalid stack configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
        problems.map((p) => `  ${p.path}: ${p.message}`).join("\n"),
    );
    this.name = "StackConfigError";
  }
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

const article = (noun: string) => `a${/^[aeiou]/.test(noun) ? "n" : ""} ${noun}`;

/** A value as a stack file author sees it: its YAML type and, for a scalar, the value itself. */
function describeValue(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a mapping";
  const shown = JSON.stringify(v);
  const type = typeof v === "boolean" ? "boolean" : typeof v;
  return `${article(type)} (${shown.length > 40 ? `${shown.slice(0, 37)}...` : shown})`;
}

function problemsFrom(error: z.ZodError): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  for (const issue of error.issues) {
    if (issue.code === "unrecognized_keys") {
      const known = knownKeysAt(stackSchema, issue.path);
      for (const key of issue.keys) {
        out.push({
          path: formatPath([...issue.path, key]),
          message: `is not a known key${suggest(key, known)} (known keys: ${known.join(", ")})`,
        });
      }
      continue;
    }
    let path = [...issue.path];
    if (path[0] === "secrets") path = [`${PROJECT}:${String(path[1])}`];
    let message = issue.message;
    if (issue.code === "invalid_type") {
      const expected = (issue as any).expected;
      const input = (issue as any).input;
      message =
        input === undefined
          ? `is required (${expected})`
          : `must be ${article(expected === "array" ? "list" : expected)}, not ${describeValue(input)}`;
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
    const [ns, key] = fullKey.includes(":")
      ? [fullKey.slice(0, fullKey.indexOf(":")), fullKey.slice(fullKey.indexOf(":") + 1)]
      : [PROJECT, fullKey];
    if (ns !== PROJECT) continue;
    if ((SECRET_KEYS as readonly string[]).includes(key)) {
      secrets[key] = typeof value === "string" ? value : JSON.stringify(value);
      continue;
    }
    if (!(SECTION_NAMES as string[]).includes(key)) {
      problems.push({
        path: `${PROJECT}:${key}`,
        message: `is not a known key${suggest(key, known)} (known keys: ${known.join(", ")})`,
      });
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
  // reportInput: zod 4 leaves `input` off its issues otherwise, and a wrong type would read as missing.
  const result = stackSchema.safeParse({ ...sections, secrets }, { reportInput: true });
  if (!result.success) {
    for (const p of problemsFrom(result.error))
      if (!(p.path === "hub" && problems.some((q) => q.path === "hub"))) problems.push(p);
  }
  if (problems.length > 0 || !result.success) throw new StackConfigError(problems);
  const config = result.data;
  if (config.offsite) config.offsite.runOn ??= defaultRunOn(config.hub?.kind);
  // drills.postgres is postgres.restoreDrill under its new name: one drill, built by PostgresRestoreDrill.
  const pgDrill = config.drills?.postgres;
  if (pgDrill && config.postgres) {
    config.postgres.restoreDrill = restoreDrillWithDefaults(
      { schedule: pgDrill.schedule, databases: pgDrill.databases, checks: pgDrill.checks },
      config.postgres.databases.map((x) => x.name),
    );
  }
  return config;
}

/** The offsite section with `runOn` resolved (hub for a pi hub, else cluster). */
export function offsiteOf(config: StackConfig): OffsiteConfig | undefined {
  if (!config.offsite) return undefined;
  return { ...config.offsite, runOn: config.offsite.runOn ?? defaultRunOn(config.hub?.kind) };
}

/** The sections that write to (or read from) the hub: the hub is required exactly when this is not empty. */
export function hubWriters(
  config: Pick<StackConfig, "longhorn" | "postgres" | "etcd" | "velero" | "buckets" | "offsite">,
): string[] {
  const out: string[] = [];
  if (config.longhorn && config.longhorn.target === "hub") out.push("longhorn (target: hub)");
  if (config.postgres) out.push("postgres");
  if (config.etcd) out.push("etcd");
  if (config.velero) out.push("velero");
  if (config.buckets && config.buckets.mirrors.length > 0) out.push("buckets");
  if (config.offsite) out.push("offsite");
  return out;
}

/** The hub section of a stack whose sections need one (the schema guarantees it then); throws otherwise. */
export function hubOf(config: StackConfig): HubConfig {
  if (!config.hub)
    throw new Error(
      `the stack has no hub (no section writes to one): ${PROJECT}:hub is required by ${hubWriters(config).join(", ") || "nothing"}`,
    );
  return config.hub;
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
