/**
 * OffsiteSync and BucketMirror under the mock runtime: what reaches the hub over SSH (files, units,
 * the config command fed by stdin), what the in-cluster CronJobs look like, and that every secret
 * stays a Pulumi secret (never an env value, never on a command line).
 */
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { offsiteOf, parseStackConfig } from "../../components/config.js";
import { hubConnection, type WriterCredentials } from "../../components/core/hubConnection.js";
import { names } from "../../components/core/names.js";
import { VERSIONS } from "../../components/core/versions.js";
import {
  installMocks,
  isSecretOutput,
  recordingMocks,
  settle,
  unwrapSecrets,
  valueOf,
  type RecordingMocks,
} from "../../tools/mocks.js";
import { rcloneEnvStandIn, runPodCommand } from "../support/podScripts.js";

let rec: RecordingMocks;
const FTP_PASSWORD = "ftp-secret-value";
const KEY_ID = "reader-key-id";
const SECRET = "reader-secret-value";
const reader = (): WriterCredentials => ({
  accessKeyId: pulumi.secret(KEY_ID),
  secretAccessKey: pulumi.secret(SECRET),
});

const piStack = parseStackConfig({
  "homelab-backup:hub": JSON.stringify({
    kind: "pi",
    bucket: "backups",
    host: "backup1.lan",
    ssh: { user: "pi", port: 2222 },
    dataDir: "/mnt/backup-hdd",
  }),
  "homelab-backup:hubSshPrivateKey": "k",
  "homelab-backup:offsiteFtpPassword": "pw",
  "homelab-backup:offsite": JSON.stringify({
    schedule: "0 0 1,15 * 1",
    ftp: { host: "ftp.box.com", user: "me@example.com", path: "/Homelab" },
    prefixes: ["longhorn/"],
  }),
});
const awsStack = parseStackConfig({
  "homelab-backup:hub": JSON.stringify({ kind: "aws", bucket: "backups-aws", region: "eu-central-1" }),
  "homelab-backup:offsiteFtpPassword": "pw",
  "homelab-backup:offsite": JSON.stringify({ ftp: { host: "ftp.example", user: "u" } }),
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

let hubSync: any;
let clusterSync: any;

beforeAll(async () => {
  rec = recordingMocks();
  await installMocks(rec);
  const { OffsiteSync } = await import("../../components/offsite/offsiteSync.js");
  const { BucketMirror } = await import("../../components/mirror/bucketMirror.js");
  hubSync = new OffsiteSync("offsite-hub", {
    config: offsiteOf(piStack)!,
    hub: hubConnection(piStack.hub!),
    hubConfig: piStack.hub!,
    ftpPassword: pulumi.secret(FTP_PASSWORD),
    reader: reader(),
    sshPrivateKey: pulumi.secret("PRIVATE KEY"),
  });
  clusterSync = new OffsiteSync("offsite-cl", {
    config: offsiteOf(awsStack)!,
    hub: hubConnection(awsStack.hub!),
    hubConfig: awsStack.hub!,
    ftpPassword: pulumi.secret(FTP_PASSWORD),
    encryptionKey: pulumi.secret("user-chosen-key"),
    reader: reader(),
  });
  new BucketMirror("mirror-photos", {
    mirror: awsStack.buckets!.mirrors[0],
    hub: hubConnection(awsStack.hub!),
    credentials: reader(),
  });
  await settle();
});

const children = (parent: string) => rec.resources.filter((r) => r.parent === parent);

describe("OffsiteSync on the hub", () => {
  it("generates the key when none is given, as a secret output", async () => {
    const bytes = rec.one("random:index/randomBytes:RandomBytes", "offsite-hub-key");
    expect(bytes.inputs.length).toBe(32);
    expect(await isSecretOutput(hubSync.encryptionKey)).toBe(true);
    expect(await valueOf(hubSync.encryptionKey)).toMatch(/^[0-9a-f]{64}$/);
  });

  it("copies the scripts and the rendered units, with the converted OnCalendar lines", () => {
    const copies = rec.byType("command:remote:CopyToRemote").filter((r) => r.parent === "offsite-hub");
    const paths = copies.map((c) => unwrapSecrets(c.inputs).remotePath).sort();
    expect(paths).toEqual([
      ".homelab-backup/offsite/homelab-backup-offsite.service",
      ".homelab-backup/offsite/homelab-backup-offsite.timer",
      ".homelab-backup/offsite/install-rclone.sh",
      ".homelab-backup/offsite/offsite-sync.sh",
      ".homelab-backup/offsite/write-config.sh",
    ]);
    expect(hubSync.onCalendar).toEqual(["Mon *-*-* 00:00:00 UTC", "*-*-01,15 00:00:00 UTC"]);
    const conn = unwrapSecrets(copies[0].inputs.connection);
    expect(conn).toMatchObject({ host: "backup1.lan", port: 2222, user: "pi" });
    expect(pulumi.runtime.isRpcSecret(copies[0].inputs.connection)).toBe(true);
  });

  it("installs the pinned rclone, then writes the config with secrets on stdin only", () => {
    const install = unwrapSecrets(rec.one("command:remote:Command", "offsite-hub-rclone").inputs);
    expect(install.create).toContain(`install-rclone.sh ${VERSIONS.rclone}`);
    expect(install.create).toMatch(/^sudo -n sh -c /);

    const config = rec.one("command:remote:Command", "offsite-hub-config");
    expect(pulumi.runtime.isRpcSecret(config.inputs.stdin)).toBe(true);
    expect(unwrapSecrets(config.inputs.stdin)).toBe(
      `${FTP_PASSWORD}\n${unwrapSecrets(config.inputs.stdin).split("\n")[1]}\n${KEY_ID}\n${SECRET}\n`,
    );
    const create = unwrapSecrets(config.inputs.create) as string;
    for (const secret of [FTP_PASSWORD, KEY_ID, SECRET]) expect(create).not.toContain(secret);
    expect(create).toContain("write-config.sh /etc/homelab-backup/offsite/rclone.conf");
  });

  it("enables the timer after the config exists", () => {
    const units = rec.one("command:remote:Command", "offsite-hub-units");
    const create = unwrapSecrets(units.inputs.create) as string;
    expect(create).toContain(`systemctl enable --now ${names.offsiteUnit}.timer`);
    expect(create).toContain("install -d -m 0755 /var/lib/prometheus/node-exporter");
    expect(unwrapSecrets(units.inputs.delete)).toContain(`systemctl disable --now ${names.offsiteUnit}.timer`);
  });

  it("builds no CronJob", () => {
    expect(children("offsite-hub").some((r) => r.type.startsWith("kubernetes:"))).toBe(false);
  });
});

describe("OffsiteSync in the cluster", () => {
  it("uses the given key (secret) and creates no random key", async () => {
    expect(rec.resources.some((r) => r.name === "offsite-cl-key")).toBe(false);
    expect(await valueOf(clusterSync.encryptionKey)).toBe("user-chosen-key");
    expect(await isSecretOutput(clusterSync.encryptionKey)).toBe(true);
  });

  it("keeps every secret in a Secret and references it by secretKeyRef", () => {
    const secret = rec.one("kubernetes:core/v1:Secret", "offsite-cl-secret");
    expect(pulumi.runtime.isRpcSecret(secret.inputs.stringData)).toBe(true);
    expect(unwrapSecrets(secret.inputs.stringData)).toEqual({
      OFFSITE_FTP_PASSWORD: FTP_PASSWORD,
      OFFSITE_S3_ACCESS_KEY_ID: KEY_ID,
      OFFSITE_S3_SECRET_ACCESS_KEY: SECRET,
      OFFSITE_ENCRYPTION_KEY: "user-chosen-key",
    });

    const cj = unwrapSecrets(rec.one("kubernetes:batch/v1:CronJob", "offsite-cl-cronjob").inputs);
    expect(cj.metadata).toMatchObject({ name: names.offsiteCronJob, namespace: "backup-system" });
    expect(cj.spec.schedule).toBe("0 6 * * *");
    expect(cj.spec.timeZone).toBe("Etc/UTC");
    const pod = cj.spec.jobTemplate.spec.template.spec;
    const c = pod.containers[0];
    expect(c.image).toBe(VERSIONS.alpineImage);
    expect(c.command).toEqual(["sh", "/scripts/offsite-job.sh"]);
    expect(pod.initContainers[0].image).toBe(VERSIONS.rcloneImage);
    const byName = Object.fromEntries(c.env.map((e: any) => [e.name, e]));
    for (const k of [
      "OFFSITE_FTP_PASSWORD",
      "OFFSITE_S3_ACCESS_KEY_ID",
      "OFFSITE_S3_SECRET_ACCESS_KEY",
      "OFFSITE_ENCRYPTION_KEY",
    ]) {
      expect(byName[k].value, k).toBeUndefined();
      expect(byName[k].valueFrom.secretKeyRef).toEqual({ name: `${names.offsiteCronJob}-credentials`, key: k });
    }
    expect(byName.OFFSITE_S3_ENDPOINT.value).toBe("https://s3.eu-central-1.amazonaws.com");
    expect(byName.OFFSITE_S3_PROVIDER.value).toBe("AWS");
    expect(byName.RCLONE.value).toBe("/opt/tools/rclone");
    // No textfile in the cluster: the Job's status is the record.
    expect(byName.OFFSITE_TEXTFILE).toBeUndefined();
    expect(JSON.stringify(c.env)).not.toContain(FTP_PASSWORD);
    const cm = unwrapSecrets(rec.one("kubernetes:core/v1:ConfigMap", "offsite-cl-scripts").inputs);
    expect(Object.keys(cm.data).sort()).toEqual(["offsite-job.sh", "offsite-sync.sh", "write-config.sh"]);
  });

  it("gives a restore command that needs only the key and the FTP login", async () => {
    const cmd = await valueOf(clusterSync.restoreCommand);
    expect(cmd).toContain("restore-offsite.sh");
    expect(cmd).not.toContain("user-chosen-key");
  });
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
