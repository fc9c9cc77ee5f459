/** The ftpBridge section: an S3 endpoint in the cluster that stores on FTP. Part of the stack file schema (components/config.ts composes the sections). */
import { z } from "zod";
import { bucketName, dnsLabel, hostName, pinnedImage, port, posInt } from "../core/schema.js";
import { VERSIONS } from "../core/versions.js";

export const ftpBridgeSchema = z.strictObject({
  image: pinnedImage.default(VERSIONS.s3ToFtpImage),
  namespace: dnsLabel().default("longhorn-system"),
  replicas: posInt(1).default(1),
  port: port.default(9000),
  bucket: bucketName.default("longhorn-backups"),
  region: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]*$/, "must be a region label")
    .default("us-east-1"),
  ftp: z.strictObject({
    host: hostName,
    port: port.default(21),
    user: z.string().min(1),
    path: z.string().min(1).default("/"),
  }),
  encryption: z.boolean().default(true),
});

/** The ftpBridge section, parsed and defaulted. */
export type FtpBridgeConfig = z.output<typeof ftpBridgeSchema>;
