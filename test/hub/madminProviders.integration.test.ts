/**
 * S3HubWriter on a madmin server (`flavor: minio` or `silo`, no `manage` key: admin is their default), and
 * on RustFS (`flavor: rustfs`; over http, as here, through its madmin alias, dialect `rustfs-madmin`),
 * run the way `pulumi up`, `refresh` and `preview` run it: the provider is the `__provider` text of the
 * program's own registration, served by the SDK's dynamic-provider host (test/support/dynamicProviderHost.ts),
 * and it runs the configurator (components/hub/s3-hub.ts configure-writer / read-writer) as a child process.
 *
 * The server is a loopback stand-in for the madmin calls used (test/support/madminStandIn.ts): acceptable
 * only as the peer of the golden-tested client (test/hub/madmin.integration.test.ts proves that client's
 * requests and encryption against madmin-go itself); no MinIO, Silo or RustFS binary can be installed
 * here. The bucket settings of these stacks go through the S3 API with the same S3HubBucket provider that
 * test/hub/dynamicProviders.integration.test.ts runs against a real Ceph RGW; that is not repeated here.
 *
 * Per writer: Check → Create (policy added, user added, policy attached) → Read gives the same state →
 * Diff finds nothing; then drift made by hand on the server (policy detached, an extra policy attached,
 * user disabled, policy document changed) shows in the next Read, Diff asks for an update, Update puts it
 * back; a key replaced in the stack removes the old key's user; Delete leaves user and policy in place.
 *
 * The canned policies exactly as the server received them (MinIO reads the IAM grammar) then go through
 * the IAM evaluator test/hub/iam.test.ts uses (@cloud-copilot/iam-simulate): an append-only writer cannot
 * delete, not even under its own prefix, and no writer can put, get, delete or list under another's prefix.
 */
import * as path from "node:path";
import { runSimulation } from "@cloud-copilot/iam-simulate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PREFIXES } from "../../components/config.js";
import { runProgram } from "../../tools/harness.js";
import type { RecordedResource } from "../../tools/mocks.js";
import { readStackFile } from "../../tools/render.js";
import {
  createAndRefresh as createAndRefreshWith,
  startDynamicProviderHost,
  type DynamicProviderHost,
  type PropertyMap,
  type ResourceLife,
} from "../support/dynamicProviderHost.js";
import { startMadminStandIn, type MadminStandIn } from "../support/madminStandIn.js";
import { REPO } from "../support/stackFiles.js";

const ADMIN = { accessKeyId: "homelabadmin", secretAccessKey: "stand-in-admin-secret" };
const WRITER = "pulumi-nodejs:dynamic/homelab-backup:S3HubWriter";

type Flavor = "minio" | "silo" | "rustfs";
const FLAVORS: readonly Flavor[] = ["minio", "silo", "rustfs"];
/** One stand-in per API: madmin for minio and silo, RustFS (its madmin alias, as over http) for rustfs. */
let servers: { madmin: MadminStandIn; rustfs: MadminStandIn };
const serverOf = (flavor: string): MadminStandIn => (flavor === "rustfs" ? servers.rustfs : servers.madmin);
let host: DynamicProviderHost;
const dynamic = new Map<string, RecordedResource[]>();

/** The s3-rgw fixture as a MinIO-family stack: flavor set, no manage key, no object lock, the stand-in's endpoint. */
async function registrations(flavor: Flavor): Promise<RecordedResource[]> {
  const file = readStackFile(path.join(REPO, "test/fixtures/Pulumi.s3-rgw.yaml"));
  const hub = JSON.parse(file.config["homelab-backup:hub"]);
  delete hub.manage;
  delete hub.objectLock;
  const config: Record<string, string> = {
    ...file.config,
    "homelab-backup:hub": JSON.stringify({
      ...hub,
      flavor,
      bucket: `homelab-${flavor}-backups`,
      endpoint: serverOf(flavor).endpoint,
      adminAccessKeyId: ADMIN.accessKeyId,
      allowPlainHttp: true,
    }),
    "homelab-backup:hubAdminPassword": ADMIN.secretAccessKey,
  };
  const run = await runProgram(config, [...file.secretKeys]);
  return run.rec.resources.filter((r) => r.type.startsWith("pulumi-nodejs:dynamic"));
}

beforeAll(async () => {
  const [madmin, rustfs, started] = await Promise.all([
    startMadminStandIn(ADMIN),
    // The stand-in is plain http, where the client speaks RustFS's madmin alias (madmin.ts adminDialectFor).
    startMadminStandIn(ADMIN, "rustfs-madmin"),
    startDynamicProviderHost(),
  ]);
  servers = { madmin, rustfs };
  host = started;
  for (const flavor of FLAVORS) dynamic.set(flavor, await registrations(flavor));
}, 600_000);

afterAll(async () => {
  await host?.stop();
  await servers?.madmin.stop();
  await servers?.rustfs.stop();
}, 60_000);

type Life = ResourceLife;

function one(flavor: string, name: string): RecordedResource {
  const found = (dynamic.get(flavor) ?? []).filter((x) => x.name === name);
  if (found.length !== 1) throw new Error(`expected one dynamic resource ${name}`);
  return found[0];
}

const createAndRefresh = (r: RecordedResource): Promise<Life> => createAndRefreshWith(host, r);

async function refreshAndRestore(life: Life, drifted: (state: any) => void, news: PropertyMap = life.r.inputs) {
  const urn = life.r.urn!;
  const refreshed = await host.read(urn, life.id, life.outputs, life.inputs);
  drifted(refreshed.outputs.state);
  const checked = await host.check(urn, life.inputs, news);
  expect(await host.diff(urn, life.id, refreshed.outputs, checked.inputs, life.inputs)).toEqual({
    changes: "some",
    replaces: [],
  });
  const updated = await host.update(urn, life.id, refreshed.outputs, checked.inputs, life.inputs);
  expect(updated.outputs.state).toEqual(checked.inputs.want);
  life.inputs = checked.inputs;
  life.outputs = updated.outputs;
}

describe("the program registers one S3HubWriter per writer on minio, silo and rustfs, with no manage key", () => {
  it.each(FLAVORS)("%s", (flavor) => {
    const names = (dynamic.get(flavor) ?? []).map((r) => `${r.type} ${r.name}`).sort();
    expect(names).toEqual([
      `pulumi-nodejs:dynamic/homelab-backup:S3HubBucket hub-s3-bucket`,
      // The audit reader (status and the audit): exists whenever the program makes the hub's identities.
      `${WRITER} hub-s3-audit`,
      `${WRITER} hub-s3-etcd`,
      `${WRITER} hub-s3-longhorn`,
      `${WRITER} hub-s3-postgres`,
      `${WRITER} hub-s3-velero`,
    ]);
    for (const r of dynamic.get(flavor)!) expect(JSON.stringify(r.inputs.request)).toContain(`"flavor":"${flavor}"`);
  });
});

describe.each([
  ["minio", "hub-s3-postgres"],
  ["minio", "hub-s3-velero"],
  ["silo", "hub-s3-etcd"],
  ["silo", "hub-s3-longhorn"],
  ["rustfs", "hub-s3-postgres"],
  ["rustfs", "hub-s3-longhorn"],
])("S3HubWriter on %s: %s", (flavor, name) => {
  let life: Life;
  const server = () => serverOf(flavor);
  const policyName = () => life.inputs.request.userName as string;
  const accessKey = () => life.inputs.request.key.accessKeyId as string;

  it(
    "check, create, refresh: the user holds exactly its policy; a preview finds no change",
    { timeout: 120_000 },
    async () => {
      life = await createAndRefresh(one(flavor, name));
      const user = server().users.get(accessKey());
      expect(user).toEqual({
        secretKey: life.inputs.request.key.secretAccessKey,
        status: "enabled",
        policies: [policyName()],
      });
      expect(JSON.parse(server().policies.get(policyName())!)).toEqual(life.inputs.want.policy);
    },
  );

  it(
    "policy detached, another attached, user disabled by hand: refresh shows it, update puts it back",
    { timeout: 120_000 },
    async () => {
      const user = server().users.get(accessKey())!;
      server().policies.set("consoleAdmin", JSON.stringify({ Version: "2012-10-17", Statement: [] }));
      user.policies = ["consoleAdmin"];
      user.status = "disabled";
      await refreshAndRestore(life, (state) => {
        expect(state.policy).toBeUndefined();
        expect(state.problems).toEqual([
          `user ${accessKey()} is disabled`,
          `user ${accessKey()} holds [consoleAdmin], not [${policyName()}]`,
        ]);
      });
      expect(server().users.get(accessKey())).toMatchObject({ status: "enabled", policies: [policyName()] });
    },
  );

  it(
    "the policy document changed by hand: refresh shows the server's document, update restores it",
    { timeout: 120_000 },
    async () => {
      const widened = {
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Action: ["s3:*"], Resource: ["arn:aws:s3:::*"] }],
      };
      server().policies.set(policyName(), JSON.stringify(widened));
      await refreshAndRestore(life, (state) => expect(state.policy).toEqual(widened));
      expect(JSON.parse(server().policies.get(policyName())!)).toEqual(life.inputs.want.policy);
    },
  );

  it(
    "a replaced key: update creates the new user and removes the old one, which keeps no right",
    { timeout: 120_000 },
    async () => {
      const old = accessKey();
      const news = {
        ...life.r.inputs,
        request: {
          ...life.inputs.request,
          key: { accessKeyId: `${old}NEW`, secretAccessKey: "replaced-secret-key-0123456789" },
        },
      };
      const urn = life.r.urn!;
      const checked = await host.check(urn, life.inputs, news);
      expect(await host.diff(urn, life.id, life.outputs, checked.inputs, life.inputs)).toEqual({
        changes: "some",
        replaces: [],
      });
      const updated = await host.update(urn, life.id, life.outputs, checked.inputs, life.inputs);
      expect(updated.outputs.state).toEqual(checked.inputs.want);
      expect(server().users.has(old)).toBe(false);
      expect(server().users.get(`${old}NEW`)).toMatchObject({ status: "enabled", policies: [policyName()] });
      life.inputs = checked.inputs;
      life.outputs = updated.outputs;
    },
  );

  it("delete returns OK and leaves the user and its policy", { timeout: 120_000 }, async () => {
    await host.delete(life.r.urn!, life.id, life.outputs, life.inputs);
    expect(server().users.has(accessKey())).toBe(true);
    expect(server().policies.has(policyName())).toBe(true);
  });
});

// RustFS reads the same IAM grammar (crates/policy), so the documents it received are judged the same way.
describe.each(["minio", "rustfs"] as const)("the canned policies %s received, through the IAM evaluator", (flavor) => {
  const BUCKET = `homelab-${flavor}-backups`;
  const ACCOUNT = "123456789012";
  const decide = async (policy: object, action: string, resource: string, ctx: Record<string, string> = {}) => {
    const res = await runSimulation(
      {
        request: {
          principal: `arn:aws:iam::${ACCOUNT}:user/writer`,
          action,
          resource: { resource, accountId: ACCOUNT },
          contextVariables: ctx,
        },
        identityPolicies: [{ name: "writer", policy: JSON.parse(JSON.stringify(policy)) }],
        serviceControlPolicies: [],
        resourceControlPolicies: [],
      },
      {},
    );
    if (res.resultType !== "single") throw new Error(`simulation: ${JSON.stringify(res)}`);
    return res.overallResult;
  };

  it(
    "append-only writers cannot delete; no writer reaches another's prefix; the reader writes nothing but its PVC inventory",
    { timeout: 120_000 },
    async () => {
      const writers = (dynamic.get(flavor) ?? []).filter((r) => r.type === WRITER);
      const received = new Map<string, { policy: object }>();
      let reader: object | undefined;
      for (const r of writers) {
        const life = await createAndRefresh(r);
        const name = life.inputs.request.userName as string;
        const policy = JSON.parse(serverOf(flavor).policies.get(name)!);
        if (name === `${BUCKET}-audit`) reader = policy;
        else received.set(name, { policy });
      }
      expect(reader, "the audit reader's policy").toBeDefined();
      for (const prefix of Object.values(PREFIXES)) {
        for (const action of ["s3:PutObject", "s3:DeleteObject"])
          expect(
            await decide(reader!, action, `arn:aws:s3:::${BUCKET}/${prefix}x.json`),
            `reader ${action} ${prefix}`,
          ).not.toBe("Allowed");
      }
      // What it may write is its PVC inventory for `npm run status`, and nothing else under status/.
      expect(await decide(reader!, "s3:PutObject", `arn:aws:s3:::${BUCKET}/status/audit/pvcs.json`)).toBe("Allowed");
      for (const key of ["status/drills/etcd/etcd.json", "status/x.json"])
        expect(await decide(reader!, "s3:PutObject", `arn:aws:s3:::${BUCKET}/${key}`), key).not.toBe("Allowed");
      expect(await decide(reader!, "s3:DeleteObject", `arn:aws:s3:::${BUCKET}/status/audit/pvcs.json`)).not.toBe(
        "Allowed",
      );
      const prefixes: Record<string, string> = {};
      for (const name of received.keys()) {
        const writer = name.slice(`${BUCKET}-`.length);
        prefixes[name] = PREFIXES[writer as keyof typeof PREFIXES];
      }
      expect([...received.keys()].sort()).toEqual(
        ["etcd", "longhorn", "postgres", "velero"].map((w) => `${BUCKET}-${w}`),
      );
      for (const [name, { policy }] of received) {
        const own = prefixes[name];
        expect(await decide(policy, "s3:PutObject", `arn:aws:s3:::${BUCKET}/${own}x`), `${name} puts its own`).toBe(
          "Allowed",
        );
        const appendOnly = name.endsWith("-postgres") || name.endsWith("-etcd");
        for (const action of ["s3:DeleteObject", "s3:DeleteObjectVersion"]) {
          expect(await decide(policy, action, `arn:aws:s3:::${BUCKET}/${own}x`), `${name} ${action} own`).toBe(
            appendOnly ? "ExplicitlyDenied" : action === "s3:DeleteObject" ? "Allowed" : "ImplicitlyDenied",
          );
        }
        for (const [other, prefix] of Object.entries(prefixes).filter(([o]) => o !== name)) {
          for (const action of ["s3:PutObject", "s3:GetObject", "s3:DeleteObject"])
            expect(
              await decide(policy, action, `arn:aws:s3:::${BUCKET}/${prefix}x`),
              `${name} ${action} under ${other}`,
            ).not.toBe("Allowed");
          expect(
            await decide(policy, "s3:ListBucket", `arn:aws:s3:::${BUCKET}`, { "s3:prefix": prefix }),
            `${name} lists ${other}`,
          ).not.toBe("Allowed");
        }
      }
    },
  );
});
