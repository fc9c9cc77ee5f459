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
 */
import { createHash, createHmac } from "node:crypto";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { madminDecrypt, madminEncrypt, MADMIN_PREFIX } from "../../components/hub/s3/madmin.js";

export interface StandInUser {
  secretKey: string;
  status: "enabled" | "disabled";
  policies: string[];
}

export interface MadminStandIn {
  readonly endpoint: string;
  readonly policies: Map<string, string>;
  readonly users: Map<string, StandInUser>;
  /** Every call as `METHOD path`, in order. */
  readonly calls: string[];
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

export async function startMadminStandIn(admin: {
  accessKeyId: string;
  secretAccessKey: string;
}): Promise<MadminStandIn> {
  const policies = new Map<string, string>();
  const users = new Map<string, StandInUser>();
  const calls: string[] = [];
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
        send(status, JSON.stringify({ Code: code, Message: message }));
      if (!u.pathname.startsWith(`${MADMIN_PREFIX}/`)) return fail(404, "NotFound", u.pathname);
      if (!signatureOk(req, body, admin)) return fail(403, "SignatureDoesNotMatch", "signature");
      const call = u.pathname.slice(MADMIN_PREFIX.length);
      calls.push(`${req.method} ${call}`);
      const q = (k: string) => u.searchParams.get(k) ?? "";
      try {
        switch (`${req.method} ${call}`) {
          case "PUT /add-canned-policy":
            JSON.parse(body.toString("utf8"));
            policies.set(q("name"), body.toString("utf8"));
            return send(200);
          case "GET /info-canned-policy": {
            const p = policies.get(q("name"));
            // MinIO answers the policy as it parsed it: same rights, its own layout (one-line JSON).
            return p === undefined
              ? fail(404, "XMinioAdminNoSuchPolicy", "The canned policy does not exist")
              : send(200, JSON.stringify(JSON.parse(p)));
          }
          case "DELETE /remove-canned-policy":
            policies.delete(q("name"));
            return send(200);
          case "PUT /add-user": {
            const r = JSON.parse(madminDecrypt(admin.secretAccessKey, body).toString("utf8")) as {
              secretKey: string;
              status: "enabled" | "disabled";
            };
            const old = users.get(q("accessKey"));
            users.set(q("accessKey"), { secretKey: r.secretKey, status: r.status, policies: old?.policies ?? [] });
            return send(200);
          }
          case "PUT /set-user-status": {
            const user = users.get(q("accessKey"));
            if (!user) return fail(404, "XMinioAdminNoSuchUser", "The specified user does not exist");
            user.status = q("status") as "enabled" | "disabled";
            return send(200);
          }
          case "GET /user-info": {
            const user = users.get(q("accessKey"));
            if (!user) return fail(404, "XMinioAdminNoSuchUser", "The specified user does not exist");
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
            return send(200, madminEncrypt(admin.secretAccessKey, Buffer.from(JSON.stringify(all))));
          }
          case "DELETE /remove-user":
            users.delete(q("accessKey"));
            return send(200);
          case "POST /idp/builtin/policy/attach":
          case "POST /idp/builtin/policy/detach": {
            const r = JSON.parse(madminDecrypt(admin.secretAccessKey, body).toString("utf8")) as {
              policies: string[];
              user: string;
            };
            const user = users.get(r.user);
            if (!user) return fail(404, "XMinioAdminNoSuchUser", "The specified user does not exist");
            const attach = call.endsWith("attach");
            const change = r.policies.filter((p) => user.policies.includes(p) !== attach);
            if (change.length === 0)
              return fail(
                400,
                "XMinioAdminPolicyChangeAlreadyApplied",
                "The specified policy change is already in effect.",
              );
            for (const p of r.policies) if (attach && !policies.has(p)) return fail(404, "XMinioAdminNoSuchPolicy", p);
            user.policies = attach
              ? [...user.policies, ...change]
              : user.policies.filter((p) => !r.policies.includes(p));
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
    stop: () => new Promise<void>((r) => server.close(() => r())),
  };
}
