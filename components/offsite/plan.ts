/** The off-site copy's part of plan.md. */
import { hubOf, offsiteOf, type OffsiteConfig, type StackConfig } from "../config.js";
import { describeCron } from "../core/cron.js";
import { hubConnection, s3Url } from "../core/hubConnection.js";
import { names } from "../core/names.js";
import type { PlanSection } from "../core/planTypes.js";
import { offsiteRestoreCommand } from "./logic.js";
import { PREFIXES } from "../core/schema.js";
import { toSystemdCalendar } from "../core/systemd.js";
import { VERSIONS } from "../core/versions.js";
import { offsiteTextfilePath } from "./logic.js";
import { metrics } from "../core/names.js";

function ftpUrl(config: OffsiteConfig): string {
  const path = config.ftp.path.startsWith("/") ? config.ftp.path : `/${config.ftp.path}`;
  return `${config.ftp.explicitTls ? "ftpes" : "ftp"}://${config.ftp.user}@${config.ftp.host}:${config.ftp.port}${path}`;
}

/** The off-site section of plan.md. */
export function offsitePlan(stack: StackConfig): PlanSection {
  const config = offsiteOf(stack);
  if (!config) return { title: "Off-site encrypted copy", rows: [], details: "Not configured.", restore: "" };
  const hub = hubConnection(hubOf(stack));
  const prefixes = config.prefixes ?? Object.values(PREFIXES);
  const enc = config.encryption.enabled
    ? `rclone crypt (file names: ${config.encryption.filenameEncryption})`
    : "NOT encrypted (encryption.enabled: false)";
  const runner =
    config.runOn === "hub"
      ? `systemd timer \`${names.offsiteUnit}.timer\` on the hub (${toSystemdCalendar(config.schedule)
          .map((c) => `OnCalendar=${c}`)
          .join(", ")}, Persistent=true)`
      : `CronJob ${config.namespace}/${names.offsiteCronJob}`;
  const rows = [
    {
      what: `hub prefixes ${prefixes.map((p) => `\`${p}\``).join(", ")}`,
      how: `rclone ${VERSIONS.rclone} sync, compared by size (FTP keeps no mtime), ${enc}, over ${config.ftp.explicitTls ? "FTPS (explicit TLS)" : "plain FTP"}; ${runner}`,
      when: describeCron(config.schedule),
      retention: "a mirror of the hub: what the hub's lifecycle removes disappears off-site at the next run",
      where: ftpUrl(config),
    },
  ];
  const record =
    config.runOn === "hub"
      ? `Each run writes \`${offsiteTextfilePath(hubOf(stack))}\` for node-exporter: \`${metrics.offsiteLastSuccess}\`, \`${metrics.offsiteLastRun}\`, \`${metrics.offsiteLastRunSuccess}\` (0 on a failed run, the last success kept), \`${metrics.offsiteBytes}\`, \`${metrics.offsiteFiles}\`.`
      : `Each run is a Job of CronJob \`${config.namespace}/${names.offsiteCronJob}\`; its status is the record (kube-state-metrics).`;
  const keyText = config.encryption.enabled
    ? [
        "**The encryption key** is the only way to read the copy. It is a Pulumi secret: `pulumi stack output offsiteEncryptionKey --show-secrets`",
        "(set by `homelab-backup:offsiteEncryptionKey`, else generated). Keep a copy outside the homelab (password manager, paper): if the",
        "homelab and its Pulumi state are lost together, the off-site copy is unreadable without it.",
        "The copy holds a key-check file: a run with a different key stops instead of uploading everything a second time.",
      ].join(" ")
    : "The copy is not encrypted: the FTP provider can read every backup.";
  return {
    title: "Off-site encrypted copy",
    rows,
    details: `${keyText}\n\n${record} Source: ${s3Url(hub, "")} read with the offsite reader's credentials.`,
    restore: [
      "Needs only the encryption key and the FTP login, from any machine with rclone and a checkout of this repository:",
      "",
      "```sh",
      offsiteRestoreCommand(config),
      "```",
      "",
      "`restore-offsite.sh --list` lists the copy; a second argument restores one path only (e.g. `postgres-backups/wiki`).",
      "A wrong key fails before anything is downloaded. Then copy the restored files back to the hub with credentials that may write there",
      `(${hub.kind === "pi" ? "the admin remote `hub` of the Hub section's version block" : "an rclone remote `hub` with admin credentials"}), e.g. \`rclone copy ./offsite-restore hub:${hub.bucket}/\`.`,
    ].join("\n"),
  };
}
