/** The hub section: an AWS bucket, a Pi running an S3 server, or an S3 server that already exists. Part of the stack file schema (components/config.ts composes the sections). */
import { z } from "zod";
import { absolutePath, bucketName, hostName, port, posInt } from "../core/schema.js";
import { S3_FLAVORS } from "./s3/s3Flavors.js";
import { piHubFields } from "./pi/schemaPi.js";

import { ARCHIVE_STORAGE_CLASSES } from "./archive.js";

export const ARCHIVE_CLASSES = ARCHIVE_STORAGE_CLASSES;

export const hubSchema = z.strictObject({
  kind: z.enum(["aws", "pi", "s3"]),
  bucket: bucketName,
  region: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]*$/, "must be a region label: lowercase letters, digits and '-'")
    .default("us-east-1"),
  /** Which classes move (and when the stack is refused): components/hub/archive.ts. */
  archive: z
    .strictObject({
      afterDays: posInt(0),
      storageClass: z.enum(ARCHIVE_CLASSES),
      allowThaw: z.boolean().default(false),
    })
    .optional(),
  objectLock: z.strictObject({ mode: z.enum(["GOVERNANCE", "COMPLIANCE"]), days: posInt(1) }).optional(),
  host: hostName.optional(),
  ssh: z
    .strictObject({ user: z.string().regex(/^[a-z_][a-z0-9_-]*$/, "must be a Unix user name"), port: port.default(22) })
    .optional(),
  /** aws (and s3): the bucket exists already; import it and never delete it. */
  adopt: z.boolean().default(false),
  ...piHubFields,
  dataDir: absolutePath.refine((p) => p !== "/", "must not be the root filesystem").optional(),
  port: port.default(9000),
  consolePort: port.default(9001),
  tls: z.boolean().default(false),
  /** Extension: where node-exporter's textfile collector reads `*.prom` files on the hub. */
  textfileCollectorDir: absolutePath.default("/var/lib/prometheus/node-exporter"),
  /** s3 only: the existing server's S3 endpoint. */
  endpoint: z
    .string()
    .regex(
      /^https?:\/\/[^\s/?#]+\/?$/,
      "must be an http:// or https:// URL of the server, without a path (e.g. https://s3.lan:9000)",
    )
    .transform((u) => u.replace(/\/+$/, ""))
    .optional(),
  /** s3 only: what the server is (decides what the program can manage and check); `generic` when absent. */
  flavor: z.enum(S3_FLAVORS).optional(),
  /** s3 only: `admin` configures the server with the admin key; `none` uses hubWriterKeys. Default by flavor (s3Flavors.ts). */
  manage: z.enum(["admin", "none"]).optional(),
  /** s3 with manage admin: the access key id of the server's admin user (its secret is hubAdminPassword). */
  adminAccessKeyId: z.string().min(1).optional(),
});

/** The hub section, parsed and defaulted. */
export type HubConfig = z.output<typeof hubSchema>;
