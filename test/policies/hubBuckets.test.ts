/**
 * The bucket guarantees on every hub kind (policies/s3Bucket.ts), judged from the resources each kind
 * registers, built here by the hub code itself: the Pi hub's configure Command (piHubSteps.ts
 * stepCommand) and the s3 hub's S3HubBucket inputs (s3HubResources.ts bucketWant) or, with manage none,
 * its conformance Command. Every verdict names the stack key to change.
 */
import { describe, expect, it } from "vitest";
import { piHubSettings, stepCommand } from "../../components/hub/pi/piHubSteps.js";
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
// Pi hub: the configure step's command is what the server is configured with
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

const configure = (create: string): PolicyInput => ({
  type: "command:remote:Command",
  name: "hub-pi-configure",
  props: { create, addPreviousOutputInEnv: false },
  additionalSecretOutputs: ["stdin"],
});
const piConfigure = (over: Partial<HubInput> = {}) =>
  configure(stepCommand("configure", piHubSettings(piHub(over)), LIFECYCLES));

describe("s3-bucket-protected on a Pi hub", () => {
  it("accepts TLS, versioning and a lock within the shortest retention", () => {
    expect(bucketVerdicts([piConfigure({ tls: true, objectLock: { mode: "GOVERNANCE", days: 7 } })])).toEqual([]);
    expect(bucketVerdicts([piConfigure({ tls: true })])).toEqual([]);
  });

  it("refuses plain HTTP (tls false) unless the stack opts out, naming hub.tls", () => {
    expect(bucketVerdicts([piConfigure({ tls: false })])).toEqual([
      {
        level: "mandatory",
        key: "hub.tls",
        resource: "hub-pi-configure",
        message: expect.stringMatching(/plain HTTP to the network.*hub\.allowPlainHttp: true/),
      },
    ]);
    // The opt-out is reported, never silent.
    expect(bucketVerdicts([piConfigure({ tls: false, allowPlainHttp: true })])).toEqual([
      {
        level: "advisory",
        key: "hub.tls",
        resource: "hub-pi-configure",
        message: expect.stringMatching(/as the stack accepts/),
      },
    ]);
  });

  it("refuses a lock longer than the shortest retention on the bucket (not the longest), naming hub.objectLock.days", () => {
    // etcd-snapshots/ expires after 7 days; the staging prefixes' one-day expiry is no class's retention.
    expect(bucketVerdicts([piConfigure({ tls: true, objectLock: { mode: "GOVERNANCE", days: 14 } })])).toEqual([
      {
        level: "mandatory",
        key: "hub.objectLock.days",
        resource: "hub-pi-configure",
        message: expect.stringMatching(
          /14 days, longer than the shortest retention on the bucket \(7 days, lifecycle expiry of "etcd-snapshots\/"\)/,
        ),
      },
    ]);
    // A Velero ttl shorter than every expiry bounds the lock too.
    expect(
      bucketVerdicts([piConfigure({ tls: true, objectLock: { mode: "GOVERNANCE", days: 7 } }), schedule("72h")]),
    ).toEqual([
      expect.objectContaining({ key: "hub.objectLock.days", message: expect.stringMatching(/3 days, Velero ttl 72h/) }),
    ]);
  });

  it("refuses versioning that is not Enabled in the configure step", () => {
    const cmd = stepCommand("configure", piHubSettings(piHub({ tls: true })), LIFECYCLES);
    expect(cmd).toContain("HUB_VERSIONING='Enabled'");
    expect(bucketVerdicts([configure(cmd.replace("HUB_VERSIONING='Enabled'", "HUB_VERSIONING='Suspended'"))])).toEqual([
      {
        level: "mandatory",
        key: "hub",
        resource: "hub-pi-configure",
        message: expect.stringMatching(/versioning is not Enabled \(HUB_VERSIONING is "Suspended"\)/),
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
    const verdicts = evaluatePolicies([piConfigure({ tls: false })]);
    const failing = renderPlan(stack, verdicts, POLICY_NAMES);
    expect(failing).toContain("| Policy | Level | Stack key | Resource | Message |");
    expect(failing).toMatch(/\| s3-bucket-protected \| mandatory \| `hub\.tls` \| hub-pi-configure \|/);
  });
});
