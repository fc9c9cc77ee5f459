/**
 * What `npm run status` (tools/status.ts) reads, exported by the stack as the plain output `statusSpec`:
 * the hub's S3 connection, the audit's spec (which classes, prefixes and items: components/alerts/auditSpec.ts)
 * and each item's staleness threshold (components/alerts/auditItems.ts), both from the stack's resolved
 * model (components/model.ts), so `status` judges an item by the same threshold as the audit's alerts;
 * and the off-site copy's FTP settings without the password (that and the crypt key are secret outputs);
 * and where the records of what only the cluster knows are (the audit's PVC inventory, each drill's last
 * result: components/core/schema.ts STATUS_PREFIXES), from the same model.
 */
import { offsiteOf, type StackConfig } from "../config.js";
import { hubConnection } from "../core/hubConnection.js";
import { rcloneS3Provider } from "../core/rclone.js";
import type { StackModel } from "../model.js";
import { offsiteFtpEnv } from "../offsite/logic.js";
import { auditItems } from "./auditItems.js";
import { auditStaleAfterSeconds } from "./auditRules.js";
import { auditSpec, type AuditSpec } from "./auditSpec.js";

export const STATUS_SPEC_FORMAT = "homelab-backup/status-spec/v1";

export interface StatusItem {
  readonly cls: string;
  /** Absent for a class judged as a whole (Longhorn volumes, etcd nodes). */
  readonly item?: string;
  readonly thresholdSeconds: number;
  readonly why: string;
}

export interface StatusSpec {
  readonly format: typeof STATUS_SPEC_FORMAT;
  /** The hub as rclone_hub_remote (components/core/rclone-remotes.sh) takes it, without the key. */
  readonly hub: { provider: string; endpoint: string; region: string; pathStyle: boolean; bucket: string };
  readonly audit: AuditSpec;
  readonly items: StatusItem[];
  /** The records the cluster's jobs leave on the hub for status. */
  readonly records: StatusRecords;
  /** The off-site copy: the settings rclone_offsite_remotes reads (OFFSITE_*) and the prefixes it copies ([] = all). */
  readonly offsite?: { readonly env: Record<string, string>; readonly prefixes: string[] };
}

export interface StatusRecords {
  /**
   * The audit's PVC inventory, when the stack runs the audit (alerts.audit): it is old after
   * maxAgeSeconds, when BackupAuditFailing says the audit has stopped. @default absent: no audit, not known
   */
  readonly pvcInventory?: { readonly key: string; readonly maxAgeSeconds: number };
  /** Every restore drill's record: the class and item it proves (item = class: the class's one drill). */
  readonly drills: readonly { readonly cls: string; readonly item: string; readonly key: string }[];
}

/** The status spec of a stack with a hub (undefined without one). */
export function statusSpec(stack: StackConfig, model: StackModel): StatusSpec | undefined {
  if (!stack.hub) return undefined;
  const conn = hubConnection(stack.hub);
  const offsite = offsiteOf(stack);
  const audit = stack.alerts?.audit;
  const spec = auditSpec(stack, stack.alerts?.coverage.ignore ?? []);
  return {
    format: STATUS_SPEC_FORMAT,
    hub: {
      provider: rcloneS3Provider(conn.server),
      endpoint: conn.endpoint,
      region: conn.region,
      pathStyle: conn.pathStyle,
      bucket: conn.bucket,
    },
    audit: spec,
    items: auditItems(stack, model.watches).map((i) => ({
      cls: i.cls,
      ...(i.item !== undefined ? { item: i.item } : {}),
      thresholdSeconds: i.thresholdSeconds,
      why: i.why,
    })),
    records: {
      ...(audit?.enabled && spec.pvcInventory
        ? {
            pvcInventory: {
              key: spec.pvcInventory,
              maxAgeSeconds: auditStaleAfterSeconds(audit.intervalMinutes * 60),
            },
          }
        : {}),
      drills: model.drills.map((d) => ({ cls: d.cls, item: d.record.item, key: d.record.key })),
    },
    ...(offsite ? { offsite: { env: offsiteFtpEnv(offsite), prefixes: [...(offsite.prefixes ?? [])] } } : {}),
  };
}
