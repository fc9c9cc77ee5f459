/**
 * Every binary a Pi hub downloads, pinned: the S3 server (Silo or RustFS). No client is installed:
 * `pulumi up` configures the bucket and users through the server's own APIs. Each entry names the release, the GitHub release asset per architecture and the
 * sha256 that release publishes for it; install-server.sh refuses any download whose sha256 differs,
 * before anything is installed. Nothing comes from dl.min.io, which answers 410 Gone for every
 * community MinIO build (see components/hub/README.md, "Where the hub's binaries come from").
 *
 * Pure data and pure checks: the schema, the component, the NixOS module and the plan all read it.
 */

/** The architectures a hub can run on (64-bit only: no server is published for 32-bit ARM). */
export const HUB_ARCHES = ["arm64", "amd64"] as const;
export type HubArch = (typeof HUB_ARCHES)[number];

/** The S3 servers a Pi hub can run. `minio` is not one of them (see `serverRefusal`). */
export const HUB_SERVERS = ["silo", "rustfs"] as const;
export type HubServer = (typeof HUB_SERVERS)[number];

/** One downloadable file of a release. */
export interface ReleaseAsset {
  /** The asset's file name on the release page. */
  readonly name: string;
  /** Where it is downloaded from (a GitHub release asset). */
  readonly url: string;
  /** Its published sha256, lowercase hex. */
  readonly sha256: string;
}

/** A pinned release: its tag, one asset per architecture, the binary inside the archive, and where the checksums were read. */
export interface PinnedRelease {
  /** What it is, for people (plan, README). */
  readonly product: string;
  /** The release tag as the project names it. */
  readonly version: string;
  /** The executable inside the archive, installed under this name. */
  readonly binary: string;
  readonly assets: Readonly<Record<HubArch, ReleaseAsset>>;
  /** Where the version, asset names and checksums were read (cited in the plan and README). */
  readonly source: string;
  readonly license: string;
}

const SILO_RELEASES = "https://github.com/pgsty/silo/releases/download";
const RUSTFS_RELEASES = "https://github.com/rustfs/rustfs/releases/download";

/** `RELEASE.2026-09-16T00-00-00Z` → `20260916000000.0.0`, the version in Silo's asset names. */
export function siloPackageVersion(release: string): string {
  const m = /^RELEASE\.(\d{4})-(\d{2})-(\d{2})T(\d{2})-(\d{2})-(\d{2})Z$/.exec(release);
  if (!m) throw new Error(`"${release}" is not a Silo release tag (RELEASE.YYYY-MM-DDTHH-MM-SSZ)`);
  return `${m.slice(1).join("")}.0.0`;
}

function siloAsset(release: string, arch: HubArch, sha256: string): ReleaseAsset {
  const name = `silo_${siloPackageVersion(release)}_linux_${arch}.tar.gz`;
  return { name, url: `${SILO_RELEASES}/${release}/${name}`, sha256 };
}

/** RustFS names architectures the Rust way; the musl build runs on Debian 12 (the gnu build needs glibc >= 2.39). */
const RUSTFS_MACHINE: Record<HubArch, string> = { arm64: "aarch64", amd64: "x86_64" };

function rustfsAsset(version: string, arch: HubArch, sha256: string): ReleaseAsset {
  const name = `rustfs-linux-${RUSTFS_MACHINE[arch]}-musl-v${version}.zip`;
  return { name, url: `${RUSTFS_RELEASES}/${version}/${name}`, sha256 };
}

const SILO_VERSION = "RELEASE.2026-09-16T00-00-00Z";
const RUSTFS_VERSION = "1.0.0";

/**
 * The releases this project pins. Checksums: Silo from the sha256 lines of the fork's own
 * Homebrew tap (pgsty/homebrew-infra, Formula/silo.rb, which its release job
 * updates from the release's checksum files); RustFS from the release's SHA256SUMS as copied into
 * third-party pins (see components/hub/README.md for what could and could not be cross-checked).
 */
export const PINNED_RELEASES = {
  silo: {
    product: "Silo (pgsty/silo, the maintained MinIO fork)",
    version: SILO_VERSION,
    binary: "silo",
    assets: {
      arm64: siloAsset(SILO_VERSION, "arm64", "6e697d3e1d70f2343fe829cd6820a0b840d4619f1dde546424de80e529636ed2"),
      amd64: siloAsset(SILO_VERSION, "amd64", "381e745510a8fb64323d7bb3207f95984b7f4ed826f4fcad318f97683c420c73"),
    },
    source: "https://github.com/pgsty/homebrew-infra/blob/main/Formula/silo.rb",
    license: "AGPL-3.0-or-later",
  },
  rustfs: {
    product: "RustFS",
    version: RUSTFS_VERSION,
    binary: "rustfs",
    assets: {
      arm64: rustfsAsset(RUSTFS_VERSION, "arm64", "88202c0446d0aa31fa475b1dc8cdb92f6d32e62d6f34a63f2018899c1943f100"),
      amd64: rustfsAsset(RUSTFS_VERSION, "amd64", "c30a95b76546f25122c9ca387090ddb30c391ca5605621b0d7c881703c0f21c8"),
    },
    source: `${RUSTFS_RELEASES}/${RUSTFS_VERSION}/SHA256SUMS`,
    license: "Apache-2.0",
  },
} as const satisfies Record<HubServer, PinnedRelease>;

/** Why `server: minio` is refused: said where the stack file is checked. */
export const MINIO_REFUSAL =
  'is "minio", which can no longer be installed: dl.min.io answers 410 Gone for every community MinIO build since September 2026, ' +
  "and the last community release (RELEASE.2025-09-07T16-13-09Z) has unfixed vulnerabilities (CVE-2025-62506, CVE-2026-41145: anyone who knows an access key can write objects). " +
  'Use server: silo, the maintained MinIO fork: it keeps MinIO\'s on-disk format, MINIO_* settings and API paths, so it replaces a MinIO hub in place (same dataDir, data kept; see "Migrating a MinIO hub to Silo" in plan.md)';

/** The lowest RustFS release the hub accepts: 1.0.0 (GA). Earlier ones lack the MinIO admin API alias and carry CVE-2025-68926. */
export const RUSTFS_MINIMUM = "1.0.0";

interface SemVer {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
  readonly pre: readonly string[];
}

/** A semantic version (`1.0.0`, `v1.0.1-preview.12`, `1.0.0-alpha.67`), or undefined. */
export function parseSemVer(v: string): SemVer | undefined {
  const m = /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z.-]+))?$/.exec(v);
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]), pre: m[4] ? m[4].split(".") : [] };
}

/** Semantic-version precedence (semver.org §11): negative when a < b. */
export function compareSemVer(a: SemVer, b: SemVer): number {
  for (const k of ["major", "minor", "patch"] as const) if (a[k] !== b[k]) return a[k] - b[k];
  if (a.pre.length === 0 || b.pre.length === 0) return (a.pre.length === 0 ? 1 : 0) - (b.pre.length === 0 ? 1 : 0);
  for (let i = 0; i < Math.min(a.pre.length, b.pre.length); i++) {
    const [x, y] = [a.pre[i], b.pre[i]];
    const [nx, ny] = [/^\d+$/.test(x), /^\d+$/.test(y)];
    if (nx && ny && Number(x) !== Number(y)) return Number(x) - Number(y);
    if (nx !== ny) return nx ? -1 : 1;
    if (!nx && x !== y) return x < y ? -1 : 1;
  }
  return a.pre.length - b.pre.length;
}

/**
 * Why `version` cannot be installed as `server` (undefined when it can). Checked by the stack schema
 * at `hub.version`: a Silo tag must be a RELEASE.… tag, RustFS must be >= 1.0.0.
 */
export function serverVersionError(server: HubServer, version: string): string | undefined {
  if (version.toLowerCase() === "latest") return 'must be a pinned release, never "latest"';
  if (server === "silo") {
    return /^RELEASE\.\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}Z$/.test(version)
      ? undefined
      : `"${version}" is not a Silo release tag (RELEASE.YYYY-MM-DDTHH-MM-SSZ, e.g. ${SILO_VERSION})`;
  }
  const v = parseSemVer(version);
  if (!v) return `"${version}" is not a RustFS release (a semantic version such as ${RUSTFS_VERSION})`;
  if (compareSemVer(v, parseSemVer(RUSTFS_MINIMUM)!) < 0) {
    return `RustFS ${version} is older than ${RUSTFS_MINIMUM}: releases before 1.0.0 lack the MinIO admin API the hub's users and policies are created through (before 1.0.0-alpha.87) or carry CVE-2025-68926 (before 1.0.0-alpha.77), and object lock and IAM changed until GA; use ${RUSTFS_VERSION} or later`;
  }
  return undefined;
}

/**
 * The release a hub installs: the pinned one, or `version` with the checksums the stack file gives
 * (`hub.sha256`, one per architecture) — a release this project has not pinned is never installed
 * without a sha256 to check it against.
 */
export function serverRelease(
  server: HubServer,
  version?: string,
  sha256?: Partial<Record<HubArch, string>>,
): PinnedRelease {
  const pinned: PinnedRelease = PINNED_RELEASES[server];
  if (
    version === undefined ||
    version === pinned.version ||
    (server === "rustfs" && version.replace(/^v/, "") === pinned.version)
  )
    return pinned;
  const missing = HUB_ARCHES.filter((a) => !sha256?.[a]);
  if (missing.length > 0)
    throw new Error(
      `hub.sha256 needs the published sha256 of the ${version} asset for ${missing.join(" and ")} (hub.version is not the release this project pins)`,
    );
  const assets = Object.fromEntries(
    HUB_ARCHES.map((a) => [
      a,
      server === "silo"
        ? siloAsset(version, a, sha256![a]!.toLowerCase())
        : rustfsAsset(version.replace(/^v/, ""), a, sha256![a]!.toLowerCase()),
    ]),
  ) as Record<HubArch, ReleaseAsset>;
  return { ...pinned, version, assets, source: "hub.version and hub.sha256 in the stack file" };
}

/** `HUB_*_ASSETS` for install-server.sh: `<arch> <url> <sha256>` per architecture, space-separated. */
export function assetsArg(release: PinnedRelease): string {
  return HUB_ARCHES.map((a) => `${a} ${release.assets[a].url} ${release.assets[a].sha256}`).join(" ");
}
