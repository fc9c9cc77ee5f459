/**
 * The Pi hub's server in plan.md: which server runs where, how it was installed (release, asset,
 * sha256, source), which API configures what once it runs (and what changes for a hub configured by
 * the former mcli step), what the hub guarantees and what it cannot, what the cluster's Prometheus
 * sees, and how a MinIO hub becomes a Silo hub. Pure: read from the same release table and scrape
 * targets the component uses.
 */
import { hubScrapeTargets, RUSTFS_METRICS_NOTE } from "./monitoring.js";
import { NIXOS_MODULE_FILE, NIXOS_PATHS } from "./nixos.js";
import { HUB_ARCHES, serverRelease, type HubServer } from "../releases.js";

/** The pi hub fields this section reads. */
export interface PiServerPlanInput {
  readonly server: HubServer;
  readonly os: "debian" | "nixos";
  readonly version?: string;
  readonly sha256?: Partial<Record<"arm64" | "amd64", string>>;
  readonly host: string;
  readonly port: number;
  readonly tls: boolean;
  readonly dataDir: string;
  readonly monitoring: boolean;
  readonly objectLock?: { readonly mode: string; readonly days: number };
  /** The bucket configured through the S3 API. */
  readonly bucket: string;
  /** The writers the stack uses (each gets a user and a canned policy). */
  readonly writers: readonly string[];
}

/** The admin API that configures the writers' users and policies on this server, as the plan names it. */
export function piIdentityApi(server: HubServer, tls: boolean): string {
  if (server === "silo") return "madmin (`/minio/admin/v3`, bodies encrypted as madmin-go sends them)";
  return tls
    ? "RustFS's own admin API (`/rustfs/admin/v3`, plain JSON over https)"
    : "RustFS's madmin alias (`/minio/admin/v3`, bodies encrypted as madmin's, so no secret key crosses plain http in clear)";
}

/**
 * Which API configures what on the Pi hub, one row each: nothing of the bucket or the identities runs
 * over SSH any more (s3/s3Settings.ts, s3/madminWriters.ts through s3-hub.ts).
 */
export function piHubApis(hub: Pick<PiServerPlanInput, "server" | "tls" | "objectLock">): string[][] {
  const identities = piIdentityApi(hub.server, hub.tls);
  return [
    ["bucket", "S3 API: CreateBucket (S3HubBucket)"],
    ["versioning", "S3 API: PutBucketVersioning (S3HubBucket)"],
    ["object lock", hub.objectLock ? "S3 API: PutObjectLockConfiguration (S3HubBucket)" : "not asked (hub.objectLock)"],
    ["lifecycle", "S3 API: PutBucketLifecycleConfiguration (S3HubBucket)"],
    [
      "bucket policy (TLS only)",
      hub.tls ? "S3 API: PutBucketPolicy (S3HubBucket)" : "none: the endpoint is plain http",
    ],
    [
      "writer users and canned policies",
      `${identities}: user \`<writer>-backup\`, policy \`homelab-backup-<writer>\` (S3HubWriter)`,
    ],
  ];
}

const SERVER_NAME: Record<HubServer, string> = { silo: "Silo (the maintained MinIO fork)", rustfs: "RustFS" };

function table(header: string[], rows: string[][]): string {
  return [
    `| ${header.join(" | ")} |`,
    `| ${header.map(() => "---").join(" | ")} |`,
    ...rows.map((r) => `| ${r.join(" | ")} |`),
  ].join("\n");
}

/** The markdown of the server part of the hub section (pi hubs). */
export function piServerPlan(hub: PiServerPlanInput): string {
  const release = serverRelease(hub.server, hub.version, hub.sha256);
  const out: string[] = [];
  const where = hub.os === "nixos" ? `a NixOS host (${hub.host})` : `a Debian host (${hub.host})`;
  const unit =
    hub.server === "silo" ? (hub.os === "nixos" ? "minio.service (services.minio)" : "silo.service") : "rustfs.service";
  out.push(
    "### Server",
    "",
    `${SERVER_NAME[hub.server]} ${release.version} runs on ${where} as \`${unit}\`, data in \`${hub.dataDir}\`, S3 API on port ${hub.port}${hub.tls ? " (HTTPS)" : " (HTTP)"}.`,
  );
  out.push(
    "",
    hub.os === "nixos"
      ? `Installed by the NixOS module \`files/${NIXOS_MODULE_FILE}\` (import it and run \`nixos-rebuild switch\` on the hub): \`fetchurl\` downloads each asset below and refuses any other sha256. \`pulumi up\` writes only \`${NIXOS_PATHS.envFile}\` (admin credentials, 0600, outside the Nix store) and the off-site config under \`/var/lib/homelab-backup\`.`
      : "Installed by `pulumi up` over SSH (`install-server.sh`): each asset below is downloaded and its sha256 checked before anything is installed; a mismatch stops the install. Every download is a GitHub release asset.",
    "",
  );
  const rows: string[][] = [];
  for (const r of [release]) {
    for (const a of HUB_ARCHES)
      rows.push([
        `${r.product} ${r.version}`,
        a,
        `[${r.assets[a].name}](${r.assets[a].url})`,
        `\`${r.assets[a].sha256}\``,
        r.source,
      ]);
  }
  out.push(table(["Binary", "Arch", "Asset", "sha256", "Checksum source"], rows));

  const endpoint = `${hub.tls ? "https" : "http"}://${hub.host}:${hub.port}`;
  out.push(
    "",
    "### Bucket and identities: through the server's APIs",
    "",
    `Once the server runs, \`pulumi up\` configures the bucket \`${hub.bucket}\` and one user and canned policy per writer (${hub.writers.map((w) => `\`${w}\``).join(", ")}) from the machine that runs it, with the admin login, exactly as on an s3 hub: nothing of this runs over SSH and nothing is installed on the hub for it. They appear in \`pulumi preview\` as \`S3HubBucket\` and one \`S3HubWriter\` per writer, \`pulumi refresh\` reads them back from the server, and the conformance step proves them after \`pulumi up\`.`,
    "",
    table(["what", "API"], piHubApis(hub)),
    "",
    `**Network:** the machine that runs \`pulumi up\` must now reach the hub's S3 port, \`${endpoint}\` (before, only SSH on the hub).`,
    "",
    "**A hub configured by the former mcli step** (`configure-bucket.sh`) moves over with **no key change**: the writers keep the same access keys (`<writer>-backup`) and the same secrets (the same generated passwords, under the same names), and the canned policies keep their names (`homelab-backup-<writer>`), so each is replaced in place and stays attached; a user holding any other policy has it detached. The old configure step's Command leaves the state with no remote action (it had no delete command), and the uploaded `configure-bucket.sh` stays in the staging directory, unused.",
  );
  out.push("", "### What the hub guarantees, and what it cannot", "");
  out.push(
    "- Guarantees, set through the server's APIs on every `pulumi up`: the bucket is versioned; every prefix has its lifecycle rule; each writer has its own S3 user whose policy allows only its prefix (append-only writers cannot delete).",
    hub.objectLock
      ? `- Object lock: new versions are immutable for ${hub.objectLock.days} days (${hub.objectLock.mode}).`
      : "- No object lock: the hub's admin credentials (and anyone with root on the hub) can delete every backup. The off-site copy is the second copy.",
    "- It cannot survive its own disk: one data directory on one disk, no erasure coding. A dead disk loses the hub's copy; the off-site copy (if configured) is what remains.",
    "- It cannot protect against root on the hub: whoever controls the host controls the data directory.",
  );
  if (hub.server === "rustfs")
    out.push(
      "- RustFS: its object lock and IAM enforcement changed between releases (see its issues #1299, #1509, #4293); pin the release and upgrade deliberately.",
    );

  out.push("", "### Monitoring", "");
  const targets = hubScrapeTargets({
    host: hub.host,
    port: hub.port,
    tls: hub.tls,
    server: hub.server,
    monitoring: hub.monitoring,
  });
  if (targets.length === 0)
    out.push(
      "`hub.monitoring` is off: no node exporter, nothing scraped. The disk, quota and off-site alerts have no data.",
    );
  else {
    out.push(
      hub.os === "nixos"
        ? "node exporter from the NixOS module (`services.prometheus.exporters.node`, textfile collector on)."
        : "node exporter from Debian's package `prometheus-node-exporter` (textfile collector on).",
      "The cluster's Prometheus scrapes (prometheus-operator ScrapeConfig objects):",
      "",
      table(
        ["ScrapeConfig", "Target", "Path", "What"],
        targets.map((t) => [
          `\`${t.name}\``,
          `${t.scheme.toLowerCase()}://${t.target}`,
          `\`${t.metricsPath}\``,
          t.purpose,
        ]),
      ),
    );
    if (hub.server === "rustfs") out.push("", RUSTFS_METRICS_NOTE);
  }

  if (hub.server === "silo") {
    out.push(
      "",
      "### Migrating a MinIO hub to Silo",
      "",
      "Silo keeps MinIO's on-disk format, `MINIO_*` variables and `/minio/*` API paths, so it takes over a MinIO data directory in place:",
      "back up the data disk, keep `hub.dataDir`, set `hub.server: silo` (the default) and run `pulumi up`.",
      hub.os === "nixos"
        ? "On NixOS: replace the module with the new render and run `nixos-rebuild switch`; `services.minio` keeps its user and data directory, only its package changes to Silo."
        : "`install-server.sh` installs Silo, stops and disables `minio.service`, and starts `silo.service` on the same data directory as the same user (`minio-user`) with the same admin credentials; buckets, objects, users and policies stay. Rollback: start `minio.service` again (same format).",
    );
  }
  return out.join("\n");
}
