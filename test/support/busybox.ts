/**
 * A PATH directory where every BusyBox applet is a link to the machine's busybox: scripts that run
 * under BusyBox in the cluster (alpine images, the static busybox in the etcd drill) are exercised
 * with the same sed/sort/sha256sum/... they get there, not with GNU coreutils. Tools BusyBox does not
 * provide (rclone, etcd, kubectl) are found further down PATH.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";

export interface BusyboxPath {
  /** The directory of applet links. */
  readonly dir: string;
  /** PATH with the applets first. */
  readonly path: string;
  remove(): void;
}

export function busyboxPath(): BusyboxPath {
  const busybox = execFileSync("sh", ["-c", "command -v busybox"], { encoding: "utf8" }).trim();
  const dir = mkdtempSync(path.join(tmpdir(), "busybox-"));
  for (const applet of execFileSync(busybox, ["--list"], { encoding: "utf8" }).split("\n").filter(Boolean)) {
    symlinkSync(busybox, path.join(dir, applet));
  }
  return { dir, path: `${dir}:${process.env.PATH}`, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
