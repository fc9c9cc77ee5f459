/**
 * BackupHub on an AWS hub under the mock runtime: the recorded inputs of every AWS resource it
 * registers (bucket hardening, lifecycle per prefix, object lock, one user + policy + key per writer)
 * and the secrecy of the keys it hands out. The hub plan's key-rotation URN is checked against the
 * URN the engine actually gave the AccessKey. On a Pi hub: PiHub installs the server, and the bucket and
 * identities are the S3Hub resources of an s3 hub, pointed at the Pi, adopting the users and policies
 * the former mcli step made (same access keys, PiHub's secrets, `homelab-backup-<writer>` policies).
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { parseStackConfig, type StackConfig } from "../../components/config.js";
import { WRITERS } from "../../components/core/hubConnection.js";
import { hubRights } from "../../components/model.js";
import { accessKeyUrn, hubPlan, piRotationUrns } from "../../components/hub/plan.js";
import { writerPolicies, writerPolicy, writerUserName } from "../../components/hub/iam.js";
import { ADMIN_USER, writerAccessKey, writerPolicyName } from "../../components/hub/pi/piHubSteps.js";
import { prefixLifecycles } from "../../components/hub/retention.js";
import {
  installMocks,
  isSecretOutput,
  recordingMocks,
  settle,
  standIn,
  unwrapSecrets,
  valueOf,
  type RecordingMocks,
} from "../../tools/mocks.js";

const db = { name: "wiki", namespace: "wiki", host: "postgres", passwordSecret: { name: "pg", key: "password" } };
const mirror = {
  name: "photos",
  schedule: "0 1 * * *",
  source: {
    endpoint: "http://rgw.ceph.svc:80",
    bucket: "photos",
    credentialsSecret: { namespace: "ceph", name: "photos-s3" },
  },
};

const full: StackConfig = parseStackConfig({
  "homelab-backup:hub": {
    kind: "aws",
    bucket: "homelab-backups",
    region: "eu-central-1",
    objectLock: { mode: "GOVERNANCE", days: 30 },
    archive: { afterDays: 2, storageClass: "GLACIER_IR" },
  },
  "homelab-backup:longhorn": {},
  // Kept long enough for GLACIER_IR's 90-day minimum, so hub.archive moves them (components/hub/archive.ts).
  "homelab-backup:postgres": { retentionDays: 120, databases: [db] },
  "homelab-backup:etcd": { retentionDays: 100 },
  "homelab-backup:velero": {},
  "homelab-backup:buckets": { mirrors: [mirror] },
  "homelab-backup:offsite": {
    ftp: { host: "ftp.example.net", user: "u" },
    prefixes: ["postgres-backups/", "etcd-snapshots/"],
  },
  "homelab-backup:offsiteFtpPassword": "x",
});
const run = promisify(execFile);
const piStack: StackConfig = parseStackConfig({
  "homelab-backup:hub": {
    kind: "pi",
    bucket: "pi-backups",
    region: "fr-home-1",
    host: "backup1.lan",
    ssh: { user: "pi" },
    dataDir: "/srv/minio",
    objectLock: { mode: "GOVERNANCE", days: 7 },
  },
  "homelab-backup:postgres": { databases: [db] },
  "homelab-backup:longhorn": {},
  "homelab-backup:offsite": { ftp: { host: "ftp.example.net", user: "u" }, prefixes: ["postgres-backups/"] },
  "homelab-backup:offsiteFtpPassword": "x",
  "homelab-backup:hubSshPrivateKey": "k",
});
const bare: StackConfig = parseStackConfig({ "homelab-backup:hub": { kind: "aws", bucket: "bare-backups" } });

const T = {
  bucket: "aws:s3/bucket:Bucket",
  versioning: "aws:s3/bucketVersioning:BucketVersioning",
  sse: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
  pab: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
  policy: "aws:s3/bucketPolicy:BucketPolicy",
  lifecycle: "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
  lock: "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
  user: "aws:iam/user:User",
  userPolicy: "aws:iam/userPolicy:UserPolicy",
  key: "aws:iam/accessKey:AccessKey",
};

let rec: RecordingMocks;
let hub: any;
let plain: any;
let pi: any;
let BackupHubClass: any;

/** Every writer, with the off-site reader limited to `offsitePrefixes`. */
const everyWriter = (bucket: string, offsitePrefixes?: string[]) => ({
  inUse: WRITERS,
  offsitePrefixes,
  policies: writerPolicies(bucket, { offsitePrefixes }),
});

beforeAll(async () => {
  rec = recordingMocks();
  await installMocks(rec);
  const { BackupHub } = await import("../../components/hub/backupHub.js");
  hub = new BackupHub("hub", {
    hub: full.hub!,
    lifecycles: prefixLifecycles(full),
    rights: everyWriter(full.hub!.bucket, full.offsite?.prefixes),
  });
  plain = new BackupHub("plain", { hub: bare.hub!, lifecycles: prefixLifecycles(bare) });
  pi = new BackupHub("hub", {
    hub: piStack.hub!,
    lifecycles: prefixLifecycles(piStack),
    sshPrivateKey: pulumi.secret("ssh-key"),
    rights: everyWriter(piStack.hub!.bucket, piStack.offsite?.prefixes),
  });
  BackupHubClass = BackupHub;
  await settle();
});

/** Runs the plan's `pulumi up --replace ...` line in bash with `pulumi` standing in as printf: the URNs it would get. */
async function replacedUrns(restore: string): Promise<string[]> {
  const lines = restore.split("\n");
  const up = lines.find((l) => l.startsWith("pulumi up --replace"));
  expect(up, "no pulumi up --replace line").toBeDefined();
  expect(lines).toContain("STACK=$(pulumi stack --show-name)");
  const script = `pulumi() { for a in "$@"; do [ "$a" = up ] || [ "$a" = --replace ] || printf '%s\\n' "$a"; done; }\nSTACK=${pulumi.getStack()}\n${up}`;
  const { stdout } = await run("bash", ["-c", script]);
  return stdout.trim().split("\n");
}

const inputs = (type: string, name: string) => unwrapSecrets(rec.one(type, name).inputs);
const mine = (type: string, owner: string) => rec.byType(type).filter((r) => r.parent === owner);

describe("BackupHub on AWS: the bucket", () => {
  it("creates the named bucket in the hub's region, with object lock enabled at creation", () => {
    expect(inputs(T.bucket, "hub-bucket")).toMatchObject({
      bucket: "homelab-backups",
      region: "eu-central-1",
      objectLockEnabled: true,
    });
    expect(inputs(T.bucket, "plain-bucket").objectLockEnabled).toBeUndefined();
  });

  it("enables versioning, default encryption, all four public-access blocks", () => {
    expect(inputs(T.versioning, "hub-versioning")).toMatchObject({
      bucket: "homelab-backups",
      versioningConfiguration: { status: "Enabled" },
    });
    expect(inputs(T.sse, "hub-sse").rules).toEqual([
      { applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } },
    ]);
    expect(inputs(T.pab, "hub-public-access")).toMatchObject({
      bucket: "homelab-backups",
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
  });

  it("attaches a bucket policy that denies every non-TLS request on the bucket and its objects", () => {
    const doc = JSON.parse(inputs(T.policy, "hub-tls-only").policy);
    const deny = doc.Statement.filter((s: any) => s.Effect === "Deny");
    expect(deny).toHaveLength(1);
    expect(deny[0]).toMatchObject({ Principal: "*", Condition: { Bool: { "aws:SecureTransport": "false" } } });
    expect(deny[0].Resource.sort()).toEqual(["arn:aws:s3:::homelab-backups", "arn:aws:s3:::homelab-backups/*"]);
    expect(doc.Statement.some((s: any) => s.Effect === "Allow")).toBe(false);
  });

  it("sets one lifecycle rule per configured prefix, with expiry only where the writer cannot prune", () => {
    const rules = inputs(T.lifecycle, "hub-lifecycle").rules as any[];
    const by = new Map(rules.map((r) => [r.filter.prefix, r]));
    expect([...by.keys()].sort()).toEqual([
      "buckets/",
      "etcd-snapshots/",
      "etcd-snapshots/.partial/",
      "longhorn/",
      "postgres-backups/",
      "postgres-backups/.partial/",
      "velero/",
    ]);
    expect(new Set(rules.map((r) => r.id)).size).toBe(rules.length);
    for (const r of rules) {
      expect(r.status, r.id).toBe("Enabled");
      expect(r.abortIncompleteMultipartUpload, r.id).toEqual({ daysAfterInitiation: 1 });
      expect(r.noncurrentVersionExpiration.noncurrentDays, r.id).toBeGreaterThan(0);
    }
    expect(by.get("postgres-backups/").expiration).toEqual({ days: 120 });
    expect(by.get("etcd-snapshots/").expiration).toEqual({ days: 100 });
    expect(by.get("postgres-backups/.partial/").expiration).toEqual({ days: 1 });
    expect(by.get("etcd-snapshots/.partial/").expiration).toEqual({ days: 1 });
    for (const p of ["longhorn/", "velero/", "buckets/"]) {
      expect(by.get(p).expiration.days, p).toBeUndefined();
      expect(by.get(p).transitions, p).toBeUndefined();
    }
    expect(by.get("postgres-backups/").transitions).toEqual([{ days: 2, storageClass: "GLACIER_IR" }]);
    expect(by.get("etcd-snapshots/").transitions).toEqual([{ days: 2, storageClass: "GLACIER_IR" }]);
    expect(by.get("postgres-backups/.partial/").transitions).toBeUndefined();
  });

  it("sets no lifecycle configuration when no class is configured", () => {
    expect(rec.byType(T.lifecycle).map((r) => r.name)).toEqual(["hub-lifecycle"]);
  });

  it("configures the object-lock default retention only when hub.objectLock is set", () => {
    expect(inputs(T.lock, "hub-object-lock")).toMatchObject({
      bucket: "homelab-backups",
      objectLockEnabled: "Enabled",
      rule: { defaultRetention: { mode: "GOVERNANCE", days: 30 } },
    });
    expect(rec.byType(T.lock).map((r) => r.name)).toEqual(["hub-object-lock"]);
  });

  it("parents every resource to its BackupHub", () => {
    for (const type of Object.values(T)) {
      for (const r of rec.byType(type)) {
        expect(r.parentType, `${type} ${r.name}`).toBe("homelab-backup:index:BackupHub");
        expect(r.name.startsWith(`${r.parent}-`), r.name).toBe(true);
      }
    }
  });
});

describe("BackupHub on AWS: writers", () => {
  it("creates one IAM user, one inline policy and one access key per writer", () => {
    for (const type of [T.user, T.userPolicy, T.key]) expect(mine(type, "hub"), type).toHaveLength(WRITERS.length);
    for (const w of WRITERS) {
      const user = inputs(T.user, `hub-${w}`);
      expect(user.name).toBe(writerUserName("homelab-backups", w));
      expect(inputs(T.userPolicy, `hub-${w}-policy`).user).toBe(user.name);
      expect(inputs(T.key, `hub-${w}-key`).user).toBe(user.name);
    }
  });

  it("attaches each writer its own least-privilege document (offsite limited to offsite.prefixes)", () => {
    for (const w of WRITERS) {
      const doc = JSON.parse(inputs(T.userPolicy, `hub-${w}-policy`).policy);
      expect(doc, w).toEqual(
        writerPolicy(w, "homelab-backups", { offsitePrefixes: ["postgres-backups/", "etcd-snapshots/"] }),
      );
    }
    const offsite = JSON.parse(inputs(T.userPolicy, "hub-offsite-policy").policy);
    expect(JSON.stringify(offsite)).not.toContain("longhorn/");
  });

  it("hands out secret access keys as Pulumi secrets, key ids from the AccessKey", async () => {
    for (const w of WRITERS) {
      const c = hub.writers[w];
      expect(await isSecretOutput(c.secretAccessKey), w).toBe(true);
      const secret = await valueOf(c.secretAccessKey);
      expect(rec.secretValues.has(secret as string), w).toBe(true);
      expect(await valueOf(c.accessKeyId), w).toMatch(/^AKIA[A-Z2-7]{16}$/);
    }
    const ids = await Promise.all(WRITERS.map((w) => valueOf(hub.writers[w].accessKeyId)));
    expect(new Set(ids).size).toBe(WRITERS.length);
  });
});

describe("BackupHub on AWS: outputs and plan", () => {
  it("exposes the connection and the bucket's endpoint, name and region", async () => {
    expect(hub.connection).toEqual({
      kind: "aws",
      endpoint: "https://s3.eu-central-1.amazonaws.com",
      bucket: "homelab-backups",
      region: "eu-central-1",
      pathStyle: false,
      server: "aws",
    });
    expect(await valueOf(hub.endpoint)).toBe("https://s3.eu-central-1.amazonaws.com");
    expect(await valueOf(hub.bucket)).toBe("homelab-backups");
    expect(await valueOf(hub.region)).toBe("eu-central-1");
    expect(await valueOf(plain.region)).toBe("us-east-1");
    expect(hub.adminCredentials).toBeUndefined();
  });

  it("gives the exact AccessKey URN in the key-rotation command, as bash expands it", async () => {
    const urn = rec.one(T.key, "hub-postgres-key").urn;
    expect(urn).toBe(accessKeyUrn("postgres", pulumi.getStack(), "hub"));
    expect(await replacedUrns(hubPlan(full, hubRights(full)).restore)).toEqual([urn]);
  });

  it("puts every lifecycle prefix and every writer in use in the plan, and no other", () => {
    const rights = hubRights(full);
    const plan = hubPlan(full, rights);
    expect(plan.title).toBe("Hub");
    for (const l of prefixLifecycles(full)) expect(plan.details).toContain(`\`${l.prefix}\``);
    for (const w of WRITERS)
      expect(plan.details.includes(`/homelab-backup/${writerUserName("homelab-backups", w)}`), w).toBe(
        rights.inUse.includes(w),
      );
    expect(rights.inUse).not.toContain("drills");
    expect(plan.details).toContain("GOVERNANCE");
  });
});

describe("BackupHub on a Pi: PiHub installs the server, S3Hub configures it through its APIs", () => {
  const S3HUB = "homelab-backup:index:S3Hub";
  const BUCKET = "pulumi-nodejs:dynamic/homelab-backup:S3HubBucket";
  const WRITER = "pulumi-nodejs:dynamic/homelab-backup:S3HubWriter";
  const underPiS3 = (type: string) => rec.byType(type).filter((r) => r.parent === "hub-s3");

  it("passes PiHub the hub and the writers in use, and nothing it no longer configures", () => {
    const args = unwrapSecrets(rec.one("homelab-backup:index:PiHub", "hub-pi").inputs);
    expect(args.hub.bucket).toBe("pi-backups");
    expect(args.writers).toEqual([...WRITERS]);
    expect(args.lifecycles).toBeUndefined();
    expect(args.writerPolicies).toBeUndefined();
    expect(rec.one("homelab-backup:index:PiHub", "hub-pi").parentType).toBe("homelab-backup:index:BackupHub");
    expect(rec.byType("command:remote:Command").map((r) => r.name)).not.toContain("hub-pi-configure");
  });

  it("configures the bucket through an S3HubBucket at the Pi's endpoint, with the admin login, after the server is installed", async () => {
    const s3 = rec.byType(S3HUB).filter((r) => r.parentType === "homelab-backup:index:BackupHub");
    expect(s3.map((r) => r.name)).toContain("hub-s3");
    // The AWS hub of this file is named "hub" too, but makes no S3Hub: every S3HubBucket here is the Pi's.
    const piBucket = underPiS3(BUCKET)[0];
    expect(underPiS3(BUCKET)).toHaveLength(1);
    const b = unwrapSecrets(piBucket!.inputs);
    expect(b.flavor).toBe("silo");
    expect(b.endpointKey).toBe("hub.tls");
    expect(b.request.target.endpoint).toBe("http://backup1.lan:9000");
    expect(b.request.admin).toEqual({
      accessKeyId: ADMIN_USER,
      secretAccessKey: await valueOf(pi.adminCredentials.password),
    });
    expect(b.want).toMatchObject({ bucket: "pi-backups", versioning: "Enabled", objectLock: { days: 7 } });
    expect(pulumi.runtime.isRpcSecret(piBucket!.inputs.request)).toBe(true);
    // The admin key is read only once the last installation step is done: the request waits for the server.
    expect(piBucket!.options!.dependencies.some((u) => u.endsWith("::hub-pi-monitoring"))).toBe(true);
  });

  it("adopts the old path's identities: user <writer>-backup with PiHub's secret, policy homelab-backup-<writer>, no key generated", async () => {
    const writers = underPiS3(WRITER);
    expect(writers.map((r) => r.name).sort()).toEqual(WRITERS.map((w) => `hub-s3-${w}`).sort());
    for (const w of WRITERS) {
      const req = unwrapSecrets(writers.find((r) => r.name === `hub-s3-${w}`)!.inputs.request);
      expect(req.userName, w).toBe(writerPolicyName(w));
      // The secret PiHub's RandomPassword `hub-pi-<writer>-secret-key` holds (the mocks' stand-in for it).
      expect(req.key, w).toEqual({
        accessKeyId: writerAccessKey(w),
        secretAccessKey: standIn(
          `hub-pi-${w}-secret-key/result`,
          40,
          "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
        ),
      });
      expect(await valueOf(pi.writers[w].secretAccessKey), w).toBe(req.key.secretAccessKey);
      expect(await valueOf(pi.writers[w].accessKeyId), w).toBe(writerAccessKey(w));
    }
    const generated = [
      ...rec.byType("random:index/randomString:RandomString"),
      ...rec.byType("random:index/randomPassword:RandomPassword"),
    ].filter((r) => r.parentType === S3HUB);
    expect(generated.map((r) => r.name)).toEqual([]);
  });

  it("runs the conformance step after the bucket and every writer", () => {
    const check = rec.byType("command:local:Command").find((r) => r.parent === "hub-s3")!;
    expect(check.name).toBe("hub-s3-conformance");
    for (const n of ["hub-s3-bucket", ...WRITERS.map((w) => `hub-s3-${w}`)])
      expect(
        check.options!.dependencies.some((u) => u.endsWith(`::${n}`)),
        n,
      ).toBe(true);
  });

  it("creates no AWS resource for a pi hub", () => {
    const awsUnderPi = rec.resources.filter(
      (r) =>
        r.type.startsWith("aws:") && (r.name.startsWith("hub-pi") || r.parentType === "homelab-backup:index:PiHub"),
    );
    expect(awsUnderPi).toEqual([]);
  });

  it("exposes the Pi endpoint, secret writer keys and secret admin credentials", async () => {
    expect(await valueOf(pi.endpoint)).toBe("http://backup1.lan:9000");
    expect(await valueOf(pi.bucket)).toBe("pi-backups");
    expect(await valueOf(pi.region)).toBe("fr-home-1");
    for (const w of WRITERS) expect(await isSecretOutput(pi.writers[w].secretAccessKey), w).toBe(true);
    expect(pi.adminCredentials).toBeDefined();
    expect(await isSecretOutput(pi.adminCredentials.password)).toBe(true);
    expect(await valueOf(pi.adminCredentials.user)).toBeTruthy();
  });

  it("names in the plan the S3 users PiHub creates and its admin login", () => {
    const rights = hubRights(piStack);
    const plan = hubPlan(piStack, rights);
    expect(rights.inUse.length).toBeGreaterThan(0);
    for (const w of WRITERS)
      expect(plan.details.includes(`\`${writerAccessKey(w)}\``), w).toBe(rights.inUse.includes(w));
    expect(plan.restore).toContain(`export RCLONE_CONFIG_HUB_ACCESS_KEY_ID=${ADMIN_USER}\n`);
    expect(plan.restore).toContain(
      'export RCLONE_CONFIG_HUB_SECRET_ACCESS_KEY="$(pulumi stack output hubAdminPassword --show-secrets)"',
    );
    // No Midnight Commander: the version restore is rclone's, and the endpoint comes from the stack output.
    expect(plan.restore).not.toMatch(/^mc /m);
    expect(plan.restore).toContain('rclone copy --s3-version-at "$AT" "hub:$BUCKET/$PREFIX"');
  });

  it("refuses a pi hub without an SSH key", () => {
    expect(() => new BackupHubClass("nokey", { hub: piStack.hub!, lifecycles: [] })).toThrow(/sshPrivateKey/);
  });

  it("names, in the key-rotation command, the URNs of the writer's generated secret and of its S3HubWriter", async () => {
    // The resources exist under the PiHub and the S3Hub with these names and types...
    const secret = rec.one("random:index/randomPassword:RandomPassword", "hub-pi-postgres-secret-key");
    const writer = rec.one("pulumi-nodejs:dynamic/homelab-backup:S3HubWriter", "hub-s3-postgres");
    expect([secret.parent, writer.parent]).toEqual(["hub-pi", "hub-s3"]);
    // ...and the engine names a grandchild with its ancestors' whole type chain: derived here with the SDK's
    // createUrn, and so the mocks name them too (tools/mocks.ts installMocks).
    const piUrn = rec.one("homelab-backup:index:PiHub", "hub-pi").urn!;
    const s3Urn = rec.one("homelab-backup:index:S3Hub", "hub-s3").urn!;
    const expected = await Promise.all([
      valueOf(pulumi.createUrn(secret.name, secret.type, piUrn)),
      valueOf(pulumi.createUrn(writer.name, writer.type, s3Urn)),
    ]);
    expect(expected[0]).toContain("homelab-backup:index:BackupHub$homelab-backup:index:PiHub$random:");
    expect(expected[1]).toContain("homelab-backup:index:BackupHub$homelab-backup:index:S3Hub$pulumi-nodejs:dynamic");
    expect([secret.urn, writer.urn]).toEqual(expected);
    expect(piRotationUrns("postgres", pulumi.getStack(), "hub")).toEqual(expected);
    expect(await replacedUrns(hubPlan(piStack, hubRights(piStack)).restore)).toEqual(expected);
  });
});
