/**
 * Alert rules on the audit's metrics (components/alerts/audit.mjs): what actually landed at the
 * destination, whatever the producing tool says. They hold on Longhorn 1.9/1.10 (no
 * longhorn_volume_last_backup_at), where nothing scrapes the hub, and on every hub kind.
 *
 * Thresholds come from the components' own schedules (their `watches`), never a fixed "25h"; PromQL
 * stays in the subset promtool 2.42 and Prometheus 3 both accept.
 */
import { AUDIT_METRICS as M } from "./auditMetrics.js";

export interface AuditAlertRule {
  readonly alert: string;
  readonly expr: string;
  readonly for?: string;
  readonly labels: Record<string, string>;
  readonly annotations: { summary: string; description: string; runbook_url: string };
}

export type AuditSeverity = "critical" | "warning" | "info" | "none";

/** What the plan says about one audit rule. */
export interface AuditAlertInfo {
  readonly alert: string;
  readonly severity: AuditSeverity;
  readonly watches: string;
  readonly firesWhen: string;
  readonly thresholdSeconds?: number;
  readonly why: string;
}

/** One audited item (or every item of a class) and how old its newest restore point may be. */
export interface AuditStaleness {
  /** Data class label: longhorn, postgres, etcd, velero, buckets, offsite. */
  readonly cls: string;
  /** The item label (a dump name, a schedule); undefined = every item of the class. */
  readonly item?: string;
  /** What a person reads, e.g. "PostgreSQL dump `wiki`". */
  readonly what: string;
  readonly thresholdSeconds: number;
  readonly why: string;
  /** Judge age (false: only presence and validity, e.g. a mirror of a bucket that rarely changes). */
  readonly staleness: boolean;
}

export interface AuditRulesInput {
  readonly runbook: (alert: string) => string;
  /** Seconds between two audits (the exporter's interval). */
  readonly auditIntervalSeconds: number;
  readonly items: readonly AuditStaleness[];
  /** Longhorn: longest gap of the backup jobs + allowance, for "fewer restore points than retain". */
  readonly longhorn?: { readonly longestGapSeconds: number; readonly allowanceSeconds: number };
  /** The hub bucket and the size/cost limits of alerts.*. */
  readonly bucket: string;
  readonly bucketQuotaGiB?: number;
  /** AWS only: projected monthly storage cost limit and the price per GiB-month of each storage class. */
  readonly monthlyCost?: {
    readonly limitUsd: number;
    readonly pricePerGiBMonth: Readonly<Record<string, number>>;
    readonly region: string;
  };
  /** alerts.backupSizeGiB: class -> GiB. */
  readonly backupSizeGiB?: Readonly<Record<string, number>>;
  readonly coverage: boolean;
}

export interface AuditRulesOutput {
  readonly rules: AuditAlertRule[];
  readonly infos: AuditAlertInfo[];
}

const q = (v: string) => JSON.stringify(v);

/** `1h30m` style, the duration syntax of `for:` (largest units first, no zero parts). */
/**
 * How long without an audit before the audit counts as not running: BackupAuditFailing fires then, and
 * `npm run status` calls the PVC inventory the audit writes old (components/alerts/statusSpec.ts).
 */
export function auditStaleAfterSeconds(intervalSeconds: number): number {
  return 3 * intervalSeconds;
}

export function promDuration(seconds: number): string {
  let s = Math.max(0, Math.round(seconds));
  if (s === 0) return "0s";
  const parts: string[] = [];
  for (const [unit, n] of [
    ["d", 86_400],
    ["h", 3600],
    ["m", 60],
    ["s", 1],
  ] as const) {
    if (s >= n) {
      parts.push(`${Math.floor(s / n)}${unit}`);
      s %= n;
    }
  }
  return parts.join("");
}

function human(seconds: number): string {
  const d = Math.floor(seconds / 86_400);
  const h = Math.floor((seconds % 86_400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  return [d ? `${d}d` : "", h ? `${h}h` : "", m ? `${m}m` : ""].join("") || `${seconds}s`;
}

function sel(s: AuditStaleness): string {
  return s.item === undefined ? `{class=${q(s.cls)}}` : `{class=${q(s.cls)}, item=${q(s.item)}}`;
}

/**
 * Every audit rule. Items are matched by class (and item) labels the exporter writes; an item the
 * audit could not read has only homelab_backup_audit_item_error = 1 (BackupAuditFailing), never a
 * false "missing".
 */
export function auditRules(input: AuditRulesInput): AuditRulesOutput {
  const rules: AuditAlertRule[] = [];
  const infos: AuditAlertInfo[] = [];
  const add = (
    r: Omit<AuditAlertRule, "annotations"> & { summary: string; description: string },
    info: Omit<AuditAlertInfo, "alert" | "severity">,
  ) => {
    const { summary, description, ...rest } = r;
    rules.push({ ...rest, annotations: { summary, description, runbook_url: input.runbook(r.alert) } });
    infos.push({ alert: r.alert, severity: r.labels.severity as AuditSeverity, ...info });
  };
  const interval = input.auditIntervalSeconds;

  for (const s of input.items) {
    const extra: Record<string, string> = { class: s.cls, ...(s.item !== undefined ? { item: s.item } : {}) };
    if (s.staleness) {
      add(
        {
          alert: "BackupRestorePointStale",
          expr: `time() - max by (class, item) (${M.timestamp}${sel(s)}) > ${s.thresholdSeconds}`,
          labels: { severity: "critical", ...extra },
          summary: `${s.what}: newest restore point at the destination is stale`,
          description: `The newest restore point of {{ $labels.class }} item {{ $labels.item }} that the audit found at the destination is older than ${human(s.thresholdSeconds)}. Whatever the job reported, nothing newer landed.`,
        },
        {
          watches: `${s.what} at the destination (audit)`,
          firesWhen: `newest restore point older than ${human(s.thresholdSeconds)}`,
          thresholdSeconds: s.thresholdSeconds,
          why: s.why,
        },
      );
    }
    // Never seen: the audit reads the item fine but the destination holds nothing. `for` spares a
    // brand-new item until its first backup is due.
    add(
      {
        alert: "BackupRestorePointMissing",
        expr: `max by (class, item) (${M.found}${sel(s)}) == 0`,
        for: promDuration(s.thresholdSeconds),
        labels: { severity: "critical", ...extra },
        summary: `${s.what}: the destination has never held a restore point`,
        description: `The stack expects {{ $labels.class }} item {{ $labels.item }} to be backed up, but the audit has found no restore point of it at the destination for ${human(s.thresholdSeconds)}.`,
      },
      {
        watches: `${s.what} at the destination (audit)`,
        firesWhen: `none found for ${human(s.thresholdSeconds)}`,
        thresholdSeconds: s.thresholdSeconds,
        why: `${s.why}: by then the first one was due`,
      },
    );
    add(
      {
        alert: "BackupRestorePointInvalid",
        expr: `max by (class, item) (${M.valid}${sel(s)}) == 0 and on (class, item) max by (class, item) (${M.found}${sel(s)}) == 1`,
        labels: { severity: "critical", ...extra },
        summary: `${s.what}: newest restore point is incomplete or inconsistent`,
        description:
          "The newest restore point of {{ $labels.class }} item {{ $labels.item }} does not check out: its metadata disagrees with the stored object (size or sha256), it is not complete, or (off-site) the key-check file does not decrypt with the configured key.",
      },
      {
        watches: `${s.what} at the destination (audit)`,
        firesWhen: "the newest restore point's record disagrees with its object, or it is unfinished",
        why: "a restore point that cannot be trusted is a missing one",
      },
    );
  }

  if (input.longhorn) {
    const { longestGapSeconds: gap, allowanceSeconds: allow } = input.longhorn;
    // A volume whose backup volume exists long enough to hold `retain` backups but holds fewer:
    // retention or the backups themselves went wrong. A young volume is spared by its creation time.
    add(
      {
        alert: "LonghornBackupsBelowRetain",
        expr:
          `max by (class, item, pvc, pvc_namespace) (${M.count}{class="longhorn"}) < on (class, item, pvc, pvc_namespace) max by (class, item, pvc, pvc_namespace) (${M.expectedCount}{class="longhorn"})\n` +
          `and on (class, item, pvc, pvc_namespace) (time() - max by (class, item, pvc, pvc_namespace) (${M.firstSeen}{class="longhorn"}) > on (class, item, pvc, pvc_namespace) (max by (class, item, pvc, pvc_namespace) (${M.expectedCount}{class="longhorn"}) * ${gap} + ${allow}))`,
        for: "1h",
        // backup_namespace: ruleHelpers.ts TARGET_NAMESPACE_LABEL, from a label the result keeps.
        labels: { severity: "warning", class: "longhorn", backup_namespace: "{{ $labels.pvc_namespace }}" },
        summary: "Longhorn volume keeps fewer backups than its job's retain",
        description:
          "Longhorn volume {{ $labels.item }} (PVC {{ $labels.pvc_namespace }}/{{ $labels.pvc }}) keeps fewer backups in the backupstore than the retain of its recurring job, although it has been backed up long enough to hold them all.",
      },
      {
        watches: "every covered Longhorn volume in the backupstore (audit)",
        firesWhen: `backups kept < the covering jobs' retain, for a backup volume older than retain × ${human(gap)} + ${human(allow)}`,
        why: "the job's retain is what a restore can count on",
      },
    );
    add(
      {
        alert: "LonghornBackupTargetUnavailable",
        expr: `max by (backup_target) (${M.targetAvailable}) == 0`,
        for: "15m",
        labels: { severity: "critical", class: "longhorn" },
        summary: "Longhorn backup target unavailable",
        description:
          "Longhorn BackupTarget {{ $labels.backup_target }} reports status.available false: no volume backup can be written or listed. Check its credential Secret and the hub.",
      },
      {
        watches: "Longhorn BackupTarget objects (audit, from the Kubernetes API)",
        firesWhen: "status.available false for 15m",
        why: "Longhorn exports no target metric; 15 minutes rides out a hub restart",
      },
    );
  }

  add(
    {
      alert: "BackupAuditFailing",
      expr:
        `max by (class, item) (${M.itemError}) == 1\n` +
        // The audit's own failure carries class "audit" and item "last-run": the description templates both.
        `or label_replace(label_replace(time() - max(${M.lastRun}) > ${auditStaleAfterSeconds(interval)}, "class", "audit", "", ""), "item", "last-run", "", "")\n` +
        `or label_replace(label_replace(absent(${M.lastRun}), "class", "audit", "", ""), "item", "last-run", "", "")`,
      for: promDuration(2 * interval),
      labels: { severity: "warning" },
      summary: "The backup audit cannot read what it checks",
      description: `The audit could not read {{ $labels.class }} {{ $labels.item }} for two audit intervals, or has not run for ${human(auditStaleAfterSeconds(interval))}: the destination checks are blind. See the audit pod's log.`,
    },
    {
      watches: "the audit exporter",
      firesWhen: `an item unreadable for ${human(2 * interval)}, or no audit for ${human(auditStaleAfterSeconds(interval))}`,
      why: `the audit runs every ${human(interval)}`,
    },
  );

  if (input.bucketQuotaGiB !== undefined) {
    const bytes = Math.round(input.bucketQuotaGiB * 1024 ** 3);
    add(
      {
        alert: "BackupBucketQuotaExceeded",
        expr: `sum by (bucket) (${M.bucketBytes}{bucket=${q(input.bucket)}}) > ${bytes}`,
        labels: { severity: "warning", class: "hub" },
        summary: "Backup bucket above its quota",
        description: `Bucket {{ $labels.bucket }} holds more than ${input.bucketQuotaGiB} GiB (alerts.bucketQuotaGiB), counted object by object by the audit.`,
      },
      {
        watches: `bucket \`${input.bucket}\` (audit listing, every hub kind)`,
        firesWhen: `stored bytes > ${input.bucketQuotaGiB} GiB`,
        why: "alerts.bucketQuotaGiB",
      },
    );
  }

  if (input.monthlyCost) {
    const { limitUsd, pricePerGiBMonth, region } = input.monthlyCost;
    const known = Object.keys(pricePerGiBMonth).filter((k) => k !== "STANDARD");
    const parts = Object.entries(pricePerGiBMonth).map(
      ([cls, p]) => `${M.bucketBytes}{bucket=${q(input.bucket)}, storage_class=${q(cls)}} * ${p}`,
    );
    // A storage class without a price is charged as STANDARD (the most expensive common one).
    parts.push(
      `${M.bucketBytes}{bucket=${q(input.bucket)}, storage_class!~${q(["STANDARD", ...known].join("|"))}} * ${pricePerGiBMonth.STANDARD}`,
    );
    add(
      {
        alert: "BackupMonthlyCostHigh",
        expr: `sum by (bucket) (${parts.join("\nor ")}) / ${1024 ** 3} > ${limitUsd}`,
        labels: { severity: "warning", class: "hub" },
        summary: "Projected monthly storage cost of the backups is high",
        description: `At ${region} list prices per storage class, the bytes now in bucket {{ $labels.bucket }} cost about \${{ $value | printf "%.2f" }} a month, above alerts.monthlyCostUsd (${limitUsd} USD). Requests and transfer are not included.`,
      },
      {
        watches: `bucket \`${input.bucket}\` bytes per storage class (audit)`,
        firesWhen: `Σ bytes × price per GiB-month > ${limitUsd} USD`,
        why: "alerts.monthlyCostUsd; storage is what grows with retention",
      },
    );
  }

  for (const [cls, gib] of Object.entries(input.backupSizeGiB ?? {})) {
    const bytes = Math.round(gib * 1024 ** 3);
    add(
      {
        alert: "BackupTooLarge",
        expr: `max by (class, item) (${M.size}{class=${q(cls)}}) > ${bytes}`,
        labels: { severity: "warning", class: cls },
        summary: `A ${cls} backup is larger than ${gib} GiB`,
        description: `The newest restore point of {{ $labels.class }} item {{ $labels.item }} holds more than ${gib} GiB (alerts.backupSizeGiB.${cls}).`,
      },
      {
        watches: `every ${cls} item (audit)`,
        firesWhen: `newest restore point > ${gib} GiB`,
        why: `alerts.backupSizeGiB.${cls}`,
      },
    );
  }

  if (input.coverage) {
    add(
      {
        alert: "PersistentVolumeClaimNotBackedUp",
        expr: `max by (namespace, persistentvolumeclaim) (${M.pvcUncovered}) == 1`,
        for: promDuration(Math.max(2 * interval, 3600)),
        labels: { severity: "warning", class: "coverage", backup_namespace: "{{ $labels.namespace }}" },
        summary: "A PVC is not covered by any backup",
        description:
          "PVC {{ $labels.namespace }}/{{ $labels.persistentvolumeclaim }} is in no Longhorn backup job, group or StorageClass and no Velero file-system backup. Add it to one, or list it (or its namespace) in alerts.coverage.ignore if its data can be rebuilt.",
      },
      {
        watches: "every PVC in the cluster (audit, from the Kubernetes API)",
        firesWhen: "covered by no class and not in alerts.coverage.ignore",
        why: "volumes left out silently are the most common loss",
      },
    );
  }
  return { rules, infos };
}

/** The always-firing heartbeat: Alertmanager sends it to the external URL while alerting works. */
export function heartbeatRule(runbook: (alert: string) => string): AuditAlertRule {
  return {
    alert: "BackupAlertingHeartbeat",
    expr: "vector(1)",
    labels: { severity: "none", class: "heartbeat" },
    annotations: {
      summary: "Backup alerting is alive",
      description:
        "Always firing. Alertmanager sends it to the heartbeat URL (alerts.heartbeat); when the pings stop, the cluster, Prometheus or Alertmanager is down.",
      runbook_url: runbook("BackupAlertingHeartbeat"),
    },
  };
}
