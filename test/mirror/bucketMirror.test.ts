/**
 * BucketMirror under the mock runtime: the CronJob runs in the namespace of the source bucket's Secret,
 * reads the source keys and its hub keys by secretKeyRef, and keeps its hub keys in a Secret of its own.
 */
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { parseStackConfig } from "../../components/config.js";
import { hubConnection } from "../../components/core/hubConnection.js";
import { names } from "../../components/core/names.js";
import { installMocks, recordingMocks, settle, unwrapSecrets, type RecordingMocks } from "../../tools/mocks.js";
import { rcloneEnvStandIn, runPodCommand } from "../support/podScripts.js";
import { READER_KEY_ID, READER_SECRET, readerCredentials } from "../support/readerCredentials.js";

let rec: RecordingMocks;
const KEY_ID = READER_KEY_ID;
const SECRET = READER_SECRET;
const reader = readerCredentials;

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
  it("finds the shared rclone remotes in the pod, with the same remotes as before", async () => {
    // mirror.sh sources components/core/rclone-remotes.sh by a path relative to its own: the ConfigMap
    // must carry it and the volume must put it there (test/support/podScripts.ts lays the volume out as
    // the kubelet does, runs the command under BusyBox and records what rclone is started with).
    const cm = unwrapSecrets(rec.one("kubernetes:core/v1:ConfigMap", "mirror-photos-scripts").inputs);
    const cj = unwrapSecrets(rec.one("kubernetes:batch/v1:CronJob", "mirror-photos-cronjob").inputs);
    const rclone = rcloneEnvStandIn();
    const r = await runPodCommand(
      cj.spec.jobTemplate.spec.template.spec,
      { [cm.metadata.name]: cm.data },
      {
        PATH: process.env.PATH,
        RCLONE: rclone.rclone,
        AWS_ACCESS_KEY_ID: "AKSOURCE",
        AWS_SECRET_ACCESS_KEY: "source-secret",
        HUB_ACCESS_KEY_ID: KEY_ID,
        HUB_SECRET_ACCESS_KEY: SECRET,
      },
    );
    expect(r.code).not.toBe(0);
    // The credentials are in the remotes only, no longer under their generic names.
    expect(rclone.read(), r.stderr).toEqual({
      RCLONE_CONFIG_HUB_ACCESS_KEY_ID: KEY_ID,
      RCLONE_CONFIG_HUB_ENDPOINT: "https://s3.eu-central-1.amazonaws.com",
      RCLONE_CONFIG_HUB_FORCE_PATH_STYLE: "false",
      RCLONE_CONFIG_HUB_NO_CHECK_BUCKET: "true",
      RCLONE_CONFIG_HUB_PROVIDER: "AWS",
      RCLONE_CONFIG_HUB_REGION: "eu-central-1",
      RCLONE_CONFIG_HUB_SECRET_ACCESS_KEY: SECRET,
      RCLONE_CONFIG_HUB_TYPE: "s3",
      RCLONE_CONFIG_SRC_ACCESS_KEY_ID: "AKSOURCE",
      RCLONE_CONFIG_SRC_ENDPOINT: "http://rook-ceph-rgw.rook-ceph.svc:80",
      RCLONE_CONFIG_SRC_FORCE_PATH_STYLE: "true",
      RCLONE_CONFIG_SRC_PROVIDER: "Other",
      RCLONE_CONFIG_SRC_REGION: "us-east-1",
      RCLONE_CONFIG_SRC_SECRET_ACCESS_KEY: "source-secret",
      RCLONE_CONFIG_SRC_TYPE: "s3",
    });
  });
});
