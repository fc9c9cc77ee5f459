/**
 * A loopback stand-in for the madmin calls the program uses (users, canned policies, attach/detach, user
 * status), for the dynamic-provider tests: no MinIO, Silo or RustFS server can be installed here.
 *
 * It is acceptable ONLY as the peer of the golden-tested client: the wire format on the client's side is
 * proven against madmin-go itself by test/hub/madmin.integration.test.ts; this server just speaks the
 * same format back (it checks each request's SigV4 signature with the admin's secret key, and decrypts
 * and encrypts bodies with the program's madmin.ts). What a real server adds (MinIO re-serializing a
 * canned policy, its error codes) follows MinIO's admin handlers as cited in madmin-go: 404
 * `XMinioAdminNoSuchUser` / `XMinioAdminNoSuchPolicy`, 400 `XMinioAdminPolicyChangeAlreadyApplied` when
 * an attach or detach changes nothing; list-users answers encrypted; attach answers 201, detach 204 (the
 * pre-2023 answers, which madmin-go v3 still accepts).
 *
 * With `dialect: "rustfs"` it answers as RustFS's own admin API does (test/fixtures/rustfs/, tag 1.0.0-rc.3):
 * `/rustfs/admin/v3`, plain JSON both ways (with `"rustfs-madmin"`, RustFS's `/minio/admin/v3` alias:
 * madmin's encryption both ways, RustFS's answers otherwise), S3 XML errors (404 `NoSuchResource` for a missing user, 500
 * `InternalError` "policy does not exist" for a missing canned policy), `info-canned-policy` as a
 * `PolicyInfo` (`policy_name`, `policy`), attach and detach answering 200 with `PolicyAssociationResp`.
 * Every request is recorded (method, path, query, body as received) so test/hub/rustfsAdmin.integration.test.ts can
 * hold them against RustFS's router and request types.
 */
import { createHash, createHmac } from "node:crypto";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { ADMIN_DIALECTS, madminDecrypt, madminEncrypt, type AdminDialect } from "../../components/hub/s3/madmin.js";

export interface StandInUser {
  secretKey: string;
  status: "enabled" | "disabled";
  policies: string[];
}

export interface RecordedAdminRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Record<string, string>;
  readonly body: string;
}

export interface MadminStandIn {
  readonly endpoint: string;
  readonly policies: Map<string, string>;
  readonly users: Map<string, StandInUser>;
  /** Every call as `METHOD path`, in order. */
  readonly calls: string[];
  /** Every signed request as received: full path, query, and the body after decryption (madmin) or as sent (RustFS). */
  readonly requests: RecordedAdminRequest[];
  stop(): Promise<void>;
}

const strict = (s: string) =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

function signatureOk(req: http.IncomingMessage, body: Buffer, admin: { accessKeyId: string; secretAccessKey: string }) {
  const h = req.headers;
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/([^,]+), SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(
    String(h.authorization ?? ""),
  );
  if (!m || m[1] !== admin.accessKeyId) return false;
  if (createHash("sha256").update(body).digest("hex") !== h["x-amz-content-sha256"]) return false;
  const u = new URL(req.url ?? "/", "http://x");
  const query = [...u.searchParams]
    .map(([k, v]) => `${strict(k)}=${strict(v)}`)
    .sort()
    .join("&");
  const signed = m[3].split(";");
  const canonical = [
    req.method,
    u.pathname,
    query,
    signed.map((n) => `${n}:${String(h[n] ?? "").trim()}\n`).join(""),
    m[3],
    h["x-amz-content-sha256"],
  ].join("\n");
  const [date, region, service] = m[2].split("/");
  let key: Buffer = createHmac("sha256", `AWS4${admin.secretAccessKey}`).update(date).digest();
  for (const p of [region, service, "aws4_request"]) key = createHmac("sha256", key).update(p).digest();
  const toSign = ["AWS4-HMAC-SHA256", h["x-amz-date"], m[2], createHash("sha256").update(canonical).digest("hex")].join(
    "\n",
  );
  return createHmac("sha256", key).update(toSign).digest("hex") === m[4];
}

export async function startMadminStandIn(
  admin: {
    accessKeyId: string;
    secretAccessKey: string;
  },
  dialect: AdminDialect = "madmin",
): Promise<MadminStandIn> {
  const policies = new Map<string, string>();
  const users = new Map<string, StandInUser>();
  const calls: string[] = [];
  const requests: RecordedAdminRequest[] = [];
  const { prefix, encrypted, rustfs } = ADMIN_DIALECTS[dialect];
  /** A request body as JSON: decrypted on madmin, plain on RustFS. */
  const bodyJson = (body: Buffer) =>
    JSON.parse((encrypted ? madminDecrypt(admin.secretAccessKey, body) : body).toString("utf8")) as unknown;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const u = new URL(req.url ?? "/", "http://x");
      const send = (status: number, out: Buffer | string = "") => {
        res.writeHead(status);
        res.end(out);
      };
      const fail = (status: number, code: string, message: string) =>
        send(
          status,
          rustfs
            ? `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`
            : JSON.stringify({ Code: code, Message: message }),
        );
      // The two ways a server says "no such user" and "no such policy".
      const noUser = () =>
        rustfs
          ? fail(404, "NoSuchResource", "user does not exist")
          : fail(404, "XMinioAdminNoSuchUser", "The specified user does not exist");
      const noPolicy = () =>
        rustfs
          ? fail(500, "InternalError", "policy does not exist")
          : fail(404, "XMinioAdminNoSuchPolicy", "The canned policy does not exist");
      if (!u.pathname.startsWith(`${prefix}/`)) return fail(404, "NotFound", u.pathname);
      if (!signatureOk(req, body, admin)) return fail(403, "SignatureDoesNotMatch", "signature");
      const call = u.pathname.slice(prefix.length);
      calls.push(`${req.method} ${call}`);
      let recordedBody = body.toString("utf8");
      try {
        if (encrypted && (call === "/add-user" || call.startsWith("/idp/builtin/policy/")))
          recordedBody = madminDecrypt(admin.secretAccessKey, body).toString("utf8");
      } catch {
        // an undecryptable body is recorded as sent; the handler below refuses it
      }
      requests.push({
        method: req.method ?? "",
        path: u.pathname,
        query: Object.fromEntries(u.searchParams),
        body: recordedBody,
      });
      const q = (k: string) => u.searchParams.get(k) ?? "";
      try {
        switch (`${req.method} ${call}`) {
          case "PUT /add-canned-policy":
            JSON.parse(body.toString("utf8"));
            policies.set(q("name"), body.toString("utf8"));
            return send(200);
          case "GET /info-canned-policy": {
            const p = policies.get(q("name"));
            // MinIO answers the policy as it parsed it: same rights, its own layout (one-line JSON);
            // RustFS a PolicyInfo around it (crates/madmin/src/policy.rs, no serde renames).
            if (p === undefined) return noPolicy();
            return send(
              200,
              rustfs
                ? JSON.stringify({ policy_name: q("name"), policy: JSON.parse(p) })
                : JSON.stringify(JSON.parse(p)),
            );
          }
          case "DELETE /remove-canned-policy":
            policies.delete(q("name"));
            return send(200);
          case "PUT /add-user": {
            const r = bodyJson(body) as { secretKey: string; status: "enabled" | "disabled" };
            const old = users.get(q("accessKey"));
            users.set(q("accessKey"), { secretKey: r.secretKey, status: r.status, policies: old?.policies ?? [] });
            return send(200);
          }
          case "PUT /set-user-status": {
            const user = users.get(q("accessKey"));
            if (!user) return noUser();
            user.status = q("status") as "enabled" | "disabled";
            return send(200);
          }
          case "GET /user-info": {
            const user = users.get(q("accessKey"));
            if (!user) return noUser();
            return send(
              200,
              JSON.stringify({
                ...(user.policies.length ? { policyName: user.policies.join(",") } : {}),
                status: user.status,
              }),
            );
          }
          case "GET /list-users": {
            const all = Object.fromEntries(
              [...users].map(([k, v]) => [
                k,
                { ...(v.policies.length ? { policyName: v.policies.join(",") } : {}), status: v.status },
              ]),
            );
            const json = Buffer.from(JSON.stringify(all));
            return send(200, encrypted ? madminEncrypt(admin.secretAccessKey, json) : json);
          }
          case "DELETE /remove-user":
            users.delete(q("accessKey"));
            return send(200);
          case "POST /idp/builtin/policy/attach":
          case "POST /idp/builtin/policy/detach": {
            const r = bodyJson(body) as { policies: string[]; user: string };
            const user = users.get(r.user);
            if (!user) return noUser();
            const attach = call.endsWith("attach");
            const change = r.policies.filter((p) => user.policies.includes(p) !== attach);
            if (change.length === 0)
              return fail(
                400,
                "XMinioAdminPolicyChangeAlreadyApplied",
                "The specified policy change is already in effect.",
              );
            for (const p of r.policies) if (attach && !policies.has(p)) return noPolicy();
            user.policies = attach
              ? [...user.policies, ...change]
              : user.policies.filter((p) => !r.policies.includes(p));
            if (rustfs) {
              // handlers/policies.rs: PolicyAssociationResp, encrypted on the alias (encode_compatible_admin_payload).
              const answer = Buffer.from(
                JSON.stringify({
                  [attach ? "policiesAttached" : "policiesDetached"]: change,
                  updatedAt: new Date().toISOString(),
                }),
              );
              return send(200, encrypted ? madminEncrypt(admin.secretAccessKey, answer) : answer);
            }
            return send(attach ? 201 : 204);
          }
          default:
            return fail(404, "XMinioAdminNotImplemented", call);
        }
      } catch (err) {
        return fail(400, "XMinioAdminInvalidArgument", (err as Error).message);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    policies,
    users,
    calls,
    requests,
    stop: () => new Promise<void>((r) => server.close(() => r())),
  };
}
