/**
 * A client for Garage's admin API v2 (the admin port, 3903 by default), for the calls the program uses:
 * keys (list, info, import, delete), buckets (list, info, create by global alias) and the per-key
 * bucket permissions (allow, deny). Only node:http(s); no dependency.
 *
 * Upstream facts (deuxfleurs-org/garage, tag v2.0.0, commit 44587d295a98841abd0ea48477e3837869ec8c74;
 * the OpenAPI document is vendored as test/fixtures/garage/garage-admin-v2.json and every request this
 * module builds is validated against it in test/hub/garageAdmin.test.ts):
 * - Each operation is `/v2/<OperationId>`, GET for reads and POST for changes; query parameters are
 *   read from the query string by their camelCase names (`src/api/admin/router_v2.rs`,
 *   `generateQueryParameters!`: `id`, `search`, `globalAlias`, `showSecretKey`), although the document
 *   declares them `in: path` (see test/fixtures/garage/README.md).
 * - Authentication: `Authorization: Bearer <token>`, the `admin_token` of the server's configuration
 *   or a token made with `CreateAdminToken` (`src/api/admin/api_server.rs`, `verify_authorization`).
 * - Success is 200 with a JSON body where the document declares one; `DeleteKey` answers 200 with no
 *   body. Errors carry a JSON body `{code, message, path, region}` (`src/api/admin/error.rs`) that the
 *   document does not declare: the program reads it only to word its error message.
 */
import * as http from "node:http";
import * as https from "node:https";

/** The bucket permissions of one key (`ApiBucketKeyPerm`); an absent flag is false. */
export interface GarageBucketKeyPerm {
  readonly read?: boolean;
  readonly write?: boolean;
  readonly owner?: boolean;
}

/** `ListKeysResponseItem` */
export interface GarageKeyListItem {
  readonly id: string;
  readonly name: string;
  readonly expired: boolean;
}

/** `GetKeyInfoResponse` (the fields the program reads). */
export interface GarageKeyInfo {
  readonly accessKeyId: string;
  readonly name: string;
  readonly expired: boolean;
  readonly permissions: { readonly createBucket?: boolean };
  readonly buckets: readonly {
    readonly id: string;
    readonly globalAliases: readonly string[];
    readonly permissions: GarageBucketKeyPerm;
  }[];
}

/** `ListBucketsResponseItem` (the fields the program reads). */
export interface GarageBucketListItem {
  readonly id: string;
  readonly globalAliases: readonly string[];
}

/** `GetBucketInfoResponse` (the fields the program reads). */
export interface GarageBucketInfo {
  readonly id: string;
  readonly globalAliases: readonly string[];
  readonly keys: readonly {
    readonly accessKeyId: string;
    readonly name: string;
    readonly permissions: GarageBucketKeyPerm;
  }[];
}

/** One admin API request, as sent: which operation, its method and path, its query and JSON body. */
export interface GarageRequest {
  readonly operationId: string;
  readonly method: "GET" | "POST";
  readonly path: string;
  readonly query?: Readonly<Record<string, string>>;
  readonly body?: unknown;
}

const get = (operationId: string, query?: Record<string, string>): GarageRequest => ({
  operationId,
  method: "GET",
  path: `/v2/${operationId}`,
  ...(query ? { query } : {}),
});
const post = (operationId: string, body?: unknown, query?: Record<string, string>): GarageRequest => ({
  operationId,
  method: "POST",
  path: `/v2/${operationId}`,
  ...(query ? { query } : {}),
  ...(body !== undefined ? { body } : {}),
});

/** The requests the program sends, built without a server (the tests validate each against the document). */
export const garageRequests = {
  listKeys: () => get("ListKeys"),
  getKeyInfo: (id: string) => get("GetKeyInfo", { id }),
  importKey: (accessKeyId: string, secretAccessKey: string, name: string) =>
    post("ImportKey", { accessKeyId, secretAccessKey, name }),
  deleteKey: (id: string) => post("DeleteKey", undefined, { id }),
  listBuckets: () => get("ListBuckets"),
  getBucketInfo: (id: string) => get("GetBucketInfo", { id }),
  createBucket: (globalAlias: string) => post("CreateBucket", { globalAlias }),
  allowBucketKey: (bucketId: string, accessKeyId: string, permissions: Required<GarageBucketKeyPerm>) =>
    post("AllowBucketKey", { bucketId, accessKeyId, permissions }),
  denyBucketKey: (bucketId: string, accessKeyId: string, permissions: Required<GarageBucketKeyPerm>) =>
    post("DenyBucketKey", { bucketId, accessKeyId, permissions }),
} as const;

/** The path and query string of a request, as sent. */
export function garageUrl(req: GarageRequest): string {
  const q = new URLSearchParams(Object.entries(req.query ?? {})).toString();
  return q ? `${req.path}?${q}` : req.path;
}

export class GarageAdminError extends Error {
  constructor(
    readonly operationId: string,
    readonly status: number,
    detail: string,
  ) {
    super(`garage admin ${operationId}: HTTP ${status}${detail ? `: ${detail}` : ""}`);
  }
}

export interface GarageAdminOptions {
  readonly timeoutMs?: number;
}

/** The admin calls the program uses, on one server with one admin token. */
export class GarageAdminClient {
  constructor(
    readonly endpoint: string,
    private readonly token: string,
    private readonly opts: GarageAdminOptions = {},
  ) {}

  /** Sends one request; the parsed JSON answer (undefined for an empty body), or an error for any status but 200. */
  async call<T>(req: GarageRequest): Promise<T> {
    const url = new URL(this.endpoint);
    const lib = url.protocol === "https:" ? https : http;
    const body = req.body === undefined ? undefined : Buffer.from(JSON.stringify(req.body), "utf8");
    const res = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const r = lib.request(
        {
          protocol: url.protocol,
          hostname: url.hostname,
          port: url.port || undefined,
          method: req.method,
          path: garageUrl(req),
          headers: {
            authorization: `Bearer ${this.token}`,
            ...(body ? { "content-type": "application/json", "content-length": String(body.length) } : {}),
          },
          timeout: this.opts.timeoutMs ?? 60_000,
        },
        (answer) => {
          const chunks: Buffer[] = [];
          answer.on("data", (c: Buffer) => chunks.push(c));
          answer.on("end", () =>
            resolve({ status: answer.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }),
          );
          answer.on("error", reject);
        },
      );
      r.on("timeout", () => r.destroy(new Error(`garage admin ${req.operationId}: no answer from ${this.endpoint}`)));
      r.on("error", reject);
      r.end(body);
    });
    if (res.status !== 200) {
      let detail = res.text.slice(0, 300);
      try {
        const e = JSON.parse(res.text) as { code?: string; message?: string };
        detail = [e.code, e.message].filter(Boolean).join(": ");
      } catch {
        // not JSON: keep the text
      }
      throw new GarageAdminError(req.operationId, res.status, detail);
    }
    return (res.text.trim() === "" ? undefined : JSON.parse(res.text)) as T;
  }

  listKeys(): Promise<GarageKeyListItem[]> {
    return this.call(garageRequests.listKeys());
  }
  getKeyInfo(id: string): Promise<GarageKeyInfo> {
    return this.call(garageRequests.getKeyInfo(id));
  }
  importKey(accessKeyId: string, secretAccessKey: string, name: string): Promise<GarageKeyInfo> {
    return this.call(garageRequests.importKey(accessKeyId, secretAccessKey, name));
  }
  async deleteKey(id: string): Promise<void> {
    await this.call(garageRequests.deleteKey(id));
  }
  listBuckets(): Promise<GarageBucketListItem[]> {
    return this.call(garageRequests.listBuckets());
  }
  getBucketInfo(id: string): Promise<GarageBucketInfo> {
    return this.call(garageRequests.getBucketInfo(id));
  }
  createBucket(globalAlias: string): Promise<GarageBucketInfo> {
    return this.call(garageRequests.createBucket(globalAlias));
  }
  allowBucketKey(bucketId: string, accessKeyId: string, p: Required<GarageBucketKeyPerm>): Promise<GarageBucketInfo> {
    return this.call(garageRequests.allowBucketKey(bucketId, accessKeyId, p));
  }
  denyBucketKey(bucketId: string, accessKeyId: string, p: Required<GarageBucketKeyPerm>): Promise<GarageBucketInfo> {
    return this.call(garageRequests.denyBucketKey(bucketId, accessKeyId, p));
  }
}
