/**
 * With `longhorn.target: ftpBridge`, Longhorn's BackupTarget is patched only after the bridge's
 * Deployment: the whole stack is built under the mock runtime and the dependencies each registration
 * sends to the engine are read from the monitor. The Kubernetes provider reports a Deployment created
 * only once it is ready (doc comment of k8s.apps.v1.Deployment in @pulumi/kubernetes), so a dependency
 * on it is a dependency on a serving bridge.
 */
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { parseStackConfig } from "../../components/config.js";
import { installMocks, recordingMocks, settle, unwrapSecrets, type RecordingMocks } from "../../tools/mocks.js";

const stackFile = {
  "homelab-backup:longhorn": JSON.stringify({
    target: "ftpBridge",
    recurringJobs: [{ name: "nightly", cron: "0 5 * * *", task: "backup", retain: 7, groups: ["default"] }],
  }),
  "homelab-backup:ftpBridge": JSON.stringify({ ftp: { host: "ftp.example.org", user: "homelab" } }),
  "homelab-backup:hub": JSON.stringify({ kind: "aws", bucket: "homelab-backups" }),
  "homelab-backup:ftpBridgePassword": "ftp-password",
};

describe("Longhorn's target waits for the FTP bridge (mock runtime)", () => {
  let rec: RecordingMocks;
  const deps = new Map<string, string[]>();
  const urns = new Map<string, string>();
  beforeAll(async () => {
    rec = recordingMocks();
    await installMocks(rec);
    const monitor: any = (pulumi.runtime as any).getMonitor();
    const inner = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req: any, cb: any) => {
      deps.set(req.getName(), req.getDependenciesList());
      return inner(req, (err: any, resp: any) => {
        if (resp) urns.set(req.getName(), resp.getUrn());
        cb(err, resp);
      });
    };
    const { backupStack } = await import("../../components/stack.js");
    backupStack(parseStackConfig(stackFile), (key) =>
      key === "ftpBridgePassword" ? pulumi.secret("ftp-password") : undefined,
    );
    await settle();
  });

  it("patches the BackupTarget after the bridge Deployment, whose readiness the provider awaits", () => {
    const deployment = urns.get("ftp-bridge-deployment");
    expect(deployment).toBeDefined();
    expect(
      deps.get("longhorn-backup-target"),
      JSON.stringify([...deps.entries()].filter(([k]) => k.startsWith("longhorn"))),
    ).toContain(deployment);
    const d = unwrapSecrets(rec.one("kubernetes:apps/v1:Deployment", "ftp-bridge-deployment").inputs);
    expect(d.metadata.annotations?.["pulumi.com/skipAwait"]).toBeUndefined();
    const target = unwrapSecrets(
      rec.one("kubernetes:longhorn.io/v1beta2:BackupTargetPatch", "longhorn-backup-target").inputs,
    );
    expect(JSON.stringify(target)).toContain("s3://longhorn-backups@us-east-1/longhorn/");
  });
});
