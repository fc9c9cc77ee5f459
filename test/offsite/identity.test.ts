/**
 * The off-site copy's resources stay the same resources in the engine whichever component builds them
 * (components/offsite/identity.ts): a stack deployed before the split (one OffsiteSync component) and a
 * stack that moves between `runOn: hub` and `runOn: cluster` keep the component and the generated crypt
 * key, which a new key would make the copy on the FTP server unreadable without. Both components are
 * registered under the mocks, each in a run of its own, and matched as the engine matches an update
 * against the earlier deployment (tools/urns.ts).
 */
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { offsiteOf, parseStackConfig } from "../../components/config.js";
import { hubConnection } from "../../components/core/hubConnection.js";
import { piHubOf } from "../../components/hub/schema.js";
import { installMocks, recordingMocks, settle, type RecordingMocks } from "../../tools/mocks.js";
import { matchOldResources } from "../../tools/urns.js";
import { registrationsOf } from "../support/urnBaseline.js";

const PREFIX = "urn:pulumi:homelab::homelab-backup::";
const KEY = "random:index/randomBytes:RandomBytes";
const T = {
  sync: "homelab-backup:index:OffsiteSync",
  hubTimer: "homelab-backup:index:OffsiteHubTimer",
  cronJob: "homelab-backup:index:OffsiteCronJob",
};

const stack = parseStackConfig({
  "homelab-backup:hub": JSON.stringify({
    kind: "pi",
    bucket: "backups",
    host: "backup1.lan",
    ssh: { user: "pi" },
    dataDir: "/mnt/backup-hdd",
  }),
  "homelab-backup:hubSshPrivateKey": "k",
  "homelab-backup:offsiteFtpPassword": "pw",
  "homelab-backup:offsite": JSON.stringify({ ftp: { host: "ftp.box.com", user: "me@example.com" } }),
});
const common = {
  hub: hubConnection(stack.hub!),
  ftpPassword: pulumi.secret("pw"),
  reader: { accessKeyId: pulumi.secret("id"), secretAccessKey: pulumi.secret("secret") },
};

let onHub: RecordingMocks;
let inCluster: RecordingMocks;

beforeAll(async () => {
  const { OffsiteHubTimer } = await import("../../components/offsite/offsiteHubTimer.js");
  const { OffsiteCronJob } = await import("../../components/offsite/offsiteCronJob.js");
  onHub = recordingMocks();
  await installMocks(onHub);
  new OffsiteHubTimer("offsite", {
    ...common,
    config: offsiteOf(stack)!,
    hubConfig: piHubOf(stack.hub!),
    sshPrivateKey: pulumi.secret("PRIVATE KEY"),
  });
  await settle();
  inCluster = recordingMocks();
  await installMocks(inCluster);
  new OffsiteCronJob("offsite", { ...common, config: { ...offsiteOf(stack)!, runOn: "cluster" } });
  await settle();
});

const urns = (rec: RecordingMocks) => new Set(rec.resources.map((r) => r.urn!));
const typed = (type: string, rest = "") => `${PREFIX}${type}${rest}`;

describe("the off-site copy's identity in the engine", () => {
  it("each component names the other two types as aliases", () => {
    expect(onHub.one(T.hubTimer, "offsite").options!.aliases).toEqual([
      typed(T.sync, "::offsite"),
      typed(T.cronJob, "::offsite"),
    ]);
    expect(inCluster.one(T.cronJob, "offsite").options!.aliases).toEqual([
      typed(T.sync, "::offsite"),
      typed(T.hubTimer, "::offsite"),
    ]);
  });

  it("a stack deployed before the split keeps the component, the key and every hub resource", () => {
    // What OffsiteSync registered for the same stack: the same children under the retired type.
    const before = new Set([...urns(onHub)].map((u) => u.replace(T.hubTimer, T.sync)));
    expect(before).toContain(typed(T.sync, `$${KEY}::offsite-key`));
    const match = matchOldResources(registrationsOf(onHub.resources), before);
    expect(match.deleted).toEqual([]);
    expect(match.created).toEqual([]);
    expect(match.errors).toEqual([]);
  });

  it("moving from the hub to the cluster keeps the component and the key, deletes the hub's resources only", () => {
    const match = matchOldResources(registrationsOf(inCluster.resources), urns(onHub));
    expect(match.errors).toEqual([]);
    expect(match.matched.get(typed(T.cronJob, `$${KEY}::offsite-key`))).toBe(typed(T.hubTimer, `$${KEY}::offsite-key`));
    expect(match.matched.get(typed(T.cronJob, "::offsite"))).toBe(typed(T.hubTimer, "::offsite"));
    expect(match.deleted.every((u) => u.includes("$command:remote:"))).toBe(true);
    expect(match.created.every((u) => u.includes("$kubernetes:"))).toBe(true);
  });

  it("moving from the cluster to the hub keeps the component and the key", () => {
    const match = matchOldResources(registrationsOf(onHub.resources), urns(inCluster));
    expect(match.errors).toEqual([]);
    expect(match.matched.get(typed(T.hubTimer, `$${KEY}::offsite-key`))).toBe(typed(T.cronJob, `$${KEY}::offsite-key`));
    expect(match.deleted.every((u) => u.includes("$kubernetes:"))).toBe(true);
  });

  it("without the aliases the key would be deleted and generated again", () => {
    const bare = registrationsOf(inCluster.resources).map((r) => ({ ...r, aliases: [] }));
    const match = matchOldResources(bare, urns(onHub));
    expect(match.deleted).toContain(typed(T.hubTimer, `$${KEY}::offsite-key`));
    expect(match.created).toContain(typed(T.cronJob, `$${KEY}::offsite-key`));
  });
});
