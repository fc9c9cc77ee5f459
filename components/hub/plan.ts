/**
 * The hub's part of plan.md: where backups land, how long each prefix keeps them, what each writer's
 * credential may do (summarised from the very policy documents that are attached), and how to rotate
 * a writer's key or bring back a version that was deleted or overwritten.
 */
import { arrivalsPlan } from "../alerts/arrivals.js";
import { PROJECT } from "../core/schema.js";
import type { StackConfig } from "../config.js";
import { hubConnection, WRITERS, type HubConnection, type WriterName } from "../core/hubConnection.js";
import { APPEND_ONLY_WRITERS, describePolicy, writerUserName } from "./iam.js";
import type { HubRights } from "./rights.js";
import { ADMIN_USER, piHubSettings, writerAccessKey } from "./pi/piHubSteps.js";
import { piServerPlan } from "./pi/serverPlan.js";
import type { PlanSection } from "../core/planTypes.js";
import { s3HubGuarantees, s3HubRestore, s3HubSummary, s3WriterIdentity } from "./s3/s3Plan.js";
import { ABORT_MULTIPART_DAYS, objectLockMaximumDays, prefixLifecycles } from "./retention.js";
import { hubRemoteLines } from "../core/restoreSetup.js";
import { archiveCandidatesOf, archiveTimeline, READ_DELAY, stackArchivePlan } from "./archive.js";

function mdTable(header: string[], rows: string[][]): string {
  const cell = (t: string) => t.replace(/\|/g, "\\|").replace(/\n/g, " ");
  return [
    `| ${header.join(" | ")} |`,
    `| ${header.map(() => "---").join(" | ")} |`,
    ...rows.map((r) => `| ${r.map(cell).join(" | ")} |`),
  ].join("\n");
}

/** Stands for the stack name in URNs until the shell expands `$STACK`. */
const STACK_MARK = "STACK-NAME-MARK";

const days = (n: number) => `${n} day${n === 1 ? "" : "s"}`;

const WRITER_USE: Record<WriterName, string> = {
  longhorn: "Longhorn BackupTarget",
  postgres: "pg_dump CronJobs and the restore drill",
  etcd: "etcd snapshot offload CronJob",
  velero: "Velero BackupStorageLocation",
  buckets: "bucket mirror CronJobs",
  offsite: "off-site copy (reads only)",
  drills: "restore drills (read only)",
  audit: "backup audit exporter (lists, reads metadata only)",
};

const HUB_TYPE = `${PROJECT}:index:BackupHub`;

/** URN of a writer's AccessKey on an AWS hub, for `pulumi up --replace`. */
export function accessKeyUrn(writer: WriterName, stackName: string, componentName = "hub"): string {
  return `urn:pulumi:${stackName}::${PROJECT}::${HUB_TYPE}$aws:iam/accessKey:AccessKey::${componentName}-${writer}-key`;
}

/**
 * URNs to replace to rotate a writer's key on a Pi hub: its generated secret (PiHub) and its S3HubWriter,
 * which sets the new secret on the server. The writer must be replaced too: its access key stays
 * `<writer>-backup`, and the provider's diff compares the access key, not the secret (s3/s3HubResources.ts).
 */
export function piRotationUrns(writer: WriterName, stackName: string, componentName = "hub"): string[] {
  const pi = `urn:pulumi:${stackName}::${PROJECT}::${HUB_TYPE}$${PROJECT}:index:PiHub`;
  const s3 = `urn:pulumi:${stackName}::${PROJECT}::${HUB_TYPE}$${PROJECT}:index:S3Hub`;
  return [
    `${pi}$random:index/randomPassword:RandomPassword::${componentName}-pi-${writer}-secret-key`,
    `${s3}$pulumi-nodejs:dynamic/homelab-backup:S3HubWriter::${componentName}-s3-${writer}`,
  ];
}

/** A URN inside double quotes for the shell: `$STACK` expands, the `$` separators of the type chain are escaped. */
function shellUrn(urn: string, stackName: string): string {
  return `"${urn
    .split(stackName)
    .map((part) => part.replace(/\$/g, "\\$"))
    .join("${STACK}")}"`;
}

/**
 * How to bring back, on a Pi hub, the versions of a prefix as they were at a time, with rclone and the
 * admin login (user ADMIN_USER, password the `hubAdminPassword` output). rclone reads old versions with
 * `--s3-versions` / `--s3-version-at` but writes nothing under them, so the versions are downloaded and
 * then uploaded again as the current ones.
 */
export function piVersionRestore(conn: HubConnection): string[] {
  return [
    "**Bring back a version that was deleted or overwritten** (within its noncurrent period), with rclone and the admin login (`pulumi stack output hubAdminPassword --show-secrets`). First list the versions under a prefix (set `PREFIX` to the directory to bring back):",
    "",
    "```sh",
    ...hubRemoteLines(conn, ADMIN_USER, '"$(pulumi stack output hubAdminPassword --show-secrets)"'),
    'PREFIX="postgres-backups/<name>/"   # any directory of the bucket, ending in /',
    "# every version: an earlier one is listed as <file>-vYYYY-MM-DD-hhmmss-mmm<.ext>, the time (UTC) it was written",
    'rclone lsl --s3-versions "hub:$BUCKET/$PREFIX"',
    "```",
    "",
    "Then download the prefix as it was at a time `AT` (UTC; after the version you want was written, before it was replaced) and upload it again, which makes those versions current (objects written since `AT` stay as they are):",
    "",
    "```sh",
    'AT="<time>"   # e.g. 2026-05-01T03:00:00Z, or 36h for that long ago',
    'VERSIONS="$(mktemp -d ./versions.XXXXXX)"',
    'rclone copy --s3-version-at "$AT" "hub:$BUCKET/$PREFIX" "$VERSIONS/"',
    'rclone lsl "$VERSIONS/"   # what will be put back',
    'rclone copy --ignore-times "$VERSIONS/" "hub:$BUCKET/$PREFIX"',
    "```",
  ];
}

/** The hub section of the plan; `componentName` is the BackupHub's name in index.ts. */
export function hubPlan(stack: StackConfig, rights: HubRights | undefined, componentName = "hub"): PlanSection {
  const hub = stack.hub;
  if (!hub || !rights)
    return {
      title: "Hub",
      rows: [],
      details:
        "Not configured: no section writes to a hub (a stack that stores only through the FTP bridge has none), so there is no bucket, no S3 user and no key.",
      restore: "",
    };
  const conn = hubConnection(hub);
  const lifecycles = prefixLifecycles(stack);
  const d: string[] = [];

  d.push(
    hub.kind === "s3"
      ? s3HubSummary(hub, conn)
      : hub.kind === "aws"
        ? `Bucket \`${hub.bucket}\` in AWS ${hub.region}, endpoint \`${conn.endpoint}\` (virtual-hosted addressing).`
        : `Bucket \`${hub.bucket}\` on ${hub.server} at \`${conn.endpoint}\` (path-style addressing, region label \`${hub.region}\`), data in \`${hub.dataDir}\` on ${hub.host}.`,
  );
  if (hub.kind === "aws" && hub.adopt) {
    d.push(
      "",
      `The bucket existed before this stack: \`pulumi up\` imports it (hub.adopt) and never deletes it (protected, and retained on \`pulumi destroy\`); its objects are left as they are.`,
    );
  }
  if (hub.kind === "pi") {
    const s = piHubSettings(hub);
    d.push(
      "",
      piServerPlan({
        server: s.server,
        os: s.os,
        version: hub.version,
        sha256: hub.sha256,
        host: s.host,
        port: s.port,
        tls: s.tls,
        dataDir: s.dataDir,
        monitoring: s.monitoring,
        objectLock: s.objectLock,
        bucket: s.bucket,
        writers: rights.inUse,
      }),
    );
    const arrivals = arrivalsPlan(stack);
    if (arrivals) d.push("", arrivals);
  }
  if (hub.kind === "aws") {
    d.push(
      "",
      "Protection: versioning enabled; default encryption SSE-S3 (AES256); all four public-access blocks on; the bucket policy refuses any request not made over TLS.",
    );
  }
  if (hub.kind === "s3") d.push(...s3HubGuarantees(hub));
  const maxLock = objectLockMaximumDays(stack);
  if (hub.objectLock) {
    d.push(
      "",
      `Object lock: every new version is immutable for ${days(hub.objectLock.days)} (${hub.objectLock.mode} mode); the lifecycle below removes a version only once its lock has ended, so expired backups and staging objects are billed until then.`,
    );
    if (maxLock !== undefined && hub.objectLock.days > maxLock) {
      d.push(
        `The shortest retention of a class is ${days(maxLock)}: a lock of ${days(hub.objectLock.days)} keeps every expired restore point and every deleted block on the hub until it ends; the policy pack refuses it (hub.objectLock.days at most ${maxLock}).`,
      );
    }
  } else {
    d.push(
      "",
      `Object lock: off. Append-only writers still cannot delete; versions removed by any writer stay recoverable for their noncurrent period below.`,
    );
  }

  d.push("", "### Lifecycle per prefix", "");
  if (lifecycles.length === 0) d.push("No data class is configured, so no lifecycle rule is set.");
  else {
    d.push(
      mdTable(
        ["Prefix", "Current version expires", "Earlier versions removed", "Archive", "Incomplete uploads aborted"],
        lifecycles.map((l) => [
          `\`${l.prefix}\``,
          l.expireDays !== undefined ? `after ${days(l.expireDays)}` : "never (the writer prunes its own backups)",
          `${days(l.noncurrentDays)} after they stop being current`,
          l.archive ? `${l.archive.storageClass} after ${days(l.archive.afterDays)}` : "—",
          `after ${days(ABORT_MULTIPART_DAYS)}`,
        ]),
      ),
    );
    const archive = stackArchivePlan(stack);
    if (archive && hub.kind === "aws" && hub.archive) {
      const a = hub.archive;
      const keep = new Map(archiveCandidatesOf(stack).map((c) => [c.prefix, c.keepDays]));
      d.push(
        "",
        `### Where objects live over time (hub.archive: ${a.storageClass} after ${days(a.afterDays)}${a.allowThaw ? ", allowThaw" : ""})`,
        "",
        mdTable(
          ["Class", "Where its objects live", "Why", "A restore waits"],
          archive.decisions.map((dec) => [
            `${dec.name} (\`${dec.prefix}\`)`,
            archiveTimeline(dec, a, keep.get(dec.prefix)),
            dec.reason + (dec.earlyDeletionWarning ? `; note: ${dec.earlyDeletionWarning}` : ""),
            dec.moves
              ? `objects younger than ${days(a.afterDays)}: no delay; older: ${READ_DELAY[a.storageClass]}`
              : "no delay",
          ]),
        ),
      );
      const moving = archive.decisions.filter((x) => x.moves).map((x) => x.name);
      d.push(
        "",
        `Classes that move: ${moving.join(", ")}.${archive.decisions.some((x) => x.thaw) ? " Their restore commands start the thaw and wait for it." : ""}`,
      );
    }
  }

  d.push("", "### Writer credentials", "");
  d.push(
    mdTable(
      ["Writer", "Used by", hub.kind === "aws" ? "IAM user" : "S3 user", "Allowed", "Denied"],
      // The identities that exist, each with the very document the hub attaches (components/model.ts).
      rights.inUse.map((w) => {
        const desc = describePolicy(rights.policies[w]!);
        return [
          w,
          WRITER_USE[w],
          hub.kind === "aws"
            ? `\`/homelab-backup/${writerUserName(hub.bucket, w)}\``
            : hub.kind === "s3"
              ? s3WriterIdentity(hub, w)
              : `\`${writerAccessKey(w)}\``,
          desc.allow,
          desc.deny || "everything else",
        ];
      }),
    ),
  );
  d.push(
    "",
    `${APPEND_ONLY_WRITERS.join(" and ")} are append-only: they write to \`<prefix>.partial/\`, copy server-side to the final key, and the hub's lifecycle removes both the staging objects and the old backups.`,
  );

  const r: string[] = [];
  if (hub.kind === "s3") {
    r.push(...s3HubRestore(hub, conn, componentName, (u) => shellUrn(u, STACK_MARK)));
  } else if (hub.kind === "aws") {
    r.push(
      "**Rotate a writer's key** (here `postgres`; replace it with any of " +
        WRITERS.map((w) => `\`${w}\``).join(", ") +
        "). Pulumi creates the new key, rewrites every Kubernetes Secret that carries it, then deletes the old key:",
      "",
      "```sh",
      "STACK=$(pulumi stack --show-name)",
      `pulumi up --replace ${shellUrn(accessKeyUrn("postgres", STACK_MARK, componentName), STACK_MARK)}`,
      `aws iam list-access-keys --user-name ${writerUserName(hub.bucket, "postgres")}   # exactly one key, the new one`,
      "```",
      "",
      "**Bring back a version that was deleted or overwritten** (within its noncurrent period), with admin credentials:",
      "",
      "```sh",
      `aws s3api list-object-versions --bucket ${hub.bucket} --prefix postgres-backups/<name>/ --query 'Versions[].[Key,VersionId,LastModified,IsLatest]' --output table`,
      `aws s3api copy-object --bucket ${hub.bucket} --key <key> --copy-source "${hub.bucket}/<key>?versionId=<version-id>"`,
      "```",
    );
  } else {
    r.push(
      "**Rotate a writer's key** (here `postgres`; replace it with any of " +
        WRITERS.map((w) => `\`${w}\``).join(", ") +
        "). Pulumi generates a new secret key and replaces the writer's S3HubWriter, which sets it on the S3 server through its admin API (the access key stays the same); the same `up` rewrites every Kubernetes Secret that carries it:",
      "",
      "```sh",
      "STACK=$(pulumi stack --show-name)",
      `pulumi up ${piRotationUrns("postgres", STACK_MARK, componentName)
        .map((u) => `--replace ${shellUrn(u, STACK_MARK)}`)
        .join(" ")}`,
      "```",
      "",
      ...piVersionRestore(conn),
    );
  }
  return { title: "Hub", rows: [], details: d.join("\n"), restore: r.join("\n") };
}
