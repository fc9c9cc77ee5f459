/**
 * Builds a small Go program of test/support offline with Debian's Go, in GOPATH mode from Debian's
 * golang-*-dev source packages (/usr/share/gocode), the first time a test needs it, cached in the temp
 * dir by the hash of its main.go. The robfig/cron checker and the madmin-go reference use it.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
/** Debian's golang-1.19-go installs `go` there only; golang-go (any release) adds it to PATH. */
const GO = existsSync("/usr/lib/go-1.19/bin/go") ? "/usr/lib/go-1.19/bin/go" : "go";
/** Where Debian's golang-*-dev packages install their sources (GOPATH layout). */
export const DEBIAN_GOPATH = "/usr/share/gocode";

const builds = new Map<string, Promise<string>>();

/** Builds `sourceDir` (holding main.go) once per source content into a binary named `name`; returns its path. */
export function goHelperBinary(sourceDir: string, name: string, timeoutMs: number): Promise<string> {
  let built = builds.get(sourceDir);
  if (!built) {
    built = (async () => {
      const hash = createHash("sha256")
        .update(readFileSync(path.join(sourceDir, "main.go")))
        .digest("hex")
        .slice(0, 16);
      const dir = path.join(tmpdir(), `homelab-backup-${name}-${hash}`);
      const bin = path.join(dir, name);
      if (existsSync(bin)) return bin;
      mkdirSync(dir, { recursive: true });
      // Several test workers may build at once: each builds to its own name, then renames atomically.
      const partial = `${bin}.${process.pid}.partial`;
      await run(GO, ["build", "-o", partial, "."], {
        cwd: sourceDir,
        env: {
          ...process.env,
          GOPATH: DEBIAN_GOPATH,
          GO111MODULE: "off",
          GOFLAGS: "",
          GOCACHE: path.join(dir, "gocache"),
          CGO_ENABLED: "0",
          GOTOOLCHAIN: "local",
        },
        timeout: timeoutMs,
      });
      renameSync(partial, bin);
      rmSync(path.join(dir, "gocache"), { recursive: true, force: true });
      return bin;
    })();
    builds.set(sourceDir, built);
  }
  return built;
}
