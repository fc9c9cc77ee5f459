/**
 * BucketMirror under the mock runtime: the CronJob runs in the namespace of the source bucket's Secret,
 * reads the source keys and its hub keys by secretKeyRef, and keeps its hub keys in a Secret of its own.
 */
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { parseStackConfig } from "../../components/config.js";
import { hubConnection, type WriterCredentials } from "../../components/core/hubConnection.js";
import { names } from "../../components/core/names.js";
import { installMocks, recordingMocks, settle, unwrapSecrets, type RecordingMocks } from "../../tools/mocks.js";

let rec: RecordingMocks;
const reader = (): WriterCredentials => ({
  accessKeyId: pulumi.secret("reader-key-id"),
  secretAccessKey: pulumi.secret("reader-secret-value"),
});

const awsStack = parseStackConfig({
  "homelab-backup:hub": JSON.stringify({ kind: "aws", bucket: "backups-aws", region: "eu-central-1" }),
  "homelab-backup:buckets": JSON.stringify({
    mirrors: [
      {
        name: "photos",
        schedule: "0 4 * * *",
        source: {
          endpoint: "http://rook-ceph-rgw.rook-ceph.svc:80",
          bucket: "photos",
          credentialsSecret: { namespace: "apps", name: "photos-obc" },
        },
      },
    ],
  }),
});

beforeAll(async () => {
  rec = recordingMocks();
  await installMocks(rec);
  const { BucketMirror } = await import("../../components/mirror/bucketMirror.js");
  new BucketMirror("mirror-photos", {
    mirror: awsStack.buckets!.mirrors[0],
    hub: hubConnection(awsStack.hub!),
    credentials: reader(),
  });
  await settle();
});

describe("BucketMirror", () => {
  it("runs in the namespace of the source Secret, with the OBC keys by secretKeyRef", () => {
    const cj = unwrapSecrets(rec.one("kubernetes:batch/v1:CronJob", "mirror-photos-cronjob").inputs);
    expect(cj.metadata).toMatchObject({ name: names.mirrorCronJob("photos"), namespace: "apps" });
    expect(cj.spec.schedule).toBe("0 4 * * *");
    const c = cj.spec.jobTemplate.spec.template.spec.containers[0];
    const byName = Object.fromEntries(c.env.map((e: any) => [e.name, e]));
    expect(byName.AWS_ACCESS_KEY_ID.valueFrom.secretKeyRef).toEqual({ name: "photos-obc", key: "AWS_ACCESS_KEY_ID" });
    expect(byName.AWS_SECRET_ACCESS_KEY.valueFrom.secretKeyRef).toEqual({
      name: "photos-obc",
      key: "AWS_SECRET_ACCESS_KEY",
    });
    expect(byName.HUB_SECRET_ACCESS_KEY.valueFrom.secretKeyRef).toEqual({
      name: `${names.mirrorCronJob("photos")}-hub`,
      key: "HUB_SECRET_ACCESS_KEY",
    });
    expect(byName.MIRROR_HUB_PREFIX.value).toBe("buckets/photos/");
    const hubSecret = rec.one("kubernetes:core/v1:Secret", "mirror-photos-hub");
    expect(pulumi.runtime.isRpcSecret(hubSecret.inputs.stringData)).toBe(true);
    expect(unwrapSecrets(hubSecret.inputs.metadata)).toMatchObject({ namespace: "apps" });
  });
});
