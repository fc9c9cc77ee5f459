/**
 * The s3 hub's configuration and its conformance check against a real Ceph RGW on loopback
 * (test/support/rgw.ts). The settings are the program's own: the example stack's lifecycle rules
 * (retention.ts), its object lock, the writers' policies (iam.ts), turned into S3 terms by
 * s3Settings.ts and applied by the same code `pulumi up` runs (s3Api.ts). Each guarantee is checked by
 * the conformance check once as configured (it must pass) and once deliberately broken on the server
 * (it must fail), so no check can pass by construction.
 *
 * Where RGW (Ceph 16) differs from AWS, the test says which behaviour it checks:
 * - no default bucket encryption (it needs a Vault backend): not part of an s3 hub's settings;
 * - the TLS-only bucket policy is not evaluated over plain HTTP: an http endpoint gets no bucket policy;
 * - Ceph 16 answers MissingContentLength to an aws-chunked upload with a trailing checksum (what the
 *   aws-sdk and Velero's AWS plugin send by default); AWS takes it. The stack's Velero sends no
 *   checksum on a non-AWS hub, and the check proves that upload works and reports the refusal;
 * - writers are RGW users in the admin's tenant whose rights come from IAM user policies (PutUserPolicy
 *   at the S3 endpoint), where AWS would use IAM users of the account.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  PutBucketLifecycleConfigurationCommand,
  PutBucketVersioningCommand,
  PutObjectLockConfigurationCommand,
  type LifecycleRule,
} from "@aws-sdk/client-s3";
import { parseStackConfig, type StackConfig } from "../../components/config.js";
import { WRITERS } from "../../components/core/hubConnection.js";
import { checkHubConformance, type CheckResult, type ConformanceInput } from "../../components/hub/s3/conformance.js";
import { drillReadPrefixes } from "../../components/drills/logic.js";
import { writerPolicy } from "../../components/hub/iam.js";
import { prefixLifecycles } from "../../components/hub/retention.js";
import {
  applyBucketSettings,
  ensureRgwWriter,
  readBucketState,
  readRgwWriterPolicy,
  s3Client,
  type S3Credentials,
} from "../../components/hub/s3/s3Api.js";
import {
  hubBucketSettings,
  hubWriterSpecs,
  lifecycleDifferences,
  type HubBucketSettings,
  type HubWriterSpec,
} from "../../components/hub/s3/s3Settings.js";
import { bucketProvider, bucketWant, s3HubCommand, writerProvider } from "../../components/hub/s3/s3HubResources.js";
import { startRgw, type RgwServer } from "../support/rgw.js";
import { VELERO_AWS_PLUGIN_EMPTY_TAGGING } from "../../components/core/versions.js";
import { VELERO_TAGGING_REFUSED } from "../../components/hub/s3/conformance.js";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { spawnSync } from "node:child_process";
import { exampleStack } from "../support/stackFiles.js";

const REGION = "us-east-1";
let rgw: RgwServer;
let stack: StackConfig;
let admin: S3Credentials;
const writerKeys: Record<string, S3Credentials> = {};

const key = (): S3Credentials => ({
  accessKeyId: randomBytes(10).toString("hex").toUpperCase(),
  secretAccessKey: randomBytes(20).toString("base64url"),
});
const target = () => ({ endpoint: rgw.endpoint, region: REGION });
const result = (results: CheckResult[], check: CheckResult["check"]) => {
  const r = results.find((x) => x.check === check);
  if (!r) throw new Error(`no ${check} result in ${JSON.stringify(results)}`);
  return r;
};

/** Settings and writers of one bucket, from the example stack through the program's own functions. */
function hubFor(
  bucket: string,
  opts: { objectLock?: boolean } = {},
): { settings: HubBucketSettings; writers: HubWriterSpec[] } {
  const settings = hubBucketSettings({
    bucket,
    endpoint: rgw.endpoint,
    objectLock: opts.objectLock === false ? undefined : stack.hub!.objectLock,
    lifecycles: prefixLifecycles(stack),
  });
  const drillPrefixes = stack.drills ? drillReadPrefixes(stack.drills, stack.offsite?.prefixes) : undefined;
  // As S3Hub builds them with manage: admin on a server with prefix rights: the audit and the drills put records.
  return { settings, writers: hubWriterSpecs(bucket, WRITERS, { drillPrefixes, records: true }) };
}

async function configure(bucket: string, opts: { objectLock?: boolean } = {}): Promise<ConformanceInput> {
  const { settings, writers } = hubFor(bucket, opts);
  const client = s3Client(target(), admin);
  await applyBucketSettings(client, settings);
  client.destroy();
  for (const w of writers) {
    const userName = `${w.userName}`;
    writerKeys[`${bucket}/${w.writer}`] ??= key();
    await ensureRgwWriter(target(), admin, { userName, key: writerKeys[`${bucket}/${w.writer}`], policy: w.policy });
  }
  return {
    target: target(),
    settings,
    writers,
    admin,
    // As velero/logic.ts bslConfig configures Velero on every non-AWS hub, and as the pinned plugin sends.
    veleroChecksums: false,
    veleroEmptyTagging: VELERO_AWS_PLUGIN_EMPTY_TAGGING.sendsEmptyTaggingHeader,
    writerKeys: Object.fromEntries(writers.map((w) => [w.writer, writerKeys[`${bucket}/${w.writer}`]])),
  };
}

beforeAll(async () => {
  stack = parseStackConfig(exampleStack().config);
  expect(stack.hub!.objectLock, "the example stack locks its backups").toBeDefined();
  rgw = await startRgw({ timeoutMs: 480_000 });
  admin = { accessKeyId: rgw.adminAccessKeyId, secretAccessKey: rgw.adminSecretAccessKey };
}, 600_000);

afterAll(async () => {
  await rgw?.stop();
}, 60_000);

describe("an s3 hub on a real Ceph RGW", () => {
  let locked: ConformanceInput;

  beforeAll(async () => {
    locked = await configure("homelab-locked");
  }, 300_000);

  it("holds every guarantee of the example stack as configured", { timeout: 300_000 }, async () => {
    const results = await checkHubConformance(locked);
    for (const r of results) expect(r, r.detail).toMatchObject({ ok: true });
    for (const name of ["audit", "drills"])
      expect(result(results, "writers").detail).toContain(
        `${name} writes no backup and puts its records under status/${name}/`,
      );
    expect(results.map((r) => r.check).sort()).toEqual([
      "lifecycle",
      "objectLock",
      "trailingChecksum",
      "versioning",
      "writers",
    ]);
  });

  it("reads the lifecycle rules back as written", { timeout: 300_000 }, async () => {
    const client = s3Client(target(), admin);
    const state = await readBucketState(client, locked.settings.bucket);
    client.destroy();
    expect(locked.settings.lifecycleRules!.length).toBe(prefixLifecycles(stack).length);
    expect(lifecycleDifferences(locked.settings.lifecycleRules!, state.lifecycleRules)).toEqual([]);
  });

  it("keeps each writer's policy as the program wrote it", { timeout: 300_000 }, async () => {
    for (const w of locked.writers) expect(await readRgwWriterPolicy(target(), admin, w.userName)).toEqual(w.policy);
  });

  it("re-applying the settings and writers changes nothing (idempotent)", { timeout: 300_000 }, async () => {
    const again = await configure("homelab-locked");
    expect(again.settings).toEqual(locked.settings);
    const results = await checkHubConformance(again);
    expect(results.filter((r) => !r.ok)).toEqual([]);
  });
});

describe("the conformance check fails when a guarantee is broken on the server", () => {
  it("lifecycle: a rule changed behind the program's back", { timeout: 300_000 }, async () => {
    const hub = await configure("homelab-broken-lifecycle", { objectLock: false });
    const client = s3Client(target(), admin);
    const rules = hub.settings.lifecycleRules!.map((r) =>
      r.Expiration?.Days ? { ...r, Expiration: { Days: r.Expiration.Days + 30 } } : r,
    );
    expect(rules).not.toEqual(hub.settings.lifecycleRules!);
    await client.send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket: hub.settings.bucket,
        LifecycleConfiguration: { Rules: rules as LifecycleRule[] },
      }),
    );
    client.destroy();
    const r = result(await checkHubConformance(hub), "lifecycle");
    expect(r.ok).toBe(false);
    expect(r.detail).toMatch(/postgres-backups/);
  });

  it("versioning: suspended", { timeout: 300_000 }, async () => {
    const hub = await configure("homelab-broken-versioning", { objectLock: false });
    const client = s3Client(target(), admin);
    await client.send(
      new PutBucketVersioningCommand({ Bucket: hub.settings.bucket, VersioningConfiguration: { Status: "Suspended" } }),
    );
    client.destroy();
    const r = result(await checkHubConformance(hub), "versioning");
    expect(r).toMatchObject({ ok: false, detail: expect.stringMatching(/Suspended/) });
  });

  it("objectLock: no default retention, so a fresh version can be deleted", { timeout: 300_000 }, async () => {
    const hub = await configure("homelab-broken-lock");
    const client = s3Client(target(), admin);
    await client.send(
      new PutObjectLockConfigurationCommand({
        Bucket: hub.settings.bucket,
        ObjectLockConfiguration: { ObjectLockEnabled: "Enabled" },
      }),
    );
    client.destroy();
    const r = result(await checkHubConformance(hub), "objectLock");
    expect(r.ok).toBe(false);
    expect(r.detail).toMatch(/default retention is not set/);
    expect(r.detail).toMatch(/deleting the locked version .* succeeded/);
  });

  it(
    "writers: an append-only writer that can delete, and a writer that can write another's prefix",
    { timeout: 300_000 },
    async () => {
      const hub = await configure("homelab-broken-writers", { objectLock: false });
      const bucket = hub.settings.bucket;
      const postgres = hub.writers.find((w) => w.writer === "postgres")!;
      const longhorn = hub.writers.find((w) => w.writer === "longhorn")!;
      // postgres gets a pruning writer's rights (delete allowed); longhorn gets velero's prefix too.
      const pruning = writerPolicy("velero", bucket);
      const postgresBroken = JSON.parse(JSON.stringify(pruning).replaceAll("velero/", postgres.prefix));
      const longhornBroken = {
        ...longhorn.policy,
        Statement: [
          ...longhorn.policy.Statement,
          {
            Sid: "AlsoVelero",
            Effect: "Allow" as const,
            Action: ["s3:PutObject"],
            Resource: [`arn:aws:s3:::${bucket}/velero/*`],
          },
        ],
      };
      await ensureRgwWriter(target(), admin, {
        userName: postgres.userName,
        key: hub.writerKeys.postgres,
        policy: postgresBroken,
      });
      await ensureRgwWriter(target(), admin, {
        userName: longhorn.userName,
        key: hub.writerKeys.longhorn,
        policy: longhornBroken,
      });
      const r = result(await checkHubConformance(hub), "writers");
      expect(r.ok).toBe(false);
      expect(r.detail).toMatch(/postgres is append-only but could delete/);
      expect(r.detail).toMatch(/longhorn could write under velero's prefix velero\//);
    },
  );

  it(
    "writers: an audit or drills key that cannot put its status records (its policy without that right)",
    { timeout: 300_000 },
    async () => {
      const hub = await configure("homelab-no-records", { objectLock: false });
      for (const name of ["audit", "drills"] as const) {
        const w = hub.writers.find((x) => x.writer === name)!;
        expect(w.recordPrefix).toBe(`status/${name}/`);
        const readOnly = {
          ...w.policy,
          Statement: w.policy.Statement.filter((st) => !(st.Effect === "Allow" && st.Action.includes("s3:PutObject"))),
        };
        expect(readOnly.Statement.length).toBeLessThan(w.policy.Statement.length);
        await ensureRgwWriter(target(), admin, { userName: w.userName, key: hub.writerKeys[name], policy: readOnly });
      }
      const r = result(await checkHubConformance(hub), "writers");
      expect(r.ok).toBe(false);
      expect(r.detail).toMatch(/audit cannot put its status records under status\/audit\/: AccessDenied/);
      expect(r.detail).toMatch(/drills cannot put its status records under status\/drills\/: AccessDenied/);
    },
  );

  it("writers: a writer whose key cannot put under its own prefix", { timeout: 300_000 }, async () => {
    const hub = await configure("homelab-broken-own-prefix", { objectLock: false });
    const etcd = hub.writers.find((w) => w.writer === "etcd")!;
    const elsewhere = JSON.parse(JSON.stringify(etcd.policy).replaceAll(etcd.prefix, "somewhere-else/"));
    await ensureRgwWriter(target(), admin, { userName: etcd.userName, key: hub.writerKeys.etcd, policy: elsewhere });
    const r = result(await checkHubConformance(hub), "writers");
    expect(r).toMatchObject({
      ok: false,
      detail: expect.stringMatching(/etcd cannot put under its own prefix etcd-snapshots\/: AccessDenied/),
    });
  });

  it(
    "trailingChecksum: RGW 16, unlike AWS, refuses the aws-sdk default trailing CRC32; a stack whose Velero sent it would fail",
    { timeout: 300_000 },
    async () => {
      const hub = await configure("homelab-trailing-checksum", { objectLock: false });
      const withoutChecksums = result(await checkHubConformance(hub), "trailingChecksum");
      expect(withoutChecksums).toMatchObject({
        ok: true,
        detail: expect.stringMatching(/refuses trailing CRC32 checksums \(MissingContentLength\)/),
      });
      const withChecksums = result(await checkHubConformance({ ...hub, veleroChecksums: true }), "trailingChecksum");
      expect(withChecksums).toMatchObject({
        ok: false,
        detail: expect.stringMatching(
          /trailing CRC32 checksum \(with the plugin's empty x-amz-tagging header\) as velero failed: MissingContentLength/,
        ),
      });
    },
  );

  it(
    "trailingChecksum: the velero upload carries the plugin's empty x-amz-tagging header; RGW accepts it, a server that answers NotImplemented to it (as R2 does, velero#9931) fails the check",
    { timeout: 300_000 },
    async () => {
      const hub = await configure("homelab-velero-tagging", { objectLock: false });
      const accepted = result(await checkHubConformance(hub), "trailingChecksum");
      expect(accepted).toMatchObject({
        ok: true,
        detail: expect.stringContaining("without a request checksum (with the plugin's empty x-amz-tagging header)"),
      });
      // A proxy in front of the real RGW that answers 501 NotImplemented to any PUT carrying the
      // header, and forwards everything else unchanged (the signature covers the proxy's Host).
      const seen: string[] = [];
      const proxy = http.createServer((req, res) => {
        if (req.method === "PUT" && "x-amz-tagging" in req.headers) {
          seen.push(`${req.url} x-amz-tagging=${JSON.stringify(req.headers["x-amz-tagging"])}`);
          req.resume();
          res.writeHead(501, { "content-type": "application/xml" });
          res.end(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>NotImplemented</Code><Message>Header 'x-amz-tagging' with value '' not implemented</Message></Error>",
          );
          return;
        }
        const upstream = new URL(rgw.endpoint);
        const fwd = http.request(
          { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
          (r) => {
            res.writeHead(r.statusCode ?? 502, r.headers);
            r.pipe(res);
          },
        );
        req.pipe(fwd);
      });
      await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
      try {
        const via = {
          ...hub,
          target: { ...hub.target, endpoint: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}` },
        };
        const refused = result(await checkHubConformance(via), "trailingChecksum");
        expect(refused).toMatchObject({ ok: false, detail: expect.stringContaining("failed: NotImplemented") });
        expect(refused.detail).toContain(VELERO_TAGGING_REFUSED);
        expect(seen.length).toBeGreaterThan(0);
        expect(seen.every((s) => s.endsWith('x-amz-tagging=""'))).toBe(true);
        // Without the header (a plugin that no longer sends it), the same server passes: the header is what failed.
        const without = result(await checkHubConformance({ ...via, veleroEmptyTagging: false }), "trailingChecksum");
        expect(without.ok, without.detail).toBe(true);
      } finally {
        await new Promise((resolve) => proxy.close(resolve));
      }
    },
  );

  it("trailingChecksum: fails when the velero writer cannot upload", { timeout: 300_000 }, async () => {
    const hub = await configure("homelab-broken-checksum", { objectLock: false });
    const r = result(
      await checkHubConformance({ ...hub, writerKeys: { ...hub.writerKeys, velero: key() } }),
      "trailingChecksum",
    );
    expect(r).toMatchObject({
      ok: false,
      detail: expect.stringMatching(
        /upload without a request checksum \(with the plugin's empty x-amz-tagging header\) as velero failed: InvalidAccessKeyId; [^.]*here$/,
      ),
    });
  });
});

describe("the Pulumi side: resources that a refresh reads back, and the conformance step", () => {
  it(
    "S3HubBucket: create applies the settings; a refresh after a change on the server makes the diff ask for an update, which restores them",
    { timeout: 300_000 },
    async () => {
      const { settings } = hubFor("homelab-resource", { objectLock: false });
      const inputs = {
        request: { target: target(), flavor: "ceph-rgw", admin, settings },
        want: bucketWant(settings),
        resourceId: "r",
      };
      const created = await bucketProvider.create(inputs);
      expect(created.outs.state).toEqual(bucketWant(settings));
      expect((await bucketProvider.diff!("r", created.outs, inputs)).changes).toBe(false);
      const client = s3Client(target(), admin);
      await client.send(
        new PutBucketVersioningCommand({ Bucket: settings.bucket, VersioningConfiguration: { Status: "Suspended" } }),
      );
      const rules = settings.lifecycleRules!.slice(1) as LifecycleRule[];
      await client.send(
        new PutBucketLifecycleConfigurationCommand({
          Bucket: settings.bucket,
          LifecycleConfiguration: { Rules: rules },
        }),
      );
      client.destroy();
      const refreshed = await bucketProvider.read!("r", created.outs);
      expect(refreshed.props.state.versioning).toBe("Suspended");
      expect(refreshed.props.state.lifecycleRules).toHaveLength(settings.lifecycleRules!.length - 1);
      expect((await bucketProvider.diff!("r", refreshed.props, inputs)).changes).toBe(true);
      const updated = await bucketProvider.update!("r", refreshed.props, inputs);
      expect(updated.outs!.state).toEqual(bucketWant(settings));
    },
  );

  it("S3HubWriter: a policy changed on the server shows as drift after a refresh", { timeout: 300_000 }, async () => {
    const [writer] = hubWriterSpecs("homelab-resource", ["postgres"]);
    const request = {
      target: target(),
      flavor: "ceph-rgw",
      admin,
      userName: writer.userName,
      key: key(),
      policy: writer.policy,
    };
    const inputs = { request, want: { userName: writer.userName, policy: writer.policy }, resourceId: "w" };
    const created = await writerProvider.create(inputs);
    expect(created.outs.state).toEqual(inputs.want);
    await ensureRgwWriter(target(), admin, {
      userName: writer.userName,
      key: request.key,
      policy: writerPolicy("velero", "homelab-resource"),
    });
    const refreshed = await writerProvider.read!("w", created.outs);
    expect((await writerProvider.diff!("w", refreshed.props, inputs)).changes).toBe(true);
    expect((await writerProvider.diff!("w", created.outs, inputs)).changes).toBe(false);
  });

  it(
    "the conformance step's command exits 0 on a conforming hub and 1, naming the check, on a broken one",
    { timeout: 300_000 },
    async () => {
      const hub = await configure("homelab-cli", { objectLock: false });
      const run = (input: unknown) =>
        spawnSync(s3HubCommand("check")[0], s3HubCommand("check").slice(1), {
          input: JSON.stringify(input),
          encoding: "utf8",
          timeout: 280_000,
        });
      const good = run(hub);
      expect(good.status, good.stderr).toBe(0);
      expect(good.stdout).toMatch(/^ok +versioning: versioning is Enabled$/m);
      const client = s3Client(target(), admin);
      await client.send(
        new PutBucketVersioningCommand({
          Bucket: hub.settings.bucket,
          VersioningConfiguration: { Status: "Suspended" },
        }),
      );
      client.destroy();
      const bad = run(hub);
      expect(bad.status).toBe(1);
      expect(bad.stderr).toMatch(/does not hold what the stack promises/);
      expect(bad.stderr).toMatch(/^FAIL versioning: versioning is Suspended, want Enabled$/m);
    },
  );
});
