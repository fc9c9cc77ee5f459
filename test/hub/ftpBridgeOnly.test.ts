/**
 * An FTP-bridge-only stack (Longhorn writes to FTP through the bridge, nothing else is configured)
 * through the whole program: no hub at all, so no aws:* resource, no BackupHub or PiHub, no bucket,
 * IAM user, access key or remote command.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { runProgram, type ProgramRun } from "../../tools/harness.js";

let run: ProgramRun;
beforeAll(async () => {
  const config = {
    "homelab-backup:ftpBridge": JSON.stringify({
      ftp: { host: "ftp.example.net", user: "longhorn", path: "/longhorn" },
    }),
    "homelab-backup:longhorn": JSON.stringify({
      target: "ftpBridge",
      recurringJobs: [{ name: "nightly", cron: "0 3 * * *", task: "backup", retain: 7 }],
    }),
    "homelab-backup:ftpBridgePassword": "ftp-bridge-password",
  };
  run = await runProgram(config, ["homelab-backup:ftpBridgePassword"]);
});

describe("FTP-bridge-only stack", () => {
  it("registers the bridge and Longhorn's target, and no hub resource of any kind", () => {
    const types = run.rec.resources.map((r) => r.type);
    expect(types).toContain("homelab-backup:index:S3FtpBridge");
    expect(types).toContain("homelab-backup:index:LonghornBackupTarget");
    expect(types.filter((t) => t.startsWith("aws:"))).toEqual([]);
    expect(types.filter((t) => /BackupHub|PiHub|^command:/.test(t))).toEqual([]);
    // The bridge generates its own S3 key; nothing is named for a hub.
    expect(run.rec.resources.filter((r) => /^hub\b|^hub-/.test(r.name)).map((r) => r.name)).toEqual([]);
  });

  it("exports no hub outputs", async () => {
    expect(run.outputs.hubEndpoint).toBeUndefined();
    expect(run.outputs.hubBucket).toBeUndefined();
  });
});
