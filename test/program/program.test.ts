/**
 * The whole program (index.ts) under the mock runtime with the example stack: the mocks are installed
 * and the config set BEFORE the program is imported (runProgram), and the assertions are on the
 * recorded resource inputs, so a program imported too early (nothing recorded) fails every test.
 */
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { names } from "../../components/core/names.js";
import { runProgram, type ProgramRun } from "../../tools/harness.js";
import { unwrapSecrets } from "../../tools/mocks.js";
import { exampleStack } from "../support/stackFiles.js";

let run: ProgramRun;

beforeAll(async () => {
  const stack = exampleStack();
  run = await runProgram(stack.config, stack.secretKeys);
});

describe("the example stack", () => {
  it("registers every component, each under its type token", () => {
    const types = new Set(run.rec.resources.map((r) => r.type));
    for (const c of [
      "BackupHub",
      "PiHub",
      "LonghornBackupTarget",
      "S3FtpBridge",
      "PostgresDumpJob",
      "PostgresRestoreDrill",
      "EtcdOffload",
      "Velero",
      "BucketMirror",
      "OffsiteHubTimer",
      "BackupAlerts",
    ]) {
      expect(types, c).toContain(`homelab-backup:index:${c}`);
    }
  });

  it("gives every child resource a parent component", () => {
    const orphans = run.rec.resources.filter(
      (r) => r.custom && r.parent === null && r.type !== "pulumi:providers:kubernetes",
    );
    expect(orphans.map((r) => `${r.type}::${r.name}`)).toEqual([]);
  });

  it("builds one dump CronJob per database, in its namespace, spread across the window", () => {
    const cronJobs = run.rec.byType("kubernetes:batch/v1:CronJob").map((r) => unwrapSecrets(r.inputs));
    const dumps = cronJobs.filter((c) => c.metadata.name.startsWith("pg-dump-"));
    expect(dumps.map((c) => `${c.metadata.namespace}/${c.metadata.name}`).sort()).toEqual(
      [
        "authentik/pg-dump-authentik",
        "databases/pg-dump-shared-cluster",
        "gitea/pg-dump-gitea",
        "immich/pg-dump-immich",
        "wiki/pg-dump-wiki",
      ].sort(),
    );
    const schedules = new Map(dumps.map((c) => [c.metadata.name, c.spec.schedule as string]));
    expect(schedules.get(names.postgresDumpCronJob("shared-cluster"))).toBe("30 2 * * *");
    for (const db of ["wiki", "immich", "authentik", "gitea"]) {
      const [m, h] = schedules.get(names.postgresDumpCronJob(db))!.split(" ").map(Number);
      expect(h * 60 + m, db).toBeGreaterThanOrEqual(180);
      expect(h * 60 + m, db).toBeLessThan(270);
    }
    for (const c of cronJobs) expect(c.spec.timeZone, c.metadata.name).toBe("Etc/UTC");
  });

  it("hands each writer's hub credentials to its own jobs only, as secrets", () => {
    const secrets = run.rec.byType("kubernetes:core/v1:Secret");
    expect(secrets.length).toBeGreaterThan(0);
    for (const s of secrets) {
      const body = s.inputs.stringData ?? s.inputs.data;
      expect(pulumi.runtime.isRpcSecret(body), `${s.name} carries plain-text credentials`).toBe(true);
    }
  });

  it("patches Longhorn's default BackupTarget at the hub's longhorn/ prefix", () => {
    const patches = run.rec.resources.filter((r) => r.type.includes("longhorn.io/v1beta2:BackupTarget"));
    expect(patches).toHaveLength(1);
    expect(patches[0].type).toMatch(/Patch$/);
    const spec = unwrapSecrets(patches[0].inputs).spec;
    expect(spec.backupTargetURL).toBe("s3://homelab-backups@fr-home-1/longhorn/");
  });

  it("exports the restore commands and the off-site key as a secret", () => {
    const out = run.outputs;
    expect(Object.keys(out.postgresRestoreCommands as object).sort()).toEqual([
      "authentik",
      "gitea",
      "immich",
      "shared-cluster",
      "wiki",
    ]);
    expect(pulumi.runtime.isRpcSecret(out.offsiteEncryptionKey)).toBe(true);
    expect(out.hubEndpoint).toBe("http://backup1.lab.home.arpa:9000");
  });
});
