/**
 * The hub keys this project's Pi hubs read, through the real stack-file parser: refusals name the
 * key and say why (server minio, RustFS before 1.0.0, an unpinned release without its sha256,
 * object lock on RustFS), defaults are the contract's (silo, debian, monitoring on), and the hub is
 * required only when a section writes to it.
 */
import { describe, expect, it } from "vitest";
import { parseStackConfig, StackConfigError } from "../../components/config.js";

const piHub = { kind: "pi", bucket: "homelab-backups", host: "hub.lan", ssh: { user: "pi" }, dataDir: "/mnt/backup" };
const db = { name: "wiki", namespace: "wiki", host: "wiki-pg", passwordSecret: { name: "wiki-pg", key: "password" } };
const bridge = { ftp: { host: "ftp.example.net", user: "longhorn" } };

function raw(
  sections: Record<string, unknown>,
  secrets: Record<string, string> = { hubSshPrivateKey: "key" },
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(sections)) out[`homelab-backup:${k}`] = JSON.stringify(v);
  for (const [k, v] of Object.entries(secrets)) out[`homelab-backup:${k}`] = v;
  return out;
}

function problems(
  sections: Record<string, unknown>,
  secrets?: Record<string, string>,
): { path: string; message: string }[] {
  try {
    parseStackConfig(raw(sections, secrets));
  } catch (e) {
    expect(e).toBeInstanceOf(StackConfigError);
    return (e as StackConfigError).problems;
  }
  throw new Error("expected the configuration to be refused");
}

describe("hub.server", () => {
  it("defaults to silo on Debian, with monitoring on", () => {
    const c = parseStackConfig(raw({ hub: piHub }));
    expect(c.hub!).toMatchObject({ server: "silo", os: "debian", monitoring: true });
  });

  it("refuses minio, saying why and that silo replaces it in place", () => {
    const p = problems({ hub: { ...piHub, server: "minio" } });
    expect(p.map((x) => x.path)).toEqual(["hub.server"]);
    expect(p[0].message).toMatch(/can no longer be installed: dl\.min\.io answers 410 Gone/);
    expect(p[0].message).toMatch(/unfixed vulnerabilities \(CVE-2025-62506, CVE-2026-41145/);
    expect(p[0].message).toMatch(/Use server: silo.*replaces a MinIO hub in place/);
  });

  it.each(["1.0.0-alpha.67", "1.0.0-beta.12", "1.0.0-rc.5"])("refuses RustFS %s at hub.version", (version) => {
    const p = problems({
      hub: { ...piHub, server: "rustfs", version, sha256: { arm64: "a".repeat(64), amd64: "b".repeat(64) } },
    });
    expect(p.map((x) => x.path)).toEqual(["hub.version"]);
    expect(p[0].message).toMatch(/older than 1\.0\.0/);
  });

  it("accepts RustFS 1.0.0 (pinned) and a later release with its sha256; refuses a later one without", () => {
    expect(parseStackConfig(raw({ hub: { ...piHub, server: "rustfs", version: "1.0.0" } })).hub!.server).toBe("rustfs");
    expect(
      parseStackConfig(
        raw({
          hub: {
            ...piHub,
            server: "rustfs",
            version: "1.0.1",
            sha256: { arm64: "A".repeat(64), amd64: "b".repeat(64) },
          },
        }),
      ).hub!.sha256,
    ).toEqual({ arm64: "a".repeat(64), amd64: "b".repeat(64) });
    const p = problems({ hub: { ...piHub, server: "rustfs", version: "1.0.1" } });
    expect(p.map((x) => x.path)).toEqual(["hub.sha256"]);
    expect(p[0].message).toMatch(/published sha256 of the 1\.0\.1 asset for arm64 and amd64/);
  });

  it("refuses object lock on RustFS, naming hub.objectLock", () => {
    const p = problems({ hub: { ...piHub, server: "rustfs", objectLock: { mode: "GOVERNANCE", days: 7 } } });
    expect(p.map((x) => x.path)).toEqual(["hub.objectLock"]);
  });

  it("refuses the pi keys on an AWS hub", () => {
    const p = problems(
      { hub: { kind: "aws", bucket: "my-backups", sha256: { arm64: "a".repeat(64), amd64: "b".repeat(64) } } },
      {},
    );
    expect(p.map((x) => x.path)).toEqual(["hub.sha256"]);
  });
});

describe("a hub only when something writes to it", () => {
  it("an FTP-bridge-only stack needs no hub", () => {
    const c = parseStackConfig(
      raw({ ftpBridge: bridge, longhorn: { target: "ftpBridge" } }, { ftpBridgePassword: "pw" }),
    );
    expect(c.hub).toBeUndefined();
  });

  it("a section that writes to the hub requires it, naming the sections", () => {
    const p = problems(
      { postgres: { databases: [db] }, ftpBridge: bridge, longhorn: { target: "ftpBridge" } },
      { ftpBridgePassword: "pw" },
    );
    expect(p.map((x) => x.path)).toEqual(["hub"]);
    expect(p[0].message).toMatch(/postgres writes to it/);
    const lh = problems({ longhorn: {} }, {});
    expect(lh[0]).toMatchObject({ path: "hub" });
    expect(lh[0].message).toMatch(/longhorn \(target: hub\)/);
  });

  it("longhorn.prefix: '' is the bucket root", () => {
    const c = parseStackConfig(raw({ hub: piHub, longhorn: { prefix: "" } }));
    expect(c.longhorn!.prefix).toBe("");
    expect(parseStackConfig(raw({ hub: piHub, longhorn: {} })).longhorn!.prefix).toBe("longhorn/");
  });

  it("longhorn.prefix may not overlap another writer's prefix: a class's or the status records'", () => {
    for (const prefix of ["status/", "status/longhorn/", "velero/lh/", "postgres-backups/"])
      expect(problems({ hub: piHub, longhorn: { prefix } }), prefix).toEqual([
        {
          path: "longhorn.prefix",
          message: expect.stringMatching(/^must not overlap another writer's prefix \(.*status\/\)$/),
        },
      ]);
    expect(parseStackConfig(raw({ hub: piHub, longhorn: { prefix: "etc/" } })).longhorn!.prefix).toBe("etc/");
  });
});
