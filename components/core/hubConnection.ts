/**
 * How every data class reaches the hub: the S3 endpoint as seen from the cluster, the bucket, the
 * region and the addressing style. All of it follows from the stack file, so it is plain data that
 * components and the plan can use without waiting on any resource.
 */
import type * as pulumi from "@pulumi/pulumi";
import { PREFIXES } from "./schema.js";

/** The writers of the hub: one credential each, able to write only under its own prefix. */
/** The hub's identities: one credential each (`drills` and `audit` only read, components/hub/iam.ts). */
export const WRITERS = ["longhorn", "postgres", "etcd", "velero", "buckets", "offsite", "drills", "audit"] as const;
export type WriterName = (typeof WRITERS)[number];

export interface WriterCredentials {
  /** S3 access key id (a Pulumi secret on a pi hub, plain on AWS where it is an identifier). */
  readonly accessKeyId: pulumi.Output<string>;
  /** S3 secret access key: always a Pulumi secret. */
  readonly secretAccessKey: pulumi.Output<string>;
}

export interface HubConnection {
  readonly kind: "aws" | "pi" | "s3";
  /** S3 endpoint URL as seen from the cluster, e.g. `https://s3.eu-central-1.amazonaws.com` or `http://hub.lan:9000`. */
  readonly endpoint: string;
  readonly bucket: string;
  readonly region: string;
  /** Path-style addressing (MinIO/RustFS): `http://host:9000/bucket/key`. */
  readonly pathStyle: boolean;
  /** The server: `aws`, the pi hub's server, or an s3 hub's flavor (S3-compatible servers need some client quirks turned off). */
  readonly server: string;
}

/** What a connection follows from: the stack file's hub section (components/hub/schema.ts), as core may not import it. */
export interface HubSection {
  readonly kind: "aws" | "pi" | "s3";
  readonly bucket: string;
  readonly region: string;
  /** s3 hubs. */
  readonly endpoint?: string;
  /** s3 hubs: what the server is. */
  readonly flavor?: string;
  /** pi hubs. */
  readonly host?: string;
  readonly port?: number;
  readonly tls?: boolean;
  readonly server?: string;
}

/** The hub's S3 endpoint and addressing, from the hub section of the stack file. */
export function hubConnection(hub: HubSection): HubConnection {
  if (hub.kind === "aws") {
    return {
      kind: "aws",
      endpoint: `https://s3.${hub.region}.amazonaws.com`,
      bucket: hub.bucket,
      region: hub.region,
      pathStyle: false,
      server: "aws",
    };
  }
  if (hub.kind === "s3") {
    return {
      kind: "s3",
      endpoint: hub.endpoint!,
      bucket: hub.bucket,
      region: hub.region,
      pathStyle: true,
      server: hub.flavor ?? "generic",
    };
  }
  const host = hub.host!.includes(":") && !hub.host!.startsWith("[") ? `[${hub.host}]` : hub.host!;
  return {
    kind: "pi",
    endpoint: `${hub.tls ? "https" : "http"}://${host}:${hub.port}`,
    bucket: hub.bucket,
    region: hub.region,
    pathStyle: true,
    server: hub.server === "rustfs" ? "rustfs" : "silo",
  };
}

/** The prefix a writer may write under (the offsite reader reads everything it copies). */
export function writerPrefix(writer: WriterName): string {
  return writer === "offsite" || writer === "drills" || writer === "audit" ? "" : PREFIXES[writer];
}

/** `s3://bucket/prefix` for a person reading the plan. */
export function s3Url(hub: HubConnection, prefix: string): string {
  return `s3://${hub.bucket}/${prefix}`;
}
