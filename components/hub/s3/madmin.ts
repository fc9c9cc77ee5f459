/**
 * A client for the MinIO admin API (`/minio/admin/v3`, "madmin"), as MinIO and Silo (pgsty/silo) serve it,
 * and for RustFS's own admin API (`/rustfs/admin/v3`, the same calls with plain JSON): users, canned
 * policies, attach and detach, user status. Only node:crypto and node:http(s); no dependency.
 *
 * What goes on the wire is madmin-go's, the upstream Go client, and is proven against it by
 * test/hub/madmin.integration.test.ts (a helper built from Debian's golang-github-minio-madmin-go-dev
 * decrypts what this module encrypts and the other way round, and both clients send the same requests to
 * one recording server).
 *
 * Upstream facts (minio/madmin-go; Debian ships 2.0.7, the servers vendor v3: pgsty/silo go.mod at
 * 07c42e4d2e365b7729d38d97a92b0b88f73ea9c6 requires `github.com/minio/madmin-go/v3 v3.0.110`):
 * - Requests (api.go `newRequest`, identical in 2.0.7, v3.0.110 and master 66b99c31): URL
 *   `/minio/admin` + `/v3` + the call's path, query encoded by minio-go `s3utils.QueryEncode` (sorted
 *   keys, RFC 3986 unreserved characters kept); header `X-Amz-Content-Sha256` = hex SHA-256 of the body
 *   (also of an empty one); signed by minio-go `signer.SignV4(req, ak, sk, "", location = "")`:
 *   AWS SigV4, service `s3` and an EMPTY region (scope `YYYYMMDD//s3/aws4_request`), every header
 *   signed except Authorization, User-Agent and Accept-Encoding (minio-go v7 pkg/signer
 *   request-signature-v4.go `v4IgnoredHeaders`), `host` always; Content-Length is not a header there,
 *   so it is not signed.
 * - Calls (user-commands.go, policy-commands.go): `PUT add-user?accessKey=` (encrypted JSON
 *   `{"secretKey","status"}`), `PUT set-user-status?accessKey=&status=`, `GET user-info?accessKey=`
 *   (plain JSON), `GET list-users` (encrypted answer), `DELETE remove-user?accessKey=`,
 *   `PUT add-canned-policy?name=` (the policy, plain), `GET info-canned-policy?name=` (the policy,
 *   plain), `DELETE remove-canned-policy?name=`, `POST idp/builtin/policy/attach|detach` (encrypted JSON
 *   `{"policies":[..],"user":".."}`; 200 with an encrypted answer from servers of mid-2023 on, 201/204 before).
 * - Differences between Debian's 2.0.7 and the v3.0.110 the servers vendor, for these calls:
 *   attach/detach send `Content-Type: application/octet-stream` from v3 on (madmin-go commit 0d0990c4,
 *   2023-06-14, policy-commands.go), signed like every other header, and 2.0.7 sends none; this client
 *   sends it, as v3 does (the golden test asserts that this header is the only difference).
 *   `AddOrUpdateUserReq` gained an omitempty `policy` field (unused here: same bytes).
 *   madmin-go v4 (master) defaults to `/minio/admin/v4` (commit 60acbd90, 2025-02-18), which community
 *   MinIO and Silo do not serve; `MADMIN_API_VERSION=v3` selects v3 there.
 * - Body encryption (encrypt.go `EncryptData`, the same bytes in 2.0.7, v3.0.110 and master; master adds
 *   only a mutex around argon2 and a streaming `DecryptDataStream`): `salt(32) | id(1) | nonce(8) |
 *   sio-go stream`. id 0x00 = Argon2id(time 1, memory 64 MiB, threads 4, 32 bytes) + AES-256-GCM; 0x01 =
 *   Argon2id + ChaCha20-Poly1305 (chosen by madmin-go where the CPU has no AES instructions, e.g. a
 *   Raspberry Pi 4); 0x02 = PBKDF2-SHA256(8192, 32 bytes) + AES-256-GCM (FIPS builds). The password is
 *   the admin's secret key. `DecryptData` accepts all three whatever the build.
 * - sio-go (secure-io/sio-go v0.3.1, sio.go and writer.go): 12-byte AEAD nonce = the 8-byte nonce +
 *   a little-endian uint32 sequence number; sequence 0 only seals the associated data: the fragments'
 *   associated data is `flag(1) | tag of sealing nothing with sequence 0 and the caller's (empty) data`;
 *   plaintext fragments of 16 KiB with flag 0x00, sequence 1, 2, …, and a last fragment of 0..16 KiB
 *   with flag 0x80 (the only one when the plaintext is at most 16 KiB).
 *
 * RustFS (dialect `rustfs`; every fact from rustfs/rustfs at tag 1.0.0-rc.3, commit 1aae6803, the newest
 * tag stored here, copied verbatim under test/fixtures/rustfs/ where test/hub/rustfsAdmin.integration.test.ts checks
 * this client's requests against them):
 * - The same calls, paths and query keys under `/rustfs/admin/v3` (handlers/user_lifecycle.rs,
 *   handlers/policies.rs; `AddUserQuery` in handlers/user.rs), with plain JSON both ways: admin/utils.rs
 *   decrypts request bodies and encrypts answers only on the `/minio/admin` alias. RustFS's own
 *   end-to-end tests use the native path (crates/e2e_test/src/admin_iam_crud_test.rs), signing with
 *   region `us-east-1`, as this client does. Over plain http the client uses the alias instead (dialect
 *   `rustfs-madmin`, from 1.0.0-alpha.87, rustfs PR #2202): the same routes after
 *   `canonicalize_admin_path`, bodies in madmin's sio-go format (the same three algorithm ids, id.rs), so
 *   an add-user's secret key is never sent in clear.
 * - Errors are S3 XML (`<Error><Code>`), not madmin JSON. A missing user is 404 `NoSuchResource`
 *   (handlers/iam_error.rs); a missing canned policy is 500 `InternalError` with the message
 *   "policy does not exist" (crates/iam/src/error.rs `NoSuchPolicy`, mapped by handlers/policies.rs
 *   `InfoCannedPolicy` to an internal error).
 * - `info-canned-policy` answers `PolicyInfo` (crates/madmin/src/policy.rs: `policy_name`, `policy`, dates),
 *   not the bare document; attach and detach answer 200.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  pbkdf2Sync,
  randomBytes,
  type CipherGCMTypes,
} from "node:crypto";
import * as crypto from "node:crypto";
import * as http from "node:http";
import * as https from "node:https";

export const MADMIN_ARGON2ID_AES_GCM = 0x00;
export const MADMIN_ARGON2ID_CHACHA20_POLY1305 = 0x01;
export const MADMIN_PBKDF2_AES_GCM = 0x02;
export type MadminAead =
  typeof MADMIN_ARGON2ID_AES_GCM | typeof MADMIN_ARGON2ID_CHACHA20_POLY1305 | typeof MADMIN_PBKDF2_AES_GCM;

const SIO_BUF_SIZE = 1 << 14;
const TAG = 16;

type Argon2Sync = (
  algorithm: "argon2id",
  params: { message: Buffer; nonce: Buffer; parallelism: number; tagLength: number; memory: number; passes: number },
) => Buffer;

/** node:crypto's Argon2 (Node >= 24.7), or undefined on an older Node. */
function argon2(): Argon2Sync | undefined {
  return (crypto as unknown as { argon2Sync?: Argon2Sync }).argon2Sync;
}

/** True when this Node can derive madmin's Argon2id keys (so it can read what a server encrypts with them). */
export function hasArgon2(): boolean {
  return argon2() !== undefined;
}

function deriveKey(password: string, salt: Buffer, id: number): Buffer {
  if (id === MADMIN_PBKDF2_AES_GCM) return pbkdf2Sync(Buffer.from(password, "utf8"), salt, 8192, 32, "sha256");
  if (id !== MADMIN_ARGON2ID_AES_GCM && id !== MADMIN_ARGON2ID_CHACHA20_POLY1305)
    throw new Error(`madmin: invalid encryption algorithm ID ${id}`);
  const a = argon2();
  if (!a)
    throw new Error(
      "madmin: this answer is encrypted with an Argon2id key, which needs node:crypto argon2Sync (Node >= 24.7)",
    );
  return a("argon2id", {
    message: Buffer.from(password, "utf8"),
    nonce: salt,
    parallelism: 4,
    tagLength: 32,
    memory: 64 * 1024,
    passes: 1,
  });
}

function aead(id: number, key: Buffer) {
  const algorithm = id === MADMIN_ARGON2ID_CHACHA20_POLY1305 ? "chacha20-poly1305" : "aes-256-gcm";
  return {
    seal(nonce: Buffer, plaintext: Buffer, ad: Buffer): Buffer {
      const c = createCipheriv(algorithm as CipherGCMTypes, key, nonce, { authTagLength: TAG });
      c.setAAD(ad, { plaintextLength: plaintext.length });
      return Buffer.concat([c.update(plaintext), c.final(), c.getAuthTag()]);
    },
    open(nonce: Buffer, sealed: Buffer, ad: Buffer): Buffer | undefined {
      if (sealed.length < TAG) return undefined;
      const d = createDecipheriv(algorithm as CipherGCMTypes, key, nonce, { authTagLength: TAG });
      d.setAAD(ad, { plaintextLength: sealed.length - TAG });
      d.setAuthTag(sealed.subarray(sealed.length - TAG));
      try {
        return Buffer.concat([d.update(sealed.subarray(0, sealed.length - TAG)), d.final()]);
      } catch {
        return undefined;
      }
    },
  };
}

function sioNonce(nonce8: Buffer, seq: number): Buffer {
  const n = Buffer.alloc(12);
  nonce8.copy(n, 0);
  n.writeUInt32LE(seq, 8);
  return n;
}

/** The default AEAD: madmin-go's on a CPU with AES instructions, or PBKDF2 where this Node has no Argon2. */
export function defaultMadminAead(): MadminAead {
  return hasArgon2() ? MADMIN_ARGON2ID_AES_GCM : MADMIN_PBKDF2_AES_GCM;
}

/**
 * madmin-go's `EncryptData(password, data)`. `fixed` sets the salt and nonce (tests: with madmin-go's
 * salt and nonce the output is byte for byte madmin-go's); by default both are random, as upstream.
 */
export function madminEncrypt(
  password: string,
  data: Buffer,
  fixed: { salt?: Buffer; nonce?: Buffer; aead?: MadminAead } = {},
): Buffer {
  const salt = fixed.salt ?? randomBytes(32);
  const nonce = fixed.nonce ?? randomBytes(8);
  const id = fixed.aead ?? defaultMadminAead();
  if (salt.length !== 32 || nonce.length !== 8) throw new Error("madmin: salt must be 32 bytes and nonce 8");
  const c = aead(id, deriveKey(password, salt, id));
  const adTag = c.seal(sioNonce(nonce, 0), Buffer.alloc(0), Buffer.alloc(0));
  const out: Buffer[] = [salt, Buffer.from([id]), nonce];
  let seq = 1;
  let rest = data;
  while (rest.length > SIO_BUF_SIZE) {
    out.push(
      c.seal(sioNonce(nonce, seq++), rest.subarray(0, SIO_BUF_SIZE), Buffer.concat([Buffer.from([0x00]), adTag])),
    );
    rest = rest.subarray(SIO_BUF_SIZE);
  }
  out.push(c.seal(sioNonce(nonce, seq), rest, Buffer.concat([Buffer.from([0x80]), adTag])));
  return Buffer.concat(out);
}

/** The parts of an encrypted body: what `madminEncrypt` needs to reproduce it. */
export function madminEnvelope(data: Buffer): { salt: Buffer; aead: number; nonce: Buffer } {
  if (data.length < 41) throw new Error("madmin: unexpected header");
  return { salt: data.subarray(0, 32), aead: data[32], nonce: data.subarray(33, 41) };
}

/** madmin-go's `DecryptData`: the plaintext, or an error when the key is wrong or a byte changed. */
export function madminDecrypt(password: string, data: Buffer): Buffer {
  const { salt, aead: id, nonce } = madminEnvelope(data);
  const c = aead(id, deriveKey(password, salt, id));
  const adTag = c.seal(sioNonce(nonce, 0), Buffer.alloc(0), Buffer.alloc(0));
  const out: Buffer[] = [];
  let rest = data.subarray(41);
  let seq = 1;
  const fragment = SIO_BUF_SIZE + TAG;
  for (;;) {
    const last = rest.length <= fragment;
    const sealed = last ? rest : rest.subarray(0, fragment);
    const plain = c.open(sioNonce(nonce, seq), sealed, Buffer.concat([Buffer.from([last ? 0x80 : 0x00]), adTag]));
    if (!plain) throw new Error("madmin: data is not authentic (wrong key, or changed in transit)");
    out.push(plain);
    if (last) return Buffer.concat(out);
    rest = rest.subarray(fragment);
    seq++;
  }
}

// ---------------------------------------------------------------------------------------------
// Signed requests
// ---------------------------------------------------------------------------------------------

export interface MadminCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** RFC 3986 encoding with only A-Z a-z 0-9 - _ . ~ kept: minio-go `s3utils.QueryEncode`/`EncodePath` on one value. */
export function madminEscape(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The query string, keys sorted (minio-go `s3utils.QueryEncode`; also the canonical query of SigV4). */
export function madminQuery(query: Readonly<Record<string, string>>): string {
  return Object.keys(query)
    .sort()
    .map((k) => `${madminEscape(k)}=${madminEscape(query[k])}`)
    .join("&");
}

export interface MadminRequest {
  readonly method: "GET" | "PUT" | "POST" | "DELETE";
  /** After `/minio/admin/v3`, e.g. `/add-user`. */
  readonly path: string;
  readonly query?: Readonly<Record<string, string>>;
  readonly body?: Buffer;
  /** Headers that are sent and signed (Content-Type for attach/detach). */
  readonly headers?: Readonly<Record<string, string>>;
}

export interface SignedMadminRequest {
  readonly method: string;
  /** Path and query, as sent. */
  readonly url: string;
  /** Every header sent, lower-case names. */
  readonly headers: Record<string, string>;
  readonly body: Buffer;
  readonly canonicalRequest: string;
  readonly signedHeaders: string[];
}

export const MADMIN_PREFIX = "/minio/admin/v3";

/**
 * Which admin API a client speaks: madmin's (MinIO, Silo); RustFS's own (plain JSON, for https
 * endpoints); or RustFS's madmin alias (`/minio/admin/v3`, bodies encrypted as madmin's: for plain-http
 * endpoints, so a writer's secret key never crosses the network in clear).
 */
export type AdminDialect = "madmin" | "rustfs" | "rustfs-madmin";

export interface AdminDialectSpec {
  readonly prefix: string;
  /** The region the signature's scope names. */
  readonly region: string;
  /** Request bodies and the list-users answer are madmin-encrypted with the admin's secret key. */
  readonly encrypted: boolean;
  /** The server is RustFS: S3 XML errors, PolicyInfo answers, a missing policy as an internal error. */
  readonly rustfs: boolean;
}

export const ADMIN_DIALECTS: Readonly<Record<AdminDialect, AdminDialectSpec>> = {
  madmin: { prefix: MADMIN_PREFIX, region: "", encrypted: true, rustfs: false },
  rustfs: { prefix: "/rustfs/admin/v3", region: "us-east-1", encrypted: false, rustfs: true },
  // RustFS maps the alias onto its own routes (router.rs `canonicalize_admin_path`) and decrypts and
  // encrypts there with madmin's format (admin/utils.rs, crates/crypto/src/encdec/stream_io.rs).
  "rustfs-madmin": { prefix: MADMIN_PREFIX, region: "us-east-1", encrypted: true, rustfs: true },
};

/** The dialect for a flavor's server at an endpoint (RustFS: its own API over https, the alias over http). */
export function adminDialectFor(flavor: "minio" | "silo" | "rustfs", endpoint: string): AdminDialect {
  if (flavor !== "rustfs") return "madmin";
  return new URL(endpoint).protocol === "https:" ? "rustfs" : "rustfs-madmin";
}
const sha256hex = (b: Buffer | string) => createHash("sha256").update(b).digest("hex");
const hmac = (key: Buffer | string, s: string) => createHmac("sha256", key).update(s, "utf8").digest();

/** `20260102T150405Z` */
export function amzDate(t: Date): string {
  return t
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}Z$/, "Z");
}

/**
 * Signs a request exactly as madmin-go's `newRequest` + minio-go `SignV4` with an empty region; in the
 * `rustfs` dialect the same under `/rustfs/admin/v3` with region `us-east-1`.
 */
export function signMadminRequest(
  endpoint: string,
  creds: MadminCredentials,
  req: MadminRequest,
  now: Date,
  dialect: AdminDialect = "madmin",
): SignedMadminRequest {
  const url = new URL(endpoint);
  const body = req.body ?? Buffer.alloc(0);
  const { prefix, region } = ADMIN_DIALECTS[dialect];
  const path = `${prefix}${req.path}`;
  const query = madminQuery(req.query ?? {});
  const date = amzDate(now);
  const headers: Record<string, string> = {
    host: url.host,
    ...Object.fromEntries(Object.entries(req.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
    "x-amz-content-sha256": sha256hex(body),
    "x-amz-date": date,
  };
  const signedHeaders = Object.keys(headers).sort();
  const canonicalRequest = [
    req.method,
    path,
    query,
    signedHeaders.map((h) => `${h}:${headers[h].trim().replace(/\s+/g, " ")}\n`).join(""),
    signedHeaders.join(";"),
    headers["x-amz-content-sha256"],
  ].join("\n");
  const scope = `${date.slice(0, 8)}/${region}/s3/aws4_request`;
  const stringToSign = ["AWS4-HMAC-SHA256", date, scope, sha256hex(canonicalRequest)].join("\n");
  let key = hmac(`AWS4${creds.secretAccessKey}`, date.slice(0, 8));
  for (const part of [region, "s3", "aws4_request"]) key = hmac(key, part);
  const signature = createHmac("sha256", key).update(stringToSign, "utf8").digest("hex");
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${creds.accessKeyId}/${scope}, SignedHeaders=${signedHeaders.join(";")}, Signature=${signature}`;
  return {
    method: req.method,
    url: query ? `${path}?${query}` : path,
    headers,
    body,
    canonicalRequest,
    signedHeaders,
  };
}

export interface MadminResponse {
  readonly status: number;
  readonly body: Buffer;
}

/** An error answer of the admin API (its JSON `Code` and `Message`, madmin-go api-error-response.go). */
export class MadminError extends Error {
  constructor(
    readonly call: string,
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(`madmin ${call}: HTTP ${status}${code ? ` ${code}` : ""}${message ? `: ${message}` : ""}`);
  }
}

export interface MadminClientOptions {
  /** The clock the signature uses (tests fix it). @default the system clock */
  readonly now?: () => Date;
  /** The salt and nonce of encrypted bodies (tests; default random). */
  readonly encryption?: () => { salt?: Buffer; nonce?: Buffer; aead?: MadminAead };
  /** @default "homelab-backup" */
  readonly userAgent?: string;
  /** The admin API the server speaks. @default "madmin" */
  readonly dialect?: AdminDialect;
  readonly timeoutMs?: number;
}

export type MadminAccountStatus = "enabled" | "disabled";

export interface MadminUserInfo {
  readonly policyName?: string;
  readonly status: MadminAccountStatus;
  readonly memberOf?: string[];
}

/** An error answer's code and message: madmin's JSON (`Code`, `Message`) or RustFS's S3 XML. */
export function adminErrorOf(body: Buffer): { code: string; message: string } {
  const text = body.toString("utf8");
  try {
    const e = JSON.parse(text) as { Code?: string; Message?: string };
    return { code: e.Code ?? "", message: e.Message ?? "" };
  } catch {
    const tag = (t: string) => new RegExp(`<${t}>([^<]*)</${t}>`).exec(text)?.[1];
    const code = tag("Code");
    return code !== undefined ? { code, message: tag("Message") ?? "" } : { code: "", message: text.slice(0, 300) };
  }
}

/**
 * The policy document of an `info-canned-policy` answer: MinIO and Silo answer the document itself,
 * RustFS a `PolicyInfo` holding it (`policy`; `Policy` in madmin-go's own PolicyInfo).
 */
export function cannedPolicyDocument(answer: string): string {
  const parsed = JSON.parse(answer) as Record<string, unknown>;
  if ("Statement" in parsed) return answer;
  const inner = parsed.policy ?? parsed.Policy;
  if (inner && typeof inner === "object") return JSON.stringify(inner);
  if (typeof inner === "string") return inner;
  return answer;
}

/** The admin calls the program uses, on one server with one admin key. */
export class MadminClient {
  constructor(
    readonly endpoint: string,
    private readonly creds: MadminCredentials,
    private readonly opts: MadminClientOptions = {},
  ) {}

  private get dialect(): AdminDialect {
    return this.opts.dialect ?? "madmin";
  }

  /** Signs and sends one request; the answer whatever its status. */
  async send(req: MadminRequest): Promise<MadminResponse> {
    const signed = signMadminRequest(
      this.endpoint,
      this.creds,
      req,
      (this.opts.now ?? (() => new Date()))(),
      this.dialect,
    );
    const url = new URL(this.endpoint);
    const lib = url.protocol === "https:" ? https : http;
    return new Promise((resolve, reject) => {
      const r = lib.request(
        {
          protocol: url.protocol,
          hostname: url.hostname,
          port: url.port || undefined,
          method: signed.method,
          path: signed.url,
          headers: {
            ...signed.headers,
            "user-agent": this.opts.userAgent ?? "homelab-backup",
            ...(signed.body.length > 0 ? { "content-length": String(signed.body.length) } : {}),
          },
          timeout: this.opts.timeoutMs ?? 60_000,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
          res.on("error", reject);
        },
      );
      r.on("timeout", () => r.destroy(new Error(`madmin ${req.path}: no answer from ${this.endpoint}`)));
      r.on("error", reject);
      r.end(signed.body);
    });
  }

  /** A JSON body as the dialect sends it: encrypted with the admin's secret key (madmin), or plain (RustFS). */
  private body(plain: unknown): Buffer {
    const json = Buffer.from(JSON.stringify(plain), "utf8");
    if (!ADMIN_DIALECTS[this.dialect].encrypted) return json;
    return madminEncrypt(this.creds.secretAccessKey, json, this.opts.encryption?.() ?? {});
  }

  private async expect(call: string, req: MadminRequest, ok: readonly number[]): Promise<MadminResponse> {
    const res = await this.send(req);
    if (!ok.includes(res.status)) {
      const { code, message } = adminErrorOf(res.body);
      throw new MadminError(call, res.status, code, message);
    }
    return res;
  }

  /** `AddUser`: creates the user, or sets its secret key and enables it. */
  async addUser(accessKey: string, secretKey: string): Promise<void> {
    await this.expect(
      "add-user",
      {
        method: "PUT",
        path: "/add-user",
        query: { accessKey },
        body: this.body({ secretKey, status: "enabled" }),
      },
      [200],
    );
  }

  async setUserStatus(accessKey: string, status: MadminAccountStatus): Promise<void> {
    await this.expect(
      "set-user-status",
      { method: "PUT", path: "/set-user-status", query: { accessKey, status } },
      [200],
    );
  }

  /** `GetUserInfo`, or undefined when the server has no such user. */
  async userInfo(accessKey: string): Promise<MadminUserInfo | undefined> {
    try {
      const res = await this.expect("user-info", { method: "GET", path: "/user-info", query: { accessKey } }, [200]);
      return JSON.parse(res.body.toString("utf8")) as MadminUserInfo;
    } catch (err) {
      // MinIO: XMinioAdminNoSuchUser; RustFS: 404 NoSuchResource.
      if (err instanceof MadminError && (err.code === "XMinioAdminNoSuchUser" || err.status === 404)) return undefined;
      throw err;
    }
  }

  /** `ListUsers`: every user by access key (madmin encrypts the answer with the admin's secret key). */
  async listUsers(): Promise<Record<string, MadminUserInfo>> {
    const res = await this.expect("list-users", { method: "GET", path: "/list-users" }, [200]);
    const plain = ADMIN_DIALECTS[this.dialect].encrypted
      ? madminDecrypt(this.creds.secretAccessKey, res.body)
      : res.body;
    return JSON.parse(plain.toString("utf8")) as Record<string, MadminUserInfo>;
  }

  async removeUser(accessKey: string): Promise<void> {
    await this.expect("remove-user", { method: "DELETE", path: "/remove-user", query: { accessKey } }, [200]);
  }

  /** `AddCannedPolicy`: creates or replaces the policy `name` (sent as is, not encrypted). */
  async addCannedPolicy(name: string, policy: string): Promise<void> {
    await this.expect(
      "add-canned-policy",
      { method: "PUT", path: "/add-canned-policy", query: { name }, body: Buffer.from(policy, "utf8") },
      [200],
    );
  }

  /** `InfoCannedPolicy`: the policy document as the server holds it, or undefined when there is none. */
  async infoCannedPolicy(name: string): Promise<string | undefined> {
    try {
      const res = await this.expect(
        "info-canned-policy",
        { method: "GET", path: "/info-canned-policy", query: { name } },
        [200],
      );
      return cannedPolicyDocument(res.body.toString("utf8"));
    } catch (err) {
      if (err instanceof MadminError && (err.code === "XMinioAdminNoSuchPolicy" || err.status === 404))
        return undefined;
      // RustFS answers a missing policy with an internal error carrying IAM's message (see the header).
      if (
        ADMIN_DIALECTS[this.dialect].rustfs &&
        err instanceof MadminError &&
        err.status === 500 &&
        err.message.includes("policy does not exist")
      )
        return undefined;
      throw err;
    }
  }

  async removeCannedPolicy(name: string): Promise<void> {
    await this.expect(
      "remove-canned-policy",
      { method: "DELETE", path: "/remove-canned-policy", query: { name } },
      [200],
    );
  }

  private async association(which: "attach" | "detach", policies: string[], user: string): Promise<void> {
    await this.expect(
      `${which}-policy`,
      {
        method: "POST",
        path: `/idp/builtin/policy/${which}`,
        headers: {
          "Content-Type": ADMIN_DIALECTS[this.dialect].encrypted ? "application/octet-stream" : "application/json",
        },
        body: this.body({ policies, user }),
      },
      // 200 with an encrypted result from servers of mid-2023 on; 201 (attach) / 204 (detach) before.
      which === "attach" ? [200, 201] : [200, 204],
    );
  }

  /** `AttachPolicy` for a builtin user. */
  attachPolicy(policies: string[], user: string): Promise<void> {
    return this.association("attach", policies, user);
  }

  /** `DetachPolicy` for a builtin user. */
  detachPolicy(policies: string[], user: string): Promise<void> {
    return this.association("detach", policies, user);
  }
}
