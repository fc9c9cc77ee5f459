/**
 * The two likeliest disasters, as runbooks in plan.md, in the order that works. They are built from
 * the same model as every other section (the stack's classes, the hub connection, the restore
 * commands of each area), so they name this stack's namespaces, buckets and commands.
 *
 * - The hub's disk died: rebuild the hub with `pulumi up` (the writers keep their keys: they live in
 *   the Pulumi state), then bring the off-site copy back into the new bucket, verified on the way.
 *   Tested end to end in test/program/hubLoss.integration.test.ts.
 * - The cluster died: the cluster (etcd), then Longhorn and its target, then Velero, then the
 *   databases; each step says what to check before the next.
 */
import { hubOf, offsiteOf, type StackConfig } from "./config.js";
import { hubConnection } from "./core/hubConnection.js";
import { hubRemoteLines } from "./core/restoreSetup.js";
import { ADMIN_USER } from "./hub/pi/piHubSteps.js";
import { envAssignments, offsiteFtpEnv } from "./offsite/logic.js";
import { restoreJobCommands } from "./postgres/logic.js";

/** `"$(pulumi stack output <name> --show-secrets)"` */
const secretOutput = (name: string) => `"$(pulumi stack output ${name} --show-secrets)"`;

/** A URN inside double quotes for the shell, `$` of the type chain escaped, the stack name as `${STACK}`. */
function shellUrn(urn: string): string {
  const m = /^urn:pulumi:[^:]+::(.*)$/.exec(urn);
  if (!m) throw new Error(`not a URN: ${urn}`);
  return `"urn:pulumi:\${STACK}::${m[1].replace(/\$/g, "\\$")}"`;
}

/**
 * Why the hub runbook is possible at all, or what is missing. `hubHostUrns`: the URNs of the commands
 * that run on the hub host (PiHub's steps, the arrivals and off-site units), from the program's
 * registrations; replacing them re-runs each on the new disk.
 */
export function hubLossRunbook(stack: StackConfig, hubHostUrns: readonly string[] = []): string {
  const hub = stack.hub;
  if (!hub || hub.kind === "aws")
    return "The hub is an AWS bucket: S3 keeps its own redundant copies, so this runbook does not apply; the off-site copy (if any) restores as in *Off-site encrypted copy*.";
  const offsite = offsiteOf(stack);
  if (!offsite)
    return "**No off-site copy is configured (`homelab-backup:offsite`): when the hub's disk dies, every backup on it is gone.** Configure one.";
  const conn = hubConnection(hubOf(stack));
  const out: string[] = [];
  out.push(
    "Every class's nearby copy lived on that disk. What brings them back: the off-site copy on FTP, its encryption key and FTP password, and the Pulumi state (which holds the writers' keys, so the cluster's Secrets stay valid). Keep the old disk: do not format it.",
    "",
  );
  if (hub.kind === "pi") {
    out.push(
      `1. Put in a new disk and mount it at \`${hub.dataDir}\` on \`${hub.host}\` (or set up a new ${hub.os === "nixos" ? "NixOS" : "Debian"} host with the same name and SSH key). Then re-run every step this stack runs on the hub, so the server, the bucket, the users with their same keys, and the timers exist again:`,
      "```sh",
      "STACK=$(pulumi stack --show-name)",
      hubHostUrns.length
        ? `pulumi up --policy-pack policies ${hubHostUrns.map((u) => `--replace ${shellUrn(u)}`).join(" ")}`
        : "pulumi up --policy-pack policies --replace <each command:remote:Command URN of `pulumi stack --show-urns`>",
      "```",
    );
  } else {
    out.push(
      "1. Rebuild the S3 server, then let Pulumi see that the bucket and identities are gone and create them again:",
      "```sh",
      "pulumi refresh --yes",
      "pulumi up --policy-pack policies",
      "```",
    );
  }
  const admin =
    hub.kind === "pi"
      ? hubRemoteLines(conn, ADMIN_USER, secretOutput("hubAdminPassword"))
      : hubRemoteLines(conn, "<admin access key>", "<admin secret key>");
  const key = offsite.encryption.enabled ? `OFFSITE_ENCRYPTION_KEY=${secretOutput("offsiteEncryptionKey")} ` : "";
  out.push(
    "2. Bring the off-site copy back into the new bucket: decrypted (a wrong key stops before anything is written; every block is authenticated), uploaded, then every file checked on the hub with its size. Run it from a checkout of this repository with rclone:",
    "```sh",
    ...admin,
    `${envAssignments(offsiteFtpEnv(offsite))} ${key}OFFSITE_FTP_PASSWORD="$(pulumi config get homelab-backup:offsiteFtpPassword)" sh components/offsite/restore-offsite.sh "hub:$BUCKET"`,
    "```",
    "   The restored objects are new to the hub: each expires its retention after today, not after the day it was made.",
    "3. Check every item: `npm run status` (every row present and verified), then a restore of each class as in *How to restore*" +
      (stack.postgres?.databases[0]
        ? `, e.g. the newest dump of \`${stack.postgres.databases[0].name}\` into \`${stack.postgres.databases[0].database}_restored\`.`
        : "."),
  );
  return out.join("\n");
}

/** The cluster is gone; the hub is not. */
export function clusterLossRunbook(stack: StackConfig): string {
  const out: string[] = [
    "The hub holds everything; rebuild in this order, checking each step before the next. First `npm run status`: it reads the hub alone, and shows besides every restore point each item's last drill and measured restore time (`status/drills/`, written by the drills) and the PVCs the audit last found with no backup (`status/audit/pvcs.json`, and how old that list is): data that was never backed up cannot come back.",
    "",
  ];
  let n = 1;
  const step = (text: string) => out.push(`${n++}. ${text}`);
  if (stack.etcd)
    step(
      `**The cluster itself.** ${stack.etcd.distribution === "talos" ? "Talos: re-create the control-plane nodes and recover etcd from the newest snapshot" : "k3s: restore the newest etcd snapshot on the first server"} as in *How to restore → etcd snapshots*. Check: \`kubectl get nodes\` lists every node Ready. An etcd snapshot brings back every Kubernetes object (Secrets included) as of its time; workloads whose volumes are gone wait for step ${stack.longhorn ? 2 : "“volumes”"}.`,
    );
  else
    step(
      "**The cluster itself.** Install a new cluster (this stack keeps no etcd snapshot). Check: `kubectl get nodes` lists every node Ready.",
    );
  if (stack.longhorn)
    step(
      `**Longhorn.** Install Longhorn yourself (this program configures it, it does not install it), at the version the stack names, in \`${stack.longhorn.namespace}\`. Then \`pulumi refresh --yes\` (Pulumi learns which of its objects are gone) and \`pulumi up --policy-pack policies\`: the BackupTarget, its credentials Secret and the recurring jobs come back. Check: \`kubectl -n ${stack.longhorn.namespace} get backuptargets.longhorn.io\` shows AVAILABLE true, and \`kubectl -n ${stack.longhorn.namespace} get backupvolumes.longhorn.io\` lists the volumes. Restore each PVC as in *How to restore → Longhorn volumes* (there is no old PVC to release).`,
    );
  else if (!stack.etcd)
    step(
      "**This stack, again.** `pulumi refresh --yes`, then `pulumi up --policy-pack policies`: every job, Secret and CronJob of this stack comes back.",
    );
  if (stack.velero) {
    const v = stack.velero;
    step(
      `**Velero.** ${v.install ? "`pulumi up` (step above, or now) installs Velero and its BackupStorageLocation" : "Install Velero with the AWS plugin, then `pulumi up` sets its BackupStorageLocation"}. Check: \`velero backup-location get\` shows Available and \`velero backup get\` lists the backups (they sync from the hub within a minute). Restore namespaces as in *How to restore → Velero*, \`--existing-resource-policy=update\` where step 1 already brought objects back.${v.excludedResources.includes("secrets") ? " The backups leave out Secrets (`velero.excludedResources`): they come from the etcd snapshot of step 1 or from their source (GitOps, a password manager); restore those first, since the workloads need them." : ""}`,
    );
  }
  if (stack.postgres) {
    const db = stack.postgres.databases[0];
    step(
      `**The databases.** Once each database server runs again (from its volume or empty), restore what its volume did not bring back, newest dump first, as in *How to restore → PostgreSQL databases*: on an empty server whose role lacks CREATEDB, \`RESTORE_MODE=replace\` restores over the empty database the chart created. List the dumps first:\n   \`\`\`sh\n${restoreJobCommands(
        db,
        "list",
      )
        .split("\n")
        .map((l) => `   ${l}`)
        .join("\n")}\n   \`\`\`\n   Check: the application starts and its data is as of the dump's time.`,
    );
  }
  if (stack.buckets && stack.buckets.mirrors.length > 0)
    step(
      "**Object-store buckets.** Copy each mirror back to its source as in *How to restore → Object-store buckets*.",
    );
  step(
    "**Prove it.** `npm run status`: every item present, fresh and verified; the drills run again on their schedules.",
  );
  return out.join("\n");
}

/** Where the keys to everything must live, so that both disasters can be survived. */
export function keysSurvival(stack: StackConfig): string {
  return [
    "The writers' keys, the off-site encryption key and the Velero repository password are Pulumi secrets in this stack's state, encrypted with its passphrase (or the backend's key). Without the state and the passphrase, the off-site copy cannot be decrypted.",
    "",
    "- Keep the state in a Pulumi backend that is neither the hub nor the cluster (Pulumi Cloud, or an S3 bucket elsewhere); never only on the hub's disk.",
    "- After every `pulumi up`, keep an encrypted export off the homelab: `pulumi stack export --file homelab-backup.stack.json` (secrets stay encrypted in it).",
    "- Keep the passphrase (`PULUMI_CONFIG_PASSPHRASE`) and the keys listed above in a password manager or on paper, outside the homelab." +
      (stack.offsite?.encryption.enabled
        ? " The hub-loss runbook needs exactly two of them: the off-site encryption key and the FTP password."
        : ""),
  ].join("\n");
}
