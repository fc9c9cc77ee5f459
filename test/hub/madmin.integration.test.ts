/**
 * The program's madmin client (components/hub/s3/madmin.ts) against madmin-go itself: a helper built
 * offline from Debian's golang-github-minio-madmin-go-dev 2.0.7 (test/support/madminGolden.ts).
 *
 * 1. Encryption both ways: madmin-go's DecryptData reads what madminEncrypt wrote (each AEAD id, empty,
 *    small, one full 16 KiB sio fragment, more than one fragment), and madminDecrypt reads what
 *    madmin-go's EncryptData wrote. Given madmin-go's salt and nonce, madminEncrypt writes the same bytes.
 *    A changed byte or a wrong key fails on both sides.
 * 2. Requests: for every admin call the program uses, madmin-go's AdminClient and the program's client send
 *    it to one loopback recording server with the same credentials. madmin-go signs with the system clock
 *    (minio-go's signer reads time.Now and has no hook), so the clock is fixed from its request: the
 *    program's client signs at the `X-Amz-Date` madmin-go sent, and encrypts with the salt and nonce
 *    madmin-go's body carries. Then, from what the recorder received (not from either client's account of
 *    it), the two requests must have the same method, path and query, the same signed header names, the
 *    same canonical request (recomputed here as a SigV4 server does), the same decrypted body (decrypted by
 *    madmin-go), a valid signature each, and the same Authorization header.
 *    The one known difference: attach/detach carry `Content-Type: application/octet-stream` from madmin-go
 *    v3 on (what Silo and RustFS's clients send; Debian's 2.0.7 predates it); for those two calls the
 *    header is the only difference allowed, and the rest of the canonical request must be equal.
 * 3. The comparison itself fails when one body byte or one query parameter changes.
 */
import { createHash, createHmac } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  MADMIN_ARGON2ID_AES_GCM,
  MADMIN_ARGON2ID_CHACHA20_POLY1305,
  MADMIN_PBKDF2_AES_GCM,
  MadminClient,
  madminDecrypt,
  madminEncrypt,
  madminEnvelope,
  type MadminAead,
} from "../../components/hub/s3/madmin.js";
import { writerPolicy } from "../../components/hub/iam.js";
import {
  goCall,
  goDecrypt,
  goEncrypt,
  madminGoldenBinary,
  startRecorder,
  type RecordedRequest,
  type Recorder,
} from "../support/madminGolden.js";

const ADMIN = { accessKeyId: "homelabadmin", secretAccessKey: "s3cr3t-Admin+Key/with=chars" };
const USER = "HOMELABVELEROKEY0001";
const POLICY_NAME = "homelab-backups-velero";
const POLICY = JSON.stringify(writerPolicy("velero", "homelab-backups"));

let recorder: Recorder;

beforeAll(async () => {
  await madminGoldenBinary();
  recorder = await startRecorder();
}, 600_000);

afterAll(async () => {
  await recorder?.stop();
});

const sizes = [0, 7, 300, 16384, 16385, 40_000];
const plaintext = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + 7) % 251));
const AEADS: [string, MadminAead][] = [
  ["argon2id + AES-256-GCM", MADMIN_ARGON2ID_AES_GCM],
  ["argon2id + ChaCha20-Poly1305", MADMIN_ARGON2ID_CHACHA20_POLY1305],
  ["PBKDF2 + AES-256-GCM", MADMIN_PBKDF2_AES_GCM],
];

describe("EncryptData / DecryptData, both ways", () => {
  it.each(AEADS)("madmin-go decrypts what the program encrypts (%s)", { timeout: 120_000 }, async (_n, aead) => {
    for (const n of sizes) {
      const plain = plaintext(n);
      const sealed = madminEncrypt(ADMIN.secretAccessKey, plain, { aead });
      expect(sealed[32]).toBe(aead);
      const r = await goDecrypt(ADMIN.secretAccessKey, sealed);
      expect(r, `${n} bytes`).toEqual({ ok: true, plain });
    }
  });

  it(
    "the program decrypts what madmin-go encrypts, and with its salt and nonce writes the same bytes",
    { timeout: 120_000 },
    async () => {
      for (const n of sizes) {
        const plain = plaintext(n);
        const sealed = await goEncrypt(ADMIN.secretAccessKey, plain);
        expect(madminDecrypt(ADMIN.secretAccessKey, sealed).equals(plain), `${n} bytes`).toBe(true);
        const env = madminEnvelope(sealed);
        const again = madminEncrypt(ADMIN.secretAccessKey, plain, {
          salt: env.salt,
          nonce: env.nonce,
          aead: env.aead as MadminAead,
        });
        expect(again.equals(sealed), `${n} bytes, AEAD id ${env.aead}`).toBe(true);
      }
    },
  );

  it("one changed byte, or a wrong key, fails on both sides", { timeout: 120_000 }, async () => {
    const plain = plaintext(20_000);
    const ours = madminEncrypt(ADMIN.secretAccessKey, plain);
    const theirs = await goEncrypt(ADMIN.secretAccessKey, plain);
    for (const sealed of [ours, theirs]) {
      for (const at of [0, 32, 40, 41, 41 + 16400, sealed.length - 1]) {
        const broken = Buffer.from(sealed);
        broken[at] ^= 0x01;
        expect(() => madminDecrypt(ADMIN.secretAccessKey, broken), `byte ${at}`).toThrow();
        expect((await goDecrypt(ADMIN.secretAccessKey, broken)).ok, `byte ${at}`).toBe(false);
      }
      expect(() => madminDecrypt("not-the-key", sealed)).toThrow(/not authentic/);
      expect(await goDecrypt("not-the-key", sealed)).toEqual({ ok: false, error: "sio: data is not authentic" });
      // Cut after a whole fragment: the last fragment is missing, so the stream must not pass as complete.
      expect(() => madminDecrypt(ADMIN.secretAccessKey, sealed.subarray(0, 41 + 16384 + 16))).toThrow();
      expect((await goDecrypt(ADMIN.secretAccessKey, sealed.subarray(0, 41 + 16384 + 16))).ok).toBe(false);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------------

/** RFC 3986: only A-Z a-z 0-9 - _ . ~ unescaped (the SigV4 canonical query encoding). */
const strict = (s: string) =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

interface Parsed {
  credential: string;
  scope: string;
  signedHeaders: string[];
  signature: string;
  canonical: string;
}

/** The canonical request a SigV4 server computes from what it received, over `signedHeaders` minus `drop`. */
function parse(r: RecordedRequest, drop: readonly string[] = []): Parsed {
  const m = /^AWS4-HMAC-SHA256 Credential=([^,]+), SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(
    r.headers.authorization ?? "",
  );
  if (!m) throw new Error(`no SigV4 Authorization: ${r.headers.authorization}`);
  const signedHeaders = m[2].split(";").filter((h) => !drop.includes(h));
  const u = new URL(r.url, "http://recorder");
  const query = [...u.searchParams]
    .map(([k, v]) => [strict(k), strict(v)])
    .sort(([a, x], [b, y]) => (a === b ? (x < y ? -1 : 1) : a < b ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join("&");
  const canonical = [
    r.method,
    u.pathname,
    query,
    signedHeaders.map((h) => `${h}:${(r.headers[h] ?? "").trim().replace(/\s+/g, " ")}\n`).join(""),
    signedHeaders.join(";"),
    r.headers["x-amz-content-sha256"] ?? "",
  ].join("\n");
  const credential = m[1];
  return { credential, scope: credential.split("/").slice(1).join("/"), signedHeaders, signature: m[3], canonical };
}

/** Whether the request's signature is right for `secret` (as a SigV4 server checks it). */
function signatureValid(r: RecordedRequest, secret: string): boolean {
  const p = parse(r);
  const [date, region, service] = p.scope.split("/");
  const toSign = [
    "AWS4-HMAC-SHA256",
    r.headers["x-amz-date"],
    p.scope,
    createHash("sha256").update(p.canonical).digest("hex"),
  ].join("\n");
  let key: Buffer = createHmac("sha256", `AWS4${secret}`).update(date).digest();
  for (const part of [region, service, "aws4_request"]) key = createHmac("sha256", key).update(part).digest();
  return createHmac("sha256", key).update(toSign).digest("hex") === p.signature;
}

/**
 * Every way the program's request `ts` differs from madmin-go's `go` (empty when they are the same).
 * `allowed` names headers the program may add (signed), which are then left out of its canonical request.
 */
async function differences(
  go: RecordedRequest,
  ts: RecordedRequest,
  opts: { encrypted: boolean; allowed?: Record<string, string> },
): Promise<string[]> {
  const out: string[] = [];
  const drop = Object.keys(opts.allowed ?? {});
  for (const [h, v] of Object.entries(opts.allowed ?? {}))
    if (ts.headers[h] !== v) out.push(`header ${h} is ${ts.headers[h]}, want ${v}`);
  const ug = new URL(go.url, "http://r");
  const ut = new URL(ts.url, "http://r");
  if (go.method !== ts.method) out.push(`method ${ts.method}, madmin-go ${go.method}`);
  if (ug.pathname !== ut.pathname) out.push(`path ${ut.pathname}, madmin-go ${ug.pathname}`);
  if (ug.search !== ut.search) out.push(`query ${ut.search}, madmin-go ${ug.search}`);
  const pg = parse(go);
  const pt = parse(ts, drop);
  if (pg.signedHeaders.join(";") !== pt.signedHeaders.join(";"))
    out.push(`signed headers ${pt.signedHeaders}, madmin-go ${pg.signedHeaders}`);
  if (pg.credential !== pt.credential) out.push(`credential ${pt.credential}, madmin-go ${pg.credential}`);
  if (pg.canonical !== pt.canonical) out.push(`canonical request:\n${pt.canonical}\n--- madmin-go:\n${pg.canonical}`);
  for (const [who, r] of [
    ["program", ts],
    ["madmin-go", go],
  ] as const) {
    if (!signatureValid(r, ADMIN.secretAccessKey)) out.push(`${who}: signature invalid`);
    if (createHash("sha256").update(r.body).digest("hex") !== r.headers["x-amz-content-sha256"])
      out.push(`${who}: X-Amz-Content-Sha256 is not the body's`);
  }
  if (drop.length === 0 && go.headers.authorization !== ts.headers.authorization)
    out.push(`Authorization ${ts.headers.authorization}, madmin-go ${go.headers.authorization}`);
  if (opts.encrypted) {
    const [dg, dt] = await Promise.all([
      goDecrypt(ADMIN.secretAccessKey, go.body),
      goDecrypt(ADMIN.secretAccessKey, ts.body),
    ]);
    if (!dt.ok) out.push(`program's body does not decrypt with madmin-go: ${dt.error}`);
    else if (!dg.ok) out.push(`madmin-go's body does not decrypt: ${dg.error}`);
    else if (!dg.plain.equals(dt.plain))
      out.push(`decrypted body ${dt.plain.toString("utf8")}, madmin-go ${dg.plain.toString("utf8")}`);
  } else if (!go.body.equals(ts.body))
    out.push(`body ${ts.body.toString("utf8")}, madmin-go ${go.body.toString("utf8")}`);
  return out;
}

interface Operation {
  readonly op: string;
  readonly args: Record<string, unknown>;
  readonly encrypted: boolean;
  readonly allowed?: Record<string, string>;
  readonly ours: (c: MadminClient) => Promise<unknown>;
}

const OCTET = { "content-type": "application/octet-stream" };
const ODD = "a b+c/d=é&x"; // every character the query encoding must escape

const OPERATIONS: Operation[] = [
  {
    op: "add-user",
    args: { accessKey: USER, secretKey: "writer/Secret+Key=0123456789abcdefghij" },
    encrypted: true,
    ours: (c) => c.addUser(USER, "writer/Secret+Key=0123456789abcdefghij"),
  },
  {
    op: "set-user-status",
    args: { accessKey: USER, status: "disabled" },
    encrypted: false,
    ours: (c) => c.setUserStatus(USER, "disabled"),
  },
  { op: "user-info", args: { accessKey: USER }, encrypted: false, ours: (c) => c.userInfo(USER) },
  { op: "user-info", args: { accessKey: ODD }, encrypted: false, ours: (c) => c.userInfo(ODD) },
  { op: "list-users", args: {}, encrypted: false, ours: (c) => c.listUsers().catch(() => undefined) },
  { op: "remove-user", args: { accessKey: USER }, encrypted: false, ours: (c) => c.removeUser(USER) },
  {
    op: "add-canned-policy",
    args: { name: POLICY_NAME, policy: JSON.parse(POLICY) },
    encrypted: false,
    ours: (c) => c.addCannedPolicy(POLICY_NAME, POLICY),
  },
  {
    op: "info-canned-policy",
    args: { name: POLICY_NAME },
    encrypted: false,
    ours: (c) => c.infoCannedPolicy(POLICY_NAME),
  },
  {
    op: "remove-canned-policy",
    args: { name: POLICY_NAME },
    encrypted: false,
    ours: (c) => c.removeCannedPolicy(POLICY_NAME),
  },
  {
    op: "attach-policy",
    args: { policies: [POLICY_NAME], user: USER },
    encrypted: true,
    allowed: OCTET,
    ours: (c) => c.attachPolicy([POLICY_NAME], USER),
  },
  {
    op: "detach-policy",
    args: { policies: [POLICY_NAME], user: USER },
    encrypted: true,
    allowed: OCTET,
    ours: (c) => c.detachPolicy([POLICY_NAME], USER),
  },
];

/** madmin-go's request, then the program's under madmin-go's clock (and salt and nonce). */
async function pair(o: Operation): Promise<{ go: RecordedRequest; ts: RecordedRequest }> {
  const before = recorder.requests.length;
  await goCall(recorder.host, ADMIN, o.op, o.args);
  expect(recorder.requests.length - before, `madmin-go sent one request for ${o.op}`).toBe(1);
  const go = recorder.requests[before];
  const d = go.headers["x-amz-date"];
  const now = new Date(
    `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}T${d.slice(9, 11)}:${d.slice(11, 13)}:${d.slice(13, 15)}Z`,
  );
  const client = new MadminClient(`http://${recorder.host}`, ADMIN, {
    now: () => now,
    encryption: () => {
      const env = madminEnvelope(go.body);
      return { salt: env.salt, nonce: env.nonce, aead: env.aead as MadminAead };
    },
  });
  await o.ours(client);
  expect(recorder.requests.length - before, `the program sent one request for ${o.op}`).toBe(2);
  return { go, ts: recorder.requests[before + 1] };
}

describe("each admin call the program uses: the same request as madmin-go's AdminClient", () => {
  const pairs = new Map<Operation, { go: RecordedRequest; ts: RecordedRequest }>();

  it.each(OPERATIONS.map((o) => [`${o.op} ${JSON.stringify(o.args).slice(0, 40)}`, o] as const))(
    "%s",
    { timeout: 120_000 },
    async (_name, o) => {
      const p = await pair(o);
      pairs.set(o, p);
      expect(await differences(p.go, p.ts, o)).toEqual([]);
      // The path is madmin-go's v3 admin prefix; the body of an encrypted call is not plain text.
      expect(new URL(p.ts.url, "http://r").pathname.startsWith("/minio/admin/v3/")).toBe(true);
      if (o.encrypted) expect(p.ts.body.includes(Buffer.from(USER))).toBe(false);
    },
  );

  it("the comparison fails when one body byte changes", { timeout: 120_000 }, async () => {
    for (const o of OPERATIONS.filter(
      (x) => x.op === "add-user" || x.op === "add-canned-policy" || x.op === "attach-policy",
    )) {
      const p = pairs.get(o) ?? (await pair(o));
      for (const at of [0, p.ts.body.length - 1]) {
        const body = Buffer.from(p.ts.body);
        body[at] ^= 0x01;
        expect((await differences(p.go, { ...p.ts, body }, o)).length, `${o.op} byte ${at}`).toBeGreaterThan(0);
      }
    }
  });

  it("the comparison fails when one query parameter changes", { timeout: 120_000 }, async () => {
    for (const o of OPERATIONS.filter((x) => x.op === "set-user-status" || x.op === "info-canned-policy")) {
      const p = pairs.get(o) ?? (await pair(o));
      const u = new URL(p.ts.url, "http://r");
      const [k] = [...u.searchParams.keys()];
      u.searchParams.set(k, `${u.searchParams.get(k)}x`);
      const changed = { ...p.ts, url: `${u.pathname}?${u.searchParams.toString()}` };
      expect(await differences(p.go, changed, o), o.op).not.toEqual([]);
      const added = { ...p.ts, url: `${p.ts.url}&extra=1` };
      expect(await differences(p.go, added, o), o.op).not.toEqual([]);
    }
  });

  it("a request signed with another secret key fails the comparison", { timeout: 120_000 }, async () => {
    const o = OPERATIONS[0];
    const before = recorder.requests.length;
    await goCall(recorder.host, { ...ADMIN, secretAccessKey: "wrong" }, o.op, o.args);
    const wrong = recorder.requests[before];
    const p = pairs.get(o) ?? (await pair(o));
    expect(await differences(wrong, p.ts, o)).not.toEqual([]);
  });
});
