/** The ftpBridge section: an S3 endpoint in the cluster that stores on FTP. Part of the stack file schema (components/config.ts composes the sections). */
import { z } from "zod";
import { bucketName, dnsLabel, hostName, pinnedImage, port, posInt } from "../core/schema.js";
import { VERSIONS } from "../core/versions.js";

/**
 * Every default of the ftpBridge section, in one place: the schema's `.default()`s below and S3FtpBridge
 * (through `ftpBridgeWithDefaults`) read them here.
 */
export const FTP_BRIDGE_DEFAULTS = {
  image: VERSIONS.s3ToFtpImage,
  namespace: "longhorn-system",
  replicas: 1,
  port: 9000,
  bucket: "longhorn-backups",
  region: "us-east-1",
  ftp: { port: 21, path: "/" },
  encryption: true,
} as const;

const d = FTP_BRIDGE_DEFAULTS;

export const ftpBridgeSchema = z.strictObject({
  /** @default VERSIONS.s3ToFtpImage (components/core/versions.ts) */
  image: pinnedImage.default(d.image),
  /** @default "longhorn-system" */
  namespace: dnsLabel().default(d.namespace),
  /** @default 1 */
  replicas: posInt(1).default(d.replicas),
  /** The Service's S3 port. @default 9000 */
  port: port.default(d.port),
  /** The bucket Longhorn addresses on the bridge. @default "longhorn-backups" */
  bucket: bucketName.default(d.bucket),
  /** @default "us-east-1" */
  region: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]*$/, "must be a region label")
    .default(d.region),
  ftp: z.strictObject({
    host: hostName,
    /** @default 21 */
    port: port.default(d.ftp.port),
    user: z.string().min(1),
    /** @default "/" */
    path: z.string().min(1).default(d.ftp.path),
  }),
  /** Encrypt the objects before they reach the FTP server. @default true */
  encryption: z.boolean().default(d.encryption),
});

/** The ftpBridge section, parsed and defaulted. */
export type FtpBridgeConfig = z.output<typeof ftpBridgeSchema>;
/** The ftpBridge section as written: every key with a default may be left out. */
export type FtpBridgeInput = z.input<typeof ftpBridgeSchema>;

/** The ftpBridge section with every default of the schema applied (FTP_BRIDGE_DEFAULTS). */
export function ftpBridgeWithDefaults(b: FtpBridgeInput): FtpBridgeConfig {
  return {
    ...b,
    image: b.image ?? d.image,
    namespace: b.namespace ?? d.namespace,
    replicas: b.replicas ?? d.replicas,
    port: b.port ?? d.port,
    bucket: b.bucket ?? d.bucket,
    region: b.region ?? d.region,
    ftp: { ...b.ftp, port: b.ftp.port ?? d.ftp.port, path: b.ftp.path ?? d.ftp.path },
    encryption: b.encryption ?? d.encryption,
  };
}
