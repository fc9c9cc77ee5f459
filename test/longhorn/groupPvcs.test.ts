/**
 * `longhorn.groupPvcs`: existing PVCs join a group by label, with the source label Longhorn needs to
 * read PVC labels at all, and the LonghornBackupTarget patches exactly those labels onto the PVCs.
 */
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { parseStackConfig } from "../../components/config.js";
import { GROUP_LABEL_PREFIX, SOURCE_LABEL, pvcCoverage, pvcLabelPatches } from "../../components/longhorn/logic.js";
import { installMocks, recordingMocks, settle, unwrapSecrets, type RecordingMocks } from "../../tools/mocks.js";

const piHub = { kind: "pi", bucket: "homelab-backups", host: "hub.lan", ssh: { user: "pi" }, dataDir: "/mnt/backup" };
const longhorn = {
  recurringJobs: [
    { name: "nightly", cron: "0 5 * * *", task: "backup", retain: 7, groups: ["default"] },
    { name: "traefik-backup", cron: "0 4 * * *", task: "backup", retain: 14, groups: ["traefik-only"] },
  ],
  groupPvcs: { "traefik-only": [{ namespace: "traefik", name: "traefik" }] },
};
const parse = (lh: object) =>
  parseStackConfig({
    "homelab-backup:hub": JSON.stringify(piHub),
    "homelab-backup:hubSshPrivateKey": "key",
    "homelab-backup:longhorn": JSON.stringify(lh),
  });

describe("longhorn.groupPvcs", () => {
  it("labels the PVC into exactly its group, with the source label", () => {
    const [p] = pvcLabelPatches(parse(longhorn).longhorn!);
    expect(p).toMatchObject({ namespace: "traefik", name: "traefik", groups: ["traefik-only"], jobs: [] });
    expect(p.labels).toEqual({ [SOURCE_LABEL]: "enabled", [`${GROUP_LABEL_PREFIX}traefik-only`]: "enabled" });
    const coverage = pvcCoverage(parse(longhorn).longhorn!);
    expect(coverage.find((c) => c.job === "traefik-backup")!.pvcsViaGroups).toEqual(["traefik/traefik"]);
    expect(coverage.find((c) => c.job === "nightly")!.pvcsViaGroups).toEqual([]);
  });

  it("merges a PVC named by a job and by a group into one patch", () => {
    const lh = {
      ...longhorn,
      recurringJobs: [
        { ...longhorn.recurringJobs[0], pvcs: [{ namespace: "traefik", name: "traefik" }] },
        longhorn.recurringJobs[1],
      ],
    };
    const patches = pvcLabelPatches(parse(lh).longhorn!);
    expect(patches).toHaveLength(1);
    expect(patches[0].labels).toEqual({
      [SOURCE_LABEL]: "enabled",
      "recurring-job.longhorn.io/nightly": "enabled",
      [`${GROUP_LABEL_PREFIX}traefik-only`]: "enabled",
      [`${GROUP_LABEL_PREFIX}default`]: "enabled",
    });
  });

  it("refuses a group no job is in, naming the key", () => {
    expect(() =>
      parse({ ...longhorn, groupPvcs: { "trafik-only": [{ namespace: "traefik", name: "traefik" }] } }),
    ).toThrow(/longhorn\.groupPvcs\.trafik-only[\s\S]*traefik-only/);
    expect(() =>
      parse({ ...longhorn, groupPvcs: { "traefik-only": [{ namespace: "Traefik", name: "traefik" }] } }),
    ).toThrow(/longhorn\.groupPvcs\.traefik-only\[0\]\.namespace/);
  });
});

describe("LonghornBackupTarget patches groupPvcs onto the PVCs (mock runtime)", () => {
  let rec: RecordingMocks;
  beforeAll(async () => {
    rec = recordingMocks();
    await installMocks(rec);
    const { LonghornBackupTarget } = await import("../../components/longhorn/longhornBackupTarget.js");
    new LonghornBackupTarget("longhorn", {
      config: parse(longhorn).longhorn!,
      target: {
        endpoint: "http://hub.lan:9000",
        bucket: "homelab-backups",
        region: "fr-home-1",
        prefix: "longhorn/",
        pathStyle: true,
        accessKeyId: "AK",
        secretAccessKey: pulumi.secret("SK"),
      },
    });
    await settle();
  });
  it("server-side-applies the group and source labels to traefik/traefik", () => {
    const patch = unwrapSecrets(
      rec.one("kubernetes:core/v1:PersistentVolumeClaimPatch", "longhorn-pvc-traefik-traefik").inputs,
    );
    expect(patch.metadata).toMatchObject({
      name: "traefik",
      namespace: "traefik",
      labels: { [SOURCE_LABEL]: "enabled", [`${GROUP_LABEL_PREFIX}traefik-only`]: "enabled" },
    });
  });
});
