/** The stack schema's s3 hub checks (components/hub/s3/s3Stack.ts through parseStackConfig): each refusal names its key. */
import { describe, expect, it } from "vitest";
import { parseStackConfig, StackConfigError, type ConfigProblem } from "../../components/config.js";
import { hubConnection } from "../../components/core/hubConnection.js";
import { rcloneS3Provider } from "../../components/core/rclone.js";
import { hubWritersInUse } from "../../components/hub/rights.js";

const db = { name: "wiki", namespace: "wiki", host: "postgres", passwordSecret: { name: "pg", key: "password" } };

function problems(raw: Record<string, unknown>): ConfigProblem[] {
  try {
    parseStackConfig(raw);
  } catch (e) {
    if (e instanceof StackConfigError) return e.problems;
    throw e;
  }
  return [];
}
const hub = (h: Record<string, unknown>) => ({
  "homelab-backup:hub": { kind: "s3", bucket: "nas-backups", endpoint: "https://nas.lan:3900", ...h },
});

describe("hub.kind s3 in the stack file", () => {
  it("parses a ceph-rgw hub managed with the admin key, and connects path-style to its endpoint", () => {
    const stack = parseStackConfig({
      ...hub({
        flavor: "ceph-rgw",
        manage: "admin",
        adminAccessKeyId: "ADMIN",
        objectLock: { mode: "GOVERNANCE", days: 7 },
      }),
      "homelab-backup:postgres": { databases: [db] },
      "homelab-backup:hubAdminPassword": "secret",
    });
    expect(hubConnection(stack.hub!)).toEqual({
      kind: "s3",
      endpoint: "https://nas.lan:3900",
      bucket: "nas-backups",
      region: "us-east-1",
      pathStyle: true,
      server: "ceph-rgw",
    });
    expect(rcloneS3Provider("ceph-rgw")).toBe("Ceph");
    expect(rcloneS3Provider("silo")).toBe("Minio");
  });

  it("refuses object lock on Garage, naming hub.objectLock", () => {
    const found = problems({
      ...hub({ flavor: "garage", manage: "none", objectLock: { mode: "GOVERNANCE", days: 7 } }),
      "homelab-backup:longhorn": {},
      "homelab-backup:hubWriterKeys": JSON.stringify({ longhorn: { accessKeyId: "a", secretAccessKey: "b" } }),
    });
    expect(found.map((p) => p.path)).toContain("hub.objectLock");
    expect(found.find((p) => p.path === "hub.objectLock")!.message).toMatch(/cannot be enforced by flavor "garage"/);
  });

  it("refuses Garage for a stack with postgres (append-only writer), naming hub.flavor", () => {
    const found = problems({
      ...hub({ flavor: "garage", manage: "none" }),
      "homelab-backup:postgres": { databases: [db] },
      "homelab-backup:hubWriterKeys": JSON.stringify({ postgres: { accessKeyId: "a", secretAccessKey: "b" } }),
    });
    expect(found).toEqual([
      {
        path: "hub.flavor",
        message: expect.stringMatching(/cannot give a writer put without delete.*postgres needs an append-only writer/),
      },
    ]);
  });

  it("refuses manage: none without hubWriterKeys, naming the secret key", () => {
    const found = problems({ ...hub({ flavor: "generic" }), "homelab-backup:etcd": {} });
    expect(found).toEqual([
      {
        path: "homelab-backup:hubWriterKeys",
        message: expect.stringMatching(/is required with hub.kind s3 and manage: none: .* for etcd/),
      },
    ]);
  });

  it("refuses hubWriterKeys that lack a writer the stack uses", () => {
    const found = problems({
      ...hub({ manage: "none" }),
      "homelab-backup:etcd": {},
      "homelab-backup:postgres": { databases: [db] },
      "homelab-backup:hubWriterKeys": "etcd: {accessKeyId: a, secretAccessKey: b}",
    });
    expect(found).toEqual([
      { path: "homelab-backup:hubWriterKeys", message: 'has no key for writer "postgres" (used by postgres)' },
    ]);
  });

  it("requires the endpoint, and the admin key id and secret with manage: admin", () => {
    const found = problems({
      "homelab-backup:hub": { kind: "s3", bucket: "b-backups", flavor: "ceph-rgw", manage: "admin" },
      "homelab-backup:etcd": {},
    });
    expect(found.map((p) => p.path).sort()).toEqual([
      "homelab-backup:hubAdminPassword",
      "hub.adminAccessKeyId",
      "hub.endpoint",
    ]);
  });

  it("refuses an endpoint with a path, and s3-only keys on another hub kind", () => {
    expect(problems({ ...hub({ endpoint: "https://nas.lan/bucket" }) }).map((p) => p.path)).toContain("hub.endpoint");
    const found = problems({
      "homelab-backup:hub": { kind: "aws", bucket: "b-backups", flavor: "garage", endpoint: "https://x.lan" },
    });
    expect(found.map((p) => p.path).sort()).toEqual(["hub.endpoint", "hub.flavor"]);
  });

  it("counts only the writers of configured sections", () => {
    expect(
      hubWritersInUse({ longhorn: { target: "ftpBridge" }, etcd: {}, buckets: { mirrors: [] } }).map((w) => w.name),
    ).toEqual(["etcd"]);
  });
});
