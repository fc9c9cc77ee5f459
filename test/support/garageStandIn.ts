/**
 * A loopback stand-in for the Garage admin API v2 calls the program uses (keys, buckets, bucket-key
 * permissions), for the Garage tests: no Garage binary can be installed here.
 *
 * It is held to Garage's own OpenAPI document (test/support/garageOpenApi.ts): every request it receives
 * and every answer it gives is recorded, and the tests validate both against the document, so neither the
 * client nor this stand-in can drift from it unnoticed. Its behaviour follows the handlers at v2.0.0
 * (deuxfleurs-org/garage): `ImportKey` refuses an id it ever held, deleted included (409
 * KeyAlreadyExists, src/api/admin/key.rs); `DeleteKey` removes the key's bucket permissions
 * (src/model/helper/locked.rs `delete_key`); `AllowBucketKey`/`DenyBucketKey` set or clear only the flags
 * sent as true (src/api/admin/bucket.rs `handle_bucket_change_key_perm`); `CreateBucket` refuses a global
 * alias in use (BucketAlreadyExists); an unknown key answers 404 NoSuchAccessKey (src/api/admin/error.rs);
 * a wrong bearer token 403 (src/api/admin/api_server.rs `verify_authorization`).
 */
import { randomBytes } from "node:crypto";
import * as http from "node:http";
import type { AddressInfo } from "node:net";

export interface StandInPerm {
  read: boolean;
  write: boolean;
  owner: boolean;
}

export interface StandInKey {
  name: string;
  secretAccessKey: string;
  deleted: boolean;
  createBucket: boolean;
}

export interface StandInBucket {
  globalAliases: string[];
  /** Permissions by access key id. */
  keys: Map<string, StandInPerm>;
}

export interface RecordedExchange {
  readonly method: string;
  readonly path: string;
  readonly query: Record<string, string>;
  readonly body?: unknown;
  readonly status: number;
  readonly answer?: unknown;
}

export interface GarageStandIn {
  readonly endpoint: string;
  readonly keys: Map<string, StandInKey>;
  readonly buckets: Map<string, StandInBucket>;
  readonly exchanges: RecordedExchange[];
  stop(): Promise<void>;
}

const CREATED = "2026-01-02T03:04:05.000Z";

export async function startGarageStandIn(token: string): Promise<GarageStandIn> {
  const keys = new Map<string, StandInKey>();
  const buckets = new Map<string, StandInBucket>();
  const exchanges: RecordedExchange[] = [];

  const perm = (p?: StandInPerm) => ({ read: p?.read ?? false, write: p?.write ?? false, owner: p?.owner ?? false });
  const bucketInfo = (id: string) => {
    const b = buckets.get(id)!;
    return {
      id,
      created: CREATED,
      globalAliases: b.globalAliases,
      websiteAccess: false,
      websiteConfig: null,
      keys: [...b.keys]
        .filter(([k, p]) => keys.get(k) && !keys.get(k)!.deleted && (p.read || p.write || p.owner))
        .map(([k, p]) => ({ accessKeyId: k, name: keys.get(k)!.name, permissions: perm(p), bucketLocalAliases: [] })),
      objects: 0,
      bytes: 0,
      unfinishedUploads: 0,
      unfinishedMultipartUploads: 0,
      unfinishedMultipartUploadParts: 0,
      unfinishedMultipartUploadBytes: 0,
      quotas: { maxSize: null, maxObjects: null },
    };
  };
  const keyInfo = (id: string) => {
    const k = keys.get(id)!;
    return {
      accessKeyId: id,
      name: k.name,
      created: CREATED,
      expiration: null,
      expired: false,
      secretAccessKey: null,
      permissions: { createBucket: k.createBucket },
      buckets: [...buckets]
        .filter(([, b]) => {
          const p = b.keys.get(id);
          return p && (p.read || p.write || p.owner);
        })
        .map(([bid, b]) => ({
          id: bid,
          globalAliases: b.globalAliases,
          localAliases: [],
          permissions: perm(b.keys.get(id)),
        })),
    };
  };
  const error = (status: number, code: string, message: string, path: string) => ({
    status,
    answer: { code, message, path, region: "garage" },
  });

  function handle(
    method: string,
    path: string,
    q: Record<string, string>,
    body: any,
  ): { status: number; answer?: unknown } {
    const live = (id: string | undefined) => (id && keys.get(id) && !keys.get(id)!.deleted ? id : undefined);
    switch (`${method} ${path}`) {
      case "GET /v2/ListKeys":
        return {
          status: 200,
          answer: [...keys]
            .filter(([, k]) => !k.deleted)
            .map(([id, k]) => ({ id, name: k.name, created: CREATED, expiration: null, expired: false })),
        };
      case "GET /v2/GetKeyInfo": {
        const id = live(q.id);
        if (!id) return error(404, "NoSuchAccessKey", `Access key not found: ${q.id}`, path);
        return { status: 200, answer: keyInfo(id) };
      }
      case "POST /v2/ImportKey": {
        if (keys.has(body.accessKeyId))
          return error(409, "KeyAlreadyExists", `Key ${body.accessKeyId} already exists in data store.`, path);
        if (!/^GK[0-9a-f]{24}$/.test(body.accessKeyId) || !/^[0-9a-f]{64}$/.test(body.secretAccessKey))
          return error(400, "InvalidRequest", "Bad request: Invalid key format", path);
        keys.set(body.accessKeyId, {
          name: body.name ?? "Imported key",
          secretAccessKey: body.secretAccessKey,
          deleted: false,
          createBucket: false,
        });
        return { status: 200, answer: keyInfo(body.accessKeyId) };
      }
      case "POST /v2/DeleteKey": {
        const id = live(q.id);
        if (!id) return error(404, "NoSuchAccessKey", `Access key not found: ${q.id}`, path);
        keys.get(id)!.deleted = true;
        for (const b of buckets.values()) b.keys.delete(id);
        return { status: 200 };
      }
      case "GET /v2/ListBuckets":
        return {
          status: 200,
          answer: [...buckets].map(([id, b]) => ({
            id,
            created: CREATED,
            globalAliases: b.globalAliases,
            localAliases: [],
          })),
        };
      case "GET /v2/GetBucketInfo": {
        if (!q.id || !buckets.has(q.id)) return error(404, "NoSuchBucket", `Bucket not found: ${q.id}`, path);
        return { status: 200, answer: bucketInfo(q.id) };
      }
      case "POST /v2/CreateBucket": {
        if ([...buckets.values()].some((b) => b.globalAliases.includes(body.globalAlias)))
          return error(409, "BucketAlreadyExists", "Bucket already exists", path);
        const id = randomBytes(32).toString("hex");
        buckets.set(id, { globalAliases: body.globalAlias ? [body.globalAlias] : [], keys: new Map() });
        return { status: 200, answer: bucketInfo(id) };
      }
      case "POST /v2/AllowBucketKey":
      case "POST /v2/DenyBucketKey": {
        const b = buckets.get(body.bucketId);
        if (!b) return error(404, "NoSuchBucket", `Bucket not found: ${body.bucketId}`, path);
        if (!live(body.accessKeyId))
          return error(404, "NoSuchAccessKey", `Access key not found: ${body.accessKeyId}`, path);
        const flag = path.endsWith("AllowBucketKey");
        const p = perm(b.keys.get(body.accessKeyId));
        for (const f of ["read", "write", "owner"] as const) if (body.permissions?.[f]) p[f] = flag;
        b.keys.set(body.accessKeyId, p);
        return { status: 200, answer: bucketInfo(body.bucketId) };
      }
      default:
        return error(400, "InvalidRequest", `unknown endpoint ${method} ${path}`, path);
    }
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const u = new URL(req.url ?? "/", "http://x");
      const query = Object.fromEntries(u.searchParams);
      const text = Buffer.concat(chunks).toString("utf8");
      let body: unknown;
      let out: { status: number; answer?: unknown };
      try {
        body = text ? JSON.parse(text) : undefined;
        out =
          req.headers.authorization !== `Bearer ${token}`
            ? error(403, "AccessDenied", "Forbidden: Invalid bearer token", u.pathname)
            : handle(req.method ?? "", u.pathname, query, body);
      } catch (err) {
        out = error(400, "InvalidRequest", (err as Error).message, u.pathname);
      }
      exchanges.push({ method: req.method ?? "", path: u.pathname, query, body, ...out });
      const payload = out.answer === undefined ? "" : JSON.stringify(out.answer);
      res.writeHead(out.status, { "content-type": "application/json", "content-length": Buffer.byteLength(payload) });
      res.end(payload);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    keys,
    buckets,
    exchanges,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
