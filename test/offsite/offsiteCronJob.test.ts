/**
 * OffsiteCronJob under the mock runtime: the in-cluster CronJob, its namespace, its Secret and scripts,
 * and that every secret stays a Pulumi secret, referenced by secretKeyRef and never an env value. The
 * job's command is run once from its scripts volume as the pod has it (test/support/podScripts.ts).
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { offsiteOf, parseStackConfig } from "../../components/config.js";
import { hubConnection } from "../../components/core/hubConnection.js";
import { names } from "../../components/core/names.js";
import { VERSIONS } from "../../components/core/versions.js";
import type { OffsiteCronJob } from "../../components/offsite/offsiteCronJob.js";
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
import { READER_KEY_ID, READER_SECRET, readerCredentials } from "../support/readerCredentials.js";

let rec: RecordingMocks;
const FTP_PASSWORD = "ftp-secret-value";
const KEY_ID = READER_KEY_ID;
const SECRET = READER_SECRET;
const reader = readerCredentials;

const awsStack = (encryption: boolean) =>
  parseStackConfig({
    "homelab-backup:hub": JSON.stringify({ kind: "aws", bucket: "backups-aws", region: "eu-central-1" }),
    "homelab-backup:offsiteFtpPassword": "pw",
    "homelab-backup:offsite": JSON.stringify({
      ftp: { host: "ftp.example", user: "u" },
      encryption: { enabled: encryption },
    }),
  });

let withKey: OffsiteCronJob;
let plain: OffsiteCronJob;

beforeAll(async () => {
  rec = recordingMocks();
  await installMocks(rec);
  const { OffsiteCronJob } = await import("../../components/offsite/offsiteCronJob.js");
  const build = (name: string, encryption: boolean, encryptionKey?: pulumi.Input<string>) => {
    const stack = awsStack(encryption);
    return new OffsiteCronJob(name, {
      config: offsiteOf(stack)!,
      hub: hubConnection(stack.hub!),
      ftpPassword: pulumi.secret(FTP_PASSWORD),
      encryptionKey,
      reader: reader(),
    });
  };
  withKey = build("offsite-cl", true, pulumi.secret("user-chosen-key"));
  plain = build("offsite-plain", false);
  await settle();
});

describe("OffsiteCronJob", () => {
  it("registers as homelab-backup:index:OffsiteCronJob, every child under it", () => {
    expect(rec.one("homelab-backup:index:OffsiteCronJob", "offsite-cl").parent).toBeNull();
    const own = rec.resources.filter((r) => r.name.startsWith("offsite-cl-"));
    expect(own.map((r) => r.type).sort()).toEqual([
      "kubernetes:batch/v1:CronJob",
      "kubernetes:core/v1:ConfigMap",
      "kubernetes:core/v1:Namespace",
      "kubernetes:core/v1:Secret",
    ]);
    for (const r of own) expect(r.parent, r.name).toBe("offsite-cl");
  });

  it("uses the given key (secret) and creates no random key", async () => {
    expect(rec.resources.some((r) => r.name === "offsite-cl-key")).toBe(false);
    expect(await valueOf(withKey.encryptionKey!)).toBe("user-chosen-key");
    expect(await isSecretOutput(withKey.encryptionKey!)).toBe(true);
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
    expect(c.command).toEqual(["sh", "/scripts/offsite/offsite-job.sh"]);
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
    expect(Object.keys(cm.data).sort()).toEqual([
      "offsite-job.sh",
      "offsite-sync.sh",
      "rclone-remotes.sh",
      "write-config.sh",
    ]);
  });

  it("runs as the pod runs it: write-config.sh finds the rclone remotes in the scripts volume and writes the config the sync reads", async () => {
    const cj = unwrapSecrets(rec.one("kubernetes:batch/v1:CronJob", "offsite-cl-cronjob").inputs);
    const cm = unwrapSecrets(rec.one("kubernetes:core/v1:ConfigMap", "offsite-cl-scripts").inputs);
    const rclone = rcloneEnvStandIn();
    // The pod's memory-backed /tmp, where offsite-job.sh has write-config.sh write the config.
    const tmp = mkdtempSync(path.join(tmpdir(), "offsite-pod-"));
    try {
      const r = await runPodCommand(
        cj.spec.jobTemplate.spec.template.spec,
        { [cm.metadata.name]: cm.data },
        {
          PATH: process.env.PATH,
          TMPDIR: tmp,
          RCLONE: rclone.rclone,
          OFFSITE_FTP_PASSWORD: FTP_PASSWORD,
          OFFSITE_S3_ACCESS_KEY_ID: KEY_ID,
          OFFSITE_S3_SECRET_ACCESS_KEY: SECRET,
          OFFSITE_ENCRYPTION_KEY: "user-chosen-key",
        },
      );
      // The stand-in fails the sync's first rclone call, after the config was written.
      expect(r.stderr).toContain("offsite-sync: cannot list the FTP server");
      expect(r.code).not.toBe(0);
      // The sync's rclone sees the remotes through the file alone, and none of the Secret's values.
      expect(rclone.read()).toEqual({});
      expect(readFileSync(path.join(tmp, "rclone.conf"), "utf8")).toBe(
        [
          "[hub]",
          "type = s3",
          "provider = AWS",
          "endpoint = https://s3.eu-central-1.amazonaws.com",
          "region = eu-central-1",
          `access_key_id = ${KEY_ID}`,
          `secret_access_key = ${SECRET}`,
          "force_path_style = false",
          "no_check_bucket = true",
          "",
          "[ftp]",
          "type = ftp",
          "host = ftp.example",
          "port = 21",
          "user = u",
          `pass = obscured(${FTP_PASSWORD})`,
          "explicit_tls = true",
          "disable_tls13 = false",
          "",
          "[offsite_raw]",
          "type = alias",
          "remote = ftp:/",
          "",
          "[offsite]",
          "type = crypt",
          "remote = offsite_raw:",
          "filename_encryption = standard",
          "directory_name_encryption = true",
          "password = obscured(user-chosen-key)",
          "password2 = obscured(user-chosen-key)",
          "",
        ].join("\n"),
      );
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it("without encryption: no key, in the Secret, the env or the outputs", () => {
    expect(plain.encryptionKey).toBeUndefined();
    const secret = unwrapSecrets(rec.one("kubernetes:core/v1:Secret", "offsite-plain-secret").inputs.stringData);
    expect(Object.keys(secret).sort()).toEqual([
      "OFFSITE_FTP_PASSWORD",
      "OFFSITE_S3_ACCESS_KEY_ID",
      "OFFSITE_S3_SECRET_ACCESS_KEY",
    ]);
    const cj = unwrapSecrets(rec.one("kubernetes:batch/v1:CronJob", "offsite-plain-cronjob").inputs);
    const env = cj.spec.jobTemplate.spec.template.spec.containers[0].env;
    expect(env.map((e: any) => e.name)).not.toContain("OFFSITE_ENCRYPTION_KEY");
    expect(env.find((e: any) => e.name === "OFFSITE_ENCRYPTION").value).toBe("false");
  });

  it("names the CronJob and what watches it", async () => {
    expect(await valueOf(withKey.cronJobName)).toBe(`backup-system/${names.offsiteCronJob}`);
    const [watch] = await valueOf(withKey.watches);
    expect(watch).toMatchObject({ namespace: "backup-system", cronJob: names.offsiteCronJob, schedule: "0 6 * * *" });
  });

  it("gives a restore command that needs only the key and the FTP login", async () => {
    const cmd = await valueOf(withKey.restoreCommand);
    expect(cmd).toContain("restore-offsite.sh");
    expect(cmd).not.toContain("user-chosen-key");
  });
});
