/**
 * Scripts and units that run on hosts or in jobs are real files under `scripts/` (shellcheck and
 * systemd-analyze read the same files the jobs run); components read them from here.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import * as path from "node:path";

export const SCRIPTS_DIR = path.resolve(__dirname, "..", "scripts");

const cache = new Map<string, string>();

/** The content of `scripts/<relative>`. */
export function readScript(relative: string): string {
  let text = cache.get(relative);
  if (text === undefined) {
    text = readFileSync(path.join(SCRIPTS_DIR, relative), "utf8");
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
