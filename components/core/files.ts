/**
 * Scripts and units that run on hosts or in jobs are real files beside their component
 * (`components/<area>/*.sh`, `*.service`, `*.timer`): shellcheck and systemd-analyze read the same
 * files the jobs run, and components read them from here.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import * as path from "node:path";

/** `components/`: scripts are read as `<area>/<file>` from here. */
export const COMPONENTS_DIR = path.resolve(__dirname, "..");

const cache = new Map<string, string>();

/** The content of `components/<relative>`, e.g. `readScript("postgres/dump.sh")`. */
export function readScript(relative: string): string {
  let text = cache.get(relative);
  if (text === undefined) {
    text = readFileSync(path.join(COMPONENTS_DIR, relative), "utf8");
    cache.set(relative, text);
  }
  return text;
}

/** The shared rclone remotes that job scripts source (components/core/rclone-remotes.sh). */
export const RCLONE_REMOTES_SCRIPT = "core/rclone-remotes.sh";

/**
 * The files of a scripts ConfigMap whose scripts source one another by paths relative to their own
 * directory (`"$(dirname "$0")/../core/rclone-remotes.sh"`): `data` holds each file under its base name
 * (a ConfigMap key cannot hold a `/`), `paths` maps each key back to its path under `components/`, so the
 * volume (scriptsVolume in components/core/cronJob.ts) lays the pod's scripts out as a checkout has them.
 */
export function scriptTree(relatives: readonly string[]): {
  data: Record<string, string>;
  paths: Record<string, string>;
} {
  const data: Record<string, string> = {};
  const paths: Record<string, string> = {};
  for (const relative of relatives) {
    const key = path.posix.basename(relative);
    if (key in paths) throw new Error(`scriptTree: ${relative} and ${paths[key]} have the same ConfigMap key ${key}`);
    data[key] = readScript(relative);
    paths[key] = relative;
  }
  return { data, paths };
}

/** Short content hash, for triggers and config-change annotations. */
export function contentHash(...parts: string[]): string {
  const h = createHash("sha256");
  for (const p of parts) h.update(p).update("\0");
  return h.digest("hex").slice(0, 16);
}

/** Single-quotes a value for a POSIX shell command line. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
