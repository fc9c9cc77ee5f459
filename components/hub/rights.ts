/**
 * Which of the hub's identities a stack uses, and each one's rights: the common part every hub kind
 * reads (components/model.ts resolves it once; BackupHub creates exactly these identities and
 * plan.md lists them).
 */
import { type WriterName } from "../core/hubConnection.js";
import type { PolicyDocument } from "./iam.js";

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
  return out;
}
