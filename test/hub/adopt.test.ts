/**
 * `hub.adopt: true` under the mock runtime: the AWS bucket is registered as a Pulumi import of the
 * existing bucket, protected and retained on delete (so `pulumi destroy` never deletes it); without
 * adopt, none of the three is set. Read from the registration requests the engine receives. Also
 * `longhorn.prefix: ""`: Longhorn's target is the bucket root and its writer is still confined to
 * Longhorn's own `backupstore/` tree.
 */
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { parseStackConfig } from "../../components/config.js";
import { WRITERS } from "../../components/core/hubConnection.js";
import { writerPolicies, writerPolicy } from "../../components/hub/iam.js";
import { prefixLifecycles } from "../../components/hub/retention.js";
import { backupTargetUrl } from "../../components/longhorn/logic.js";
import { installMocks, recordingMocks, settle } from "../../tools/mocks.js";

const options = new Map<string, { importId: string; protect: boolean; retainOnDelete: boolean }>();

const stack = (adopt: boolean, bucket: string) =>
  parseStackConfig({
    "homelab-backup:hub": { kind: "aws", bucket, region: "eu-west-1", adopt },
    "homelab-backup:longhorn": { prefix: "" },
  });

beforeAll(async () => {
  const rec = recordingMocks();
  await installMocks(rec);
  const monitor: any = (pulumi.runtime as any).getMonitor();
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req: any, cb: any) => {
    options.set(req.getName(), {
      importId: req.getImportid(),
      protect: req.getProtect(),
      retainOnDelete: req.getRetainondelete(),
    });
    register(req, cb);
  };
  const { BackupHub } = await import("../../components/hub/backupHub.js");
  for (const [name, adopt, bucket] of [
    ["adopted", true, "existing-backups"],
    ["created", false, "new-backups"],
  ] as const) {
    const s = stack(adopt, bucket);
    new BackupHub(name, {
      hub: s.hub!,
      lifecycles: prefixLifecycles(s),
      rights: { inUse: WRITERS, policies: writerPolicies(s.hub!.bucket, { longhornPrefix: "" }) },
    });
  }
  await settle();
});

describe("hub.adopt", () => {
  it("imports the existing bucket, protects it and keeps it on delete", () => {
    expect(options.get("adopted-bucket")).toEqual({
      importId: "existing-backups",
      protect: true,
      retainOnDelete: true,
    });
  });

  it("creates (and may delete) a bucket that is not adopted", () => {
    expect(options.get("created-bucket")).toEqual({ importId: "", protect: false, retainOnDelete: false });
  });

  it("is refused on a pi hub, naming the key", () => {
    expect(() =>
      parseStackConfig({
        "homelab-backup:hub": {
          kind: "pi",
          bucket: "b-ackups",
          host: "h.lan",
          ssh: { user: "pi" },
          dataDir: "/srv/s3",
          adopt: true,
        },
        "homelab-backup:hubSshPrivateKey": "k",
      }),
    ).toThrow(/hub\.adopt/);
  });
});

describe("longhorn.prefix: the bucket root", () => {
  it("points Longhorn at s3://bucket@region/ and keeps its writer inside backupstore/", () => {
    expect(backupTargetUrl("existing-backups", "eu-west-1", "")).toBe("s3://existing-backups@eu-west-1/");
    const doc = JSON.stringify(writerPolicy("longhorn", "existing-backups", { longhornPrefix: "" }));
    expect(doc).toContain("arn:aws:s3:::existing-backups/backupstore/*");
    expect(doc).not.toContain("arn:aws:s3:::existing-backups/*");
    expect(prefixLifecycles(stack(true, "existing-backups")).map((l) => l.prefix)).toEqual(["backupstore/"]);
  });
});
