/**
 * components/core/rclone-remotes.sh is the one definition of the rclone remotes that
 * restore-offsite.sh, offsite-drill.sh, mirror.sh, buckets-drill.sh, audit-entry.sh and write-config.sh
 * use: no file of components/ defines one of its remotes itself, neither in rclone's environment form nor
 * as a config-file section (a second copy would drift from it); each user sources it at the path it
 * really has, shellcheck follows it, and its functions define the remotes under BusyBox ash and the
 * machine's sh alike. The config file write-config.sh prints holds what the environment form holds, as
 * rclone reads it (`rclone config dump`). That the pods and the hub carry the helper beside the scripts
 * is checked where their files are built (test/drills/restoreDrills.test.ts,
 * test/mirror/bucketMirror.test.ts, test/alerts/backupAudit.test.ts, test/offsite/offsiteCronJob.test.ts,
 * test/offsite/offsiteHubTimer.test.ts).
 */
import { execFile, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
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
  "alerts/audit-entry.sh",
  "offsite/write-config.sh",
] as const;

/** Every file under components/, as its path relative to it. */
function componentFiles(dir = COMPONENTS_DIR): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? componentFiles(path.join(dir, e.name)) : [path.relative(COMPONENTS_DIR, path.join(dir, e.name))],
  );
}

/** Every shell script under components/, as `<area>/<file>`. */
function allScripts(): string[] {
  return componentFiles().filter((f) => f.endsWith(".sh"));
}

/** Inputs under which both of the helper's environment functions define every remote they know. */
const ALL_INPUTS = {
  OFFSITE_FTP_HOST: "ftp.example.net",
  OFFSITE_FTP_USER: "backup",
  OFFSITE_FTP_PASSWORD: "pw",
  OFFSITE_ENCRYPTION_KEY: "key",
  MIRROR_SOURCE_ENDPOINT: "http://rgw:7480",
  AWS_ACCESS_KEY_ID: "a",
  AWS_SECRET_ACCESS_KEY: "b",
  MIRROR_HUB_PROVIDER: "Minio",
  MIRROR_HUB_ENDPOINT: "http://hub:9000",
  MIRROR_HUB_REGION: "us-east-1",
  MIRROR_HUB_PATH_STYLE: "true",
  HUB_ACCESS_KEY_ID: "c",
  HUB_SECRET_ACCESS_KEY: "d",
};

let remotesDefined: string[] | undefined;
/**
 * The remotes the helper defines, as rclone names them in a config file (lower case): the NAME of every
 * `RCLONE_CONFIG_<NAME>_TYPE` its functions leave in the environment. Read from what the functions do,
 * not from how the helper spells them.
 */
function helperRemotes(): string[] {
  remotesDefined ??= Object.keys(
    remotesAfter("gnu", "rclone_offsite_remotes; rclone_mirror_remotes", ALL_INPUTS).vars,
  ).flatMap((v) => /^RCLONE_CONFIG_(.+)_TYPE$/.exec(v)?.[1].toLowerCase() ?? []);
  return remotesDefined;
}

describe("the rclone remotes have one definition", () => {
  it("the helper defines the off-site and the mirror remotes", () => {
    expect(new Set(helperRemotes())).toEqual(new Set(["ftp", "offsite_raw", "offsite", "src", "hub"]));
  });

  it("no other script defines one of them: neither RCLONE_CONFIG_<NAME>_* assignments, nor the helper's option functions, nor rclone config create", () => {
    const names = helperRemotes().join("|").toUpperCase();
    const definition = new RegExp(`^[^#]*\\bRCLONE_CONFIG_(${names})_[A-Z0-9_]+=`);
    const found = allScripts()
      .filter((f) => f !== RCLONE_REMOTES_SCRIPT)
      .flatMap((f) =>
        readScript(f)
          .split("\n")
          .map((line, i) => ({ where: `components/${f}:${i + 1}`, line }))
          .filter(
            ({ line }) =>
              definition.test(line) ||
              // The helper's per-option functions define a remote option by option: only the helper calls them.
              /^[^#]*\brclone_(env|print)_option\b/.test(line) ||
              /^[^#]*\bconfig\s+create\b/.test(line),
          ),
      );
    expect(found, "define the remote in components/core/rclone-remotes.sh and source it").toEqual([]);
  });

  it("no other file of components/ writes one of them as a config-file section: `[name]` followed by its `type =`", () => {
    // The config-file form of the remotes comes from the helper too (its rclone_print_* functions): a
    // section spelled out elsewhere is a second definition, free to drift from the environment form.
    // `type` starts a line of the section: after a newline, or after a printf format's `\n`.
    const section = new RegExp(`\\[(${helperRemotes().join("|")})\\](?:(?!\\[)[\\s\\S])*?(?:\\s|\\\\n)type\\s*=`, "gi");
    const found = componentFiles()
      .filter((f) => f !== RCLONE_REMOTES_SCRIPT)
      .flatMap((f) => {
        // Comments may describe a section; only code writes one.
        const code = readScript(f)
          .split("\n")
          .map((line) => (/^\s*(#|\/\/|\*)/.test(line) ? "" : line))
          .join("\n");
        return [...code.matchAll(section)].map(
          (m) => `components/${f}:${code.slice(0, m.index).split("\n").length}: ${m[0].split("\n")[0]}`,
        );
      });
    expect(found, "print the section with the helper's rclone_print_* functions").toEqual([]);
  });

  it.each(USERS)("%s sources the helper by its path relative to the script, and shellcheck follows it", async (f) => {
    const text = readScript(f);
    expect(text).toContain(
      '# shellcheck source-path=SCRIPTDIR source=../core/rclone-remotes.sh\n. "$(dirname "$0")/../core/rclone-remotes.sh"\n',
    );
    expect(existsSync(path.resolve(COMPONENTS_DIR, path.dirname(f), "../core/rclone-remotes.sh"))).toBe(true);
    expect(text).toMatch(
      /^\s*rclone_(offsite_remotes|mirror_remotes|hub_remote|print_offsite_remotes|print_hub_remote)\b/m,
    );
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
    // `--`: an obscured value is URL-safe base64 and may start with "-", which rclone would read as a flag.
    expect(spawnSync("rclone", ["reveal", "--", pass], { encoding: "utf8" }).stdout.trim()).toBe("pw");
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

  /** Settings as components/offsite/logic.ts offsiteConfigEnv gives them, with an FTP path and a filename mode of their own. */
  const settings = (encryption: boolean) => ({
    OFFSITE_FTP_HOST: "ftp.example.net",
    OFFSITE_FTP_PORT: "2121",
    OFFSITE_FTP_USER: "me@example.com",
    OFFSITE_FTP_PATH: "/Homelab",
    OFFSITE_FTP_EXPLICIT_TLS: "true",
    OFFSITE_ENCRYPTION: String(encryption),
    OFFSITE_FILENAME_ENCRYPTION: "obfuscate",
    OFFSITE_S3_ENDPOINT: "http://hub:9000",
    OFFSITE_S3_REGION: "home-1",
    OFFSITE_S3_PROVIDER: "Minio",
    OFFSITE_S3_PATH_STYLE: "true",
  });
  const FTP_PASSWORD = "ftp pw %q 'x'";
  const KEY = "crypt-key-1";
  const S3 = { id: "AKID", secret: "secret/x+y" };

  /** write-config.sh run as the hub runs it (secrets on stdin), and the remotes of its file as rclone reads them. */
  function configFileRemotes(encryption: boolean): Record<string, Record<string, string>> {
    const dir = mkdtempSync(path.join(tmpdir(), "rclone-remotes-"));
    try {
      const conf = path.join(dir, "rclone.conf");
      const w = spawnSync("sh", [path.join(COMPONENTS_DIR, "offsite/write-config.sh"), conf], {
        input: `${FTP_PASSWORD}\n${encryption ? KEY : ""}\n${S3.id}\n${S3.secret}\n`,
        encoding: "utf8",
        env: { PATH: userlandPath(process.env.PATH, userland), ...settings(encryption) },
      });
      expect(w.status, w.stderr).toBe(0);
      const dump = spawnSync("rclone", ["--config", conf, "config", "dump"], { encoding: "utf8" });
      expect(dump.status, dump.stderr).toBe(0);
      return JSON.parse(dump.stdout);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  /** The secret behind an obscured option (obscuring is salted: two runs differ, the revealed value does not). */
  const OBSCURED = new Set(["pass", "password", "password2"]);
  const reveal = (option: string, value: string) => {
    if (!OBSCURED.has(option)) return value;
    // `--`: an obscured value is URL-safe base64 and may start with "-", which rclone would read as a flag.
    const r = spawnSync("rclone", ["reveal", "--", value], { encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    return `revealed:${r.stdout.trim()}`;
  };

  it.each([true, false])(
    "write-config.sh's file holds the remotes the environment form defines, option for option (encryption %s)",
    (encryption) => {
      const file = configFileRemotes(encryption);
      // The same remotes in rclone's environment form, from the helper's exporting functions and the same inputs.
      const {
        OFFSITE_S3_PROVIDER: p,
        OFFSITE_S3_ENDPOINT: e,
        OFFSITE_S3_REGION: r,
        OFFSITE_S3_PATH_STYLE: ps,
      } = settings(encryption);
      const env = remotesAfter(
        userland,
        `rclone_hub_remote '${p}' '${e}' '${r}' '${ps}' '${S3.id}' '${S3.secret}'; rclone_offsite_remotes`,
        { ...settings(encryption), OFFSITE_FTP_PASSWORD: FTP_PASSWORD, OFFSITE_ENCRYPTION_KEY: KEY },
      );
      expect(env.code, env.stderr).toBe(0);
      // rclone reads option <option> of remote <remote> from RCLONE_CONFIG_<REMOTE>_<OPTION> (upper case).
      const fileAsEnv = Object.fromEntries(
        Object.entries(file).flatMap(([remote, options]) =>
          Object.entries(options).map(([o, v]) => [`RCLONE_CONFIG_${remote}_${o}`.toUpperCase(), reveal(o, v)]),
        ),
      );
      // An environment variable's last word is enough to tell an obscured option (FTP_PASS, OFFSITE_PASSWORD2).
      const envRevealed = Object.fromEntries(
        Object.entries(env.vars).map(([k, v]) => [k, reveal(k.split("_").pop()!.toLowerCase(), v)]),
      );
      expect(fileAsEnv).toEqual(envRevealed);

      // And the file holds what write-config.sh wrote before its remotes came from the helper: the same
      // remotes with the same options and values.
      const revealed = Object.fromEntries(
        Object.entries(file).map(([remote, o]) => [
          remote,
          Object.fromEntries(Object.entries(o).map(([k, v]) => [k, reveal(k, v)])),
        ]),
      );
      expect(revealed).toEqual({
        hub: {
          type: "s3",
          provider: "Minio",
          endpoint: "http://hub:9000",
          region: "home-1",
          access_key_id: S3.id,
          secret_access_key: S3.secret,
          force_path_style: "true",
          no_check_bucket: "true",
        },
        ftp: {
          type: "ftp",
          host: "ftp.example.net",
          port: "2121",
          user: "me@example.com",
          pass: `revealed:${FTP_PASSWORD}`,
          explicit_tls: "true",
          disable_tls13: "false",
        },
        offsite_raw: { type: "alias", remote: "ftp:/Homelab" },
        offsite: encryption
          ? {
              type: "crypt",
              remote: "offsite_raw:",
              filename_encryption: "obfuscate",
              directory_name_encryption: "true",
              password: `revealed:${KEY}`,
              password2: `revealed:${KEY}`,
            }
          : { type: "alias", remote: "offsite_raw:" },
      });
    },
  );

  it("the mirror's hub remote is the one write-config.sh writes for the same hub", () => {
    const hub = configFileRemotes(false).hub;
    const s = settings(false);
    const mirror = remotesAfter(userland, "rclone_mirror_remotes", {
      MIRROR_SOURCE_ENDPOINT: "http://rgw:7480",
      AWS_ACCESS_KEY_ID: "a",
      AWS_SECRET_ACCESS_KEY: "b",
      MIRROR_HUB_PROVIDER: s.OFFSITE_S3_PROVIDER,
      MIRROR_HUB_ENDPOINT: s.OFFSITE_S3_ENDPOINT,
      MIRROR_HUB_REGION: s.OFFSITE_S3_REGION,
      MIRROR_HUB_PATH_STYLE: s.OFFSITE_S3_PATH_STYLE,
      HUB_ACCESS_KEY_ID: S3.id,
      HUB_SECRET_ACCESS_KEY: S3.secret,
    });
    expect(mirror.code, mirror.stderr).toBe(0);
    expect(Object.fromEntries(Object.entries(mirror.vars).filter(([k]) => k.startsWith("RCLONE_CONFIG_HUB_")))).toEqual(
      Object.fromEntries(Object.entries(hub).map(([o, v]) => [`RCLONE_CONFIG_HUB_${o.toUpperCase()}`, v])),
    );
  });
});
