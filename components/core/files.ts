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
