/**
 * S3Hub (`hub.kind: s3`) under the mock runtime: what it registers and with which inputs. With
 * `manage: admin` the bucket settings and one identity per writer are resources (inputs = the settings
 * s3Settings.ts derives from the program's lifecycle and policies), the conformance step is a local
 * command, and nothing runs over SSH; with `manage: none` only the conformance step is registered
 * and the writers' keys come from hubWriterKeys. Keys are secrets end to end.
 */
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { WRITERS } from "../../components/core/hubConnection.js";
import { writerPolicy } from "../../components/hub/iam.js";
import { type PrefixLifecycle } from "../../components/hub/retention.js";
import { hubBucketSettings, s3WriterUserName } from "../../components/hub/s3/s3Settings.js";
import {
  installMocks,
  isSecretOutput,
  recordingMocks,
  settle,
  unwrapSecrets,
  valueOf,
  type RecordingMocks,
} from "../../tools/mocks.js";

const lifecycles: PrefixLifecycle[] = [
  { prefix: "postgres-backups/", expireDays: 14, noncurrentDays: 7 },
  { prefix: "postgres-backups/.partial/", expireDays: 1, noncurrentDays: 1 },
  { prefix: "longhorn/", noncurrentDays: 7 },
];
const adminHub = {
  bucket: "rgw-backups",
  region: "us-east-1",
  endpoint: "https://rgw.lan",
  flavor: "ceph-rgw" as const,
  manage: "admin" as const,
  adminAccessKeyId: "ADMINKEY",
  objectLock: { mode: "COMPLIANCE" as const, days: 30 },
};
const noneHub = {
  bucket: "nas-backups",
  region: "us-east-1",
  endpoint: "http://nas.lan:3900",
  flavor: "generic" as const,
};
const writerKeys = {
  longhorn: { accessKeyId: "LH", secretAccessKey: "lh-secret-value" },
  postgres: { accessKeyId: "PG", secretAccessKey: "pg-secret-value" },
};

let rec: RecordingMocks;
let admin: any;
let none: any;

beforeAll(async () => {
  rec = recordingMocks();
  await installMocks(rec);
  const { S3Hub } = await import("../../components/hub/s3/s3Hub.js");
  admin = new S3Hub("hub", {
    hub: adminHub,
    lifecycles,
    writers: WRITERS,
    adminSecretAccessKey: pulumi.secret("admin-secret-value"),
  });
  none = new S3Hub("nas", {
    hub: noneHub,
    lifecycles,
    writers: ["longhorn", "postgres"],
    writerKeys: pulumi.secret(JSON.stringify(writerKeys)),
  });
  await settle();
}, 120_000);

const under = (parent: string) => rec.resources.filter((r) => r.parent === parent);
const BUCKET = "pulumi-nodejs:dynamic/homelab-backup:S3HubBucket";
const WRITER = "pulumi-nodejs:dynamic/homelab-backup:S3HubWriter";
const dynamic = (parent: string) => under(parent).filter((r) => r.type === BUCKET || r.type === WRITER);

describe("S3Hub with manage: admin", () => {
  it("registers no SSH command at all, and no AWS resource", () => {
    const types = rec.resources.map((r) => r.type);
    expect(types.filter((t) => t.startsWith("command:remote:"))).toEqual([]);
    expect(types.filter((t) => t.startsWith("aws:"))).toEqual([]);
    expect(
      under("hub")
        .map((r) => r.type)
        .sort(),
    ).toEqual(
      [
        "command:local:Command",
        BUCKET,
        ...WRITERS.flatMap(() => [
          WRITER,
          "random:index/randomPassword:RandomPassword",
          "random:index/randomString:RandomString",
        ]),
      ].sort(),
    );
  });

  it("declares the bucket settings from the program's own functions, as the resource's inputs", () => {
    const bucket = rec.one(BUCKET, "hub-bucket");
    const inputs = unwrapSecrets(bucket.inputs);
    const want = hubBucketSettings({
      bucket: "rgw-backups",
      endpoint: "https://rgw.lan",
      objectLock: adminHub.objectLock,
      lifecycles,
    });
    expect(inputs.request.settings).toEqual(want);
    expect(inputs.request.settings.lifecycleRules.map((r: any) => r.ID)).toEqual([
      "postgres-backups",
      "postgres-backups-.partial",
      "longhorn",
    ]);
    expect(inputs.request.settings.objectLock).toEqual({ mode: "COMPLIANCE", days: 30 });
    expect(inputs.request.settings.bucketPolicy.Statement[0].Sid).toBe("DenyInsecureTransport");
    expect(inputs.request).toMatchObject({
      target: { endpoint: "https://rgw.lan", region: "us-east-1" },
      flavor: "ceph-rgw",
      admin: { accessKeyId: "ADMINKEY", secretAccessKey: "admin-secret-value" },
    });
    expect(typeof inputs.__provider).toBe("string");
  });

  it("declares one identity per writer with iam.ts's policy", () => {
    expect(
      dynamic("hub")
        .map((r) => r.name)
        .sort(),
    ).toEqual(["hub-bucket", ...WRITERS.map((w) => `hub-${w}`)].sort());
    for (const w of WRITERS) {
      const inputs = unwrapSecrets(rec.one(WRITER, `hub-${w}`).inputs);
      expect(inputs.request.userName).toBe(s3WriterUserName("rgw-backups", w));
      expect(inputs.request.policy).toEqual(writerPolicy(w, "rgw-backups"));
      expect(inputs.want).toEqual({
        userName: s3WriterUserName("rgw-backups", w),
        policy: writerPolicy(w, "rgw-backups"),
      });
    }
  });

  it("keeps the admin key and the writers' keys secret in every input that holds them", () => {
    for (const r of dynamic("hub")) {
      expect(pulumi.runtime.isRpcSecret(r.inputs.request), r.name).toBe(true);
    }
    const check = rec.one("command:local:Command", "hub-conformance");
    expect(pulumi.runtime.isRpcSecret(check.inputs.stdin)).toBe(true);
    expect(JSON.stringify(check.inputs.create)).not.toMatch(/admin-secret-value/);
  });

  it("hands out secret writer keys", async () => {
    for (const w of WRITERS) {
      expect(await isSecretOutput(admin.writers[w].secretAccessKey)).toBe(true);
      expect(await isSecretOutput(admin.writers[w].accessKeyId)).toBe(true);
      expect((await valueOf(admin.writers[w].secretAccessKey)).length).toBeGreaterThan(0);
    }
  });

  it("runs the conformance check after the hub's resources, with what they declare and the generated keys", async () => {
    const check = rec.one("command:local:Command", "hub-conformance");
    expect(check.inputs.create).toBe("node --import tsx components/hub/s3-hub.ts check");
    const input = JSON.parse(unwrapSecrets(check.inputs.stdin));
    expect(input.settings).toEqual(unwrapSecrets(rec.one(BUCKET, "hub-bucket").inputs).request.settings);
    expect(input.admin).toEqual({ accessKeyId: "ADMINKEY", secretAccessKey: "admin-secret-value" });
    expect(Object.keys(input.writerKeys).sort()).toEqual([...WRITERS].sort());
    expect(input.writerKeys.postgres.secretAccessKey).toBe(await valueOf(admin.writers.postgres.secretAccessKey));
    expect(input.veleroChecksums).toBe(false);
    // The pinned Velero plugin sends an empty x-amz-tagging header (core/versions.ts): the check sends it too.
    expect(input.veleroEmptyTagging).toBe(true);
  });
});

describe("S3Hub with manage: none", () => {
  it("configures nothing: only the conformance step, with the writers' own keys and no admin key", () => {
    expect(under("nas").map((r) => r.type)).toEqual(["command:local:Command"]);
    const input = JSON.parse(unwrapSecrets(rec.one("command:local:Command", "nas-conformance").inputs.stdin));
    expect(input.admin).toBeUndefined();
    expect(input.writerKeys).toEqual(writerKeys);
    expect(input.settings.bucketPolicy).toBeUndefined();
  });

  it("hands out hubWriterKeys' keys as secrets", async () => {
    expect(await valueOf(none.writers.postgres.accessKeyId)).toBe("PG");
    expect(await isSecretOutput(none.writers.postgres.secretAccessKey)).toBe(true);
    expect(await valueOf(none.writers.longhorn.secretAccessKey)).toBe("lh-secret-value");
  });
});
