/**
 * Every dynamic resource the program registers (S3HubBucket, S3HubWriter: components/hub/s3/s3HubResources.ts),
 * run the way `pulumi up`, `refresh` and `destroy` run it: its provider is the `__provider` text of the
 * program's own registration, loaded and served by the SDK's dynamic-provider host
 * (test/support/dynamicProviderHost.ts), against a real Ceph RGW (test/support/rgw.ts).
 *
 * Calling the provider objects directly (test/hub/s3Hub.integration.test.ts) cannot show what breaks only
 * in their serialized form: a method that uses an outer variable the closure serializer did not capture
 * (`ReferenceError: read is not defined` on every refresh, before the fix), or a helper found by a
 * relative path from the wrong working directory.
 *
 * Per resource, in the engine's order: Check → Create → Read (a refresh) gives back the same state, and
 * Diff against the same inputs finds nothing; a change made by hand on the server shows in the next Read,
 * Diff asks for an update and Update puts the settings back (read again from the server with the AWS SDK);
 * Delete succeeds and leaves the bucket and the writers' users and keys in place (s3HubResources.ts:
 * destroy never deletes a backup target).
 *
 * The fixture's bucket has object lock, under which S3 (and RGW) refuse to suspend versioning, so its
 * drift is a shortened default retention; suspended versioning is the drift of a second registration,
 * the same fixture without object lock.
 */
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  GetBucketLifecycleConfigurationCommand,
  GetBucketVersioningCommand,
  GetObjectLockConfigurationCommand,
  HeadBucketCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketVersioningCommand,
  PutObjectLockConfigurationCommand,
  type LifecycleRule,
  type S3Client,
} from "@aws-sdk/client-s3";
import { DeleteUserPolicyCommand, GetUserPolicyCommand, IAMClient } from "@aws-sdk/client-iam";
import { version as sdkVersion } from "@pulumi/pulumi/version.js";
import { RGW_POLICY_NAME, s3Client, type S3Credentials } from "../../components/hub/s3/s3Api.js";
import { runProgram } from "../../tools/harness.js";
import type { RecordedResource } from "../../tools/mocks.js";
import { readStackFile } from "../../tools/render.js";
import {
  createAndRefresh as createAndRefreshWith,
  startDynamicProviderHost,
  type DynamicProviderHost,
  type ResourceLife,
} from "../support/dynamicProviderHost.js";
import { startRgw, type RgwServer } from "../support/rgw.js";
import { REPO } from "../support/stackFiles.js";

const BUCKET = "pulumi-nodejs:dynamic/homelab-backup:S3HubBucket";
const WRITER = "pulumi-nodejs:dynamic/homelab-backup:S3HubWriter";
const UNLOCKED_BUCKET = "homelab-rgw-unlocked";

let rgw: RgwServer;
let host: DynamicProviderHost;
let admin: S3Credentials;
/** The dynamic resources of the fixture's registration, and of the same stack without object lock. */
let dynamic: RecordedResource[];
let unlocked: RecordedResource[];

/** The s3-rgw fixture pointed at the test's RGW (its endpoint and admin key), with `hub` changes. */
function rgwStack(server: RgwServer, hubChanges: Record<string, unknown> = {}) {
  const file = readStackFile(path.join(REPO, "test/fixtures/Pulumi.s3-rgw.yaml"));
  const hub = JSON.parse(file.config["homelab-backup:hub"]);
  const config: Record<string, string> = {
    ...file.config,
    "homelab-backup:hub": JSON.stringify({
      ...hub,
      endpoint: server.endpoint,
      adminAccessKeyId: server.adminAccessKeyId,
      ...hubChanges,
    }),
    "homelab-backup:hubAdminPassword": server.adminSecretAccessKey,
  };
  return { config, secretKeys: [...file.secretKeys] };
}

/** The program's dynamic registrations for a stack: their recorded inputs are what the engine passes to Check. */
async function registrations(stack: ReturnType<typeof rgwStack>): Promise<RecordedResource[]> {
  const run = await runProgram(stack.config, stack.secretKeys);
  return run.rec.resources.filter((r) => r.type.startsWith("pulumi-nodejs:dynamic"));
}

beforeAll(async () => {
  [rgw, host] = await Promise.all([startRgw({ timeoutMs: 480_000 }), startDynamicProviderHost()]);
  admin = { accessKeyId: rgw.adminAccessKeyId, secretAccessKey: rgw.adminSecretAccessKey };
  dynamic = await registrations(rgwStack(rgw));
  unlocked = await registrations(rgwStack(rgw, { bucket: UNLOCKED_BUCKET, objectLock: undefined }));
}, 600_000);

afterAll(async () => {
  await host?.stop();
  await rgw?.stop();
}, 60_000);

/** A resource's life in the engine: its inputs after Check, and its id and outputs after the last step. */
type Life = ResourceLife;

function one(resources: RecordedResource[], name: string): RecordedResource {
  const found = resources.filter((x) => x.name === name);
  if (found.length !== 1)
    throw new Error(`expected one dynamic resource ${name}, have ${resources.map((x) => x.name)}`);
  return found[0];
}

const createAndRefresh = (r: RecordedResource): Promise<Life> => createAndRefreshWith(host, r);

/** After a change by hand: `pulumi refresh` (Read), then `pulumi up` (Check, Diff with changes, Update). */
async function refreshAndRestore(life: Life, drifted: (state: any) => void): Promise<void> {
  const urn = life.r.urn!;
  const refreshed = await host.read(urn, life.id, life.outputs, life.inputs);
  drifted(refreshed.outputs.state);
  const checked = await host.check(urn, life.inputs, life.r.inputs);
  const diff = await host.diff(urn, life.id, refreshed.outputs, checked.inputs, life.inputs);
  expect(diff).toEqual({ changes: "some", replaces: [] });
  const updated = await host.update(urn, life.id, refreshed.outputs, checked.inputs, life.inputs);
  expect(updated.outputs.state).toEqual(checked.inputs.want);
  expect(updated.outputs.__provider).toBe(life.r.inputs.__provider);
  life.outputs = updated.outputs;
}

async function withS3<T>(f: (client: S3Client) => Promise<T>): Promise<T> {
  const client = s3Client({ endpoint: rgw.endpoint, region: "us-east-1" }, admin);
  try {
    return await f(client);
  } finally {
    client.destroy();
  }
}

const ruleIds = (rules: readonly { ID?: string }[] | undefined) => (rules ?? []).map((x) => x.ID).sort();

describe("the SDK's dynamic-provider host, started as the CLI starts it", () => {
  it("answers Configure without accepting secrets, so the engine sends it plain values", () => {
    expect(host.acceptsSecrets).toBe(false);
    expect(host.version).toBe(sdkVersion);
  });

  it("the program registers the bucket and one writer per data class, each carrying its provider's text", () => {
    expect(dynamic.map((r) => `${r.type} ${r.name}`).sort()).toEqual([
      `${BUCKET} hub-s3-bucket`,
      // The read-only audit reader (`npm run status` reads with its key), with or without alerts.
      `${WRITER} hub-s3-audit`,
      `${WRITER} hub-s3-etcd`,
      `${WRITER} hub-s3-longhorn`,
      `${WRITER} hub-s3-postgres`,
      `${WRITER} hub-s3-velero`,
    ]);
    for (const r of [...dynamic, ...unlocked]) {
      expect(r.inputs.__provider, r.name).toMatch(/^exports\.handler = /);
      expect(JSON.stringify(r.inputs.request), r.name).toContain(rgw.endpoint);
    }
    expect(JSON.stringify(one(unlocked, "hub-s3-bucket").inputs.request)).toContain(UNLOCKED_BUCKET);
  });
});

describe("S3HubBucket hub-s3-bucket (the fixture: object lock)", () => {
  let life: Life;

  it(
    "a create with a wrong admin key fails, and the engine gets the configurator's reason",
    { timeout: 120_000 },
    async () => {
      const r = one(dynamic, "hub-s3-bucket");
      const { inputs } = await host.check(r.urn!, {}, r.inputs);
      const wrong = { ...inputs, request: { ...inputs.request, admin: { ...admin, secretAccessKey: "not-the-key" } } };
      await expect(host.create(r.urn!, wrong)).rejects.toThrow(
        /^hub\.bucket: cannot check bucket homelab-rgw-backups: .*HTTP 403/,
      );
    },
  );

  it("check, create, refresh: the same state; a preview finds no change", { timeout: 120_000 }, async () => {
    life = await createAndRefresh(one(dynamic, "hub-s3-bucket"));
    expect(life.outputs.state.objectLock).toEqual({ mode: "GOVERNANCE", days: 7 });
  });

  it(
    "default retention shortened and a lifecycle rule removed by hand: refresh shows it, update puts both back",
    { timeout: 120_000 },
    async () => {
      const bucket: string = life.inputs.request.settings.bucket;
      const rules = life.inputs.request.settings.lifecycleRules as LifecycleRule[];
      expect(rules.length).toBeGreaterThan(1);
      await withS3(async (client) => {
        await expect(
          client.send(
            new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: "Suspended" } }),
          ),
        ).rejects.toThrow(/object lock/);
        await client.send(
          new PutObjectLockConfigurationCommand({
            Bucket: bucket,
            ObjectLockConfiguration: {
              ObjectLockEnabled: "Enabled",
              Rule: { DefaultRetention: { Mode: "GOVERNANCE", Days: 1 } },
            },
          }),
        );
        await client.send(
          new PutBucketLifecycleConfigurationCommand({
            Bucket: bucket,
            LifecycleConfiguration: { Rules: rules.slice(1) },
          }),
        );
      });
      await refreshAndRestore(life, (state) => {
        expect(state.objectLock).toEqual({ mode: "GOVERNANCE", days: 1 });
        expect(ruleIds(state.lifecycleRules)).toEqual(ruleIds(rules.slice(1)));
      });
      await withS3(async (client) => {
        const lock = await client.send(new GetObjectLockConfigurationCommand({ Bucket: bucket }));
        expect(lock.ObjectLockConfiguration?.Rule?.DefaultRetention).toEqual({ Mode: "GOVERNANCE", Days: 7 });
        const lifecycle = await client.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket }));
        expect(ruleIds(lifecycle.Rules)).toEqual(ruleIds(rules));
      });
    },
  );

  it("delete returns OK and the bucket is still there", { timeout: 120_000 }, async () => {
    await host.delete(life.r.urn!, life.id, life.outputs, life.inputs);
    await withS3((client) => client.send(new HeadBucketCommand({ Bucket: life.inputs.request.settings.bucket })));
  });
});

describe("S3HubBucket hub-s3-bucket (the fixture without object lock)", () => {
  let life: Life;

  it("check, create, refresh: the same state; a preview finds no change", { timeout: 120_000 }, async () => {
    life = await createAndRefresh(one(unlocked, "hub-s3-bucket"));
    expect(life.outputs.state.objectLock).toBeUndefined();
  });

  it(
    "versioning suspended and a lifecycle rule removed by hand: refresh shows it, update puts both back",
    { timeout: 120_000 },
    async () => {
      const rules = life.inputs.request.settings.lifecycleRules as LifecycleRule[];
      await withS3(async (client) => {
        await client.send(
          new PutBucketVersioningCommand({
            Bucket: UNLOCKED_BUCKET,
            VersioningConfiguration: { Status: "Suspended" },
          }),
        );
        await client.send(
          new PutBucketLifecycleConfigurationCommand({
            Bucket: UNLOCKED_BUCKET,
            LifecycleConfiguration: { Rules: rules.slice(1) },
          }),
        );
      });
      await refreshAndRestore(life, (state) => {
        expect(state.versioning).toBe("Suspended");
        expect(ruleIds(state.lifecycleRules)).toEqual(ruleIds(rules.slice(1)));
      });
      await withS3(async (client) => {
        expect((await client.send(new GetBucketVersioningCommand({ Bucket: UNLOCKED_BUCKET }))).Status).toBe("Enabled");
        const lifecycle = await client.send(new GetBucketLifecycleConfigurationCommand({ Bucket: UNLOCKED_BUCKET }));
        expect(ruleIds(lifecycle.Rules)).toEqual(ruleIds(rules));
      });
    },
  );

  it("delete returns OK and the bucket is still there", { timeout: 120_000 }, async () => {
    await host.delete(life.r.urn!, life.id, life.outputs, life.inputs);
    await withS3((client) => client.send(new HeadBucketCommand({ Bucket: UNLOCKED_BUCKET })));
  });
});

describe.each(["hub-s3-longhorn", "hub-s3-postgres", "hub-s3-etcd", "hub-s3-velero"])("S3HubWriter %s", (name) => {
  let life: Life;
  const iam = () => new IAMClient({ endpoint: rgw.endpoint, region: "us-east-1", credentials: admin });

  it("check, create, refresh: the same state; a preview finds no change", { timeout: 120_000 }, async () => {
    life = await createAndRefresh(one(dynamic, name));
  });

  it("its user policy deleted by hand: refresh shows it, update puts it back", { timeout: 120_000 }, async () => {
    const userName: string = life.inputs.request.userName;
    const client = iam();
    try {
      await client.send(new DeleteUserPolicyCommand({ UserName: userName, PolicyName: RGW_POLICY_NAME }));
      await refreshAndRestore(life, (state) => expect(state).toEqual({ userName }));
      const policy = await client.send(new GetUserPolicyCommand({ UserName: userName, PolicyName: RGW_POLICY_NAME }));
      expect(JSON.parse(decodeURIComponent(policy.PolicyDocument!))).toEqual(life.inputs.want.policy);
    } finally {
      client.destroy();
    }
  });

  it("delete returns OK and the user and its key are still there", { timeout: 120_000 }, async () => {
    await host.delete(life.r.urn!, life.id, life.outputs, life.inputs);
    const user = JSON.parse(await rgw.radosgwAdmin(["user", "info", `--uid=${life.inputs.request.userName}`]));
    expect(user.keys.map((k: { access_key: string }) => k.access_key)).toEqual([life.inputs.request.key.accessKeyId]);
  });
});
