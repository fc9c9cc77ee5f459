/**
 * The bucket guarantees on every hub kind (policies/s3Bucket.ts), judged from the resources each kind
 * registers, built here by the hub code itself: the S3HubBucket inputs (s3HubResources.ts bucketWant) of a
 * Pi hub (at the endpoint its hub section gives, hubConnection) or an s3 hub, or, with manage none, the
 * s3 hub's conformance Command. Every verdict names the stack key to change.
 */
import { describe, expect, it } from "vitest";
import { hubConnection } from "../../components/core/hubConnection.js";
import type { PrefixLifecycle } from "../../components/hub/retention.js";
import { hubWithDefaults, type HubInput } from "../../components/hub/schema.js";
import { bucketWant } from "../../components/hub/s3/s3HubResources.js";
import { hubBucketSettings } from "../../components/hub/s3/s3Settings.js";
import { evaluatePolicies, type PolicyInput } from "../../policies/evaluate.js";

const LIFECYCLES: PrefixLifecycle[] = [
  { prefix: "longhorn/", noncurrentDays: 7 },
  { prefix: "postgres-backups/", expireDays: 14, noncurrentDays: 7 },
  { prefix: "postgres-backups/.partial/", expireDays: 1, noncurrentDays: 1 },
  { prefix: "etcd-snapshots/", expireDays: 7, noncurrentDays: 7 },
  { prefix: "etcd-snapshots/.partial/", expireDays: 1, noncurrentDays: 1 },
  { prefix: "velero/", noncurrentDays: 7 },
];

const BUCKET_POLICIES = new Set(["s3-bucket-protected", "hub-guarantees-reported"]);
const bucketVerdicts = (rs: PolicyInput[]) =>
  evaluatePolicies(rs)
    .filter((v) => BUCKET_POLICIES.has(v.policy))
    .map((v) => ({ level: v.level, key: v.key, resource: v.resource, message: v.message }));

const schedule = (ttl: string): PolicyInput => ({
  type: "kubernetes:velero.io/v1:Schedule",
  name: "velero-schedule-daily",
  props: {
    metadata: {
      name: "daily",
      namespace: "velero",
      annotations: { "homelab-backup.io/stack-key": "velero.schedules[0]" },
    },
    spec: { schedule: "0 2 * * *", template: { ttl } },
  },
});

// ---------------------------------------------------------------------------------------------
// Pi hub: its bucket is an S3HubBucket too (components/hub/backupHub.ts), at the endpoint hub.tls gives
// ---------------------------------------------------------------------------------------------

const piHub = (over: Partial<HubInput> = {}) =>
  hubWithDefaults({
    kind: "pi",
    bucket: "homelab-backups",
    host: "backup1.lab",
    ssh: { user: "pi" },
    dataDir: "/mnt/disk/s3",
    ...over,
  } as HubInput);

/** The Pi hub's S3HubBucket inputs, as BackupHub registers them (endpoint from hubConnection, endpointKey hub.tls). */
function piBucket(
  over: Partial<HubInput> = {},
  want: (w: Record<string, unknown>) => Record<string, unknown> = (w) => w,
): PolicyInput {
  const hub = piHub(over);
  const endpoint = hubConnection(hub).endpoint;
  return {
    type: "pulumi-nodejs:dynamic/homelab-backup:S3HubBucket",
    name: "hub-s3-bucket",
    props: {
      request: { target: { endpoint } },
      want: want(
        bucketWant(
          hubBucketSettings({
            bucket: hub.bucket,
            endpoint,
            flavor: hub.server === "rustfs" ? "rustfs" : "silo",
            lifecycles: LIFECYCLES,
            objectLock: hub.objectLock,
          }),
        ),
      ),
      resourceId: `${endpoint}/${hub.bucket}`,
      endpoint,
      flavor: hub.server === "rustfs" ? "rustfs" : "silo",
      allowPlainHttp: hub.allowPlainHttp ?? false,
      endpointKey: "hub.tls",
    },
    additionalSecretOutputs: ["request"],
  };
}

describe("s3-bucket-protected on a Pi hub (its S3HubBucket)", () => {
  it("accepts TLS, versioning and a lock within the shortest retention", () => {
    expect(bucketVerdicts([piBucket({ tls: true, objectLock: { mode: "GOVERNANCE", days: 7 } })])).toEqual([]);
    expect(bucketVerdicts([piBucket({ tls: true })])).toEqual([]);
    expect(bucketVerdicts([piBucket({ tls: true, server: "rustfs" })])).toEqual([]);
  });

  it("refuses plain HTTP (tls false) unless the stack opts out, naming hub.tls, not hub.endpoint", () => {
    expect(bucketVerdicts([piBucket({ tls: false })])).toEqual([
      {
        level: "mandatory",
        key: "hub.tls",
        resource: "hub-s3-bucket",
        message: expect.stringMatching(
          /^pi hub bucket homelab-backups: endpoint "http:\/\/backup1\.lab:9000" is not https: .*set hub\.tls: true .*hub\.allowPlainHttp: true/,
        ),
      },
    ]);
    // The opt-out is reported, never silent.
    expect(bucketVerdicts([piBucket({ tls: false, allowPlainHttp: true })])).toEqual([
      {
        level: "advisory",
        key: "hub.tls",
        resource: "hub-s3-bucket",
        message: expect.stringMatching(/as the stack accepts/),
      },
    ]);
  });

  it("refuses a lock longer than the shortest retention on the bucket (not the longest), naming hub.objectLock.days", () => {
    // etcd-snapshots/ expires after 7 days; the staging prefixes' one-day expiry is no class's retention.
    expect(bucketVerdicts([piBucket({ tls: true, objectLock: { mode: "GOVERNANCE", days: 14 } })])).toEqual([
      {
        level: "mandatory",
        key: "hub.objectLock.days",
        resource: "hub-s3-bucket",
        message: expect.stringMatching(
          /14 days, longer than the shortest retention on the bucket \(7 days, lifecycle expiry of "etcd-snapshots\/"\)/,
        ),
      },
    ]);
    // A Velero ttl shorter than every expiry bounds the lock too.
    expect(
      bucketVerdicts([piBucket({ tls: true, objectLock: { mode: "GOVERNANCE", days: 7 } }), schedule("72h")]),
    ).toEqual([
      expect.objectContaining({ key: "hub.objectLock.days", message: expect.stringMatching(/3 days, Velero ttl 72h/) }),
    ]);
  });

  it("refuses versioning that is not Enabled", () => {
    expect(bucketVerdicts([piBucket({ tls: true }, (w) => ({ ...w, versioning: "Suspended" }))])).toEqual([
      {
        level: "mandatory",
        key: "hub",
        resource: "hub-s3-bucket",
        message: expect.stringMatching(/versioning is "Suspended", not "Enabled"/),
      },
    ]);
  });
});

// ---------------------------------------------------------------------------------------------
// s3 hub: the S3HubBucket's `want` (manage admin) or the conformance step's input (manage none)
// ---------------------------------------------------------------------------------------------

const s3Bucket = (
  endpoint: string,
  opts: { flavor?: string; allowPlainHttp?: boolean; lockDays?: number } = {},
): PolicyInput => ({
  type: "pulumi-nodejs:dynamic/homelab-backup:S3HubBucket",
  name: "hub-s3-bucket",
  props: {
    request: { target: { endpoint } },
    want: bucketWant(
      hubBucketSettings({
        bucket: "homelab-backups",
        endpoint,
        lifecycles: LIFECYCLES,
        ...(opts.lockDays !== undefined ? { objectLock: { mode: "GOVERNANCE" as const, days: opts.lockDays } } : {}),
      }),
    ),
    resourceId: `${endpoint}/homelab-backups`,
    endpoint,
    flavor: opts.flavor ?? "ceph-rgw",
    allowPlainHttp: opts.allowPlainHttp ?? false,
  },
  additionalSecretOutputs: ["request"],
});

describe("s3-bucket-protected on an s3 hub", () => {
  it("accepts an https endpoint with its TLS-only policy, versioning and a lock within the shortest retention", () => {
    expect(bucketVerdicts([s3Bucket("https://rgw.lab", { lockDays: 7 })])).toEqual([]);
  });

  it("refuses an http:// endpoint unless the stack opts out, naming hub.endpoint", () => {
    expect(bucketVerdicts([s3Bucket("http://rgw.lab:7480")])).toEqual([
      {
        level: "mandatory",
        key: "hub.endpoint",
        resource: "hub-s3-bucket",
        message: expect.stringMatching(/is not https/),
      },
    ]);
    expect(bucketVerdicts([s3Bucket("http://rgw.lab:7480", { allowPlainHttp: true })])).toEqual([
      {
        level: "advisory",
        key: "hub.endpoint",
        resource: "hub-s3-bucket",
        message: expect.stringMatching(/as the stack accepts/),
      },
    ]);
  });

  it("refuses an https hub without the TLS-only bucket policy", () => {
    const r = s3Bucket("https://rgw.lab");
    delete r.props.want.bucketPolicy;
    expect(bucketVerdicts([r])).toEqual([
      expect.objectContaining({
        level: "mandatory",
        key: "hub",
        message: expect.stringMatching(/no TLS-only bucket policy/),
      }),
    ]);
  });

  it("refuses a lock longer than the shortest retention, naming hub.objectLock.days", () => {
    expect(bucketVerdicts([s3Bucket("https://rgw.lab", { lockDays: 30 })])).toEqual([
      expect.objectContaining({
        level: "mandatory",
        key: "hub.objectLock.days",
        message: expect.stringMatching(/30 days, longer than the shortest retention on the bucket \(7 days/),
      }),
    ]);
  });

  it("refuses versioning that is not Enabled, and says what the flavor cannot enforce (advisory)", () => {
    const off = s3Bucket("https://rgw.lab");
    off.props.want.versioning = "Suspended";
    expect(bucketVerdicts([off])).toEqual([
      expect.objectContaining({
        level: "mandatory",
        key: "hub",
        message: expect.stringMatching(/versioning is "Suspended"/),
      }),
    ]);
    expect(bucketVerdicts([s3Bucket("https://garage.lab", { flavor: "garage", lockDays: 7 })])).toEqual([
      expect.objectContaining({
        level: "advisory",
        key: "hub.flavor",
        message: expect.stringMatching(
          /has no bucket policies: nothing on the server refuses a request made without TLS/,
        ),
      }),
      expect.objectContaining({
        level: "advisory",
        key: "hub.flavor",
        message: expect.stringMatching(/cannot enforce versioning/),
      }),
      expect.objectContaining({
        level: "advisory",
        key: "hub.flavor",
        message: expect.stringMatching(/cannot enforce Object Lock/),
      }),
    ]);
  });

  it("a Garage bucket promises no versioning and no bucket policy: reported as advisories, never refused", () => {
    const garage = s3Bucket("https://garage.lab", { flavor: "garage" });
    garage.props.want = { bucket: garage.props.want.bucket };
    expect(bucketVerdicts([garage]).map((v) => `${v.level} ${v.key}`)).toEqual([
      "advisory hub.flavor",
      "advisory hub.flavor",
    ]);
    const rgw = s3Bucket("https://rgw.lab");
    rgw.props.want = { bucket: rgw.props.want.bucket };
    expect(bucketVerdicts([rgw]).map((v) => `${v.level} ${v.key}`)).toEqual(["mandatory hub", "mandatory hub"]);
  });

  it("with manage none, judges TLS from the conformance step's input and reports that the bucket is not configured", () => {
    const conformance = (endpoint: string, allowPlainHttp = false): PolicyInput => ({
      type: "command:local:Command",
      name: "hub-s3-conformance",
      props: {
        create: "node --import tsx components/hub/s3-hub.ts check",
        stdin: JSON.stringify({ target: { endpoint }, settings: { bucket: "b" }, allowPlainHttp }),
      },
      additionalSecretOutputs: ["stdin"],
    });
    expect(bucketVerdicts([conformance("https://rgw.lab")])).toEqual([
      expect.objectContaining({ level: "advisory", key: "hub.manage" }),
    ]);
    expect(bucketVerdicts([conformance("http://rgw.lab")]).map((v) => `${v.level} ${v.key}`)).toEqual([
      "mandatory hub.endpoint",
      "advisory hub.manage",
    ]);
  });
});

describe("plan.md's policy verdicts", () => {
  it("lists every policy that ran, failing or not, and each verdict's stack key", async () => {
    const { parseStackConfig } = await import("../../components/config.js");
    const { renderPlan } = await import("../../components/plan.js");
    const { POLICY_NAMES } = await import("../../policies/all.js");
    const stack = parseStackConfig({ "homelab-backup:hub": JSON.stringify({ kind: "aws", bucket: "b-backups" }) });
    const clean = renderPlan(stack, [], POLICY_NAMES);
    for (const name of POLICY_NAMES) expect(clean).toContain(`\`${name}\``);
    expect(clean).toContain("No mandatory policy is violated.");
    const verdicts = evaluatePolicies([piBucket({ tls: false })]);
    const failing = renderPlan(stack, verdicts, POLICY_NAMES);
    expect(failing).toContain("| Policy | Level | Stack key | Resource | Message |");
    expect(failing).toMatch(/\| s3-bucket-protected \| mandatory \| `hub\.tls` \| hub-s3-bucket \|/);
  });
});
