/** The hub section: an AWS bucket, a Pi running an S3 server, or an S3 server that already exists. Part of the stack file schema (components/config.ts composes the sections). */
import { z } from "zod";
import { absolutePath, bucketName, hostName, port, posInt } from "../core/schema.js";
import { DEFAULT_S3_FLAVOR, S3_FLAVORS } from "./s3/s3Flavors.js";
import { PI_HUB_DEFAULTS, piHubFields } from "./pi/schemaPi.js";

import { ARCHIVE_STORAGE_CLASSES } from "./archive.js";

export const ARCHIVE_CLASSES = ARCHIVE_STORAGE_CLASSES;

/**
 * Every default of the hub section, in one place: the schema's `.default()`s below and the components
 * built without the schema (BackupHub, PiHub, S3Hub, OffsiteHubTimer, HubArrivals, through
 * `hubWithDefaults`) read them here.
 */
export const HUB_DEFAULTS = {
  region: "us-east-1",
  archive: { allowThaw: false },
  ssh: { port: 22 },
  adopt: false,
  ...PI_HUB_DEFAULTS,
  port: 9000,
  consolePort: 9001,
  tls: false,
  allowPlainHttp: false,
  textfileCollectorDir: "/var/lib/prometheus/node-exporter",
  flavor: DEFAULT_S3_FLAVOR,
} as const;

/** An s3 hub's endpoint as the program uses it: without a trailing slash. */
const trimEndpoint = (url: string) => url.replace(/\/+$/, "");

export const hubSchema = z.strictObject({
  kind: z.enum(["aws", "pi", "s3"]),
  bucket: bucketName,
  /** @default "us-east-1" */
  region: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]*$/, "must be a region label: lowercase letters, digits and '-'")
    .default(HUB_DEFAULTS.region),
  /** Which classes move (and when the stack is refused): components/hub/archive.ts. */
  archive: z
    .strictObject({
      afterDays: posInt(0),
      storageClass: z.enum(ARCHIVE_CLASSES),
      /** @default false */
      allowThaw: z.boolean().default(HUB_DEFAULTS.archive.allowThaw),
    })
    .optional(),
  objectLock: z.strictObject({ mode: z.enum(["GOVERNANCE", "COMPLIANCE"]), days: posInt(1) }).optional(),
  /** pi hubs: the host the program reaches over SSH and the cluster reaches over S3. */
  host: hostName.optional(),
  /** pi hubs: the SSH login. */
  ssh: z
    .strictObject({
      user: z.string().regex(/^[a-z_][a-z0-9_-]*$/, "must be a Unix user name"),
      /** @default 22 */
      port: port.default(HUB_DEFAULTS.ssh.port),
    })
    .optional(),
  /** aws (and s3): the bucket exists already; import it and never delete it. @default false */
  adopt: z.boolean().default(HUB_DEFAULTS.adopt),
  ...piHubFields,
  /** pi hubs: where the server keeps its data, on an already mounted disk. */
  dataDir: absolutePath.refine((p) => p !== "/", "must not be the root filesystem").optional(),
  /** pi hubs: the S3 port. @default 9000 */
  port: port.default(HUB_DEFAULTS.port),
  /** pi hubs: the web console's port. @default 9001 */
  consolePort: port.default(HUB_DEFAULTS.consolePort),
  /** pi hubs: the server speaks https. @default false */
  tls: z.boolean().default(HUB_DEFAULTS.tls),
  /**
   * pi and s3 hubs: accept an S3 API in plain HTTP (pi `tls: false`, an `http://` s3 endpoint) on a
   * network the user trusts. Without it the policy pack refuses plain HTTP to a hub reached over the
   * network; with it the pack still reports it (advisory). @default false
   */
  allowPlainHttp: z.boolean().default(HUB_DEFAULTS.allowPlainHttp),
  /** Extension: where node-exporter's textfile collector reads `*.prom` files on the hub. @default "/var/lib/prometheus/node-exporter" */
  textfileCollectorDir: absolutePath.default(HUB_DEFAULTS.textfileCollectorDir),
  /** s3 only: the existing server's S3 endpoint. */
  endpoint: z
    .string()
    .regex(
      /^https?:\/\/[^\s/?#]+\/?$/,
      "must be an http:// or https:// URL of the server, without a path (e.g. https://s3.lan:9000)",
    )
    .transform(trimEndpoint)
    .optional(),
  /** s3 only: what the server is (decides what the program can manage and check). @default "generic" */
  flavor: z.enum(S3_FLAVORS).optional(),
  /** s3 only: `admin` configures the server with the admin key; `none` uses hubWriterKeys. @default by flavor (s3Flavors.ts defaultManage) */
  manage: z.enum(["admin", "none"]).optional(),
  /** s3 with manage admin: the access key id of the server's admin user (its secret is hubAdminPassword). */
  adminAccessKeyId: z.string().min(1).optional(),
  /** s3, flavor garage, manage admin: the URL of Garage's admin API (its token is hubAdminToken), e.g. http://garage.lan:3903. */
  adminEndpoint: z
    .string()
    .regex(
      /^https?:\/\/[^\s/?#]+\/?$/,
      "must be an http:// or https:// URL of the admin API, without a path (e.g. http://garage.lan:3903)",
    )
    .transform(trimEndpoint)
    .optional(),
});

/** The hub section, parsed and defaulted. */
export type HubConfig = z.output<typeof hubSchema>;
/** The hub section as written: every key with a default may be left out. */
export type HubInput = z.input<typeof hubSchema>;
/** A pi hub as written: besides the bucket, the keys a pi hub cannot do without (the stack schema requires them too). */
export type PiHubInput = HubInput & {
  readonly kind: "pi";
  readonly host: string;
  readonly ssh: { readonly user: string; readonly port?: number };
  readonly dataDir: string;
};

/** A parsed hub section as a pi hub's; throws naming what it lacks (the stack schema refuses such a hub). */
export function piHubOf(hub: HubConfig): HubConfig & PiHubInput {
  const problems = [
    ...(hub.kind === "pi" ? [] : [`hub.kind is "${hub.kind}", not "pi"`]),
    ...(["host", "ssh", "dataDir"] as const).filter((k) => hub[k] === undefined).map((k) => `hub.${k} is required`),
  ];
  if (problems.length > 0) throw new Error(`not a pi hub: ${problems.join("; ")}`);
  return hub as HubConfig & PiHubInput;
}

/**
 * The hub section with every default of the schema applied (HUB_DEFAULTS). `flavor` stays as written:
 * the schema leaves it out when absent, and the s3 code reads its absence as "generic".
 */
export function hubWithDefaults(h: HubInput): HubConfig {
  const d = HUB_DEFAULTS;
  return {
    ...h,
    region: h.region ?? d.region,
    archive: h.archive && { ...h.archive, allowThaw: h.archive.allowThaw ?? d.archive.allowThaw },
    ssh: h.ssh && { ...h.ssh, port: h.ssh.port ?? d.ssh.port },
    adopt: h.adopt ?? d.adopt,
    server: h.server ?? d.server,
    sha256: h.sha256 && { arm64: h.sha256.arm64.toLowerCase(), amd64: h.sha256.amd64.toLowerCase() },
    os: h.os ?? d.os,
    monitoring: h.monitoring ?? d.monitoring,
    port: h.port ?? d.port,
    consolePort: h.consolePort ?? d.consolePort,
    tls: h.tls ?? d.tls,
    allowPlainHttp: h.allowPlainHttp ?? d.allowPlainHttp,
    textfileCollectorDir: h.textfileCollectorDir ?? d.textfileCollectorDir,
    endpoint: h.endpoint === undefined ? undefined : trimEndpoint(h.endpoint),
    adminEndpoint: h.adminEndpoint === undefined ? undefined : trimEndpoint(h.adminEndpoint),
  };
}
