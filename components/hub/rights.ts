/**
 * Which of the hub's identities a stack uses, and each one's rights: the common part every hub kind
 * reads (components/model.ts resolves it once; BackupHub creates exactly these identities and
 * plan.md lists them).
 */
import { type WriterName } from "../core/hubConnection.js";
import type { PolicyDocument } from "./iam.js";
import { DEFAULT_S3_FLAVOR, effectiveManage, type S3Flavor } from "./s3/s3Flavors.js";

/** The hub's writer and reader identities as a stack uses them (built by components/model.ts `hubRights`). */
export interface HubRights {
  /** The writers and readers some section uses, in WRITERS order: only these get an identity. */
  readonly inUse: readonly WriterName[];
  /** The prefixes the off-site copy reads. @default the whole bucket */
  readonly offsitePrefixes?: readonly string[];
  /** The prefixes the restore drills read. @default none */
  readonly drillPrefixes?: readonly string[];
  /** The policy document of each identity in use: attached by the hub, listed by plan.md. */
  readonly policies: Readonly<Partial<Record<WriterName, PolicyDocument>>>;
}

/** The sections of a stack that decide which identities exist. */
export interface SectionsView {
  /** The hub section (decides whether the read-only `audit` identity exists without alerts). */
  readonly hub?: { readonly kind: string; readonly flavor?: string; readonly manage?: "admin" | "none" };
  readonly longhorn?: { readonly target?: string };
  readonly postgres?: unknown;
  readonly etcd?: unknown;
  readonly velero?: unknown;
  readonly buckets?: { readonly mirrors: readonly unknown[] };
  readonly offsite?: unknown;
  readonly drills?: unknown;
  readonly alerts?: unknown;
}

/** The writers a stack uses (one per section that writes to or reads from the hub), in WRITERS order. */
export function hubWritersInUse(c: SectionsView): { name: WriterName; section: string }[] {
  const out: { name: WriterName; section: string }[] = [];
  if (c.longhorn && (c.longhorn.target ?? "hub") === "hub") out.push({ name: "longhorn", section: "longhorn" });
  if (c.postgres) out.push({ name: "postgres", section: "postgres" });
  if (c.etcd) out.push({ name: "etcd", section: "etcd" });
  if (c.velero) out.push({ name: "velero", section: "velero" });
  if (c.buckets && c.buckets.mirrors.length > 0) out.push({ name: "buckets", section: "buckets" });
  if (c.offsite) out.push({ name: "offsite", section: "offsite" });
  const drills = (c as { drills?: Record<string, unknown> }).drills;
  if (drills && Object.keys(drills).some((k) => k !== "namespace" && k !== "postgres"))
    out.push({ name: "drills", section: "drills" });
  const alerts = (c as { alerts?: { audit?: { enabled?: boolean } } }).alerts;
  if (alerts?.audit?.enabled) out.push({ name: "audit", section: "alerts" });
  // `npm run status` (tools/status.ts) reads the hub with the audit reader's key, exported as a secret
  // output: the identity exists whenever the hub does and the program makes the hub's identities. On an
  // s3 hub with manage: none the user brings every key (hubWriterKeys), so there it stays with alerts.
  else if (
    c.hub &&
    out.length > 0 &&
    !(c.hub.kind === "s3" && effectiveManage((c.hub.flavor ?? DEFAULT_S3_FLAVOR) as S3Flavor, c.hub.manage) === "none")
  )
    out.push({ name: "audit", section: "status" });
  return out;
}
