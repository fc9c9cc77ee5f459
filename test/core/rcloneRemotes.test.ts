/**
 * components/core/rclone-remotes.sh is the one definition of the rclone remotes that
 * restore-offsite.sh, offsite-drill.sh, mirror.sh and buckets-drill.sh use: no script of components/
 * defines one of its remotes itself (a second copy would drift from it), each of the four sources it at
 * the path it really has, shellcheck follows it, and its functions define the remotes under BusyBox ash
 * and the machine's sh alike. That the pods carry it beside the scripts is checked where their
 * ConfigMaps are built (test/drills/restoreDrills.test.ts, test/offsite/offsiteSync.test.ts).
 */
import { execFile, spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { COMPONENTS_DIR, RCLONE_REMOTES_SCRIPT, readScript } from "../../components/core/files.js";
import { userlandPath } from "../support/userland.js";

const run = promisify(execFile);
const HELPER = path.join(COMPONENTS_DIR, RCLONE_REMOTES_SCRIPT);
const USERS = [
  "offsite/restore-offsite.sh",
  "drills/offsite-drill.sh",
  "mirror/mirror.sh",
  "drills/buckets-drill.sh",
] as const;

/** Every shell script under components/, as `<area>/<file>`. */
function allScripts(): string[] {
  return readdirSync(COMPONENTS_DIR, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .flatMap((d) => readdirSync(path.join(COMPONENTS_DIR, d.name)).map((f) => `${d.name}/${f}`))
    .filter((f) => f.endsWith(".sh"));
}

/** The remotes the helper defines: the NAME of every `RCLONE_CONFIG_<NAME>_TYPE=` it assigns. */
function helperRemotes(): string[] {
  return [...readScript(RCLONE_REMOTES_SCRIPT).matchAll(/^\s*RCLONE_CONFIG_([A-Z0-9_]+?)_TYPE=/gm)].map((m) => m[1]);
}

describe("the rclone remotes have one definition", () => {
  it("the helper defines the off-site and the mirror remotes", () => {
    expect(new Set(helperRemotes())).toEqual(new Set(["FTP", "OFFSITE_RAW", "OFFSITE", "SRC", "HUB"]));
  });

  it("no other script defines one of them: neither RCLONE_CONFIG_<NAME>_* assignments nor rclone config create", () => {
    const names = helperRemotes().join("|");
    const definition = new RegExp(`^[^#]*\\bRCLONE_CONFIG_(${names})_[A-Z0-9_]+=`);
    const found = allScripts()
      .filter((f) => f !== RCLONE_REMOTES_SCRIPT)
      .flatMap((f) =>
        readScript(f)
          .split("\n")
          .map((line, i) => ({ where: `components/${f}:${i + 1}`, line }))
          .filter(({ line }) => definition.test(line) || /^[^#]*\bconfig\s+create\b/.test(line)),
      );
    expect(found, "define the remote in components/core/rclone-remotes.sh and source it").toEqual([]);
  });

  it.each(USERS)("%s sources the helper by its path relative to the script, and shellcheck follows it", async (f) => {
    const text = readScript(f);
    expect(text).toContain(
      '# shellcheck source-path=SCRIPTDIR source=../core/rclone-remotes.sh\n. "$(dirname "$0")/../core/rclone-remotes.sh"\n',
    );
    expect(existsSync(path.resolve(COMPONENTS_DIR, path.dirname(f), "../core/rclone-remotes.sh"))).toBe(true);
    expect(text).toMatch(/^rclone_(offsite|mirror)_remotes$/m);
    await run("shellcheck", ["--external-sources", "--severity=style", "-s", "sh", path.join(COMPONENTS_DIR, f)]);
  });

  it("the helper is shellcheck-clean as POSIX sh", async () => {
    await run("shellcheck", ["--severity=style", "-s", "sh", HELPER]);
  });
});

/** Sources the helper in `sh` (BusyBox ash or the machine's), runs `fn` and returns the remotes and secrets left in the environment. */
function remotesAfter(userland: "busybox" | "gnu", fn: string, env: Record<string, string>) {
  const r = spawnSync(
    "sh",
    [
      "-c",
      `set -eu; . "$1"; ${fn}; env | grep -E '^(RCLONE_CONFIG_|OFFSITE_FTP_PASSWORD=|OFFSITE_ENCRYPTION_KEY=)' | sort`,
      "sh",
      HELPER,
    ],
    {
      encoding: "utf8",
      env: { PATH: userlandPath(process.env.PATH, userland), RCLONE: "rclone", ...env },
    },
  );
  const vars = Object.fromEntries(
    r.stdout
      .split("\n")
      .filter(Boolean)
      .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
  );
  return { code: r.status, stderr: r.stderr, vars };
}

describe.each(["busybox", "gnu"] as const)("the helper's functions under %s sh", (userland) => {
  const ftp = { OFFSITE_FTP_HOST: "ftp.example.net", OFFSITE_FTP_USER: "backup", OFFSITE_FTP_PASSWORD: "pw" };

  it("off-site without encryption: offsite is a plain alias of offsite_raw, the password only obscured in ftp", () => {
    const r = remotesAfter(userland, "rclone_offsite_remotes", { ...ftp, OFFSITE_ENCRYPTION: "false" });
    expect(r.code, r.stderr).toBe(0);
    const pass = r.vars.RCLONE_CONFIG_FTP_PASS;
    expect(pass).toMatch(/\S/);
    expect(pass).not.toBe("pw");
    // rclone reveals what it obscured: the real rclone made it.
    expect(spawnSync("rclone", ["reveal", pass], { encoding: "utf8" }).stdout.trim()).toBe("pw");
    expect(r.vars).toEqual({
      RCLONE_CONFIG_FTP_TYPE: "ftp",
      RCLONE_CONFIG_FTP_HOST: "ftp.example.net",
      RCLONE_CONFIG_FTP_PORT: "21",
      RCLONE_CONFIG_FTP_USER: "backup",
      RCLONE_CONFIG_FTP_PASS: pass,
      RCLONE_CONFIG_FTP_EXPLICIT_TLS: "true",
      RCLONE_CONFIG_FTP_DISABLE_TLS13: "false",
      RCLONE_CONFIG_OFFSITE_RAW_TYPE: "alias",
      RCLONE_CONFIG_OFFSITE_RAW_REMOTE: "ftp:/",
      RCLONE_CONFIG_OFFSITE_TYPE: "alias",
      RCLONE_CONFIG_OFFSITE_REMOTE: "offsite_raw:",
    });
  });

  it("off-site with encryption needs the key, and a missing FTP password stops the script", () => {
    const noKey = remotesAfter(userland, "rclone_offsite_remotes", ftp);
    expect(noKey.code).not.toBe(0);
    expect(noKey.stderr).toContain("OFFSITE_ENCRYPTION_KEY");
    const { OFFSITE_FTP_PASSWORD: _, ...noPassword } = ftp;
    const r = remotesAfter(userland, "rclone_offsite_remotes", { ...noPassword, OFFSITE_ENCRYPTION: "false" });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("OFFSITE_FTP_PASSWORD");
    expect(r.vars).toEqual({});
  });

  it("mirror: a missing hub setting stops the script, which names it", () => {
    const r = remotesAfter(userland, "rclone_mirror_remotes", {
      MIRROR_SOURCE_ENDPOINT: "http://rgw:7480",
      AWS_ACCESS_KEY_ID: "a",
      AWS_SECRET_ACCESS_KEY: "b",
      MIRROR_HUB_PROVIDER: "Minio",
      MIRROR_HUB_ENDPOINT: "http://hub:9000",
      HUB_ACCESS_KEY_ID: "c",
      HUB_SECRET_ACCESS_KEY: "d",
      MIRROR_HUB_PATH_STYLE: "true",
    });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("MIRROR_HUB_REGION");
    expect(r.vars).toEqual({});
  });
});
