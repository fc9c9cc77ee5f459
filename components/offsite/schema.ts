/** The offsite section: the encrypted copy of the hub on FTP(S). Part of the stack file schema (components/config.ts composes the sections). */
import { z } from "zod";
import { cron, dnsLabel, hostName, port, PREFIXES } from "../core/schema.js";

/**
 * Every default of the offsite section, in one place: the schema's `.default()`s below and the
 * components built without the schema (OffsiteCronJob, OffsiteHubTimer, and those that read the copy,
 * through `offsiteWithDefaults`) read them here.
 */
export const OFFSITE_DEFAULTS = {
  schedule: "0 6 * * *",
  ftp: { port: 21, path: "/", explicitTls: true },
  encryption: { enabled: true, filenameEncryption: "standard" },
  namespace: "backup-system",
} as const;

const d = OFFSITE_DEFAULTS;

/** Where the copy runs when `runOn` is not set: on a pi hub (its own timer), else in the cluster. */
export function defaultRunOn(hubKind: "aws" | "pi" | "s3" | undefined): "hub" | "cluster" {
  return hubKind === "pi" ? "hub" : "cluster";
}

export const offsiteSchema = z.strictObject({
  /** @default "hub" on a pi hub, else "cluster" (defaultRunOn) */
  runOn: z.enum(["hub", "cluster"]).optional(),
  /** 5-field cron, UTC. @default "0 6 * * *" */
  schedule: cron.default(d.schedule),
  ftp: z.strictObject({
    host: hostName,
    /** @default 21 */
    port: port.default(d.ftp.port),
    user: z.string().min(1),
    /** The directory on the FTP server the copy goes to. @default "/" */
    path: z.string().min(1).default(d.ftp.path),
    /** FTPS with explicit TLS (AUTH TLS). @default true */
    explicitTls: z.boolean().default(d.ftp.explicitTls),
  }),
  /** rclone crypt over the copy. @default { enabled: true, filenameEncryption: "standard" } */
  encryption: z
    .strictObject({
      /** @default true */
      enabled: z.boolean().default(d.encryption.enabled),
      /** @default "standard" */
      filenameEncryption: z.enum(["standard", "obfuscate", "off"]).default(d.encryption.filenameEncryption),
    })
    .default(d.encryption),
  /** The hub prefixes the copy syncs. @default the whole bucket */
  prefixes: z
    .array(z.enum(Object.values(PREFIXES) as [string, ...string[]]))
    .min(1)
    .optional(),
  /** Extension: namespace of the CronJob when runOn is cluster. @default "backup-system" */
  namespace: dnsLabel().default(d.namespace),
});

/** The offsite section as written: every key with a default may be left out. */
export type OffsiteInput = z.input<typeof offsiteSchema>;
/** The offsite section, parsed and defaulted, `runOn` resolved. */
export type OffsiteConfig = z.output<typeof offsiteSchema> & { runOn: "hub" | "cluster" };

/** The offsite section with every default of the schema applied (OFFSITE_DEFAULTS); `runOn` as on a hub of `hubKind`. */
export function offsiteWithDefaults(o: OffsiteInput, hubKind: "aws" | "pi" | "s3" | undefined): OffsiteConfig {
  return {
    ...o,
    runOn: o.runOn ?? defaultRunOn(hubKind),
    schedule: o.schedule ?? d.schedule,
    ftp: {
      ...o.ftp,
      port: o.ftp.port ?? d.ftp.port,
      path: o.ftp.path ?? d.ftp.path,
      explicitTls: o.ftp.explicitTls ?? d.ftp.explicitTls,
    },
    encryption: {
      enabled: o.encryption?.enabled ?? d.encryption.enabled,
      filenameEncryption: o.encryption?.filenameEncryption ?? d.encryption.filenameEncryption,
    },
    namespace: o.namespace ?? d.namespace,
  };
}
