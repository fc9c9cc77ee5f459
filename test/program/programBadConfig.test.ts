/**
 * A bad stack file stops the program itself (not only the render) before any resource is registered,
 * with one message per problem naming its key path.
 */
import { expect, it } from "vitest";
import { installMocks, recordingMocks, settle } from "../../tools/mocks.js";
import * as pulumi from "@pulumi/pulumi";

it("registers nothing and names every bad key path", async () => {
  const rec = recordingMocks();
  await installMocks(rec);
  pulumi.runtime.setAllConfig({
    "homelab-backup:hub": JSON.stringify({
      kind: "pi",
      bucket: "Bad_Bucket",
      host: "hub.lan",
      ssh: { user: "pi" },
      dataDir: "relative/dir",
    }),
    "homelab-backup:hubSshPrivateKey": "key",
    "homelab-backup:lognhorn": "{}",
    "homelab-backup:velero": JSON.stringify({ schedules: [{ name: "daily", cron: "0 2 * *", ttl: "720h" }] }),
  });
  const program = (await import("../../index.js")).default;
  let error: Error | undefined;
  try {
    program();
  } catch (e) {
    error = e as Error;
  }
  await settle();
  expect(error, "the program accepted a bad stack file").toBeDefined();
  expect(pulumi.RunError.isInstance(error), "not a RunError: Pulumi would print a stack trace").toBe(true);
  for (const key of ["hub.bucket", "hub.dataDir", "homelab-backup:lognhorn", "velero.schedules[0].cron"])
    expect(error!.message).toContain(key);
  expect(error!.message).toContain('did you mean "longhorn"');
  expect(rec.resources).toEqual([]);
});
