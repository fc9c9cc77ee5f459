/** The offsite section: the encrypted copy of the hub on FTP(S). Part of the stack file schema (components/config.ts composes the sections). */
import { z } from "zod";
import { cron, dnsLabel, hostName, port, PREFIXES } from "../core/schema.js";

export const offsiteSchema = z.strictObject({
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
    .strictObject({
      enabled: z.boolean().default(true),
      filenameEncryption: z.enum(["standard", "obfuscate", "off"]).default("standard"),
    })
    .default({ enabled: true, filenameEncryption: "standard" }),
  prefixes: z
    .array(z.enum(Object.values(PREFIXES) as [string, ...string[]]))
    .min(1)
    .optional(),
  /** Extension: namespace of the CronJob when runOn is cluster. */
  namespace: dnsLabel().default("backup-system"),
});
