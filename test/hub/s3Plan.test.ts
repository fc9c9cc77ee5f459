/**
 * plan.md says, per s3 flavor, which API configures what, and which guarantees the server cannot give
 * (issue 29): the bucket through the S3 API, the writers through the flavor's own admin API.
 */
import { describe, expect, it } from "vitest";
import { parseStackConfig } from "../../components/config.js";
import { hubConnection } from "../../components/core/hubConnection.js";
import { s3HubGuarantees, s3HubSummary } from "../../components/hub/s3/s3Plan.js";

function s3Hub(flavor: string, extra: Record<string, unknown> = {}) {
  const stack = parseStackConfig({
    "homelab-backup:hub": JSON.stringify({
      kind: "s3",
      bucket: "backups",
      endpoint: "https://s3.lan:9000",
      flavor,
      ...extra,
    }),
    "homelab-backup:velero": JSON.stringify({ schedules: [{ name: "daily", cron: "0 2 * * *", ttl: "720h" }] }),
    "homelab-backup:hubAdminPassword": "admin-secret",
    "homelab-backup:hubWriterKeys": "velero: {accessKeyId: V, secretAccessKey: S}",
  });
  return { hub: stack.hub!, conn: hubConnection(stack.hub!) };
}

describe("s3 hub plan text per flavor", () => {
  it("minio and silo: bucket through S3, writers through madmin", () => {
    for (const flavor of ["minio", "silo"]) {
      const { hub, conn } = s3Hub(flavor, { adminAccessKeyId: "admin" });
      expect(s3HubSummary(hub, conn)).toContain(
        "through the S3 API, and one user per writer with its own policy through MinIO's admin API (madmin",
      );
    }
  });

  it("ceph-rgw with manage admin: writers through the RGW admin ops API and IAM user policies", () => {
    const { hub, conn } = s3Hub("ceph-rgw", { manage: "admin", adminAccessKeyId: "admin" });
    expect(s3HubSummary(hub, conn)).toContain("the RGW admin ops API (`/admin/user`) and IAM user policies");
  });

  it("garage: says it cannot give rights per prefix, nor versioning, lock or append-only writers", () => {
    const { hub } = s3Hub("garage", { manage: "none" });
    const text = s3HubGuarantees(hub).join("\n");
    expect(text).toMatch(/Cannot: .*versioning.*object lock.*append-only writers.*rights per prefix/);
    // The status writers stay read-only there, and the plan says what status then cannot show.
    expect(text).toContain("Give the audit and drills keys read rights only");
    expect(s3HubGuarantees(s3Hub("ceph-rgw", { manage: "admin", adminAccessKeyId: "a" }).hub).join("\n")).not.toContain(
      "Give the audit and drills keys read rights only",
    );
  });

  it("the conformance step proves the status records can be written only where the program made those rights", () => {
    const proves = "the audit and the drills can put their status records";
    expect(s3HubGuarantees(s3Hub("ceph-rgw", { manage: "admin", adminAccessKeyId: "a" }).hub).join("\n")).toContain(
      proves,
    );
    expect(s3HubGuarantees(s3Hub("ceph-rgw", { manage: "none" }).hub).join("\n")).not.toContain(proves);
    expect(s3HubGuarantees(s3Hub("garage", { manage: "none" }).hub).join("\n")).not.toContain(proves);
  });
});
