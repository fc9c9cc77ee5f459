/**
 * The RustFS admin client (components/hub/s3/madmin.ts, dialect `rustfs`) against RustFS's own source:
 * no RustFS binary can run here, so its router and request types are the reference (verbatim copies of
 * rustfs/rustfs at tag 1.0.0-rc.3 under test/fixtures/rustfs/, provenance in its README.md).
 *
 * Every call the writers make (components/hub/s3/madminWriters.ts) goes to a loopback stand-in in RustFS's
 * dialect (test/support/madminStandIn.ts), which records each request; each must hit a route RustFS
 * registers, with only query keys and body fields of the types its handler decodes, and every required
 * one. The answers the client parses are built from the response types' field names read from the same
 * source. A changed path, query key or body field fails (the mutation cases at the end).
 */
import { beforeAll, describe, expect, it } from "vitest";
import {
  ADMIN_DIALECTS,
  adminDialectFor,
  adminErrorOf,
  cannedPolicyDocument,
  MadminClient,
  type AdminDialect,
} from "../../components/hub/s3/madmin.js";
import { ensureMadminWriter, readMadminWriter } from "../../components/hub/s3/madminWriters.js";
import { startMadminStandIn, type RecordedAdminRequest } from "../support/madminStandIn.js";
import {
  bodyType,
  handlerSource,
  queryType,
  readRustfs,
  rustfsRequestProblems,
  rustfsRoutes,
  serdeEnumValues,
  serdeFields,
  type SerdeField,
} from "../support/rustfsSource.js";

const ADMIN = { accessKeyId: "rustfsadmin", secretAccessKey: "rustfs-admin-secret-0123" };

const HANDLERS = ["rustfs/src/admin/handlers/user.rs", "rustfs/src/admin/handlers/policies.rs"].map(readRustfs);
const ROUTES = [
  ...rustfsRoutes(readRustfs("rustfs/src/admin/handlers/user_lifecycle.rs")),
  ...rustfsRoutes(HANDLERS[1]),
];
/** Where each struct a handler decodes is defined. */
const TYPES = [...HANDLERS, readRustfs("crates/madmin/src/user.rs")];

function fieldsOf(name: string): SerdeField[] {
  for (const src of TYPES) if (new RegExp(`struct ${name} \\{`).test(src)) return serdeFields(src, name);
  throw new Error(`struct ${name} is in none of the copied files`);
}

/** The query and body types the handler of `op` decodes, read from its source. */
function typesOf(op: string): { query?: SerdeField[]; body?: SerdeField[] } {
  const src = HANDLERS.find((s) => s.includes(`impl Operation for ${op} {`));
  if (!src) throw new Error(`no handler for ${op}`);
  const handler = handlerSource(src, op);
  const q = queryType(handler);
  const b = bodyType(handler);
  return { ...(q ? { query: fieldsOf(q) } : {}), ...(b ? { body: fieldsOf(b) } : {}) };
}

const writer = {
  policyName: "homelab-backups-postgres",
  key: { accessKeyId: "PGWRITERKEY0001", secretAccessKey: "pg-writer-secret-key-0123456789" },
  policy: {
    Version: "2012-10-17" as const,
    Statement: [
      {
        Sid: "Put",
        Effect: "Allow" as const,
        Action: ["s3:PutObject"],
        Resource: ["arn:aws:s3:::homelab-backups/postgres-backups/*"],
      },
    ],
  },
};

/** Every call the program makes, in one dialect: create, read, a key replaced (the old user removed), and the rest of the client. */
async function driveWriterPath(dialect: AdminDialect): Promise<RecordedAdminRequest[]> {
  const server = await startMadminStandIn(ADMIN, dialect);
  try {
    server.policies.set("consoleAdmin", JSON.stringify({ Version: "2012-10-17", Statement: [] }));
    await ensureMadminWriter(server.endpoint, ADMIN, writer, dialect);
    server.users.get(writer.key.accessKeyId)!.policies.push("consoleAdmin");
    await ensureMadminWriter(server.endpoint, ADMIN, writer, dialect);
    await ensureMadminWriter(
      server.endpoint,
      ADMIN,
      { ...writer, key: { accessKeyId: "PGWRITERKEY0002", secretAccessKey: "pg-writer-secret-key-9876543210" } },
      dialect,
    );
    expect(await readMadminWriter(server.endpoint, ADMIN, writer, dialect)).toMatchObject({
      problems: [`no user ${writer.key.accessKeyId}`],
    });
    const client = new MadminClient(server.endpoint, ADMIN, { dialect });
    await client.setUserStatus("PGWRITERKEY0002", "disabled");
    await client.removeCannedPolicy("consoleAdmin");
    expect(await client.infoCannedPolicy("consoleAdmin")).toBeUndefined();
    return [...server.requests];
  } finally {
    await server.stop();
  }
}

/** The alias's requests as RustFS routes them: `/minio/admin` becomes `/rustfs/admin` (router.rs `canonicalize_admin_path`). */
const canonical = (r: RecordedAdminRequest): RecordedAdminRequest => ({
  ...r,
  path: r.path.replace(/^\/minio\/admin\//, "/rustfs/admin/"),
});

let sent: RecordedAdminRequest[];
let alias: RecordedAdminRequest[];

beforeAll(async () => {
  sent = await driveWriterPath("rustfs");
  alias = await driveWriterPath("rustfs-madmin");
});

describe("which API the client speaks to RustFS", () => {
  it("is RustFS's own over https, and the madmin alias (encrypted bodies) over plain http", () => {
    expect(adminDialectFor("rustfs", "https://hub.lan:9000")).toBe("rustfs");
    expect(adminDialectFor("rustfs", "http://hub.lan:9000")).toBe("rustfs-madmin");
    expect(adminDialectFor("silo", "http://hub.lan:9000")).toBe("madmin");
    expect(ADMIN_DIALECTS["rustfs-madmin"]).toMatchObject({ prefix: "/minio/admin/v3", encrypted: true });
  });
});

describe("RustFS's router and request types, as copied", () => {
  it("register every admin call the client uses, under /rustfs/admin/v3", () => {
    const paths = ROUTES.map((r) => `${r.method} ${r.path}`);
    for (const call of [
      "PUT /rustfs/admin/v3/add-user",
      "GET /rustfs/admin/v3/user-info",
      "GET /rustfs/admin/v3/list-users",
      "DELETE /rustfs/admin/v3/remove-user",
      "PUT /rustfs/admin/v3/set-user-status",
      "PUT /rustfs/admin/v3/add-canned-policy",
      "GET /rustfs/admin/v3/info-canned-policy",
      "DELETE /rustfs/admin/v3/remove-canned-policy",
      "POST /rustfs/admin/v3/idp/builtin/policy/attach",
      "POST /rustfs/admin/v3/idp/builtin/policy/detach",
    ])
      expect(paths).toContain(call);
    expect(ADMIN_DIALECTS.rustfs.prefix).toBe("/rustfs/admin/v3");
  });

  it("decode add-user's body as AddOrUpdateUserReq and attach's as PolicyAssociationReq", () => {
    expect(typesOf("AddUser").body?.map((f) => f.name)).toEqual(["secretKey", "policy", "status"]);
    expect(typesOf("AddUser").query?.map((f) => f.name)).toEqual(["accessKey", "status"]);
    expect(typesOf("AttachPolicyBuiltin").body?.map((f) => [f.name, f.optional])).toEqual([
      ["policies", true],
      ["user", true],
      ["group", true],
    ]);
    expect(typesOf("InfoCannedPolicy").query).toEqual([{ name: "name", aliases: [], optional: false }]);
  });

  it("encrypt and decrypt only on the /minio/admin alias: the native path is plain JSON", () => {
    const utils = readRustfs("rustfs/src/admin/utils.rs");
    expect(utils).toMatch(
      /fn is_compat_admin_request\(path: &str\) -> bool \{\s*has_path_prefix\(path, MINIO_ADMIN_PREFIX\)/,
    );
    expect(utils).toMatch(/if is_compat_admin_request\(path\) \{\s*decrypt_stream_io/);
    expect(utils).toMatch(/if is_compat_admin_request\(path\) \{\s*let encrypted = encrypt_stream_io/);
    expect(ADMIN_DIALECTS.rustfs.encrypted).toBe(false);
  });
});

describe("every request the client sent", () => {
  it("covers each call of the writers' path", () => {
    expect(new Set(sent.map((r) => `${r.method} ${r.path.slice("/rustfs/admin/v3".length)}`))).toEqual(
      new Set([
        "PUT /add-canned-policy",
        "PUT /add-user",
        "GET /user-info",
        "POST /idp/builtin/policy/attach",
        "POST /idp/builtin/policy/detach",
        "GET /list-users",
        "DELETE /remove-user",
        "GET /info-canned-policy",
        "PUT /set-user-status",
        "DELETE /remove-canned-policy",
      ]),
    );
  });

  it("hits a registered route with only the query keys and body fields its handler decodes", () => {
    for (const req of sent)
      expect(rustfsRequestProblems(req, ROUTES, typesOf), `${req.method} ${req.path}`).toEqual([]);
  });

  it("on the madmin alias: the same routes and, once decrypted, the same bodies", () => {
    expect(alias.every((r) => r.path.startsWith("/minio/admin/v3/"))).toBe(true);
    for (const req of alias)
      expect(rustfsRequestProblems(canonical(req), ROUTES, typesOf), `${req.method} ${req.path}`).toEqual([]);
    expect(alias.map((r) => `${r.method} ${canonical(r).path} ${r.body}`)).toEqual(
      sent.map((r) => `${r.method} ${r.path} ${r.body}`),
    );
  });

  it("sends plain JSON bodies: the user's status is one of AccountStatus's values", () => {
    const status = serdeEnumValues(readRustfs("crates/madmin/src/user.rs"), "AccountStatus");
    const adds = sent.filter((r) => r.path.endsWith("/add-user"));
    expect(adds.length).toBeGreaterThan(0);
    for (const r of adds) expect(status).toContain(JSON.parse(r.body).status);
    const attach = sent.find((r) => r.path.endsWith("/attach"))!;
    expect(JSON.parse(attach.body)).toEqual({ policies: [writer.policyName], user: writer.key.accessKeyId });
    const policy = sent.find((r) => r.path.endsWith("/add-canned-policy"))!;
    expect(JSON.parse(policy.body)).toEqual(writer.policy);
  });
});

describe("the answers the client parses, built from RustFS's response types", () => {
  it("reads the document out of a PolicyInfo (crates/madmin/src/policy.rs)", () => {
    const names = serdeFields(readRustfs("crates/madmin/src/policy.rs"), "PolicyInfo").map((f) => f.name);
    expect(names).toEqual(["policy_name", "policy", "create_date", "update_date"]);
    const info = { [names[0]]: "p", [names[1]]: writer.policy };
    expect(JSON.parse(cannedPolicyDocument(JSON.stringify(info)))).toEqual(writer.policy);
    // MinIO and Silo answer the document itself.
    expect(JSON.parse(cannedPolicyDocument(JSON.stringify(writer.policy)))).toEqual(writer.policy);
  });

  it("reads a user's policies and status under UserInfo's names (crates/madmin/src/user.rs)", () => {
    const names = serdeFields(readRustfs("crates/madmin/src/user.rs"), "UserInfo").map((f) => f.name);
    expect(names).toEqual(expect.arrayContaining(["policyName", "status"]));
  });

  it("knows a missing policy by IAM's message and a missing user by NoSuchResource", () => {
    expect(readRustfs("crates/iam/src/error.rs")).toMatch(/#\[error\("policy does not exist"\)\]\s*NoSuchPolicy,/);
    expect(readRustfs("rustfs/src/admin/handlers/policies.rs")).toMatch(
      /info_policy\(&query\.name\)\.await\.map_err\(\|e\| \{[\s\S]{0,400}S3ErrorCode::InternalError, e\.to_string\(\)/,
    );
    expect(
      adminErrorOf(Buffer.from("<Error><Code>NoSuchResource</Code><Message>user does not exist</Message></Error>")),
    ).toEqual({ code: "NoSuchResource", message: "user does not exist" });
  });
});

describe("a request RustFS would not accept is caught", () => {
  it.each([
    ["a misspelt path", (r: RecordedAdminRequest) => ({ ...r, path: r.path.replace("add-user", "add-users") })],
    ["the madmin prefix", (r: RecordedAdminRequest) => ({ ...r, path: r.path.replace("/rustfs/", "/minio/") })],
    ["a wrong method", (r: RecordedAdminRequest) => ({ ...r, method: "POST" })],
    ["a renamed query key", (r: RecordedAdminRequest) => ({ ...r, query: { access_key: r.query.accessKey } })],
    [
      "a renamed body field",
      (r: RecordedAdminRequest) => ({ ...r, body: r.body.replace('"secretKey"', '"secret_key"') }),
    ],
    ["an encrypted body", (r: RecordedAdminRequest) => ({ ...r, body: Buffer.from(r.body).toString("base64") })],
  ])("%s", (_, mutate) => {
    const addUser = sent.find((r) => r.path.endsWith("/add-user"))!;
    expect(rustfsRequestProblems(addUser, ROUTES, typesOf)).toEqual([]);
    expect(rustfsRequestProblems(mutate(addUser), ROUTES, typesOf)).not.toEqual([]);
  });
});
