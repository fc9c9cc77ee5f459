/**
 * An AWS hub: the bucket (versioning, default encryption, no public access, a TLS-only bucket policy,
 * lifecycle rules, Object Lock when asked) and one IAM user, inline policy and access key per identity
 * the stack uses. The resources are children of the BackupHub that calls this (`parent`), under the
 * names it always gave them, so their URNs are the ones earlier releases registered.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { HubConfig } from "../../config.js";
import type { HubConnection, WriterCredentials, WriterName } from "../../core/hubConnection.js";
import { tlsOnlyBucketPolicy, writerUserName } from "../iam.js";
import { awsLifecycleRule, type PrefixLifecycle } from "../retention.js";
import type { HubRights } from "../rights.js";

/** What an AWS hub gives the rest of the stack. */
export interface AwsHub {
  readonly writers: Partial<Record<WriterName, WriterCredentials>>;
  readonly endpoint: pulumi.Output<string>;
  readonly bucket: pulumi.Output<string>;
  readonly region: pulumi.Output<string>;
}

/** Creates the AWS hub's resources under `parent`, named `<name>-…`. */
export function awsHubResources(
  name: string,
  parent: pulumi.Resource,
  hub: HubConfig,
  connection: HubConnection,
  lifecycles: readonly PrefixLifecycle[],
  rights: HubRights,
): AwsHub {
  const region = hub.region;
  const child = { parent };
  // hub.adopt: the bucket exists and holds backups already; Pulumi imports it and never deletes it
  // (retainOnDelete: a destroy only forgets it; protect: a replace or delete is refused).
  const adopt: pulumi.CustomResourceOptions = hub.adopt
    ? { import: hub.bucket, retainOnDelete: true, protect: true }
    : {};
  const bucket = new aws.s3.Bucket(
    `${name}-bucket`,
    { bucket: hub.bucket, region, ...(hub.objectLock ? { objectLockEnabled: true } : {}) },
    { ...child, ...adopt },
  );
  const versioning = new aws.s3.BucketVersioning(
    `${name}-versioning`,
    { bucket: bucket.id, region, versioningConfiguration: { status: "Enabled" } },
    child,
  );
  new aws.s3.BucketServerSideEncryptionConfiguration(
    `${name}-sse`,
    { bucket: bucket.id, region, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }] },
    child,
  );
  const publicAccess = new aws.s3.BucketPublicAccessBlock(
    `${name}-public-access`,
    {
      bucket: bucket.id,
      region,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    },
    child,
  );
  // S3 rejects a bucket policy written while the public-access block is still being applied.
  new aws.s3.BucketPolicy(
    `${name}-tls-only`,
    { bucket: bucket.id, region, policy: bucket.arn.apply((arn) => JSON.stringify(tlsOnlyBucketPolicy(arn))) },
    { parent, dependsOn: [publicAccess] },
  );
  if (lifecycles.length > 0) {
    // Noncurrent-version rules need versioning in place first.
    new aws.s3.BucketLifecycleConfiguration(
      `${name}-lifecycle`,
      { bucket: bucket.id, region, rules: lifecycles.map(awsLifecycleRule) },
      { parent, dependsOn: [versioning] },
    );
  }
  if (hub.objectLock) {
    new aws.s3.BucketObjectLockConfiguration(
      `${name}-object-lock`,
      {
        bucket: bucket.id,
        region,
        objectLockEnabled: "Enabled",
        rule: { defaultRetention: { mode: hub.objectLock.mode, days: hub.objectLock.days } },
      },
      { parent, dependsOn: [versioning] },
    );
  }
  const writers: Partial<Record<WriterName, WriterCredentials>> = {};
  for (const writer of rights.inUse) {
    const user = new aws.iam.User(
      `${name}-${writer}`,
      { name: writerUserName(hub.bucket, writer), path: "/homelab-backup/" },
      child,
    );
    new aws.iam.UserPolicy(
      `${name}-${writer}-policy`,
      { user: user.name, name: `${writer}-backup-prefix`, policy: JSON.stringify(rights.policies[writer]) },
      child,
    );
    const key = new aws.iam.AccessKey(`${name}-${writer}-key`, { user: user.name }, child);
    writers[writer] = { accessKeyId: key.id, secretAccessKey: pulumi.secret(key.secret) };
  }
  return {
    writers,
    // Resolves once the bucket exists, so whatever uses the endpoint waits for it.
    endpoint: bucket.bucket.apply(() => connection.endpoint),
    bucket: bucket.bucket,
    region: bucket.region,
  };
}
