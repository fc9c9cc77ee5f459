/**
 * The components as a library: another Pulumi program imports them from `components/` (the index),
 * builds a hub and one dump job, and gets exactly those resources. Importing the index registers
 * nothing, and nothing of the stack program (index.ts) runs.
 */
import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { PostgresDumpJobArgs } from "../../components";
import { installMocks, recordingMocks, settle, valueOf, type RecordingMocks } from "../../tools/mocks.js";

let rec: RecordingMocks;
let library: Record<string, unknown>;
let registeredByImport: number;
let restoreCommand: string;

beforeAll(async () => {
  rec = recordingMocks();
  await installMocks(rec);
  // As another program would write it: `import { BackupHub, PostgresDumpJob } from "homelab-backup/components"`.
  library = await import("../../components/index.js");
  const { BackupHub, PostgresDumpJob } = library as typeof import("../../components/index.js");
  await settle();
  registeredByImport = rec.resources.length;

  const hub = new BackupHub("backups", {
    hub: {
      kind: "aws",
      bucket: "my-backups",
      region: "eu-west-1",
      server: "silo",
      os: "debian",
      monitoring: true,
      adopt: false,
      port: 9000,
      consolePort: 9001,
      tls: false,
      textfileCollectorDir: "/var/lib/prometheus/node-exporter",
    },
    lifecycles: [],
  });
  const args: PostgresDumpJobArgs = {
    database: {
      name: "app",
      namespace: "apps",
      host: "app-postgresql",
      port: 5432,
      database: "app",
      user: "postgres",
      passwordSecret: { name: "app-postgresql", key: "postgres-password" },
      mode: "database",
      image: "postgres:17.6-alpine3.22",
      lockTimeout: "2m",
    },
    schedule: "15 3 * * *",
    hub: hub.connection,
    credentials: hub.writer("postgres"),
  };
  const job = new PostgresDumpJob("pg-app", args);
  restoreCommand = await valueOf(job.restoreCommand);
  await settle();
});

describe("components/index.ts as a library", () => {
  it("registers nothing on import", () => {
    expect(registeredByImport).toBe(0);
  });

  it("exports every component class under components/", () => {
    const dir = path.resolve(__dirname, "../../components");
    const classes = readdirSync(dir, { recursive: true, encoding: "utf8" })
      .filter((f) => f.endsWith(".ts"))
      .flatMap((f) =>
        [
          ...readFileSync(path.join(dir, f), "utf8").matchAll(/export class (\w+) extends pulumi\.ComponentResource/g),
        ].map((m) => m[1]),
      );
    expect(classes.length).toBeGreaterThan(10);
    expect(classes.filter((c) => typeof library[c] !== "function")).toEqual([]);
  });

  it("builds only what the caller asked for: one hub, one dump job, no stack program", () => {
    const components = rec.resources.filter((r) => !r.custom).map((r) => `${r.type} ${r.name}`);
    expect(components).toContain("homelab-backup:index:BackupHub backups");
    expect(components).toContain("homelab-backup:index:PostgresDumpJob pg-app");
    expect(rec.resources.some((r) => r.type === "homelab-backup:index:Velero")).toBe(false);
    expect(rec.resources.some((r) => r.type === "homelab-backup:index:BackupAlerts")).toBe(false);
  });

  it("gives the dump job the caller's schedule, namespace and the hub's bucket", () => {
    const cj = rec.one("kubernetes:batch/v1:CronJob", "pg-app-cronjob");
    expect(cj.inputs.metadata.namespace).toBe("apps");
    expect(cj.inputs.spec.schedule).toBe("15 3 * * *");
    expect(rec.one("aws:s3/bucket:Bucket", "backups-bucket").inputs.bucket).toBe("my-backups");
    expect(restoreCommand).toContain("apps");
  });
});
