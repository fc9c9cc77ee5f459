import { describe, expect, it } from "vitest";
import YAML from "yaml";
import {
  FLAVOR_CAPABILITIES,
  S3_FLAVORS,
  effectiveManage,
  parseWriterKeys,
  s3HubProblems,
  type S3HubRequest,
} from "../../components/hub/s3/s3Flavors.js";
import {
  hubBucketSettings,
  hubWriterSpecs,
  lifecycleDifferences,
  normalizeLifecycle,
  s3LifecycleRule,
} from "../../components/hub/s3/s3Settings.js";
import { awsLifecycleRule, type PrefixLifecycle } from "../../components/hub/retention.js";
import { writerPolicy } from "../../components/hub/iam.js";

const writers = [
  { name: "longhorn", appendOnly: false, section: "longhorn" },
  { name: "postgres", appendOnly: true, section: "postgres" },
  { name: "etcd", appendOnly: true, section: "etcd" },
] as const;

const base: S3HubRequest = {
  flavor: "ceph-rgw",
  manage: "admin",
  endpoint: "https://s3.lan",
  adminAccessKeyId: "ADMIN",
  writers,
  secrets: { hubAdminPassword: true },
};
const paths = (r: S3HubRequest) => s3HubProblems(r).map((p) => p.path.join("."));

describe("s3 hub refusals", () => {
  it("accepts a ceph-rgw hub managed through its admin API", () => {
    expect(s3HubProblems(base)).toEqual([]);
    expect(s3HubProblems({ ...base, objectLock: { mode: "COMPLIANCE", days: 30 } })).toEqual([]);
  });

  it("refuses object lock on Garage, naming hub.objectLock", () => {
    const problems = s3HubProblems({
      ...base,
      flavor: "garage",
      manage: "none",
      writers: [writers[0]],
      secrets: { hubAdminPassword: false, hubWriterKeys: ["longhorn"] },
      objectLock: { mode: "GOVERNANCE", days: 14 },
    });
    expect(problems.find((p) => p.path.join(".") === "hub.objectLock")?.message).toMatch(
      /cannot be enforced by flavor "garage": it has no object lock/,
    );
  });

  it("refuses append-only writers on Garage (its write permission includes delete), naming hub.flavor and the sections", () => {
    const problems = s3HubProblems({
      ...base,
      flavor: "garage",
      manage: "none",
      adminAccessKeyId: undefined,
      secrets: { hubAdminPassword: false, hubWriterKeys: ["longhorn", "postgres", "etcd"] },
    });
    expect(problems).toContainEqual({
      path: ["hub", "flavor"],
      message: expect.stringMatching(
        /"garage" cannot give a writer put without delete .* postgres and etcd need an append-only writer/,
      ),
    });
    expect(
      s3HubProblems({
        ...base,
        flavor: "garage",
        manage: "none",
        adminAccessKeyId: undefined,
        writers: [writers[0]],
        secrets: { hubAdminPassword: false, hubWriterKeys: ["longhorn"] },
      }),
    ).toEqual([]);
  });

  it("refuses two writing sections on one Garage bucket (rights per key and bucket, not per prefix); readers do not count", () => {
    const longhorn = { name: "longhorn", appendOnly: false, section: "longhorn" };
    const velero = { name: "velero", appendOnly: false, section: "velero" };
    const audit = { name: "audit", appendOnly: false, section: "alerts" };
    const garage = (w: { name: string; appendOnly: boolean; section: string }[]) =>
      s3HubProblems({
        ...base,
        flavor: "garage",
        manage: "none",
        adminAccessKeyId: undefined,
        writers: w,
        secrets: { hubAdminPassword: false, hubWriterKeys: w.map((x) => x.name) },
      });
    expect(garage([longhorn, velero])).toEqual([
      {
        path: ["hub", "flavor"],
        message: expect.stringMatching(
          /^"garage" grants rights per key and bucket, not per prefix, so longhorn, velero writing to one bucket could each overwrite or delete the others' backups/,
        ),
      },
    ]);
    expect(garage([longhorn, audit])).toEqual([]);
    // A server with prefix policies takes both.
    expect(
      s3HubProblems({
        ...base,
        flavor: "ceph-rgw",
        manage: "none",
        adminAccessKeyId: undefined,
        writers: [longhorn, velero],
        secrets: { hubAdminPassword: false, hubWriterKeys: ["longhorn", "velero"] },
      }),
    ).toEqual([]);
  });

  it("refuses manage: none without hubWriterKeys, naming the secret key and every writer", () => {
    const problems = s3HubProblems({
      ...base,
      manage: "none",
      adminAccessKeyId: undefined,
      secrets: { hubAdminPassword: false },
    });
    expect(problems).toEqual([
      {
        path: ["secrets", "hubWriterKeys"],
        message: expect.stringMatching(
          /is required with hub.kind s3 and manage: none: .* for longhorn, postgres, etcd/,
        ),
      },
    ]);
  });

  it("refuses manage: none with a writer missing from hubWriterKeys", () => {
    const problems = s3HubProblems({
      ...base,
      manage: "none",
      adminAccessKeyId: undefined,
      secrets: { hubAdminPassword: false, hubWriterKeys: ["longhorn", "etcd"] },
    });
    expect(problems).toEqual([
      { path: ["secrets", "hubWriterKeys"], message: 'has no key for writer "postgres" (used by postgres)' },
    ]);
  });

  it("manage: admin needs the admin key id and the hubAdminPassword secret", () => {
    expect(paths({ ...base, adminAccessKeyId: undefined, secrets: { hubAdminPassword: false } })).toEqual([
      "hub.adminAccessKeyId",
      "secrets.hubAdminPassword",
    ]);
  });

  it("accepts minio, silo and rustfs with no manage key: the madmin client (RustFS: its own dialect) creates their identities", () => {
    for (const flavor of ["minio", "silo", "rustfs"] as const) {
      expect(s3HubProblems({ ...base, flavor, manage: undefined })).toEqual([]);
      expect(effectiveManage(flavor)).toBe("admin");
    }
  });

  it("refuses manage: admin where the program cannot create identities, rather than leaving writers without keys", () => {
    for (const flavor of ["rustfs", "garage"] as const) expect(effectiveManage(flavor)).toBe("admin");
    expect(s3HubProblems({ ...base, flavor: "generic", writers: [writers[0]] })[0].message).toMatch(/no admin API/);
    expect(effectiveManage("ceph-rgw")).toBe("none");
    expect(effectiveManage("generic")).toBe("none");
  });

  it("Garage with manage: admin (its default) needs its admin API and token, not an S3 admin key", () => {
    const garage = { ...base, flavor: "garage" as const, manage: undefined, writers: [writers[0]] };
    expect(s3HubProblems({ ...garage, secrets: { hubAdminPassword: true } })).toEqual([
      { path: ["hub", "adminEndpoint"], message: expect.stringMatching(/^is required with flavor garage .*:3903/) },
      {
        path: ["secrets", "hubAdminToken"],
        message: expect.stringMatching(/pulumi config set --secret homelab-backup:hubAdminToken$/),
      },
      { path: ["hub", "adminAccessKeyId"], message: expect.stringMatching(/^does not apply to flavor garage/) },
    ]);
    expect(
      s3HubProblems({
        ...garage,
        adminAccessKeyId: undefined,
        adminEndpoint: "http://garage.lan:3903",
        secrets: { hubAdminPassword: false, hubAdminToken: true },
      }),
    ).toEqual([]);
    // Another flavor's admin is its S3 key: hub.adminEndpoint is refused there.
    expect(paths({ ...base, adminEndpoint: "http://rgw.lan:3903" })).toEqual(["hub.adminEndpoint"]);
  });

  it("object lock needs manage: admin (the program sets the default retention)", () => {
    expect(
      paths({
        ...base,
        manage: "none",
        adminAccessKeyId: undefined,
        secrets: { hubAdminPassword: false, hubWriterKeys: ["longhorn", "postgres", "etcd"] },
        objectLock: { mode: "GOVERNANCE", days: 7 },
      }),
    ).toEqual(["hub.objectLock"]);
  });

  it("every flavor has a capability row", () => {
    expect(Object.keys(FLAVOR_CAPABILITIES).sort()).toEqual([...S3_FLAVORS].sort());
  });
});

describe("hubWriterKeys", () => {
  it("parses YAML or JSON maps", () => {
    expect(parseWriterKeys('{"etcd": {"accessKeyId": "A", "secretAccessKey": "S"}}', YAML.parse)).toEqual({
      etcd: { accessKeyId: "A", secretAccessKey: "S" },
    });
    expect(parseWriterKeys("etcd:\n  accessKeyId: A\n  secretAccessKey: S\n", YAML.parse)).toEqual({
      etcd: { accessKeyId: "A", secretAccessKey: "S" },
    });
  });
  it("names the key and never echoes a value", () => {
    expect(() => parseWriterKeys("etcd: {accessKeyId: A, secretAccessKey: ''}", YAML.parse)).toThrow(
      /hubWriterKeys\.etcd: must have accessKeyId and secretAccessKey/,
    );
    expect(() => parseWriterKeys("- s3cr3t", YAML.parse)).toThrow(/hubWriterKeys: must be a map/);
    expect(() => parseWriterKeys("{s3cr3t", YAML.parse)).toThrow(
      /^homelab-backup:hubWriterKeys: is not valid YAML or JSON$/,
    );
  });
});

describe("s3 hub settings come from the AWS hub's functions", () => {
  const lifecycles: PrefixLifecycle[] = [
    { prefix: "postgres-backups/", expireDays: 30, noncurrentDays: 7 },
    { prefix: "longhorn/", noncurrentDays: 7 },
  ];

  it("lifecycle rules are retention.ts awsLifecycleRule, field for field, in S3 terms", () => {
    const rules = lifecycles.map(s3LifecycleRule);
    const aws = lifecycles.map(awsLifecycleRule) as any[];
    rules.forEach((r, i) => {
      expect(r.ID).toBe(aws[i].id);
      expect(r.Filter.Prefix).toBe(aws[i].filter.prefix);
      expect(r.Expiration).toEqual(
        aws[i].expiration.days !== undefined ? { Days: aws[i].expiration.days } : { ExpiredObjectDeleteMarker: true },
      );
      expect(r.NoncurrentVersionExpiration).toEqual({
        NoncurrentDays: aws[i].noncurrentVersionExpiration.noncurrentDays,
      });
      expect(r.AbortIncompleteMultipartUpload).toEqual({
        DaysAfterInitiation: aws[i].abortIncompleteMultipartUpload.daysAfterInitiation,
      });
    });
  });

  it("a TLS-only bucket policy only on an https endpoint", () => {
    expect(
      hubBucketSettings({ bucket: "b", endpoint: "https://s3.lan", lifecycles }).bucketPolicy?.Statement[0].Condition,
    ).toEqual({ Bool: { "aws:SecureTransport": "false" } });
    expect(hubBucketSettings({ bucket: "b", endpoint: "http://s3.lan", lifecycles }).bucketPolicy).toBeUndefined();
  });

  it("writers carry iam.ts's policies and what each may do", () => {
    const specs = hubWriterSpecs("b", ["longhorn", "postgres", "offsite", "drills"], { drillPrefixes: ["etcd/"] });
    expect(specs.map((s) => [s.writer, s.prefix, s.access])).toEqual([
      ["longhorn", "longhorn/", "prune"],
      ["postgres", "postgres-backups/", "append"],
      ["offsite", "", "read"],
      ["drills", "", "read"],
    ]);
    expect(specs[1].policy).toEqual(writerPolicy("postgres", "b"));
    expect(specs[3].policy).toEqual(writerPolicy("drills", "b", { drillPrefixes: ["etcd/"] }));
  });

  it("lifecycleDifferences finds a changed, a missing and an extra rule, and nothing when equal", () => {
    const rules = lifecycles.map(s3LifecycleRule);
    expect(lifecycleDifferences(rules, rules)).toEqual([]);
    expect(lifecycleDifferences(rules, [...rules].reverse())).toEqual([]);
    const changed = [
      { ...rules[0], Expiration: { Days: 31 } },
      { ...rules[1], ID: "other" },
    ];
    expect(lifecycleDifferences(rules, changed)).toEqual([
      expect.stringMatching(/^rule postgres-backups is .*"Days":31.*want .*"Days":30/),
      "rule longhorn (longhorn/) is missing",
      "rule other is not one of the stack's rules",
    ]);
    expect(normalizeLifecycle([...rules].reverse()).map((r) => r.ID)).toEqual(["longhorn", "postgres-backups"]);
  });
});
