/** The Pi hub's server section of plan.md, pure: read from the release table it documents. */
import { describe, expect, it } from "vitest";
import { PINNED_RELEASES } from "../../components/hub/releases.js";
import { piServerPlan, type PiServerPlanInput } from "../../components/hub/pi/serverPlan.js";

const hub = (over: Partial<PiServerPlanInput> = {}): PiServerPlanInput => ({
  server: "silo",
  os: "debian",
  host: "backup-pi.lan",
  port: 9000,
  tls: false,
  dataDir: "/mnt/hdd/s3",
  monitoring: true,
  ...over,
});

describe("plan.md: the hub's server", () => {
  it("says which server runs where and how it was installed: release, every asset with its sha256 and source", () => {
    const md = piServerPlan(hub());
    expect(md).toContain(
      `Silo (the maintained MinIO fork) ${PINNED_RELEASES.silo.version} runs on a Debian host (backup-pi.lan) as \`silo.service\``,
    );
    for (const r of [PINNED_RELEASES.silo, PINNED_RELEASES.mcli]) {
      for (const a of Object.values(r.assets)) {
        expect(md).toContain(`[${a.name}](${a.url})`);
        expect(md).toContain(`\`${a.sha256}\``);
      }
      expect(md).toContain(r.source);
    }
    expect(md).not.toContain("dl.min.io");
    expect(md).toContain("### What the hub guarantees, and what it cannot");
    expect(md).toMatch(/cannot survive its own disk/);
    expect(md).toContain("### Migrating a MinIO hub to Silo");
    expect(md).toMatch(/stops and disables `minio\.service`/);
  });

  it("NixOS: installed by the module, pulumi up writes only the credentials file and the off-site config", () => {
    const md = piServerPlan(hub({ os: "nixos" }));
    expect(md).toContain("runs on a NixOS host (backup-pi.lan) as `minio.service (services.minio)`");
    expect(md).toContain("files/homelab-backup-hub.nix");
    expect(md).toContain("/var/lib/homelab-backup/server.env");
    expect(md).toMatch(/nixos-rebuild switch/);
  });

  it("RustFS: the pinned 1.0.0 musl assets, and what having no Prometheus metrics means", () => {
    const md = piServerPlan(hub({ server: "rustfs" }));
    expect(md).toContain(`RustFS ${PINNED_RELEASES.rustfs.version} runs on`);
    expect(md).toContain(PINNED_RELEASES.rustfs.assets.arm64.sha256);
    expect(md).toMatch(/RustFS exports no Prometheus metrics.*alerts\.bucketQuotaGiB has nothing to read/);
    expect(md).not.toContain("homelab-backup-hub-silo");
    expect(md).not.toContain("Migrating a MinIO hub");
  });

  it("a version the stack pins itself is documented with the stack's sha256", () => {
    const md = piServerPlan(
      hub({ server: "rustfs", version: "1.0.1", sha256: { arm64: "1".repeat(64), amd64: "2".repeat(64) } }),
    );
    expect(md).toContain("rustfs-linux-aarch64-musl-v1.0.1.zip");
    expect(md).toContain("1".repeat(64));
    expect(md).toContain("hub.version and hub.sha256 in the stack file");
  });
});
