/**
 * etcd restore runbooks, k3s and Talos. Every fetch runs on a workstation (or the node that leads the
 * restore) with rclone and the Pulumi CLI only: the hub remote and the etcd key come from the stack
 * outputs, and the snapshot is checked against its record before anything is reset.
 */
import { PREFIXES } from "../core/schema.js";
import type { HubConnection } from "../core/hubConnection.js";
import { hubRemoteSetup, restoreKeyOutputs, thawThenDownload } from "../core/restoreSetup.js";
import { TALOS_SNAPSHOT_LABEL } from "./talos.js";

import { DEFAULT_SNAPSHOT_DIR } from "./logic.js";

/** Stack outputs with the key the etcd restore reads with (the etcd writer: read and append under etcd-snapshots/). */
export const ETCD_RESTORE_KEYS = restoreKeyOutputs("etcd");

export interface EtcdRestoreOptions {
  /** When snapshots are archived to GLACIER/DEEP_ARCHIVE: how long a thaw takes (the download thaws first). */
  readonly thawDelay?: string;
}

/**
 * Steps 1 and 2 of every etcd restore: list the snapshots under `dir` (`$ETCD_NODE` for k3s, `talos`), then
 * download the newest (or `$SNAP` when set) with its record into the current directory and check its
 * sha256. Two fenced blocks that run as printed in one shell.
 */
export function snapshotFetchSteps(hub: HubConnection, dir: string, opts: EtcdRestoreOptions = {}): string[] {
  const remote = `hub:$BUCKET/${PREFIXES.etcd}${dir}`;
  const download = opts.thawDelay
    ? thawThenDownload(`${remote}/$SNAP`, "./$SNAP", opts.thawDelay)
    : [`rclone copyto "${remote}/$SNAP" "./$SNAP"`];
  return [
    "1. Set up the hub remote and list the snapshots (oldest first):",
    "```sh",
    ...hubRemoteSetup(hub, ETCD_RESTORE_KEYS),
    ...(dir === "$ETCD_NODE"
      ? [
          `rclone lsf "hub:$BUCKET/${PREFIXES.etcd}" --dirs-only --exclude '.partial/**'   # one directory per server`,
          `ETCD_NODE="\${ETCD_NODE:-$(rclone lsf "hub:$BUCKET/${PREFIXES.etcd}" --dirs-only --exclude '.partial/**' | head -n 1 | tr -d /)}"   # or set ETCD_NODE first`,
        ]
      : []),
    `rclone lsf "${remote}/" --files-only --exclude '*.json' | sort`,
    "```",
    "2. Download the newest snapshot (set `SNAP=<file>` first for an older one) and its record, and check the sha256:",
    "```sh",
    `SNAP="\${SNAP:-$(rclone lsf "${remote}/" --files-only --exclude '*.json' | sort | tail -n 1)}"`,
    ...download,
    `rclone copyto "${remote}/$SNAP.json" "./$SNAP.json"`,
    `expected=$(grep -o '"sha256":"[0-9a-f]*"' "./$SNAP.json" | grep -o '[0-9a-f]\\{64\\}')`,
    `echo "$expected  ./$SNAP" | sha256sum -c -   # must print OK; stop here otherwise`,
    "```",
  ];
}

/** The k3s disaster-recovery procedure with the snapshot fetched from the hub and checked first. */
export function k3sRestoreRunbook(
  hub: HubConnection,
  snapshotDir: string = DEFAULT_SNAPSHOT_DIR,
  opts: EtcdRestoreOptions = {},
): string {
  return [
    "WARNING: an etcd restore resets the whole cluster state to the snapshot time; everything after it is lost.",
    "Any server's snapshot restores the whole cluster. Run steps 1–2 on the server that will lead the restore",
    "(it needs rclone and the Pulumi CLI; or run them on a workstation and copy the checked file over).",
    "",
    ...snapshotFetchSteps(hub, "$ETCD_NODE", opts),
    "3. Stop k3s on every server, then reset the cluster from the snapshot on the leading server:",
    "```sh",
    `sudo install -D -m 0600 -o root -g root "./$SNAP" "${snapshotDir}/$SNAP"`,
    "sudo systemctl stop k3s            # on every server",
    `sudo k3s server --cluster-reset --cluster-reset-restore-path="${snapshotDir}/$SNAP"`,
    "sudo systemctl start k3s",
    "```",
    "4. On every other server, remove the stale etcd data and rejoin:",
    "```sh",
    "sudo systemctl stop k3s",
    "sudo rm -rf /var/lib/rancher/k3s/server/db",
    "sudo systemctl start k3s",
    "```",
    "5. Check: `sudo k3s kubectl get nodes` and `sudo k3s kubectl get pods -A`.",
  ].join("\n");
}

/**
 * The Talos disaster-recovery procedure (siderolabs docs, "Disaster Recovery": re-create the control
 * plane with the same machine configuration, then `talosctl bootstrap --recover-from` on one node).
 */
export function talosRestoreRunbook(hub: HubConnection, opts: EtcdRestoreOptions = {}): string {
  return [
    "WARNING: an etcd restore resets the whole cluster state to the snapshot time; everything after it is lost.",
    "Run this from a workstation with rclone, the Pulumi CLI and talosctl (with the cluster's admin talosconfig).",
    "",
    ...snapshotFetchSteps(hub, TALOS_SNAPSHOT_LABEL, opts),
    "3. Re-create (or reset) every control-plane node with the same machine configuration and wait until etcd on",
    "   them waits for bootstrap (`talosctl -n <IP> service etcd` shows `Preparing`). Then recover on one node only:",
    "```sh",
    'talosctl -n <control-plane IP> bootstrap --recover-from="./$SNAP"',
    "```",
    "4. Check: `talosctl -n <control-plane IP> etcd members`, then `kubectl get nodes` and `kubectl get pods -A`.",
  ].join("\n");
}
