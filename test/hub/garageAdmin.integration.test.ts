/**
 * The Garage admin API v2 client (components/hub/s3/garageAdmin.ts, garageWriters.ts) against Garage's own
 * OpenAPI document (test/fixtures/garage/garage-admin-v2.json, tag v2.0.0), checked with ajv
 * (test/support/garageOpenApi.ts): every request the client can build and every request it sent to a
 * loopback stand-in (test/support/garageStandIn.ts) names an operation of the document with its method,
 * declares its query parameters and carries a body the operation's schema accepts; every answer the
 * client parsed is one the operation declares. A misspelt field, a wrong method or a stand-in answer
 * missing a required field fails.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { garageRequests, garageUrl, type GarageRequest } from "../../components/hub/s3/garageAdmin.js";
import {
  ensureGarageBucket,
  ensureGarageWriter,
  garageKeyPair,
  garageKeyProblems,
  permChanges,
  readGarageBucket,
  readGarageWriter,
  type GarageWriter,
} from "../../components/hub/s3/garageWriters.js";
import { loadGarageOpenApi, type GarageExchange } from "../support/garageOpenApi.js";
import { startGarageStandIn, type GarageStandIn } from "../support/garageStandIn.js";

const TOKEN = "stand-in-admin-token";
const api = loadGarageOpenApi();
const asSent = (r: GarageRequest): GarageExchange => ({
  method: r.method,
  path: r.path,
  query: r.query ?? {},
  ...(r.body !== undefined ? { body: JSON.parse(JSON.stringify(r.body)) } : {}),
});
const key = (seed: string) => garageKeyPair(`SEED${seed}`, `secret-${seed}`);

describe("garageKeyPair", () => {
  it("gives the formats Garage imports, and a new id when either generated value changes", () => {
    const k = garageKeyPair("ABCDEFGHIJ0123456789", "s".repeat(40));
    expect(k.accessKeyId).toMatch(/^GK[0-9a-f]{24}$/);
    expect(k.secretAccessKey).toMatch(/^[0-9a-f]{64}$/);
    expect(garageKeyPair("ABCDEFGHIJ0123456789", "t".repeat(40)).accessKeyId).not.toBe(k.accessKeyId);
    expect(garageKeyPair("ABCDEFGHIJ012345678X", "s".repeat(40)).accessKeyId).not.toBe(k.accessKeyId);
    expect(garageKeyPair("ABCDEFGHIJ0123456789", "s".repeat(40))).toEqual(k);
  });
});

describe("permChanges", () => {
  it("allows what is missing and denies what is extra, and asks nothing when the flags match", () => {
    const want = { read: true, write: false, owner: false };
    expect(permChanges({}, want)).toEqual({ allow: { read: true, write: false, owner: false } });
    expect(permChanges({ read: true, write: true, owner: true }, want)).toEqual({
      deny: { read: false, write: true, owner: true },
    });
    expect(permChanges({ read: true }, want)).toEqual({});
  });
});

describe("every request the client builds is one the document describes", () => {
  const k = key("a");
  const all: GarageRequest[] = [
    garageRequests.listKeys(),
    garageRequests.getKeyInfo(k.accessKeyId),
    garageRequests.importKey(k.accessKeyId, k.secretAccessKey, "homelab-garage-backups-longhorn"),
    garageRequests.deleteKey(k.accessKeyId),
    garageRequests.listBuckets(),
    garageRequests.getBucketInfo("b".repeat(64)),
    garageRequests.createBucket("homelab-garage-backups"),
    garageRequests.allowBucketKey("b".repeat(64), k.accessKeyId, { read: true, write: true, owner: false }),
    garageRequests.denyBucketKey("b".repeat(64), k.accessKeyId, { read: false, write: true, owner: false }),
  ];
  it.each(all.map((r) => [r.operationId, r] as const))("%s", (operationId, r) => {
    expect(api.checkRequest(asSent(r))).toEqual({ operationId, problems: [] });
    expect(garageUrl(r).startsWith(`/v2/${operationId}`)).toBe(true);
  });

  it("a misspelt field, a missing required field, a wrong method or an undeclared query parameter fails", () => {
    const imp = asSent(garageRequests.importKey(k.accessKeyId, k.secretAccessKey, "n"));
    const { accessKeyId, ...rest } = imp.body as Record<string, string>;
    expect(api.checkRequest({ ...imp, body: { ...rest, accessKeyID: accessKeyId } }).problems).toEqual([
      "ImportKey request body must have required property 'accessKeyId'",
      "ImportKey request body: property accessKeyID is not declared",
    ]);
    expect(api.checkRequest({ ...imp, body: { ...(imp.body as object), nmae: "x" } }).problems).toEqual([
      "ImportKey request body: property nmae is not declared",
    ]);
    const allow = asSent(garageRequests.allowBucketKey("b", k.accessKeyId, { read: true, write: false, owner: false }));
    expect(api.checkRequest({ ...allow, method: "GET" }).problems).toEqual([
      "GET /v2/AllowBucketKey is not an operation of the document",
    ]);
    expect(
      api.checkRequest({ ...allow, body: { ...(allow.body as object), permissions: { read: "yes" } } }).problems,
    ).toEqual(["AllowBucketKey request body/permissions/read must be boolean"]);
    expect(api.checkRequest({ ...asSent(garageRequests.getKeyInfo("GK")), query: { key: "GK" } }).problems).toEqual([
      "GetKeyInfo: query parameter key is not declared",
    ]);
  });
});

describe("the client against the stand-in: every exchange validates against the document", () => {
  let server: GarageStandIn;
  const BUCKET = "homelab-garage-backups";
  const admin = () => ({ endpoint: server.endpoint, token: TOKEN });
  const writer = (k: { accessKeyId: string; secretAccessKey: string }, access: "read" | "write"): GarageWriter => ({
    name: `${BUCKET}-${access === "read" ? "audit" : "longhorn"}`,
    bucket: BUCKET,
    access,
    key: k,
  });

  beforeAll(async () => {
    server = await startGarageStandIn(TOKEN);
  });
  afterAll(async () => server?.stop());

  it("bucket, writer and reader: created, read back as wanted, a replaced key deleted", async () => {
    await ensureGarageBucket(admin(), BUCKET);
    await ensureGarageBucket(admin(), BUCKET); // idempotent: found by its alias, not created twice
    expect([...server.buckets.values()].map((b) => b.globalAliases)).toEqual([[BUCKET]]);
    expect(await readGarageBucket(admin(), BUCKET)).toEqual({ bucket: BUCKET });

    const w = writer(key("w1"), "write");
    const r = writer(key("r1"), "read");
    await ensureGarageWriter(admin(), w);
    await ensureGarageWriter(admin(), r);
    const id = [...server.buckets.keys()][0];
    expect(server.buckets.get(id)!.keys.get(w.key.accessKeyId)).toEqual({ read: true, write: true, owner: false });
    expect(server.buckets.get(id)!.keys.get(r.key.accessKeyId)).toEqual({ read: true, write: false, owner: false });
    expect((await readGarageWriter(admin(), w)).problems).toBeUndefined();
    expect((await readGarageWriter(admin(), r)).problems).toBeUndefined();

    // A replaced key: the new one is imported and the old one, named like the writer, is deleted.
    const w2 = { ...w, key: key("w2") };
    await ensureGarageWriter(admin(), w2);
    expect(server.keys.get(w.key.accessKeyId)?.deleted).toBe(true);
    expect(server.buckets.get(id)!.keys.has(w.key.accessKeyId)).toBe(false);

    // Rights given by hand on another bucket are found and taken away.
    server.buckets.set("c".repeat(64), {
      globalAliases: ["other"],
      keys: new Map([[r.key.accessKeyId, { read: true, write: true, owner: true }]]),
    });
    expect((await readGarageWriter(admin(), r)).problems).toEqual([
      `key ${r.key.accessKeyId} holds {"read":true,"write":true,"owner":true} on another bucket other`,
    ]);
    await ensureGarageWriter(admin(), r);
    expect(server.buckets.get("c".repeat(64))!.keys.get(r.key.accessKeyId)).toEqual({
      read: false,
      write: false,
      owner: false,
    });
    expect((await readGarageWriter(admin(), r)).problems).toBeUndefined();

    const operations = new Set<string>();
    for (const x of server.exchanges) {
      const req = api.checkRequest(x);
      expect(req.problems, `${x.method} ${x.path}`).toEqual([]);
      operations.add(req.operationId!);
      expect(x.status, `${x.method} ${x.path} answered ${JSON.stringify(x.answer)}`).toBe(200);
      expect(api.checkResponse(x.method, x.path, x.status, x.answer), `${x.method} ${x.path}`).toEqual([]);
    }
    expect([...operations].sort()).toEqual([
      "AllowBucketKey",
      "CreateBucket",
      "DeleteKey",
      "DenyBucketKey",
      "GetBucketInfo",
      "GetKeyInfo",
      "ImportKey",
      "ListBuckets",
      "ListKeys",
    ]);
  });

  it("a stand-in answer that drifts from the document fails the check", () => {
    const list = server.exchanges.find((x) => x.path === "/v2/ListKeys" && (x.answer as unknown[]).length > 0)!;
    const drifted = (list.answer as Record<string, unknown>[]).map(({ expired: _e, ...rest }) => rest);
    expect(api.checkResponse("GET", "/v2/ListKeys", 200, drifted)[0]).toMatch(/must have required property 'expired'/);
    expect(api.checkResponse("GET", "/v2/ListKeys", 404, undefined)).toEqual(["ListKeys: status 404 is not declared"]);
    const info = server.exchanges.find((x) => x.path === "/v2/GetKeyInfo")!;
    expect(
      api.checkResponse("GET", "/v2/GetKeyInfo", 200, { ...(info.answer as object), buckets: [{ id: 1 }] }).length,
    ).toBeGreaterThan(0);
  });

  it("a wrong token is refused, and the error names the operation", async () => {
    await expect(readGarageBucket({ endpoint: server.endpoint, token: "wrong" }, BUCKET)).rejects.toThrow(
      /garage admin ListBuckets: HTTP 403: AccessDenied/,
    );
  });
});

describe("garageKeyProblems", () => {
  it("names an expired key, bucket creation, wrong flags and rights elsewhere", () => {
    const w: GarageWriter = { name: "b-audit", bucket: "b", access: "read", key: key("p") };
    expect(
      garageKeyProblems(
        {
          accessKeyId: "GK1",
          name: "b-audit",
          expired: true,
          permissions: { createBucket: true },
          buckets: [{ id: "B", globalAliases: ["b"], permissions: { read: true, write: true } }],
        },
        "B",
        w,
      ),
    ).toEqual([
      "key GK1 is expired",
      "key GK1 may create buckets",
      'key GK1 holds {"read":true,"write":true,"owner":false} on b, not {"read":true,"write":false,"owner":false}',
    ]);
  });
});
