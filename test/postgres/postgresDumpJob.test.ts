/**
 * PostgresDumpJob and PostgresRestoreDrill under the mock runtime: the recorded inputs are the secure
 * CronJob shape, the scripts are the files in components/postgres, credentials are only in Secrets.
 */
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { parseStackConfig, type StackConfig } from "../../components/config.js";
import { readScript } from "../../components/core/files.js";
import { hubConnection } from "../../components/core/hubConnection.js";
import {
  installMocks,
  recordingMocks,
  settle,
  unwrapSecrets,
  valueOf,
  type RecordingMocks,
} from "../../tools/mocks.js";

let rec: RecordingMocks;
let stack: StackConfig;
let dumpOut: { cronJobName: string; namespace: string; restoreCommand: string; databaseName: string };
let drillOut: Record<string, string>;

beforeAll(async () => {
  rec = recordingMocks();
  await installMocks(rec);
  stack = parseStackConfig({
    "homelab-backup:hub": {
      kind: "pi",
      bucket: "backups",
      host: "hub.lan",
      dataDir: "/mnt/backups",
      ssh: { user: "pi" },
    },
    "homelab-backup:hubSshPrivateKey": "key",
    "homelab-backup:postgres": {
      databases: [
        {
          name: "wiki",
          namespace: "wiki",
          host: "wiki-pg",
          user: "wiki",
          passwordSecret: { name: "wiki-pg", key: "pw" },
        },
        {
          name: "all",
          namespace: "db",
          host: "shared-pg",
          mode: "cluster",
          passwordSecret: { name: "shared-pg", key: "postgres-password" },
        },
      ],
      restoreDrill: { databases: ["wiki"], checks: ["SELECT count(*) FROM pages", "SELECT 1"] },
    },
  });
  const { PostgresDumpJob } = await import("../../components/postgres/postgresDumpJob.js");
  const { PostgresRestoreDrill } = await import("../../components/postgres/postgresRestoreDrill.js");
  const credentials = { accessKeyId: pulumi.output("AKIDPOSTGRES"), secretAccessKey: pulumi.secret("very-secret-key") };
  const hub = hubConnection(stack.hub!);
  const job = new PostgresDumpJob("pg-wiki", {
    database: stack.postgres!.databases[0],
    schedule: "0 3 * * *",
    hub,
    credentials,
  });
  const drill = new PostgresRestoreDrill("pg-restore-drill", {
    drill: stack.postgres!.restoreDrill!,
    databases: stack.postgres!.databases,
    hub,
    credentials,
  });
  await settle();
  dumpOut = {
    cronJobName: await valueOf(job.cronJobName),
    namespace: await valueOf(job.namespace),
    restoreCommand: await valueOf(job.restoreCommand),
    databaseName: await valueOf(job.databaseName),
  };
  drillOut = await valueOf(drill.cronJobNames);
});

describe("PostgresDumpJob", () => {
  it("creates the ConfigMap, Secret and CronJob under the component, named explicitly in the database's namespace", () => {
    for (const [type, name, k8sName] of [
      ["kubernetes:core/v1:ConfigMap", "pg-wiki-scripts", "pg-dump-wiki-scripts"],
      ["kubernetes:core/v1:Secret", "pg-wiki-s3", "pg-dump-wiki-s3"],
      ["kubernetes:batch/v1:CronJob", "pg-wiki-cronjob", "pg-dump-wiki"],
    ]) {
      const r = rec.one(type, name);
      expect(r.parentType).toBe("homelab-backup:index:PostgresDumpJob");
      expect(unwrapSecrets(r.inputs).metadata).toMatchObject({ name: k8sName, namespace: "wiki" });
    }
    expect(dumpOut).toMatchObject({ cronJobName: "pg-dump-wiki", namespace: "wiki", databaseName: "wiki" });
    expect(dumpOut.restoreCommand).toContain("--from=cronjob/pg-dump-wiki");
  });

  it("mounts exactly the repository's scripts", () => {
    const cm = unwrapSecrets(rec.one("kubernetes:core/v1:ConfigMap", "pg-wiki-scripts").inputs);
    expect(cm.data["dump.sh"]).toBe(readScript("postgres/dump.sh"));
    expect(cm.data["restore.sh"]).toBe(readScript("postgres/restore.sh"));
  });

  it("keeps the S3 secret key a Pulumi secret in the Secret and out of the CronJob", () => {
    const secret = rec.one("kubernetes:core/v1:Secret", "pg-wiki-s3");
    expect(pulumi.runtime.isRpcSecret(secret.inputs.stringData)).toBe(true);
    expect(unwrapSecrets(secret.inputs).stringData).toEqual({
      "access-key-id": "AKIDPOSTGRES",
      "secret-access-key": "very-secret-key",
    });
    const cronJob = JSON.stringify(unwrapSecrets(rec.one("kubernetes:batch/v1:CronJob", "pg-wiki-cronjob").inputs));
    expect(cronJob).not.toContain("very-secret-key");
    expect(cronJob).not.toContain("AKIDPOSTGRES");
  });

  it("runs the stock postgres image as uid 70 with rclone from the init container, in the secure shape", () => {
    const spec = unwrapSecrets(rec.one("kubernetes:batch/v1:CronJob", "pg-wiki-cronjob").inputs).spec;
    expect(spec).toMatchObject({ schedule: "0 3 * * *", timeZone: "Etc/UTC", concurrencyPolicy: "Forbid" });
    const pod = spec.jobTemplate.spec.template.spec;
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 70, runAsGroup: 70 });
    expect(pod.initContainers.map((c: any) => c.name)).toEqual(["rclone"]);
    const [c] = pod.containers;
    expect(c.image).toBe(stack.postgres!.image);
    expect(c.image).toMatch(/^postgres:\d+\.\d+-alpine/);
    expect(c.securityContext).toMatchObject({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
    });
    expect(c.resources.limits.memory).toBe("256Mi");
    expect(c.resources.limits.cpu).toBe("2");
    const env = Object.fromEntries(c.env.map((e: any) => [e.name, e]));
    expect(env.PGPASSWORD.valueFrom.secretKeyRef).toEqual({ name: "wiki-pg", key: "pw" });
    expect(env.ACTION.value).toBe("dump");
    expect(env.ZSTD_LEVEL.value).toBe("1");
    expect(env.ZSTD_THREADS.value).toBe(c.resources.limits.cpu);
    expect(env.RCLONE_CONFIG_HUB_SECRET_ACCESS_KEY.valueFrom.secretKeyRef).toEqual({
      name: "pg-dump-wiki-s3",
      key: "secret-access-key",
    });
    expect(c.volumeMounts.map((m: any) => m.mountPath).sort()).toEqual(["/opt/tools", "/scripts", "/tmp"]);
    expect(pod.volumes.find((v: any) => v.name === "scripts").configMap.name).toBe("pg-dump-wiki-scripts");
  });
});

describe("PostgresRestoreDrill", () => {
  it("creates a CronJob only for the chosen databases, with the checks as files", () => {
    expect(drillOut).toEqual({ wiki: "wiki/pg-restore-drill-wiki" });
    const cronJobs = rec
      .byType("kubernetes:batch/v1:CronJob")
      .filter((r) => r.parentType === "homelab-backup:index:PostgresRestoreDrill");
    expect(cronJobs).toHaveLength(1);
    const cj = unwrapSecrets(cronJobs[0].inputs);
    expect(cj.metadata).toMatchObject({ name: "pg-restore-drill-wiki", namespace: "wiki" });
    expect(cj.spec.schedule).toBe("0 6 * * 0");
    const pod = cj.spec.jobTemplate.spec.template.spec;
    expect(pod.containers[0].command).toEqual(["/bin/bash", "/scripts/restore-drill.sh"]);
    expect(pod.volumes.find((v: any) => v.name === "scratch")).toBeDefined();
    const cm = unwrapSecrets(rec.one("kubernetes:core/v1:ConfigMap", "pg-restore-drill-wiki-scripts").inputs);
    expect(Object.keys(cm.data).sort()).toEqual([
      "check-001.sql",
      "check-002.sql",
      "drill-record.sh",
      "restore-drill.sh",
      "restore.sh",
    ]);
    expect(cm.data["check-001.sql"]).toBe("SELECT count(*) FROM pages;\n");
    expect(cm.data["restore-drill.sh"]).toBe(readScript("postgres/restore-drill.sh"));
    // restore-drill.sh sources it from beside itself (SCRIPTS_DIR) to leave status/drills/postgres/wiki.json.
    expect(cm.data["drill-record.sh"]).toBe(readScript("drills/drill-record.sh"));
    const env = Object.fromEntries(pod.containers[0].env.map((e: any) => [e.name, e.value ?? e.valueFrom]));
    expect(env).toMatchObject({ DRILL_RECORD_CLASS: "postgres", DRILL_RECORD_ITEM: "wiki", SCRIPTS_DIR: "/scripts" });
  });
});
