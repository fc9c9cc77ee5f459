/**
 * A Garage hub (`hub.kind: s3`, `flavor: garage`, no `manage` key: admin is its default) from the stack
 * to the server: the program's registrations (no SSH command; the bucket and one identity per writer in
 * use as dynamic resources; plan.md naming the API of each setting and what was refused), then the
 * serialized providers through the SDK's dynamic-provider host (test/support/dynamicProviderHost.ts)
 * against the loopback stand-in of Garage's admin API (test/support/garageStandIn.ts, held to Garage's
 * OpenAPI document): create, refresh, drift seen after a permission is changed on the server, diff,
 * update, delete. The rights the readers received, expressed as the policy they amount to, then go
 * through the IAM evaluator the other flavors' policies go through (@cloud-copilot/iam-simulate).
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { runSimulation } from "@cloud-copilot/iam-simulate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import YAML from "yaml";
import { runProgram } from "../../tools/harness.js";
import type { RecordedResource } from "../../tools/mocks.js";
import {
  createAndRefresh,
  startDynamicProviderHost,
  type DynamicProviderHost,
  type ResourceLife,
} from "../support/dynamicProviderHost.js";
import { loadGarageOpenApi } from "../support/garageOpenApi.js";
import { startGarageStandIn, type GarageStandIn } from "../support/garageStandIn.js";
import { REPO } from "../support/stackFiles.js";

const TOKEN = "stand-in-garage-admin-token";
const BUCKET = "homelab-garage-backups";
const BUCKET_TYPE = "pulumi-nodejs:dynamic/homelab-backup:S3HubBucket";
const WRITER = "pulumi-nodejs:dynamic/homelab-backup:S3HubWriter";

let server: GarageStandIn;
let host: DynamicProviderHost;
let dynamic: RecordedResource[];
let all: RecordedResource[];

/** A Garage stack: one writing section (longhorn), no manage key, the stand-in's admin endpoint. */
function garageStack(adminEndpoint: string): Record<string, unknown> {
  return {
    "homelab-backup:hubAdminToken": TOKEN,
    "homelab-backup:hub": {
      kind: "s3",
      bucket: BUCKET,
      endpoint: "http://127.0.0.1:3900",
      flavor: "garage",
      adminEndpoint,
      allowPlainHttp: true,
    },
    "homelab-backup:longhorn": {
      recurringJobs: [{ name: "nightly", cron: "0 5 * * *", task: "backup", retain: 7 }],
    },
  };
}

beforeAll(async () => {
  [server, host] = await Promise.all([startGarageStandIn(TOKEN), startDynamicProviderHost()]);
  const config = Object.fromEntries(
    Object.entries(garageStack(server.endpoint)).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]),
  );
  const run = await runProgram(config, ["homelab-backup:hubAdminToken"]);
  all = run.rec.resources;
  dynamic = all.filter((r) => r.type.startsWith("pulumi-nodejs:dynamic"));
}, 600_000);

afterAll(async () => {
  await host?.stop();
  await server?.stop();
}, 60_000);

const one = (name: string) => {
  const found = dynamic.filter((r) => r.name === name);
  if (found.length !== 1) throw new Error(`expected one dynamic resource ${name}`);
  return found[0];
};

describe("a Garage stack with no manage key", () => {
  it("registers the bucket and one identity per writer in use as dynamic resources, and no SSH command", () => {
    expect(dynamic.map((r) => `${r.type} ${r.name}`).sort()).toEqual([
      `${BUCKET_TYPE} hub-s3-bucket`,
      `${WRITER} hub-s3-audit`,
      `${WRITER} hub-s3-longhorn`,
    ]);
    expect(all.filter((r) => r.type.startsWith("command:remote:"))).toEqual([]);
    // The bucket's settings on Garage are its name: no versioning, lock, policy or lifecycle is promised.
    expect(one("hub-s3-bucket").inputs.want).toEqual({ bucket: BUCKET });
    // The token travels only inside the secret request (the SDK's secret wrapper), never in what previews show.
    for (const r of dynamic) {
      expect(r.inputs.request["4dabf18193072939515e22adb298388d"]).toBe("1b47061264138c4ac30d75fd1eb44270");
      expect(r.inputs.request.value.garage.token).toBe(TOKEN);
      expect(JSON.stringify({ ...r.inputs, request: undefined })).not.toContain(TOKEN);
    }
  });

  it("the rest of the Garage refusals still hold: a second writing section is refused with the keys to change", async () => {
    const out = mkdtempSync(path.join(tmpdir(), "render-garage-refused-"));
    try {
      const stack = garageStack("http://127.0.0.1:3903");
      stack["homelab-backup:velero"] = { schedules: [{ name: "daily", cron: "0 2 * * *", ttl: "240h" }] };
      const file = path.join(out, "Pulumi.garage.yaml");
      writeFileSync(file, YAML.stringify({ config: stack }));
      const failed = await promisify(execFile)(
        path.join(REPO, "node_modules/.bin/tsx"),
        [path.join(REPO, "tools/render.ts"), "--stack-file", file, "--out", path.join(out, "o")],
        { cwd: REPO, maxBuffer: 64 << 20 },
      ).then(
        () => undefined,
        (e: { stderr: string }) => e.stderr,
      );
      expect(failed).toMatch(
        /"garage" grants rights per key and bucket, not per prefix, so longhorn, velero writing to one bucket .* move each other one to a stack of its own with another hub.bucket/,
      );
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});

describe("npm run render of the Garage stack", () => {
  const out = mkdtempSync(path.join(tmpdir(), "render-garage-"));
  let plan: string;
  let rendered: { type: string; name: string }[];
  beforeAll(async () => {
    const file = path.join(out, "Pulumi.garage.yaml");
    writeFileSync(file, YAML.stringify({ config: garageStack("http://garage.lab:3903") }));
    await promisify(execFile)(
      path.join(REPO, "node_modules/.bin/tsx"),
      [path.join(REPO, "tools/render.ts"), "--stack-file", file, "--out", path.join(out, "o")],
      { cwd: REPO, maxBuffer: 64 << 20 },
    );
    plan = readFileSync(path.join(out, "o/plan.md"), "utf8");
    rendered = JSON.parse(readFileSync(path.join(out, "o/resources.json"), "utf8"));
  }, 600_000);
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it("renders offline with the dynamic resources and no SSH command", () => {
    expect(rendered.filter((r) => r.type.startsWith("command:remote:"))).toEqual([]);
    expect(rendered.filter((r) => r.type === WRITER).map((r) => r.name)).toEqual(["hub-s3-longhorn", "hub-s3-audit"]);
  });

  it("plan.md says which API configured what and which guarantees were refused and why", () => {
    expect(plan).toMatch(/Garage's admin API v2/);
    expect(plan).toMatch(/\| bucket \| Garage admin API v2: `\/v2\/ListBuckets`, `\/v2\/CreateBucket`/);
    expect(plan).toMatch(/\| writer rights \| Garage admin API v2: `\/v2\/AllowBucketKey`, `\/v2\/DenyBucketKey`/);
    expect(plan).toMatch(/\| versioning \| refused: Garage has none/);
    expect(plan).toMatch(/\| append-only writers \| refused: Garage's write permission includes DeleteObject/);
    expect(plan).toMatch(/\| rights per prefix \| refused: Garage grants per key and bucket/);
    expect(plan).toMatch(/\| lifecycle \| not configured by this version/);
    expect(plan).toMatch(/nothing runs over SSH/);
    expect(plan).not.toContain(TOKEN);
  });
});

describe("the providers through the dynamic-provider host against the Garage stand-in", () => {
  const lives = new Map<string, ResourceLife>();

  it("bucket: create, refresh, preview; a removed alias is seen and put back", { timeout: 120_000 }, async () => {
    const life = await createAndRefresh(host, one("hub-s3-bucket"));
    lives.set("bucket", life);
    expect([...server.buckets.values()].map((b) => b.globalAliases)).toEqual([[BUCKET]]);
    const urn = life.r.urn!;
    const b = [...server.buckets.values()][0];
    b.globalAliases = [];
    const refreshed = await host.read(urn, life.id, life.outputs, life.inputs);
    expect(refreshed.outputs.state).toEqual({
      bucket: BUCKET,
      problems: [`no bucket with the global alias ${BUCKET}`],
    });
    expect(await host.diff(urn, life.id, refreshed.outputs, life.inputs, life.inputs)).toEqual({
      changes: "some",
      replaces: [],
    });
    b.globalAliases = [BUCKET]; // Garage would make a new bucket; the stand-in's alias is put back by hand here.
    const updated = await host.update(urn, life.id, refreshed.outputs, life.inputs, life.inputs);
    expect(updated.outputs.state).toEqual({ bucket: BUCKET });
  });

  it.each(["hub-s3-longhorn", "hub-s3-audit"])(
    "%s: create, refresh, preview; a permission changed on the server is seen, diffed and put back; delete",
    { timeout: 120_000 },
    async (name) => {
      const life = await createAndRefresh(host, one(name));
      lives.set(name, life);
      const urn = life.r.urn!;
      const keyId = life.inputs.request.key.accessKeyId as string;
      const bucket = [...server.buckets.values()][0];
      const reader = name === "hub-s3-audit";
      expect(bucket.keys.get(keyId)).toEqual({ read: true, write: !reader, owner: false });
      expect(server.keys.get(keyId)?.name).toBe(`${BUCKET}-${reader ? "audit" : "longhorn"}`);

      // Drift: the writer loses write, the reader gains write and owner.
      bucket.keys.set(
        keyId,
        reader ? { read: true, write: true, owner: true } : { read: true, write: false, owner: false },
      );
      const refreshed = await host.read(urn, life.id, life.outputs, life.inputs);
      expect(refreshed.outputs.state.problems).toEqual([
        `key ${keyId} holds ${JSON.stringify(bucket.keys.get(keyId))} on ${BUCKET}, not ${JSON.stringify({ read: true, write: !reader, owner: false })}`,
      ]);
      expect(refreshed.outputs.state.policy).not.toEqual(life.inputs.want.policy);
      const checked = await host.check(urn, life.inputs, life.r.inputs);
      expect(await host.diff(urn, life.id, refreshed.outputs, checked.inputs, life.inputs)).toEqual({
        changes: "some",
        replaces: [],
      });
      const updated = await host.update(urn, life.id, refreshed.outputs, checked.inputs, life.inputs);
      expect(updated.outputs.state).toEqual(checked.inputs.want);
      expect(bucket.keys.get(keyId)).toEqual({ read: true, write: !reader, owner: false });

      // Delete leaves the key: a backup target is not torn down with its configuration.
      await host.delete(urn, life.id, updated.outputs, checked.inputs);
      expect(server.keys.get(keyId)?.deleted).toBe(false);
    },
  );

  it("every exchange the providers had with the stand-in validates against Garage's OpenAPI document", () => {
    const api = loadGarageOpenApi();
    expect(server.exchanges.length).toBeGreaterThan(10);
    for (const x of server.exchanges) {
      expect(api.checkRequest(x).problems, `${x.method} ${x.path}`).toEqual([]);
      expect(api.checkResponse(x.method, x.path, x.status, x.answer), `${x.method} ${x.path}`).toEqual([]);
    }
  });

  it("the reader's grants, as the policy they amount to, cannot write or delete (IAM evaluator)", async () => {
    const ACCOUNT = "123456789012";
    const decide = async (policy: object, action: string, resource: string) => {
      const res = await runSimulation(
        {
          request: {
            principal: `arn:aws:iam::${ACCOUNT}:user/reader`,
            action,
            resource: { resource, accountId: ACCOUNT },
            contextVariables: {},
          },
          identityPolicies: [{ name: "reader", policy: JSON.parse(JSON.stringify(policy)) }],
          serviceControlPolicies: [],
          resourceControlPolicies: [],
        },
        {},
      );
      if (res.resultType !== "single") throw new Error(`simulation: ${JSON.stringify(res)}`);
      return res.overallResult;
    };
    const audit = lives.get("hub-s3-audit")!;
    const read = await host.read(audit.r.urn!, audit.id, audit.outputs, audit.inputs);
    const readerPolicy = read.outputs.state.policy;
    expect(readerPolicy).toEqual(audit.inputs.want.policy);
    for (const action of ["s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"])
      expect(await decide(readerPolicy, action, `arn:aws:s3:::${BUCKET}/longhorn/x`), action).not.toBe("Allowed");
    expect(await decide(readerPolicy, "s3:GetObject", `arn:aws:s3:::${BUCKET}/longhorn/x`)).toBe("Allowed");
    const longhorn = lives.get("hub-s3-longhorn")!;
    const wrote = await host.read(longhorn.r.urn!, longhorn.id, longhorn.outputs, longhorn.inputs);
    expect(await decide(wrote.outputs.state.policy, "s3:PutObject", `arn:aws:s3:::${BUCKET}/longhorn/x`)).toBe(
      "Allowed",
    );
    expect(await decide(wrote.outputs.state.policy, "s3:DeleteBucket", `arn:aws:s3:::${BUCKET}`)).not.toBe("Allowed");
  });
});
