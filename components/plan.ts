/**
 * `plan.md`: the backup plan for a person, generated from the stack so that it is always true.
 * Each data class contributes a PlanSection (components/<area>/plan.ts); this module puts them in one document:
 * what / how / when (UTC) / how long / where, the backup window, the details, the alerts and the
 * restore procedures.
 */
import { alertsPlan } from "./alerts/plan.js";
import { configuredClasses, LONGHORN_BACKUP_TASKS, type StackConfig } from "./config.js";
import { PREFIXES } from "./core/schema.js";
import { normalizeFsBackup } from "./velero/fsBackup.js";
import { cronGaps, fixedMinuteOfDay, formatMinuteOfDay } from "./core/cron.js";
import { clusterLossRunbook, hubLossRunbook, keysSurvival } from "./disasters.js";
import { drillTargets } from "./drills/logic.js";
import { restoreReadiness } from "./drills/plan.js";
import { DRILL_CLASSES, type DrillClass } from "./drills/schema.js";
import { etcdPlan } from "./etcd/plan.js";
import { ftpBridgePlan } from "./ftpBridge/plan.js";
import { hubPlan } from "./hub/plan.js";
import { hubRights, stackWatches } from "./model.js";
import { longhornPlan } from "./longhorn/plan.js";
import { names } from "./core/names.js";
import { mirrorsPlan } from "./mirror/plan.js";
import { offsitePlan } from "./offsite/plan.js";
import type { PlanRow, PlanSection } from "./core/planTypes.js";
import { postgresPlan } from "./postgres/plan.js";
import { steadyStateBackups } from "./velero/logic.js";
import { veleroPlan } from "./velero/plan.js";

export interface PlanVerdict {
  readonly policy: string;
  readonly resource: string;
  /** The stack-file key to change. */
  readonly key: string;
  readonly level: string;
  readonly message: string;
}

/** Escapes a value for a markdown table cell. */
export function cell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

/** A markdown table. */
export function table(header: string[], rows: string[][]): string {
  return [
    `| ${header.join(" | ")} |`,
    `| ${header.map(() => "---").join(" | ")} |`,
    ...rows.map((r) => `| ${r.map(cell).join(" | ")} |`),
  ].join("\n");
}

interface Run {
  readonly minute: number;
  readonly what: string;
  readonly cron: string;
}

/** Every run with a fixed time of day, sorted: the night as the hub sees it. */
export function dailyTimeline(stack: StackConfig): Run[] {
  const runs: Run[] = [];
  const add = (cron: string, what: string) => {
    const minute = fixedMinuteOfDay(cron);
    if (minute !== undefined) runs.push({ minute, what, cron });
  };
  for (const j of stack.longhorn?.recurringJobs ?? []) add(j.cron, `Longhorn ${j.task} job \`${j.name}\``);
  if (stack.postgres) {
    const watches = stackWatches(stack);
    for (const db of stack.postgres.databases)
      add(
        watches.dumps.get(db.name)!.schedule,
        `pg_dump \`${db.name}\` (${db.namespace}/${names.postgresDumpCronJob(db.name)})`,
      );
    if (stack.postgres.restoreDrill) add(stack.postgres.restoreDrill.schedule, "PostgreSQL restore drill");
  }
  if (stack.etcd) add(stack.etcd.schedule, "etcd snapshot offload");
  for (const s of stack.velero?.schedules ?? []) add(s.cron, `Velero schedule \`${s.name}\``);
  for (const m of stack.buckets?.mirrors ?? []) add(m.schedule, `bucket mirror \`${m.name}\``);
  if (stack.offsite) add(stack.offsite.schedule, "off-site encrypted copy");
  for (const t of drillTargets(stack).filter((x) => x.cls !== "postgres"))
    add(t.schedule, `${t.what} (${t.namespace}/${t.cronJob})`);
  return runs.sort((a, b) => a.minute - b.minute || a.what.localeCompare(b.what));
}

const CLASS_TITLES: Record<string, string> = {
  longhorn: "Longhorn volumes",
  postgres: "PostgreSQL databases",
  etcd: "etcd snapshots",
  velero: "Kubernetes objects (Velero)",
  buckets: "Object-store buckets",
  offsite: "Off-site encrypted copy",
};

/**
 * Restore points the hub holds at steady state, per class. Sizes are the cluster's, not the stack's,
 * so this counts what is kept (and says what each one costs) rather than guessing bytes.
 */
export function expectedStorage(stack: StackConfig): string[][] {
  const rows: string[][] = [];
  if (stack.longhorn) {
    for (const j of stack.longhorn.recurringJobs.filter((j) => LONGHORN_BACKUP_TASKS.includes(j.task))) {
      rows.push([
        `Longhorn job \`${j.name}\``,
        `${j.retain} backups per volume`,
        "one full copy of each volume's used blocks, plus the blocks changed between the kept backups",
      ]);
    }
  }
  if (stack.postgres) {
    const dumps = stackWatches(stack).dumps;
    const perDb = stack.postgres.databases.map((db) =>
      Math.round(stack.postgres!.retentionDays * cronGaps(dumps.get(db.name)!.schedule).runsPerDay),
    );
    const total = perDb.reduce((a, b) => a + b, 0);
    rows.push([
      "PostgreSQL dumps",
      `${total} dumps (${stack.postgres.databases.length} databases × ~${Math.round(total / stack.postgres.databases.length)})`,
      "each a compressed full dump (typically a tenth to a third of the database size), plus at most a day of staging copies",
    ]);
  }
  if (stack.etcd)
    rows.push([
      "etcd snapshots",
      `every snapshot of the last ${stack.etcd.retentionDays} days (k3s default: 2 a day per server)`,
      "each the size of the etcd database (tens of MiB in a homelab)",
    ]);
  if (stack.velero) {
    const counts = stack.velero.schedules.map((s) => `${s.name} ${steadyStateBackups(s.cron, s.ttl).max}`);
    const total = stack.velero.schedules.reduce((a, s) => a + steadyStateBackups(s.cron, s.ttl).max, 0);
    rows.push([
      "Velero backups",
      `${total} backups (${counts.join(", ")})`,
      stack.velero.fsBackup
        ? "object manifests (MiB each) plus Kopia's deduplicated pod-volume data"
        : "object manifests, a few MiB each",
    ]);
  }
  for (const m of stack.buckets?.mirrors ?? [])
    rows.push([
      `bucket mirror \`${m.name}\``,
      "one current copy",
      "the source bucket's size, plus 7 days of overwritten or deleted versions",
    ]);
  if (stack.offsite)
    rows.push([
      "off-site copy (FTP)",
      "one encrypted copy of the copied prefixes",
      "the same as those prefixes on the hub, plus crypt overhead (well under 1%)",
    ]);
  return rows;
}

/** A secret a person must keep a copy of: a stack output and what it unlocks. */
interface EscrowKey {
  readonly name: string;
  readonly protects: string;
  readonly command: string;
}

/** The plan's key-escrow list: every generated or configured key that backups cannot be read without. */
export function keyEscrow(stack: StackConfig): EscrowKey[] {
  const out: EscrowKey[] = [];
  const show = (output: string) => `pulumi stack output ${output} --show-secrets`;
  if (stack.velero)
    out.push({
      name: "Velero Kopia repository password",
      protects: "the pod-volume copies under `velero/kopia/`",
      command: show("veleroRepositoryPassword"),
    });
  if (stack.offsite?.encryption.enabled)
    out.push({
      name: "Off-site encryption key",
      protects: "the encrypted copy on the FTP server",
      command: show("offsiteEncryptionKey"),
    });
  if (stack.ftpBridge?.encryption)
    out.push({
      name: "FTP bridge encryption key",
      protects: "the Longhorn backups the bridge stores on FTP",
      command: show("ftpBridgeEncryptionKey"),
    });
  if (stack.hub?.kind === "pi")
    out.push({
      name: "Hub admin password",
      protects: "the hub's S3 server (every version, every writer)",
      command: show("hubAdminPassword"),
    });
  return out;
}

/**
 * Gaps the stack leaves that no policy refuses, for the plan's Warnings: a class the off-site copy
 * leaves out while `offsite` is set, and pod volumes copied twice (Longhorn and Velero's file-system
 * backup) onto the same hub.
 */
export function stackWarnings(stack: StackConfig): string[] {
  const out: string[] = [];
  const offsite = stack.offsite;
  if (offsite?.prefixes) {
    const kept = offsite.prefixes;
    const hubClasses = [
      ...(stack.longhorn && stack.longhorn.target === "hub" ? (["longhorn"] as const) : []),
      ...(stack.postgres ? (["postgres"] as const) : []),
      ...(stack.etcd ? (["etcd"] as const) : []),
      ...(stack.velero ? (["velero"] as const) : []),
      ...(stack.buckets && stack.buckets.mirrors.length > 0 ? (["buckets"] as const) : []),
    ];
    const left = hubClasses.filter((c) => !kept.some((p) => PREFIXES[c].startsWith(p)));
    if (left.length > 0)
      out.push(
        `The off-site copy leaves out ${left.map((c) => `${CLASS_TITLES[c] ?? c} (\`${PREFIXES[c]}\`)`).join(", ")}: when the hub's disk dies, ${left.length === 1 ? "it has" : "they have"} no other copy. Add ${left.map((c) => `\`${PREFIXES[c]}\``).join(", ")} to \`offsite.prefixes\`, or remove \`prefixes\` to copy the whole bucket.`,
      );
  }
  const fs = stack.velero ? normalizeFsBackup(stack.velero.fsBackup) : undefined;
  const longhornDefault = stack.longhorn?.recurringJobs.some(
    (j) => LONGHORN_BACKUP_TASKS.includes(j.task) && j.groups.includes("default"),
  );
  if (fs && fs.mode !== "off" && longhornDefault)
    out.push(
      `Longhorn backs up every volume in the \`default\` group, and Velero's file-system backup (\`velero.fsBackup\`, ${fs.mode === "opt-out" ? "every pod volume" : `the volumes of ${fs.namespaces.join(", ")}`}) copies ${fs.mode === "opt-out" ? "them" : "those"} again: the same data twice on the same hub, for twice the space and the nightly I/O. Keep one: \`fsBackup: false\` (Longhorn keeps the volumes, Velero the objects), or fsBackup opt-in for the namespaces whose volumes are not Longhorn's.`,
    );
  return out;
}

/** The sections of the configured classes, in plan order. */
export function planSections(stack: StackConfig): PlanSection[] {
  const sections: PlanSection[] = [hubPlan(stack, stack.hub ? hubRights(stack) : undefined)];
  if (stack.longhorn) sections.push(longhornPlan(stack));
  if (stack.postgres) sections.push(postgresPlan(stack, stackWatches(stack)));
  if (stack.etcd) sections.push(etcdPlan(stack));
  if (stack.velero) sections.push(veleroPlan(stack));
  if (stack.buckets && stack.buckets.mirrors.length > 0) sections.push(mirrorsPlan(stack));
  if (stack.offsite) sections.push(offsitePlan(stack));
  if (stack.ftpBridge) sections.push(ftpBridgePlan(stack.ftpBridge, stack.longhorn?.target === "ftpBridge"));
  return sections;
}

/** The whole plan.md. */
export function renderPlan(
  stack: StackConfig,
  verdicts: readonly PlanVerdict[] = [],
  policiesRun: readonly string[] = [],
  /** URNs of the commands that run on the hub host (the render passes the registered ones). */
  hubHostUrns: readonly string[] = [],
): string {
  const sections = planSections(stack);
  const configured = new Set(configuredClasses(stack));
  const rows: PlanRow[] = sections.flatMap((s) => s.rows);
  const out: string[] = [];
  out.push(`# Backup plan`);
  out.push("");
  const hub = stack.hub;
  const hubText = !hub
    ? "none (nothing writes to one)"
    : hub.kind === "aws"
      ? `AWS S3 bucket \`${hub.bucket}\` in ${hub.region}`
      : `${hub.server} on ${hub.host}:${hub.port}${hub.os === "nixos" ? " (NixOS)" : ""} (bucket \`${hub.bucket}\`, data in ${hub.dataDir})`;
  out.push(
    `Generated from the stack file by \`npm run render\`: every row below is what \`pulumi up\` builds. All times are UTC. Hub: **${hubText}**.`,
  );
  out.push("");
  out.push("## What is backed up");
  out.push("");
  out.push(
    table(
      ["What", "How", "When (UTC)", "Kept", "Where"],
      rows.map((r) => [r.what, r.how, r.when, r.retention, r.where]),
    ),
  );
  const missing = Object.keys(CLASS_TITLES).filter((c) => !configured.has(c));
  if (missing.length > 0) {
    out.push("");
    out.push(
      `Not configured (no section in the stack file, nothing built): ${missing.map((c) => CLASS_TITLES[c]).join(", ")}.`,
    );
  }
  if (!stack.alerts)
    out.push("", "Alerts: not configured (no `homelab-backup:alerts` section): nothing watches these backups.");
  const warnings = stackWarnings(stack);
  if (warnings.length > 0) out.push("", "## Warnings", "", ...warnings.map((w) => `- ${w}`));
  out.push("");
  out.push("## Backup window (UTC)");
  out.push("");
  if (stack.postgres)
    out.push(
      `PostgreSQL dumps without their own schedule are spread across **${stack.postgres.window.start}–${stack.postgres.window.end} UTC**.`,
      "",
    );
  const timeline = dailyTimeline(stack);
  out.push(
    timeline.length
      ? table(
          ["Time", "Run", "Cron"],
          timeline.map((r) => [formatMinuteOfDay(r.minute), r.what, `\`${r.cron}\``]),
        )
      : "No schedule has a fixed time of day.",
  );
  const storage = expectedStorage(stack);
  if (storage.length > 0) {
    out.push(
      "",
      "## Expected storage",
      "",
      "What the hub keeps at steady state (counts follow from the schedules and retention above):",
      "",
    );
    out.push(table(["Class", "Restore points kept", "Each one costs"], storage));
  }
  for (const s of sections) {
    if (!s.details.trim()) continue;
    out.push("", `## ${s.title}`, "", s.details.trim());
  }
  const drillable = configuredClasses(stack).filter((c): c is DrillClass =>
    (DRILL_CLASSES as readonly string[]).includes(c),
  );
  out.push(
    "",
    "## Restore readiness",
    "",
    "Each drill restores the newest backup of its class somewhere harmless, checks it and removes what it made; a failed, missing or slow drill alerts. The last drill and the measured restore time (RTO) are live values: the table names where to read them.",
    "",
    restoreReadiness(drillTargets(stack), stack.drills, drillable),
  );
  if (stack.alerts) {
    const a = alertsPlan(stack, stackWatches(stack));
    out.push("", `## ${a.title}`, "", a.details.trim());
  }
  const escrow = keyEscrow(stack);
  if (escrow.length > 0) {
    out.push(
      "",
      "## Keys to keep outside the homelab",
      "",
      "Without these, the backups they protect cannot be read. They live in the Pulumi state; if the homelab and the state are lost together, only your copy remains. Print each once and store it in a password manager or on paper:",
      "",
      table(
        ["Key", "Protects", "Print it with"],
        escrow.map((k) => [k.name, k.protects, `\`${k.command}\``]),
      ),
    );
  }
  out.push(
    "",
    "## When the hub's disk dies",
    "",
    hubLossRunbook(stack, hubHostUrns),
    "",
    "## When the cluster dies",
    "",
    clusterLossRunbook(stack),
    "",
    "## Where the keys to everything live",
    "",
    keysSurvival(stack),
  );
  out.push("", "## How to restore");
  for (const s of sections) {
    if (!s.restore.trim()) continue;
    out.push("", `### ${s.title}`, "", s.restore.trim());
  }
  out.push("", "## Policy verdicts", "");
  const failing = verdicts.filter((v) => v.level === "mandatory");
  const advisory = verdicts.filter((v) => v.level !== "mandatory");
  out.push(
    failing.length === 0
      ? "No mandatory policy is violated."
      : `**${failing.length} mandatory violation(s): \`pulumi up\` would be refused.**`,
  );
  if (policiesRun.length > 0)
    out.push("", `Policies run (${policiesRun.length}): ${policiesRun.map((p) => `\`${p}\``).join(", ")}.`);
  if (verdicts.length > 0)
    out.push(
      "",
      table(
        ["Policy", "Level", "Stack key", "Resource", "Message"],
        [...failing, ...advisory].map((v) => [v.policy, v.level, v.key ? `\`${v.key}\`` : "", v.resource, v.message]),
      ),
    );
  return out.join("\n") + "\n";
}
