/** Which server releases a hub accepts: pure checks, no mocks. */
import { describe, expect, it } from "vitest";
import {
  compareSemVer,
  parseSemVer,
  PINNED_RELEASES,
  serverRelease,
  serverVersionError,
  siloPackageVersion,
} from "../../components/hub/releases.js";

describe("RustFS must be >= 1.0.0", () => {
  it.each(["1.0.0-alpha.67", "1.0.0-alpha.87", "1.0.0-beta.12", "1.0.0-rc.5", "0.9.9", "v1.0.0-rc.1"])(
    "refuses %s, saying why",
    (v) => {
      expect(serverVersionError("rustfs", v)).toMatch(
        new RegExp(`RustFS ${v.replace(/\./g, "\\.")} is older than 1\\.0\\.0.*CVE-2025-68926`),
      );
    },
  );
  it.each(["1.0.0", "v1.0.0", "1.0.1", "1.0.1-preview.12", "1.2.0", "2.0.0"])("accepts %s", (v) => {
    expect(serverVersionError("rustfs", v)).toBeUndefined();
  });
  it("refuses latest and non-versions", () => {
    expect(serverVersionError("rustfs", "latest")).toMatch(/never "latest"/);
    expect(serverVersionError("rustfs", "main")).toMatch(/not a RustFS release/);
  });
});

describe("Silo releases", () => {
  it("are RELEASE tags", () => {
    expect(serverVersionError("silo", "RELEASE.2026-09-16T00-00-00Z")).toBeUndefined();
    expect(serverVersionError("silo", "2026-09-16")).toMatch(/not a Silo release tag/);
    expect(siloPackageVersion("RELEASE.2026-09-03T13-18-01Z")).toBe("20260903131801.0.0");
  });
});

describe("semantic-version precedence (semver.org §11)", () => {
  it("orders pre-releases below the release and numerically", () => {
    const order = [
      "1.0.0-alpha.9",
      "1.0.0-alpha.67",
      "1.0.0-alpha.beta",
      "1.0.0-beta.2",
      "1.0.0-beta.11",
      "1.0.0-rc.1",
      "1.0.0",
      "1.0.1-preview.12",
      "1.0.1",
    ];
    const parsed = order.map((v) => parseSemVer(v)!);
    for (let i = 1; i < parsed.length; i++)
      expect(compareSemVer(parsed[i - 1], parsed[i]), `${order[i - 1]} < ${order[i]}`).toBeLessThan(0);
  });
});

describe("serverRelease", () => {
  it("is the pinned release by default and for the pinned version", () => {
    expect(serverRelease("silo")).toBe(PINNED_RELEASES.silo);
    expect(serverRelease("rustfs", "v1.0.0")).toBe(PINNED_RELEASES.rustfs);
  });
  it("needs a sha256 per architecture for any other version", () => {
    expect(() => serverRelease("rustfs", "1.0.1")).toThrow(
      /hub\.sha256 needs the published sha256 of the 1\.0\.1 asset for arm64 and amd64/,
    );
    const r = serverRelease("rustfs", "1.0.1", { arm64: "A".repeat(64), amd64: "b".repeat(64) });
    expect(r.assets.arm64).toEqual({
      name: "rustfs-linux-aarch64-musl-v1.0.1.zip",
      url: "https://github.com/rustfs/rustfs/releases/download/1.0.1/rustfs-linux-aarch64-musl-v1.0.1.zip",
      sha256: "a".repeat(64),
    });
  });
});
