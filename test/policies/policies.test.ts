import type * as policy from "@pulumi/policy";
import { describe, expect, it, vi } from "vitest";
import {
  backupCronJobSpec,
  rcloneInitContainer,
  RESTRICTED_CONTAINER,
  SCRIPTS_MOUNT,
  scriptsVolume,
} from "../../components/core/cronJob.js";
import { VERSIONS } from "../../components/core/versions.js";
import { backupsAlertedPolicy } from "../../policies/alerts.js";
import { policies } from "../../policies/all.js";
import { backupCronJobPolicy } from "../../policies/cronJobs.js";
import { evaluatePolicies, type PolicyInput } from "../../policies/evaluate.js";
import { iamLeastPrivilegePolicy, resourceCoversPrefix } from "../../policies/iam.js";
import { pinnedImagesPolicy } from "../../policies/images.js";
import { longhornRetainPolicy } from "../../policies/longhorn.js";
import { s3BucketPolicy } from "../../policies/s3Bucket.js";
import { looksLikeSecretName, noPlaintextSecretsPolicy } from "../../policies/secrets.js";
import { veleroTtlPolicy } from "../../policies/velero.js";

// ---------------------------------------------------------------------------------------------
// Harness: the real policy objects called with fake analyzer args (notes §4)
// ---------------------------------------------------------------------------------------------

class NotApplicable extends Error {}

const fakeArgs = (type: string, props: any, additionalSecretOutputs: string[] = []): policy.ResourceValidationArgs => ({
  type,
  props,
  name: "r",
  urn: `urn:pulumi:t::t::${type}::r`,
  stackTags: new Map(),
  opts: {
    protect: false,
    ignoreChanges: [],
    aliases: [],
    additionalSecretOutputs,
    customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
  },
  isType: (c: any) => c.__pulumiType === type,
  asType: ((c: any) => (c.__pulumiType === type ? props : undefined)) as any,
  getConfig: <T extends object>() => ({}) as T,
  notApplicable: (why?: string): never => {
    throw new NotApplicable(why);
  },
});

/** Runs a resource policy; returns the reported messages, or "n/a" when the policy declared itself not applicable. */
async function check(
  p: policy.ResourceValidationPolicy,
  type: string,
  props: any,
  additionalSecretOutputs: string[] = [],
): Promise<string[] | "n/a"> {
  const report = vi.fn();
  try {
    await (p.validateResource as policy.ResourceValidation)(fakeArgs(type, props, additionalSecretOutputs), report);
  } catch (e) {
    if (e instanceof NotApplicable) return "n/a";
    throw e;
  }
  return report.mock.calls.map((c) => c[0] as string);
}

/** Runs a stack policy over `{type, name, props}` resources; returns [message, resource name] pairs. */
async function checkStack(
  p: policy.StackValidationPolicy,
  resources: { type: string; name: string; props: any }[],
): Promise<[string, string | undefined][] | "n/a"> {
  const report = vi.fn();
  const urn = (r: { type: string; name: string }) => `urn:pulumi:t::t::${r.type}::${r.name}`;
  const args: policy.StackValidationArgs = {
    resources: resources.map((r) => ({
      ...r,
      urn: urn(r),
      opts: fakeArgs(r.type, r.props).opts,
      dependencies: [],
      propertyDependencies: {},
      isType: () => false,
      asType: () => undefined,
    })),
    stackTags: new Map(),
    getConfig: <T extends object>() => ({}) as T,
    notApplicable: (why?: string): never => {
      throw new NotApplicable(why);
    },
  };
  try {
    await p.validateStack(args, report);
  } catch (e) {
    if (e instanceof NotApplicable) return "n/a";
    throw e;
  }
  return report.mock.calls.map((c) => [c[0] as string, resources.find((r) => c[1] && urn(r) === c[1])?.name]);
}

// ---------------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------------

const CRONJOB = "kubernetes:batch/v1:CronJob";

/** A backup CronJob built by the shared secure shape (components/core/cronJob.ts), as the mocks record it. */
function backupCronJob(name = "pg-dump-wiki"): any {
  return {
    apiVersion: "batch/v1",
    kind: "CronJob",
    metadata: { name, namespace: "wiki" },
    spec: backupCronJobSpec({
      schedule: "0 3 * * *",
      initContainers: [rcloneInitContainer()],
      containers: [
        {
          name: "dump",
          image: VERSIONS.postgresImage,
          command: ["/scripts/dump.sh"],
          env: [
            { name: "PGHOST", value: "wiki-postgresql" },
            { name: "PGPASSWORD", valueFrom: { secretKeyRef: { name: "wiki-postgresql", key: "postgres-password" } } },
            { name: "RCLONE_CONFIG_HUB_ACCESS_KEY_ID", value: "AKIAEXAMPLE" },
            { name: "PGPASSFILE", value: "/tmp/.pgpass" },
          ],
          resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { cpu: "1", memory: "512Mi" } },
          volumeMounts: [SCRIPTS_MOUNT, { name: "tmp", mountPath: "/tmp" }],
        },
      ],
      volumes: [scriptsVolume("pg-dump-wiki-scripts")],
    }),
  };
}

/** The etcd offload job: root with only DAC_READ_SEARCH, snapshot dir from the host, read-only. */
function etcdCronJob(): any {
  const cj = backupCronJob("etcd-offload");
  const pod = cj.spec.jobTemplate.spec.template.spec;
  pod.securityContext = {
    runAsNonRoot: false,
    runAsUser: 0,
    runAsGroup: 0,
    seccompProfile: { type: "RuntimeDefault" },
  };
  pod.initContainers[0].securityContext = { ...RESTRICTED_CONTAINER, runAsUser: 65534, runAsGroup: 65534 };
  pod.containers[0] = {
    ...pod.containers[0],
    name: "offload",
    image: VERSIONS.alpineImage,
    env: [],
    securityContext: {
      ...RESTRICTED_CONTAINER,
      runAsNonRoot: false,
      runAsUser: 0,
      capabilities: { drop: ["ALL"], add: ["DAC_READ_SEARCH"] },
    },
    volumeMounts: [...pod.containers[0].volumeMounts, { name: "snapshots", mountPath: "/snapshots", readOnly: true }],
  };
  pod.volumes.push({
    name: "snapshots",
    hostPath: { path: "/var/lib/rancher/k3s/server/db/snapshots", type: "Directory" },
  });
  return cj;
}

const podOf = (cj: any) => cj.spec.jobTemplate.spec.template.spec;

// ---------------------------------------------------------------------------------------------
// 1. Longhorn
// ---------------------------------------------------------------------------------------------

describe("longhorn-retain-exceeds-full-backup-interval", () => {
  const RJ = "kubernetes:longhorn.io/v1beta2:RecurringJob";
  const job = (retain: number | undefined, interval: string | undefined) => ({
    apiVersion: "longhorn.io/v1beta2",
    kind: "RecurringJob",
    metadata: { name: "nightly-backup", namespace: "longhorn-system" },
    spec: {
      name: "nightly-backup",
      task: "backup",
      cron: "0 5 * * *",
      retain,
      concurrency: 1,
      groups: [],
      labels: {},
      parameters: interval === undefined ? {} : { "full-backup-interval": interval },
    },
  });

  it("accepts retain above the interval and jobs without one", async () => {
    expect(await check(longhornRetainPolicy, RJ, job(14, "7"))).toEqual([]);
    expect(await check(longhornRetainPolicy, RJ, job(3, undefined))).toEqual([]);
    expect(await check(longhornRetainPolicy, `${RJ}Patch`, job(8, "7"))).toEqual([]);
  });

  it("refuses retain equal to or below the interval, and a non-integer interval", async () => {
    expect(await check(longhornRetainPolicy, RJ, job(7, "7"))).toEqual([
      expect.stringMatching(/spec\.retain \(7\) must be greater than spec\.parameters\.full-backup-interval \(7\)/),
    ]);
    expect(await check(longhornRetainPolicy, `${RJ}Patch`, job(3, "7"))).toHaveLength(1);
    expect(await check(longhornRetainPolicy, RJ, job(14, "weekly"))).toEqual([
      expect.stringMatching(/full-backup-interval is "weekly"/),
    ]);
  });

  it("does not apply to other types", async () => {
    expect(await check(longhornRetainPolicy, CRONJOB, job(1, "7"))).toBe("n/a");
  });
});

// ---------------------------------------------------------------------------------------------
// 2. Backup CronJobs
// ---------------------------------------------------------------------------------------------

describe("backup-cronjob-hardened", () => {
  it("accepts the shared secure CronJob shape and the etcd root exception", async () => {
    expect(await check(backupCronJobPolicy, CRONJOB, backupCronJob())).toEqual([]);
    expect(await check(backupCronJobPolicy, CRONJOB, etcdCronJob())).toEqual([]);
  });

  it("refuses each missing guard, naming the field", async () => {
    const cases: [string, (cj: any) => void, RegExp][] = [
      ["timeZone", (cj) => delete cj.spec.timeZone, /spec\.timeZone is not set/],
      ["local timeZone", (cj) => (cj.spec.timeZone = "Europe/Paris"), /spec\.timeZone is "Europe\/Paris"/],
      ["concurrency", (cj) => (cj.spec.concurrencyPolicy = "Allow"), /spec\.concurrencyPolicy is "Allow"/],
      ["starting deadline", (cj) => delete cj.spec.startingDeadlineSeconds, /spec\.startingDeadlineSeconds is not set/],
      [
        "active deadline",
        (cj) => delete cj.spec.jobTemplate.spec.activeDeadlineSeconds,
        /activeDeadlineSeconds is not set/,
      ],
      [
        "cpu limit",
        (cj) => delete podOf(cj).containers[0].resources.limits.cpu,
        /containers\[0\] \(dump\): resources\.limits\.cpu is not set/,
      ],
      [
        "memory limit on init",
        (cj) => delete podOf(cj).initContainers[0].resources.limits.memory,
        /initContainers\[0\] \(rclone\): resources\.limits\.memory is not set/,
      ],
      [
        "privilege escalation",
        (cj) => (podOf(cj).containers[0].securityContext.allowPrivilegeEscalation = true),
        /allowPrivilegeEscalation must be false/,
      ],
      [
        "writable root",
        (cj) => delete podOf(cj).containers[0].securityContext.readOnlyRootFilesystem,
        /readOnlyRootFilesystem must be true/,
      ],
      [
        "capability added",
        (cj) => (podOf(cj).containers[0].securityContext.capabilities = { drop: ["ALL"], add: ["NET_ADMIN"] }),
        /capabilities\.add \(NET_ADMIN\) must be empty/,
      ],
      [
        "capabilities kept",
        (cj) => (podOf(cj).containers[0].securityContext.capabilities = {}),
        /capabilities\.drop must include ALL/,
      ],
      [
        "root",
        (cj) => {
          podOf(cj).securityContext.runAsNonRoot = false;
          podOf(cj).containers[0].securityContext.runAsNonRoot = false;
        },
        /containers\[0\] \(dump\): securityContext\.runAsNonRoot is not true/,
      ],
      [
        "non-root with uid 0",
        (cj) => (podOf(cj).containers[0].securityContext.runAsUser = 0),
        /runAsNonRoot is true but runAsUser is 0/,
      ],
      [
        "writable hostPath",
        (cj) => {
          podOf(cj).volumes.push({ name: "host", hostPath: { path: "/var/lib" } });
          podOf(cj).containers[0].volumeMounts.push({ name: "host", mountPath: "/host" });
        },
        /volumeMounts "host" mounts hostPath \/var\/lib without readOnly: true/,
      ],
    ];
    for (const [what, mutate, expected] of cases) {
      const cj = backupCronJob();
      mutate(cj);
      const messages = await check(backupCronJobPolicy, CRONJOB, cj);
      expect(messages, what).toEqual([expect.stringMatching(expected)]);
      expect((messages as string[])[0], what).toMatch(/^CronJob wiki\/pg-dump-wiki: /);
    }
  });

  it("grants the root exception to the etcd job only, and only with DAC_READ_SEARCH", async () => {
    const renamed = etcdCronJob();
    renamed.metadata.name = "pg-dump-wiki";
    expect(await check(backupCronJobPolicy, CRONJOB, renamed)).toEqual([
      expect.stringMatching(/containers\[0\] \(offload\): runs as root \(runAsUser 0\)/),
    ]);

    const moreCaps = etcdCronJob();
    podOf(moreCaps).containers[0].securityContext.capabilities.add = ["DAC_READ_SEARCH", "SYS_ADMIN"];
    expect(await check(backupCronJobPolicy, CRONJOB, moreCaps)).toEqual([
      expect.stringMatching(/may hold only DAC_READ_SEARCH, not SYS_ADMIN/),
    ]);

    const writable = etcdCronJob();
    podOf(writable).containers[0].volumeMounts.find((m: any) => m.name === "snapshots").readOnly = false;
    expect(await check(backupCronJobPolicy, CRONJOB, writable)).toEqual([
      expect.stringMatching(/"snapshots" mounts hostPath .* without readOnly/),
    ]);
  });

  it("does not apply to other workloads", async () => {
    expect(await check(backupCronJobPolicy, "kubernetes:batch/v1:Job", { spec: {} })).toBe("n/a");
  });
});

// ---------------------------------------------------------------------------------------------
// 3. Pinned images
// ---------------------------------------------------------------------------------------------

describe("images-pinned", () => {
  const deployment = (image: string | undefined) => ({
    kind: "Deployment",
    metadata: { name: "s3-ftp-bridge", namespace: "longhorn-system" },
    spec: { template: { spec: { containers: [{ name: "bridge", image }] } } },
  });
  const release = (values: any, version: string | null = VERSIONS.veleroChart) => ({
    name: "velero",
    chart: "velero",
    version,
    values,
  });

  it("accepts pinned tags and digests in workloads and Helm values", async () => {
    expect(await check(pinnedImagesPolicy, CRONJOB, backupCronJob())).toEqual([]);
    expect(await check(pinnedImagesPolicy, "kubernetes:apps/v1:Deployment", deployment(VERSIONS.s3ToFtpImage))).toEqual(
      [],
    );
    expect(
      await check(pinnedImagesPolicy, "kubernetes:apps/v1:Deployment", deployment(`alpine@sha256:${"a".repeat(64)}`)),
    ).toEqual([]);
    const values = {
      image: { repository: "velero/velero", tag: "v1.18.1" },
      kubectl: { image: { repository: "docker.io/bitnami/kubectl", tag: "" } },
      initContainers: [{ name: "velero-plugin-for-aws", image: VERSIONS.veleroAwsPluginImage }],
    };
    expect(await check(pinnedImagesPolicy, "kubernetes:helm.sh/v3:Release", release(values))).toEqual([]);
  });

  it("refuses latest, untagged and missing images, and an unpinned chart", async () => {
    expect(
      await check(pinnedImagesPolicy, "kubernetes:apps/v1:Deployment", deployment("ghcr.io/lerenn/s3-to-ftp:latest")),
    ).toEqual([expect.stringMatching(/containers\[0\] \(bridge\) image .*"latest"/)]);
    expect(await check(pinnedImagesPolicy, "kubernetes:apps/v1:DaemonSet", deployment("localhost:5000/tool"))).toEqual([
      expect.stringMatching(/has no tag/),
    ]);
    expect(await check(pinnedImagesPolicy, "kubernetes:apps/v1:StatefulSet", deployment(undefined))).toEqual([
      expect.stringMatching(/must be an image reference/),
    ]);
    const cj = backupCronJob();
    podOf(cj).initContainers[0].image = "rclone/rclone";
    expect(await check(pinnedImagesPolicy, CRONJOB, cj)).toEqual([
      expect.stringMatching(/initContainers\[0\] \(rclone\) image "rclone\/rclone" has no tag/),
    ]);
    const values = {
      image: { repository: "velero/velero", tag: "latest" },
      initContainers: [{ image: "velero/velero-plugin-for-aws" }],
    };
    expect(await check(pinnedImagesPolicy, "kubernetes:helm.sh/v3:Release", release(values, null))).toEqual([
      expect.stringMatching(/version \(chart version\) is not pinned/),
      expect.stringMatching(/values\.image\.tag is "latest"/),
      expect.stringMatching(/values\.initContainers\[0\]\.image: .* has no tag/),
    ]);
  });

  it("lets a patch leave images alone, and does not apply to objects without containers", async () => {
    expect(
      await check(pinnedImagesPolicy, "kubernetes:apps/v1:DeploymentPatch", {
        spec: { template: { spec: { containers: [{ name: "bridge" }] } } },
      }),
    ).toEqual([]);
    expect(await check(pinnedImagesPolicy, "kubernetes:core/v1:ConfigMap", { data: {} })).toBe("n/a");
  });
});

// ---------------------------------------------------------------------------------------------
// 4. S3 buckets
// ---------------------------------------------------------------------------------------------

describe("s3-bucket-protected", () => {
  const B = "homelab-backups";
  const tlsPolicy = JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "TlsOnly",
        Effect: "Deny",
        Principal: "*",
        Action: "s3:*",
        Resource: [`arn:aws:s3:::${B}`, `arn:aws:s3:::${B}/*`],
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      },
    ],
  });
  const bucketSet = (lockDays?: number) => [
    {
      type: "aws:s3/bucket:Bucket",
      name: "hub-bucket",
      props: { bucket: B, objectLockEnabled: lockDays !== undefined },
    },
    {
      type: "aws:s3/bucketVersioning:BucketVersioning",
      name: "hub-versioning",
      props: { bucket: B, versioningConfiguration: { status: "Enabled" } },
    },
    {
      type: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
      name: "hub-sse",
      props: {
        bucket: B,
        rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" }, bucketKeyEnabled: true }],
      },
    },
    {
      type: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
      name: "hub-pab",
      props: {
        bucket: B,
        blockPublicAcls: true,
        blockPublicPolicy: true,
        ignorePublicAcls: true,
        restrictPublicBuckets: true,
      },
    },
    { type: "aws:s3/bucketPolicy:BucketPolicy", name: "hub-policy", props: { bucket: B, policy: tlsPolicy } },
    {
      type: "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
      name: "hub-lifecycle",
      props: {
        bucket: B,
        rules: [
          { id: "postgres", status: "Enabled", filter: { prefix: "postgres-backups/" }, expiration: { days: 15 } },
          { id: "etcd", status: "Enabled", filter: { prefix: "etcd-snapshots/" }, expiration: { days: 8 } },
          { id: "old", status: "Disabled", filter: { prefix: "buckets/" }, expiration: { days: 900 } },
        ],
      },
    },
    ...(lockDays === undefined
      ? []
      : [
          {
            type: "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
            name: "hub-lock",
            props: { bucket: B, rule: { defaultRetention: { mode: "GOVERNANCE", days: lockDays } } },
          },
        ]),
  ];

  it("accepts a fully protected bucket, with and without Object Lock", async () => {
    expect(await checkStack(s3BucketPolicy, bucketSet())).toEqual([]);
    expect(await checkStack(s3BucketPolicy, bucketSet(8))).toEqual([]);
  });

  it("refuses each missing protection, on the bucket's resource", async () => {
    const without = (name: string) => bucketSet().filter((r) => r.name !== name);
    expect(await checkStack(s3BucketPolicy, without("hub-versioning"))).toEqual([
      [expect.stringMatching(/bucket homelab-backups: versioning is not Enabled/), "hub-bucket"],
    ]);
    expect(await checkStack(s3BucketPolicy, without("hub-sse"))).toEqual([
      [expect.stringMatching(/default encryption is not configured/), "hub-bucket"],
    ]);
    expect(await checkStack(s3BucketPolicy, without("hub-pab"))).toEqual([
      [expect.stringMatching(/public access is not blocked/), "hub-bucket"],
    ]);
    expect(await checkStack(s3BucketPolicy, without("hub-policy"))).toEqual([
      [expect.stringMatching(/no TLS-only bucket policy/), "hub-bucket"],
    ]);

    const partial = bucketSet();
    partial.find((r) => r.name === "hub-pab")!.props.restrictPublicBuckets = false;
    expect(await checkStack(s3BucketPolicy, partial)).toEqual([
      [expect.stringMatching(/leaves restrictPublicBuckets not true/), "hub-bucket"],
    ]);

    const suspended = bucketSet();
    (suspended.find((r) => r.name === "hub-versioning")!.props as any).versioningConfiguration.status = "Suspended";
    expect(await checkStack(s3BucketPolicy, suspended)).toHaveLength(1);

    const allowOnly = bucketSet();
    allowOnly.find((r) => r.name === "hub-policy")!.props.policy = tlsPolicy.replace('"Deny"', '"Allow"');
    expect(await checkStack(s3BucketPolicy, allowOnly)).toEqual([[expect.stringMatching(/TLS-only/), "hub-bucket"]]);
  });

  it("refuses an Object Lock that outlives the shortest retention on the bucket, or locks nothing, naming hub.objectLock.days", async () => {
    // etcd-snapshots/ expires after 8 days: a 9-day lock would keep every expired snapshot a day longer.
    expect(await checkStack(s3BucketPolicy, bucketSet(9))).toEqual([
      [
        expect.stringMatching(
          /default retention is 9 days, longer than the shortest retention on the bucket \(8 days, lifecycle expiry of "etcd-snapshots\/"\).*\(stack key: hub\.objectLock\.days\)$/,
        ),
        "hub-bucket",
      ],
    ]);
    expect(await checkStack(s3BucketPolicy, bucketSet(0))).toEqual([
      [
        expect.stringMatching(/is 0 days; a lock protects nothing.*\(stack key: hub\.objectLock\.days\)$/),
        "hub-bucket",
      ],
    ]);
    // velero/ has no lifecycle expiry: each Velero ttl is a retention on the bucket.
    const schedule = (ttl: string) => ({
      type: "kubernetes:velero.io/v1:Schedule",
      name: "velero-schedule-daily",
      props: { spec: { schedule: "0 4 * * *", template: { ttl } } },
    });
    expect(await checkStack(s3BucketPolicy, [...bucketSet(8), schedule("2160h")])).toEqual([]);
    expect(await checkStack(s3BucketPolicy, [...bucketSet(8), schedule("120h")])).toEqual([
      [
        expect.stringMatching(/longer than the shortest retention on the bucket \(5 days, Velero ttl 120h\)/),
        "hub-bucket",
      ],
    ]);
  });

  it("joins by bucket name: another bucket's protections do not count", async () => {
    const other = bucketSet().map((r) =>
      r.type === "aws:s3/bucket:Bucket" ? r : { ...r, props: { ...r.props, bucket: "other-bucket" } },
    );
    expect(await checkStack(s3BucketPolicy, other)).toHaveLength(4);
  });

  it("does not apply to a stack without S3 buckets", async () => {
    expect(await checkStack(s3BucketPolicy, [{ type: CRONJOB, name: "x", props: backupCronJob() }])).toBe("n/a");
  });
});

// ---------------------------------------------------------------------------------------------
// 5. IAM
// ---------------------------------------------------------------------------------------------

describe("iam-least-privilege", () => {
  const UP = "aws:iam/userPolicy:UserPolicy";
  const doc = (...Statement: any[]) => JSON.stringify({ Version: "2012-10-17", Statement });
  const list = {
    Sid: "List",
    Effect: "Allow",
    Action: "s3:ListBucket",
    Resource: "arn:aws:s3:::homelab-backups",
    Condition: { StringLike: { "s3:prefix": ["postgres-backups/*"] } },
  };
  const put = {
    Sid: "Write",
    Effect: "Allow",
    Action: ["s3:PutObject", "s3:AbortMultipartUpload", "s3:GetObject"],
    Resource: "arn:aws:s3:::homelab-backups/postgres-backups/*",
  };

  it("accepts a prefix-scoped append-only writer and a deleting writer of another class", async () => {
    expect(await check(iamLeastPrivilegePolicy, UP, { user: "postgres-writer", policy: doc(list, put) })).toEqual([]);
    const velero = {
      Effect: "Allow",
      Action: ["s3:PutObject", "s3:GetObject", "s3:DeleteObject"],
      Resource: "arn:aws:s3:::homelab-backups/velero/*",
    };
    expect(await check(iamLeastPrivilegePolicy, "aws:iam/policy:Policy", { policy: doc(velero) })).toEqual([]);
    // A Deny may be as broad as it likes.
    expect(
      await check(iamLeastPrivilegePolicy, "aws:iam/rolePolicy:RolePolicy", {
        policy: doc(put, { Effect: "Deny", Action: "*", Resource: "*" }),
      }),
    ).toEqual([]);
  });

  it("refuses wildcard actions and resources", async () => {
    expect(await check(iamLeastPrivilegePolicy, UP, { policy: doc({ ...put, Action: "s3:*" }) })).toEqual([
      expect.stringMatching(/Statement\[0\] \(Write\): Action "s3:\*" allows every action/),
      // s3:* includes deletion, and this statement writes an append-only prefix.
      expect.stringMatching(/allows s3:DeleteObject, s3:DeleteObjectVersion on .*postgres-backups/),
    ]);
    expect(await check(iamLeastPrivilegePolicy, UP, { policy: doc({ ...put, Action: "*" }) })).toContainEqual(
      expect.stringMatching(/Action "\*"/),
    );
    expect(await check(iamLeastPrivilegePolicy, UP, { policy: doc({ ...put, Resource: "*" }) })).toEqual([
      expect.stringMatching(/Resource "\*"/),
    ]);
    expect(
      await check(iamLeastPrivilegePolicy, UP, {
        policy: doc({ Effect: "Allow", NotAction: "iam:*", Resource: "arn:aws:s3:::b/x" }),
      }),
    ).toEqual([expect.stringMatching(/NotAction/)]);
    expect(await check(iamLeastPrivilegePolicy, UP, { policy: "not json" })).toEqual([
      expect.stringMatching(/not a JSON policy document/),
    ]);
  });

  it("refuses deletion under the append-only prefixes, however it is spelled", async () => {
    expect(
      await check(iamLeastPrivilegePolicy, UP, { policy: doc({ ...put, Action: [...put.Action, "s3:DeleteObject"] }) }),
    ).toEqual([
      expect.stringMatching(
        /allows s3:DeleteObject on .*postgres-backups\/\*, which covers the append-only prefix postgres-backups\//,
      ),
    ]);
    const etcd = { Effect: "Allow", Action: "s3:Delete*", Resource: "arn:aws:s3:::homelab-backups/etcd-snapshots/*" };
    expect(await check(iamLeastPrivilegePolicy, UP, { policy: doc(etcd) })).toEqual([
      expect.stringMatching(/allows s3:DeleteObject, s3:DeleteObjectVersion .*etcd-snapshots\//),
    ]);
    const wholeBucket = {
      Effect: "Allow",
      Action: "s3:DeleteObjectVersion",
      Resource: "arn:aws:s3:::homelab-backups/*",
    };
    expect(await check(iamLeastPrivilegePolicy, UP, { policy: doc(wholeBucket) })).toHaveLength(2);
  });

  it("matches resource patterns against the append-only prefixes", () => {
    expect(resourceCoversPrefix("arn:aws:s3:::b/postgres-backups/wiki/*", "postgres-backups/")).toBe(false);
    expect(resourceCoversPrefix("arn:aws:s3:::b/postgres-backups/*", "postgres-backups/")).toBe(true);
    expect(resourceCoversPrefix("arn:aws:s3:::b/post*", "postgres-backups/")).toBe(true);
    expect(resourceCoversPrefix("arn:aws:s3:::homelab*", "etcd-snapshots/")).toBe(true);
    expect(resourceCoversPrefix("arn:aws:s3:::b", "etcd-snapshots/")).toBe(false);
    expect(resourceCoversPrefix("arn:aws:s3:::b/velero/*", "etcd-snapshots/")).toBe(false);
  });

  it("checks MinIO policy documents shipped to the hub, and nothing else", async () => {
    const file = {
      remotePath: "/etc/minio/policies/etcd.json",
      source: { text: doc({ Effect: "Allow", Action: "s3:*", Resource: "arn:aws:s3:::b/etcd-snapshots/*" }) },
    };
    expect(await check(iamLeastPrivilegePolicy, "command:remote:CopyToRemote", file)).toEqual([
      expect.stringMatching(/source policy document .*Action "s3:\*"/),
      expect.stringMatching(/allows s3:DeleteObject, s3:DeleteObjectVersion .*etcd-snapshots\//),
    ]);
    expect(
      await check(iamLeastPrivilegePolicy, "command:remote:CopyToRemote", {
        remotePath: "/x.sh",
        source: { text: "#!/bin/bash\n" },
      }),
    ).toBe("n/a");
    expect(await check(iamLeastPrivilegePolicy, "aws:iam/user:User", { name: "x" })).toBe("n/a");
    // The Pi hub's setup script reads `writer <name> <key id> <secret> <policy>` lines, base64 fields.
    const b64 = (t: string) => Buffer.from(t).toString("base64");
    const good = doc({ Effect: "Allow", Action: ["s3:PutObject"], Resource: "arn:aws:s3:::b/etcd-snapshots/*" });
    const bad = doc({
      Effect: "Allow",
      Action: ["s3:PutObject", "s3:DeleteObject"],
      Resource: "arn:aws:s3:::b/etcd-snapshots/*",
    });
    const stdin = (policy: string) =>
      `admin ${b64("pw")}\nwriter ${b64("etcd")} ${b64("etcd-key")} ${b64("s".repeat(40))} ${b64(policy)}\n`;
    expect(
      await check(iamLeastPrivilegePolicy, "command:remote:Command", {
        create: "bash configure.sh",
        stdin: stdin(good),
      }),
    ).toEqual([]);
    expect(
      await check(iamLeastPrivilegePolicy, "command:remote:Command", {
        create: "bash configure.sh",
        stdin: stdin(bad),
      }),
    ).toEqual([expect.stringMatching(/stdin policy document .*s3:DeleteObject .*etcd-snapshots\//)]);
    expect(await check(iamLeastPrivilegePolicy, "command:remote:Command", { create: "true" })).toBe("n/a");
  });
});

// ---------------------------------------------------------------------------------------------
// 6. Velero
// ---------------------------------------------------------------------------------------------

describe("velero-ttl-covers-interval", () => {
  const S = "kubernetes:velero.io/v1:Schedule";
  const schedule = (cron: string, ttl?: string) => ({
    kind: "Schedule",
    metadata: { name: "weekly", namespace: "velero" },
    spec: { schedule: cron, template: { ttl, includedNamespaces: ["*"] } },
  });

  it("accepts a ttl longer than the longest gap", async () => {
    expect(await check(veleroTtlPolicy, S, schedule("0 2 * * *", "720h"))).toEqual([]);
    expect(await check(veleroTtlPolicy, S, schedule("0 4 1 * *", "8760h0m0s"))).toEqual([]);
    expect(await check(veleroTtlPolicy, S, schedule("@every 6h", "7h"))).toEqual([]);
  });

  it("refuses a missing, malformed or too short ttl", async () => {
    expect(await check(veleroTtlPolicy, S, schedule("0 2 * * *"))).toEqual([
      expect.stringMatching(/Schedule velero\/weekly: spec\.template\.ttl is not set/),
    ]);
    expect(await check(veleroTtlPolicy, S, schedule("0 2 * * *", "30d"))).toEqual([
      expect.stringMatching(/"30d" is not a Go duration/),
    ]);
    expect(await check(veleroTtlPolicy, S, schedule("0 3 * * 0", "72h"))).toEqual([
      expect.stringMatching(/ttl 72h \(3d\) is not longer than the longest gap between runs of "0 3 \* \* 0" \(7d\)/),
    ]);
    // Monthly runs are up to 31 days apart: 720h (30 days) leaves a day without any backup.
    expect(await check(veleroTtlPolicy, S, schedule("0 4 1 * *", "720h"))).toHaveLength(1);
    expect(await check(veleroTtlPolicy, S, schedule("0 2 * * *", "24h"))).toHaveLength(1);
  });

  it("checks schedules declared in the Velero chart values", async () => {
    const release = {
      name: "velero",
      chart: "velero",
      values: {
        schedules: {
          daily: { schedule: "0 2 * * *", template: { ttl: "720h" } },
          weekly: { schedule: "0 3 * * 0", template: {} },
        },
      },
    };
    expect(await check(veleroTtlPolicy, "kubernetes:helm.sh/v3:Release", release)).toEqual([
      expect.stringMatching(/values\.schedules\.weekly\.template\.ttl is not set/),
    ]);
    expect(await check(veleroTtlPolicy, "kubernetes:helm.sh/v3:Release", { name: "x", values: {} })).toBe("n/a");
    expect(await check(veleroTtlPolicy, CRONJOB, backupCronJob())).toBe("n/a");
  });
});

// ---------------------------------------------------------------------------------------------
// 7. Alerts (advisory)
// ---------------------------------------------------------------------------------------------

describe("backups-alerted", () => {
  const cron = (name: string) => ({ type: CRONJOB, name: `${name}-cronjob`, props: backupCronJob(name) });
  const schedule = {
    type: "kubernetes:velero.io/v1:Schedule",
    name: "velero-daily",
    props: { metadata: { name: "daily" }, spec: { schedule: "0 2 * * *", template: { ttl: "720h" } } },
  };
  const lhBackup = {
    type: "kubernetes:longhorn.io/v1beta2:RecurringJob",
    name: "lh-nightly",
    props: { metadata: { name: "nightly-backup" }, spec: { task: "backup" } },
  };
  const lhTrim = {
    type: "kubernetes:longhorn.io/v1beta2:RecurringJob",
    name: "lh-trim",
    props: { metadata: { name: "weekly-trim" }, spec: { task: "filesystem-trim" } },
  };
  const offsiteTimer = {
    type: "command:remote:CopyToRemote",
    name: "offsite-timer",
    props: { remotePath: "/etc/systemd/system/homelab-backup-offsite.timer", source: { text: "[Timer]\n" } },
  };
  const rules = (...rs: any[]) => ({
    type: "kubernetes:monitoring.coreos.com/v1:PrometheusRule",
    name: "alerts-rules",
    props: { spec: { groups: [{ name: "backups", rules: rs }] } },
  });

  it("is advisory", () => {
    expect(backupsAlertedPolicy.enforcementLevel).toBe("advisory");
  });

  it("accepts a stack whose every class is watched (names, regex matchers, class metrics, recording rules)", async () => {
    const watched = rules(
      {
        record: "homelab:pg_dump_age_seconds",
        expr: 'time() - kube_cronjob_status_last_successful_time{cronjob=~"pg-dump-.+"}',
      },
      { alert: "PostgresDumpStale", expr: "homelab:pg_dump_age_seconds > 93600" },
      {
        alert: "EtcdOffloadStale",
        expr: 'time() - kube_cronjob_status_last_successful_time{cronjob="etcd-offload"} > 93600',
      },
      { alert: "VeleroBackupStale", expr: 'time() - velero_backup_last_successful_timestamp{schedule!=""} > 93600' },
      { alert: "LonghornBackupStale", expr: "time() - longhorn_volume_last_backup_at > 93600" },
      { alert: "OffsiteStale", expr: "time() - homelab_backup_offsite_last_success_timestamp_seconds > 93600" },
    );
    expect(
      await checkStack(backupsAlertedPolicy, [
        cron("pg-dump-wiki"),
        cron("pg-dump-immich"),
        cron("etcd-offload"),
        schedule,
        lhBackup,
        lhTrim,
        offsiteTimer,
        watched,
      ]),
    ).toEqual([]);
  });

  it("names each unwatched backup", async () => {
    const partial = rules(
      { alert: "EtcdOffloadStale", expr: 'kube_cronjob_status_last_successful_time{cronjob="etcd-offload"}' },
      // A recording rule alone alerts nobody.
      { record: "homelab:velero_age", expr: "time() - velero_backup_last_successful_timestamp" },
    );
    const verdicts = await checkStack(backupsAlertedPolicy, [
      cron("pg-dump-wiki"),
      cron("etcd-offload"),
      schedule,
      lhBackup,
      lhTrim,
      offsiteTimer,
      partial,
    ]);
    expect(verdicts).toEqual([
      [expect.stringMatching(/no alert watches CronJob pg-dump-wiki \(postgres\)/), "pg-dump-wiki-cronjob"],
      [expect.stringMatching(/Velero Schedule daily/), "velero-daily"],
      [expect.stringMatching(/Longhorn RecurringJob nightly-backup/), "lh-nightly"],
      [expect.stringMatching(/off-site copy on the hub/), "offsite-timer"],
    ]);
  });

  it("checks schedules declared in the Velero chart values", async () => {
    const release = {
      type: "kubernetes:helm.sh/v3:Release",
      name: "velero-release",
      props: { name: "velero", values: { schedules: { daily: { schedule: "0 2 * * *", template: { ttl: "720h" } } } } },
    };
    expect(await checkStack(backupsAlertedPolicy, [release])).toEqual([
      [expect.stringMatching(/Velero schedule daily of Helm release velero/), "velero-release"],
    ]);
    expect(
      await checkStack(backupsAlertedPolicy, [
        release,
        rules({ alert: "VeleroStale", expr: 'velero_backup_last_successful_timestamp{schedule=~"velero-daily"}' }),
      ]),
    ).toEqual([]);
  });

  it("does not count an alert on another Velero schedule", async () => {
    const other = rules({
      alert: "VeleroWeeklyStale",
      expr: 'velero_backup_last_successful_timestamp{schedule="weekly"}',
    });
    expect(await checkStack(backupsAlertedPolicy, [schedule, other])).toHaveLength(1);
  });
});

// ---------------------------------------------------------------------------------------------
// 8. Plaintext secrets
// ---------------------------------------------------------------------------------------------

describe("no-plaintext-secrets", () => {
  it("tells secret names from identifiers and references", () => {
    for (const n of [
      "PGPASSWORD",
      "RCLONE_CONFIG_HUB_SECRET_ACCESS_KEY",
      "RCLONE_CONFIG_OFFSITE_PASS",
      "AWS_SESSION_TOKEN",
      "API_KEY",
      "ENCRYPTION_KEY",
      "MINIO_ROOT_PASSWORD",
      "apiKey",
      "GITHUB_CREDENTIALS",
      "secret_access_key",
    ]) {
      expect(looksLikeSecretName(n), n).toBe(true);
    }
    for (const n of [
      "AWS_ACCESS_KEY_ID",
      "RCLONE_CONFIG_HUB_ACCESS_KEY_ID",
      "PGPASSFILE",
      "AWS_SHARED_CREDENTIALS_FILE",
      "SSH_KEY_PATH",
      "PASSWORD_SECRET_NAME",
      "existingSecret",
      "OBJECT_KEY",
      "KEY_PREFIX",
      "PGHOST",
      "ENCRYPTION",
    ]) {
      expect(looksLikeSecretName(n), n).toBe(false);
    }
  });

  it("accepts env from secretKeyRef and refuses a literal secret value, secret-marked or not", async () => {
    expect(await check(noPlaintextSecretsPolicy, CRONJOB, backupCronJob())).toEqual([]);
    const cj = backupCronJob();
    podOf(cj).containers[0].env.push({ name: "RCLONE_CONFIG_HUB_SECRET_ACCESS_KEY", value: "wJalrXUtnFEMI" });
    const expected = [
      expect.stringMatching(
        /containers\[0\] \(dump\): env RCLONE_CONFIG_HUB_SECRET_ACCESS_KEY has a literal value; .*secretKeyRef/,
      ),
    ];
    expect(await check(noPlaintextSecretsPolicy, CRONJOB, cj)).toEqual(expected);
    // A Pulumi secret in a pod spec still lands in plain text in the cluster.
    expect(await check(noPlaintextSecretsPolicy, CRONJOB, cj, ["spec"])).toEqual(expected);
    const dep = {
      spec: {
        template: {
          spec: { containers: [{ name: "bridge", image: "x:1", env: [{ name: "FTP_PASSWORD", value: "hunter2" }] }] },
        },
      },
    };
    expect(await check(noPlaintextSecretsPolicy, "kubernetes:apps/v1:Deployment", dep)).toHaveLength(1);
  });

  it("requires a Secret's data to be a Pulumi secret", async () => {
    const secret = {
      kind: "Secret",
      metadata: { name: "hub-credentials", namespace: "wiki" },
      stringData: { AWS_SECRET_ACCESS_KEY: "abc" },
    };
    expect(await check(noPlaintextSecretsPolicy, "kubernetes:core/v1:Secret", secret, ["stringData"])).toEqual([]);
    expect(await check(noPlaintextSecretsPolicy, "kubernetes:core/v1:Secret", secret)).toEqual([
      expect.stringMatching(/Secret wiki\/hub-credentials: stringData is not a Pulumi secret/),
    ]);
    expect(
      await check(
        noPlaintextSecretsPolicy,
        "kubernetes:core/v1:Secret",
        { metadata: { name: "s" }, data: { k: "YWJj" } },
        ["stringData"],
      ),
    ).toEqual([expect.stringMatching(/data is not a Pulumi secret/)]);
  });

  it("refuses a Pulumi secret or a literal secret in a ConfigMap, not a script that reads one", async () => {
    const script = {
      metadata: { name: "pg-dump-wiki-scripts", namespace: "wiki" },
      data: { "dump.sh": 'set -euo pipefail\nexport PGPASSWORD="${PGPASSWORD:?}"\nrclone rcat "hub:$BUCKET/$KEY"\n' },
    };
    expect(await check(noPlaintextSecretsPolicy, "kubernetes:core/v1:ConfigMap", script)).toEqual([]);
    expect(await check(noPlaintextSecretsPolicy, "kubernetes:core/v1:ConfigMap", script, ["data"])).toEqual([
      expect.stringMatching(/data carries a Pulumi secret/),
    ]);
    const leaky = {
      metadata: { name: "cfg" },
      data: { "rclone.conf": "[hub]\ntype = s3\nsecret_access_key = wJalrXUtnFEMI\n" },
    };
    expect(await check(noPlaintextSecretsPolicy, "kubernetes:core/v1:ConfigMap", leaky)).toEqual([
      expect.stringMatching(/data\.rclone\.conf contains a value for secret_access_key/),
    ]);
  });

  it("requires secret command inputs to be Pulumi secrets", async () => {
    const cmd = {
      connection: {
        host: "hub",
        user: "pi",
        privateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----",
      },
      create: "sudo systemctl restart minio",
      environment: { MINIO_ROOT_PASSWORD: "hunter2hunter2", MC_HOST: "hub" },
      stdin: "MINIO_ROOT_USER=admin\nMINIO_ROOT_PASSWORD=hunter2hunter2\n",
    };
    expect(
      await check(noPlaintextSecretsPolicy, "command:remote:Command", cmd, ["connection", "environment", "stdin"]),
    ).toEqual([]);
    expect(await check(noPlaintextSecretsPolicy, "command:remote:Command", cmd)).toEqual([
      expect.stringMatching(/environment\.MINIO_ROOT_PASSWORD is not a Pulumi secret/),
      expect.stringMatching(/stdin contains a value for MINIO_ROOT_PASSWORD but is not a Pulumi secret/),
      expect.stringMatching(/connection\.privateKey is not a Pulumi secret/),
    ]);
    const benign = {
      connection: { host: "hub" },
      create: 'mc admin user add hub "$USER" "$SECRET"',
      environment: { MC_HOST: "hub", SECRET_FILE: "/run/x" },
      stdin: "[Unit]\nDescription=x\n",
    };
    expect(await check(noPlaintextSecretsPolicy, "command:remote:Command", benign)).toEqual([]);
    const pem = { remotePath: "/home/pi/.ssh/id", source: { text: "-----BEGIN PRIVATE KEY-----\nabc" } };
    expect(await check(noPlaintextSecretsPolicy, "command:remote:CopyToRemote", pem)).toEqual([
      expect.stringMatching(/source \(\/home\/pi\/\.ssh\/id\) contains a PEM private key/),
    ]);
    expect(await check(noPlaintextSecretsPolicy, "command:remote:CopyToRemote", pem, ["source"])).toEqual([]);
  });

  it("requires Helm values holding a secret to be a Pulumi secret", async () => {
    const R = "kubernetes:helm.sh/v3:Release";
    const values = {
      credentials: {
        useSecret: true,
        secretContents: { cloud: "[default]\naws_access_key_id=AKIAX\naws_secret_access_key=wJalrXUtnFEMI\n" },
      },
      configuration: { backupStorageLocation: [{ bucket: "b" }] },
    };
    expect(await check(noPlaintextSecretsPolicy, R, { name: "velero", values })).toEqual([
      expect.stringMatching(
        /values\.credentials\.secretContents\.cloud contains a value for aws_secret_access_key but values is not a Pulumi secret/,
      ),
    ]);
    expect(await check(noPlaintextSecretsPolicy, R, { name: "velero", values }, ["values"])).toEqual([]);
    expect(
      await check(noPlaintextSecretsPolicy, R, {
        name: "velero",
        values: { credentials: { existingSecret: "velero-s3" }, adminPassword: "hunter2" },
      }),
    ).toEqual([expect.stringMatching(/values\.adminPassword holds a literal secret/)]);
    expect(
      await check(noPlaintextSecretsPolicy, R, {
        name: "velero",
        values: { credentials: { existingSecret: "velero-s3", useSecret: true } },
      }),
    ).toEqual([]);
  });

  it("does not apply to resources without secret-bearing inputs", async () => {
    expect(await check(noPlaintextSecretsPolicy, "aws:s3/bucket:Bucket", { bucket: "b" })).toBe("n/a");
  });
});

// ---------------------------------------------------------------------------------------------
// The evaluator
// ---------------------------------------------------------------------------------------------

describe("evaluatePolicies", () => {
  it("has one unique name and a level for every policy", () => {
    const names = policies.map((p) => p.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toHaveLength(9);
    for (const p of policies) expect(["mandatory", "advisory"]).toContain(p.enforcementLevel);
  });

  it("runs every resource and stack policy and returns violations with their level", () => {
    const badCron = backupCronJob("pg-dump-gitea");
    badCron.spec.concurrencyPolicy = "Replace";
    podOf(badCron).containers[0].image = "postgres:latest";
    const resources: PolicyInput[] = [
      { type: "pulumi:pulumi:Stack", name: "homelab-backup-homelab", props: {} },
      { type: "homelab-backup:index:PostgresDumpJob", name: "pg-wiki", props: { database: { name: "wiki" } } },
      { type: CRONJOB, name: "pg-wiki-cronjob", props: backupCronJob(), additionalSecretOutputs: [] },
      { type: CRONJOB, name: "pg-gitea-cronjob", props: badCron },
      {
        type: "kubernetes:core/v1:Secret",
        name: "pg-wiki-hub",
        props: { metadata: { name: "pg-wiki-hub" }, stringData: { AWS_SECRET_ACCESS_KEY: "x" } },
        additionalSecretOutputs: ["stringData"],
      },
      {
        type: "kubernetes:core/v1:Secret",
        name: "pg-gitea-hub",
        props: { metadata: { name: "pg-gitea-hub" }, stringData: { AWS_SECRET_ACCESS_KEY: "x" } },
      },
      {
        type: "kubernetes:monitoring.coreos.com/v1:PrometheusRule",
        name: "alerts",
        props: {
          spec: {
            groups: [
              {
                name: "g",
                rules: [
                  { alert: "PgDumpStale", expr: 'kube_cronjob_status_last_successful_time{cronjob="pg-dump-wiki"}' },
                ],
              },
            ],
          },
        },
      },
    ];
    const verdicts = evaluatePolicies(resources);
    expect(verdicts).toEqual(
      expect.arrayContaining([
        {
          policy: "backup-cronjob-hardened",
          resource: "pg-gitea-cronjob",
          key: "postgres",
          level: "mandatory",
          message: expect.stringMatching(/spec\.concurrencyPolicy is "Replace"/),
        },
        {
          policy: "images-pinned",
          resource: "pg-gitea-cronjob",
          key: "postgres",
          level: "mandatory",
          message: expect.stringMatching(/"postgres:latest" uses the "latest" tag/),
        },
        {
          policy: "no-plaintext-secrets",
          resource: "pg-gitea-hub",
          key: "postgres",
          level: "mandatory",
          message: expect.stringMatching(/stringData is not a Pulumi secret/),
        },
        {
          policy: "backups-alerted",
          resource: "pg-gitea-cronjob",
          key: "postgres",
          level: "advisory",
          message: expect.stringMatching(/CronJob pg-dump-gitea/),
        },
      ]),
    );
    expect(verdicts).toHaveLength(4);
    expect(verdicts.filter((v) => v.resource === "pg-wiki-cronjob" || v.resource === "pg-wiki-hub")).toEqual([]);
  });

  it("returns nothing for a compliant set", () => {
    expect(
      evaluatePolicies([
        { type: CRONJOB, name: "etcd", props: etcdCronJob() },
        { type: "kubernetes:core/v1:Namespace", name: "ns", props: { metadata: { name: "backup-system" } } },
      ]),
    ).toEqual([expect.objectContaining({ policy: "backups-alerted", level: "advisory" })]);
    expect(evaluatePolicies([])).toEqual([]);
  });

  it("survives any shape of props without a policy error", () => {
    const shapes: any[] = [
      undefined,
      null,
      0,
      "text",
      [],
      [1, 2],
      {},
      { spec: null },
      { spec: "x" },
      { spec: { jobTemplate: { spec: { template: { spec: { containers: [null, "x", {}] } } } } } },
      { policy: 42 },
      { values: [null] },
      { source: "x" },
    ];
    const types = [
      CRONJOB,
      "kubernetes:apps/v1:Deployment",
      "kubernetes:core/v1:Secret",
      "kubernetes:core/v1:ConfigMap",
      "kubernetes:longhorn.io/v1beta2:RecurringJob",
      "kubernetes:velero.io/v1:Schedule",
      "kubernetes:monitoring.coreos.com/v1:PrometheusRule",
      "kubernetes:helm.sh/v3:Release",
      "aws:s3/bucket:Bucket",
      "aws:s3/bucketPolicy:BucketPolicy",
      "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
      "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
      "aws:iam/userPolicy:UserPolicy",
      "command:remote:Command",
      "command:remote:CopyToRemote",
      "random:index/randomPassword:RandomPassword",
    ];
    const resources: PolicyInput[] = types.flatMap((type, i) =>
      shapes.map((props, j) => ({ type, name: `r${i}-${j}`, props })),
    );
    const verdicts = evaluatePolicies(resources);
    expect(verdicts.filter((v) => v.message.startsWith("policy could not be evaluated"))).toEqual([]);
    // Junk is not compliant either: the malformed CronJobs and IAM documents are refused.
    expect(verdicts.some((v) => v.policy === "backup-cronjob-hardened" && v.level === "mandatory")).toBe(true);
    expect(
      verdicts.some((v) => v.policy === "iam-least-privilege" && /not a JSON policy document/.test(v.message)),
    ).toBe(true);
  });
});
