/**
 * The userland job scripts run under. The job images are Alpine: BusyBox provides sh (ash), tail,
 * sha256sum, wc, sed, date, mktemp, stat…; the hub and developers' machines are GNU. Integration tests
 * of job scripts run under both: with TEST_USERLAND=busybox (the `integration-busybox` vitest project),
 * a directory of BusyBox applet links (Debian's `busybox` package) comes first on PATH for every child
 * process the tests start through `childEnv`, so `sh` is BusyBox ash and every applet BusyBox has
 * shadows its GNU namesake, as in the images. Tools BusyBox lacks (rclone, pg_dump, etcdctl, zstd,
 * bash for the postgres scripts, whose image installs it) stay the real ones.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";

export type Userland = "gnu" | "busybox";

/** The userland of this test run (the vitest project sets TEST_USERLAND). */
export function currentUserland(): Userland {
  const u = process.env.TEST_USERLAND ?? "gnu";
  if (u !== "gnu" && u !== "busybox") throw new Error(`TEST_USERLAND must be gnu or busybox, not ${u}`);
  return u;
}

let appletDir: string | undefined;

/** A directory holding one symlink per BusyBox applet (built once per process). */
export function busyboxAppletDir(): string {
  if (appletDir) return appletDir;
  const busybox = ["/usr/bin/busybox", "/bin/busybox"].find((p) => existsSync(p));
  if (!busybox) throw new Error("busybox is not installed (Debian package busybox)");
  const applets = execFileSync(busybox, ["--list"], { encoding: "utf8" }).split("\n").filter(Boolean);
  const dir = path.join(tmpdir(), `homelab-backup-busybox-${process.pid}`);
  const partial = `${dir}.partial`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial);
  for (const applet of applets) symlinkSync(busybox, path.join(partial, applet));
  rmSync(dir, { recursive: true, force: true });
  renameSync(partial, dir);
  if (readdirSync(dir).length < 100) throw new Error(`only ${readdirSync(dir).length} BusyBox applets in ${dir}`);
  appletDir = dir;
  return dir;
}

/** PATH for child processes under `userland`: the applet directory first for BusyBox, unchanged for GNU. */
export function userlandPath(
  basePath = process.env.PATH ?? "/usr/bin:/bin",
  userland: Userland = currentUserland(),
): string {
  return userland === "busybox" ? `${busyboxAppletDir()}:${basePath}` : basePath;
}
