/** The Pi hub's server section of plan.md, pure: read from the release table it documents. */
import { describe, expect, it } from "vitest";
import { PINNED_RELEASES } from "../../components/hub/releases.js";
import { piHubApis, piServerPlan, type PiServerPlanInput } from "../../components/hub/pi/serverPlan.js";

const hub = (over: Partial<PiServerPlanInput> = {}): PiServerPlanInput => ({
  server: "silo",
  os: "debian",
  host: "backup-pi.lan",
  port: 9000,
  tls: false,
  dataDir: "/mnt/hdd/s3",
  monitoring: true,
  bucket: "homelab-backups",
  writers: ["longhorn", "postgres"],
  ...over,
});

describe("plan.md: which API configures what on a Pi hub, and what the move from the mcli step changes", () => {
  it("bucket settings through the S3 API; identities through madmin on Silo", () => {
    const rows = Object.fromEntries(piHubApis(hub()));
    expect(rows.bucket).toMatch(/^S3 API: CreateBucket/);
    expect(rows.versioning).toMatch(/^S3 API: PutBucketVersioning/);
    expect(rows.lifecycle).toMatch(/^S3 API: PutBucketLifecycleConfiguration/);
    expect(rows["object lock"]).toMatch(/not asked/);
    expect(rows["writer users and canned policies"]).toMatch(/^madmin \(`\/minio\/admin\/v3`/);
    expect(Object.fromEntries(piHubApis(hub({ objectLock: { mode: "GOVERNANCE", days: 7 } })))["object lock"]).toMatch(
      /PutObjectLockConfiguration/,
    );
  });

  it("identities through RustFS's own API over https, its madmin alias over plain http", () => {
    const over = (tls: boolean) =>
      Object.fromEntries(piHubApis(hub({ server: "rustfs", tls })))["writer users and canned policies"];
    expect(over(true)).toMatch(/^RustFS's own admin API \(`\/rustfs\/admin\/v3`/);
    expect(over(false)).toMatch(/^RustFS's madmin alias \(`\/minio\/admin\/v3`/);
  });

  it("says the machine running pulumi up must reach the S3 port, and that no key changes from the old path", () => {
    const md = piServerPlan(hub());
    expect(md).toContain("must now reach the hub's S3 port, `http://backup-pi.lan:9000` (before, only SSH");
    expect(md).toMatch(/moves over with \*\*no key change\*\*/);
    expect(md).toContain("same access keys (`<writer>-backup`) and the same secrets");
    expect(md).toContain("canned policies keep their names (`homelab-backup-<writer>`), so each is replaced in place");
    expect(md).toContain("The old configure step's Command leaves the state with no remote action");
    expect(md).toContain("(`longhorn`, `postgres`)");
    expect(piServerPlan(hub({ tls: true }))).toContain("`https://backup-pi.lan:9000`");
  });
});

describe("plan.md: the hub's server", () => {
  it("says which server runs where and how it was installed: release, every asset with its sha256 and source", () => {
    const md = piServerPlan(hub());
    expect(md).toContain(
      `Silo (the maintained MinIO fork) ${PINNED_RELEASES.silo.version} runs on a Debian host (backup-pi.lan) as \`silo.service\``,
    );
    const r = PINNED_RELEASES.silo;
    for (const a of Object.values(r.assets)) {
      expect(md).toContain(`[${a.name}](${a.url})`);
      expect(md).toContain(`\`${a.sha256}\``);
    }
    expect(md).toContain(r.source);
    expect(md).not.toContain("dl.min.io");
    expect(md).not.toMatch(/mcli_|pgsty\/mc\//);
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
