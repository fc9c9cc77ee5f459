/** The hub section: an AWS bucket or a Pi running an S3 server. Part of the stack file schema (components/config.ts composes the sections). */
import { z } from "zod";
import { absolutePath, bucketName, hostName, notLatest, port, posInt } from "../core/schema.js";

export const ARCHIVE_CLASSES = ["GLACIER", "GLACIER_IR", "DEEP_ARCHIVE", "STANDARD_IA"] as const;

export const hubSchema = z.strictObject({
  kind: z.enum(["aws", "pi"]),
  bucket: bucketName,
  region: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]*$/, "must be a region label: lowercase letters, digits and '-'")
    .default("us-east-1"),
  archive: z.strictObject({ afterDays: posInt(1), storageClass: z.enum(ARCHIVE_CLASSES) }).optional(),
  objectLock: z.strictObject({ mode: z.enum(["GOVERNANCE", "COMPLIANCE"]), days: posInt(1) }).optional(),
  host: hostName.optional(),
  ssh: z
    .strictObject({ user: z.string().regex(/^[a-z_][a-z0-9_-]*$/, "must be a Unix user name"), port: port.default(22) })
    .optional(),
  server: z.enum(["minio", "rustfs"]).default("minio"),
  version: notLatest.optional(),
  dataDir: absolutePath.refine((p) => p !== "/", "must not be the root filesystem").optional(),
  port: port.default(9000),
  consolePort: port.default(9001),
  tls: z.boolean().default(false),
  /** Extension: where node-exporter's textfile collector reads `*.prom` files on the hub. */
  textfileCollectorDir: absolutePath.default("/var/lib/prometheus/node-exporter"),
});

/** The hub section, parsed and defaulted. */
export type HubConfig = z.output<typeof hubSchema>;
