/**
 * A wrapper around the real rclone that injects one fault, so the tests can prove a script checks
 * what it claims to check (each fault is one a real run can meet: an upload that lost bytes, one
 * prefix failing mid-run, an object appearing in the mirror). Everything else goes to the real rclone.
 *
 *   staged-size        `lsf --format s` of an object under `.partial/` reports one byte more
 *   fail-sync:<path>   `sync <path> …` fails (exit 1) without touching anything
 *   stray-after-sync:<dest>   after a successful `sync … <dest>`, one extra object is written under <dest>
 *   resize-after-sync:<dest>/<object>   after a successful `sync … <dest>`, <object> under it is
 *     overwritten with bytes of another size (a damaged copy: the object count does not change)
 *   fail-copy-from:<prefix>   `copyto <src> …` fails (exit 1) when <src> starts with <prefix> (a
 *     server-side copy out of a staging prefix failing after the upload into it succeeded)
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";

export type RcloneFault =
  | "staged-size"
  | `fail-sync:${string}`
  | `stray-after-sync:${string}`
  | `resize-after-sync:${string}`
  | `fail-copy-from:${string}`;

/** Writes the wrapper script for `fault` and returns its path (use it as the scripts' RCLONE). */
export function fakeRclone(fault: RcloneFault): string {
  const real = execFileSync("sh", ["-c", "command -v rclone"], { encoding: "utf8" }).trim();
  if (!real.startsWith("/")) throw new Error("rclone is not installed");
  const dir = mkdtempSync(path.join(tmpdir(), "fake-rclone-"));
  const file = path.join(dir, "rclone");
  const [kind, arg = ""] = fault.split(/:(.*)/s);
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const body: Record<string, string> = {
    "staged-size": `
sub=; fmt=; target=
prev=
for a in "$@"; do
  case "$a" in lsf) sub=lsf ;; esac
  [ "$prev" = --format ] && fmt="$a"
  case "$a" in *"/.partial/"*) target="$a" ;; esac
  prev="$a"
done
if [ "$sub" = lsf ] && [ "$fmt" = s ] && [ -n "$target" ]; then
  size=$(${q(real)} "$@") || exit $?
  echo $((size + 1))
  exit 0
fi
exec ${q(real)} "$@"`,
    "fail-sync": `
sub=
for a in "$@"; do
  case "$a" in sync) sub=sync ;; esac
  if [ "$sub" = sync ] && [ "$a" = ${q(arg)} ]; then
    echo "fake rclone: injected failure of sync $a" >&2
    exit 1
  fi
done
exec ${q(real)} "$@"`,
    "stray-after-sync": `
sub=; hit=
for a in "$@"; do
  case "$a" in sync) sub=sync ;; esac
  [ "$sub" = sync ] && [ "$a" = ${q(arg)} ] && hit=1
done
${q(real)} "$@" || exit $?
if [ -n "$hit" ]; then
  # The remotes of the scripts are environment variables (RCLONE_CONFIG_<NAME>_*), inherited here.
  printf 'stray' > "\${TMPDIR:-/tmp}/fake-rclone-stray.$$"
  ${q(real)} copyto "\${TMPDIR:-/tmp}/fake-rclone-stray.$$" ${q(arg)}/stray-object 2>/dev/null || exit $?
  rm -f "\${TMPDIR:-/tmp}/fake-rclone-stray.$$"
fi`,
  };
  const dest = arg.slice(0, arg.lastIndexOf("/"));
  body["resize-after-sync"] = `
sub=; hit=
for a in "$@"; do
  case "$a" in sync) sub=sync ;; esac
  [ "$sub" = sync ] && [ "$a" = ${q(dest)} ] && hit=1
done
${q(real)} "$@" || exit $?
if [ -n "$hit" ]; then
  printf 'damaged copy, another size' > "\${TMPDIR:-/tmp}/fake-rclone-resize.$$"
  ${q(real)} copyto "\${TMPDIR:-/tmp}/fake-rclone-resize.$$" ${q(arg)} 2>/dev/null || exit $?
  rm -f "\${TMPDIR:-/tmp}/fake-rclone-resize.$$"
fi`;
  body["fail-copy-from"] = `
sub=
for a in "$@"; do
  if [ "$sub" = copyto ]; then
    case "$a" in ${q(arg)}*) echo "fake rclone: injected failure of copyto from $a" >&2; exit 1 ;; esac
    break
  fi
  case "$a" in copyto) sub=copyto ;; esac
done
exec ${q(real)} "$@"`;
  if (!(kind in body)) throw new Error(`unknown fault ${fault}`);
  writeFileSync(file, `#!/bin/sh\n# Injected fault: ${fault}\n${body[kind].trim()}\n`, { mode: 0o755 });
  return file;
}
