/**
 * madmin-go itself, as the reference for the program's madmin client (components/hub/s3/madmin.ts):
 * `madmin-golden/main.go` is built offline with Debian's Go (golang-1.19-go) against Debian's
 * golang-github-minio-madmin-go-dev (2.0.7) and golang-github-secure-io-sio-go-dev (0.3.1), in GOPATH mode
 * from /usr/share/gocode (Go's minimal module compatibility resolves madmin-go's own `/v2` and minio-go's
 * `/v7` import paths there), the first time a test needs it, and cached by the source's hash in the temp
 * dir (test/support/goHelper.ts, as robfigCron.ts).
 *
 * Also a loopback recording server: it keeps every request exactly as received (method, raw path and
 * query, headers, body) and answers each admin call with the status madmin-go expects of it.
 */
import { spawn } from "node:child_process";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import { DEBIAN_GOPATH, goHelperBinary } from "./goHelper.js";

const SOURCE_DIR = path.join(__dirname, "madmin-golden");
/** Where Debian's golang-github-minio-madmin-go-dev installs the library. */
export const DEBIAN_MADMIN_DIR = path.join(DEBIAN_GOPATH, "src/github.com/minio/madmin-go");

/** Builds the helper once (per source content) and returns the binary's path. */
export function madminGoldenBinary(): Promise<string> {
  return goHelperBinary(SOURCE_DIR, "madmin-golden", 600_000);
}

/** Runs the helper with `input` on stdin: exit code, stdout (bytes) and stderr. */
export async function madminGolden(
  args: readonly string[],
  input: Buffer | string,
): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  const bin = await madminGoldenBinary();
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    let err = "";
    child.stdout.on("data", (d: Buffer) => out.push(d));
    child.stderr.on("data", (d) => (err += d));
    child.on("error", reject);
    child.on("exit", (code) => resolve({ code: code ?? -1, stdout: Buffer.concat(out), stderr: err }));
    child.stdin.end(input);
  });
}

/** madmin-go `EncryptData`. */
export async function goEncrypt(password: string, plain: Buffer): Promise<Buffer> {
  const r = await madminGolden(["encrypt", password], plain);
  if (r.code !== 0) throw new Error(`madmin-golden encrypt: ${r.stderr}`);
  return r.stdout;
}

/** madmin-go `DecryptData`: the plaintext, or the library's error. */
export async function goDecrypt(
  password: string,
  data: Buffer,
): Promise<{ ok: true; plain: Buffer } | { ok: false; error: string }> {
  const r = await madminGolden(["decrypt", password], data);
  if (r.code === 0) return { ok: true, plain: r.stdout };
  if (r.code === 3) return { ok: false, error: r.stderr.trim() };
  throw new Error(`madmin-golden decrypt: exit ${r.code}: ${r.stderr}`);
}

/** One AdminClient call of madmin-go against `endpoint` (host:port); the client's error text, "" when none. */
export async function goCall(
  endpoint: string,
  creds: { accessKeyId: string; secretAccessKey: string },
  op: string,
  args: Record<string, unknown>,
): Promise<string> {
  const r = await madminGolden(["call", endpoint, creds.accessKeyId, creds.secretAccessKey, op], JSON.stringify(args));
  if (r.code !== 0) throw new Error(`madmin-golden call ${op}: exit ${r.code}: ${r.stderr}`);
  return (JSON.parse(r.stdout.toString("utf8")) as { error: string }).error;
}

export interface RecordedRequest {
  readonly method: string;
  /** Path and query exactly as received. */
  readonly url: string;
  /** Header names lower-cased; values as received. */
  readonly headers: Record<string, string>;
  readonly body: Buffer;
}

export interface Recorder {
  /** `127.0.0.1:<port>` */
  readonly host: string;
  readonly requests: RecordedRequest[];
  stop(): Promise<void>;
}

/** What madmin-go takes as success for each call (madmin-go user-commands.go, policy-commands.go). */
function answer(method: string, pathname: string): { status: number; body: string } {
  if (pathname.endsWith("/idp/builtin/policy/attach")) return { status: 201, body: "" };
  if (pathname.endsWith("/idp/builtin/policy/detach")) return { status: 204, body: "" };
  if (pathname.endsWith("/user-info")) return { status: 200, body: '{"status":"enabled"}' };
  if (pathname.endsWith("/info-canned-policy")) return { status: 200, body: '{"Version":"2012-10-17","Statement":[]}' };
  return { status: method === "GET" ? 200 : 200, body: "" };
}

export async function startRecorder(): Promise<Recorder> {
  const requests: RecordedRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const headers: Record<string, string> = {};
      for (let i = 0; i < req.rawHeaders.length; i += 2)
        headers[req.rawHeaders[i].toLowerCase()] = req.rawHeaders[i + 1];
      requests.push({ method: req.method ?? "", url: req.url ?? "", headers, body: Buffer.concat(chunks) });
      const a = answer(req.method ?? "", new URL(req.url ?? "/", "http://x").pathname);
      res.writeHead(a.status, a.body ? { "content-type": "application/json" } : {});
      res.end(a.body);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return {
    host: `127.0.0.1:${port}`,
    requests,
    stop: () => new Promise<void>((r) => server.close(() => r())),
  };
}
