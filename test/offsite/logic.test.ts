/**
 * components/offsite/logic.ts without resources: the hub's units (checked by systemd-analyze verify), the settings
 * the scripts get, the restore command and the plan sections; and shellcheck over every script.
 */
import { execFile } from "node:child_process";
import { copyFileSync, chmodSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { offsiteOf, parseStackConfig, type OffsiteConfig } from "../../components/config.js";
import { readScript, COMPONENTS_DIR } from "../../components/core/files.js";
import { hubConnection } from "../../components/core/hubConnection.js";
import { metrics, names } from "../../components/core/names.js";
import { mirrorEnv, mirrorPrefix } from "../../components/mirror/logic.js";
import { mirrorsPlan } from "../../components/mirror/plan.js";
import {
  OFFSITE_HUB_PATHS,
  offsiteConfigEnv,
  offsiteRestoreCommand,
  offsiteSecretsStdin,
  offsiteTextfilePath,
  renderOffsiteUnits,
} from "../../components/offsite/logic.js";
import { offsitePlan } from "../../components/offsite/plan.js";
import { toSystemdCalendar } from "../../components/core/systemd.js";

const run = promisify(execFile);

function stack(offsite: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) {
  return parseStackConfig({
    "homelab-backup:hub": JSON.stringify({
      kind: "pi",
      bucket: "backups",
      host: "backup1.lan",
      ssh: { user: "pi" },
      dataDir: "/mnt/backup-hdd",
      server: "rustfs",
      region: "fr-home-1",
    }),
    "homelab-backup:hubSshPrivateKey": "key",
    "homelab-backup:offsiteFtpPassword": "pw",
    "homelab-backup:offsite": JSON.stringify({
      ftp: { host: "ftp.box.com", user: "me@example.com", path: "/Homelab" },
      ...offsite,
    }),
    ...extra,
  });
}

const templates = () => ({
  service: readScript("offsite/homelab-backup-offsite.service"),
  timer: readScript("offsite/homelab-backup-offsite.timer"),
});
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** Renders the units with the scripts at a temp lib dir (real copies, executable) and runs systemd-analyze verify. */
async function verify(service: string, timer: string): Promise<{ code: number; out: string }> {
  const dir = mkdtempSync(path.join(tmpdir(), "units-"));
  dirs.push(dir);
  writeFileSync(path.join(dir, `${names.offsiteUnit}.service`), service);
  writeFileSync(path.join(dir, `${names.offsiteUnit}.timer`), timer);
  try {
    const { stdout, stderr } = await run("systemd-analyze", [
      "verify",
      path.join(dir, `${names.offsiteUnit}.timer`),
      path.join(dir, `${names.offsiteUnit}.service`),
    ]);
    return { code: 0, out: stdout + stderr };
  } catch (e: any) {
    return { code: e.code ?? 1, out: `${e.stdout}${e.stderr}` };
  }
}

function libDirWithScripts(): string {
  const lib = mkdtempSync(path.join(tmpdir(), "offsite-lib-"));
  dirs.push(lib);
  for (const s of ["offsite-sync.sh", "write-config.sh"]) {
    copyFileSync(path.join(COMPONENTS_DIR, "offsite", s), path.join(lib, s));
    chmodSync(path.join(lib, s), 0o755);
  }
  return lib;
}

describe("hub units", () => {
  it.each(["0 6 * * *", "0 0 1,15 * 1", "*/15 2-4 * * 1-5"])("pass systemd-analyze verify (%s)", async (schedule) => {
    const s = stack({ schedule });
    const cfg = offsiteOf(s)!;
    // ExecStart must exist and be executable for verify: the real scripts, copied to a temp lib dir.
    const units = renderOffsiteUnits(templates(), cfg, hubConnection(s.hub!), s.hub!, {
      libDir: libDirWithScripts(),
      rclone: "/usr/bin/rclone",
    });
    const r = await verify(units.service, units.timer);
    expect(r.out).toBe("");
    expect(r.code).toBe(0);
    const lines = units.timer.match(/^OnCalendar=(.*)$/gm)!.map((l) => l.slice("OnCalendar=".length));
    expect(lines).toEqual(toSystemdCalendar(schedule));
    expect(units.timer).toMatch(/^Persistent=true$/m);
    expect(units.timer).toMatch(new RegExp(`^Unit=${names.offsiteUnit}\\.service$`, "m"));
  });

  it("verify rejects a unit with a cron string in OnCalendar=, so the check bites", async () => {
    const s = stack();
    const units = renderOffsiteUnits(templates(), offsiteOf(s)!, hubConnection(s.hub!), s.hub!, {
      libDir: libDirWithScripts(),
    });
    const broken = units.timer.replace(/^OnCalendar=.*$/m, "OnCalendar=0 6 * * *");
    const r = await verify(units.service, broken);
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/calendar/i);
  });

  it("verify rejects an ExecStart that is not there", async () => {
    const s = stack();
    const units = renderOffsiteUnits(templates(), offsiteOf(s)!, hubConnection(s.hub!), s.hub!, {
      libDir: "/nonexistent/homelab-backup",
    });
    expect((await verify(units.service, units.timer)).code).not.toBe(0);
  });

  it("passes the hub paths, the prefixes and the textfile to the service", () => {
    const s = stack({ prefixes: ["longhorn/", "postgres-backups/"] });
    const units = renderOffsiteUnits(templates(), offsiteOf(s)!, hubConnection(s.hub!), s.hub!);
    expect(units.service).toContain(`ExecStart=${OFFSITE_HUB_PATHS.libDir}/offsite-sync.sh`);
    expect(units.service).toContain('Environment="OFFSITE_PREFIXES=longhorn/ postgres-backups/"');
    expect(units.service).toContain(
      `Environment="OFFSITE_TEXTFILE=/var/lib/prometheus/node-exporter/${names.offsiteTextfile}"`,
    );
    expect(units.service).toContain(`Environment="OFFSITE_RCLONE_CONFIG=${OFFSITE_HUB_PATHS.rcloneConfig}"`);
    expect(units.service).toContain("ReadWritePaths=-/var/lib/prometheus/node-exporter");
  });
});

describe("settings and secrets", () => {
  const s = stack({
    encryption: { filenameEncryption: "obfuscate" },
    ftp: { host: "ftp.box.com", user: "me@example.com", path: "/Homelab", explicitTls: false, port: 2121 },
  });
  const cfg = offsiteOf(s)!;

  it("gives write-config.sh every non-secret setting, no secret", () => {
    const env = offsiteConfigEnv(cfg, hubConnection(s.hub!));
    expect(env).toMatchObject({
      OFFSITE_FTP_HOST: "ftp.box.com",
      OFFSITE_FTP_PORT: "2121",
      OFFSITE_FTP_EXPLICIT_TLS: "false",
      OFFSITE_FILENAME_ENCRYPTION: "obfuscate",
      OFFSITE_S3_ENDPOINT: "http://backup1.lan:9000",
      OFFSITE_S3_PROVIDER: "Other",
      OFFSITE_S3_REGION: "fr-home-1",
    });
    expect(Object.keys(env).some((k) => /PASSWORD|KEY|SECRET/.test(k))).toBe(false);
  });

  it("orders the stdin secrets as write-config.sh reads them and refuses line breaks", () => {
    expect(offsiteSecretsStdin("pw", "k", "id", "sec")).toBe("pw\nk\nid\nsec\n");
    expect(offsiteSecretsStdin("pw", undefined, "id", "sec")).toBe("pw\n\nid\nsec\n");
    expect(() => offsiteSecretsStdin("p\nw", "k", "id", "sec")).toThrow(/line break/);
  });

  it("restore command names the secrets without containing them", () => {
    const cmd = offsiteRestoreCommand(cfg);
    expect(cmd).toContain("pulumi stack output offsiteEncryptionKey --show-secrets");
    expect(cmd).toContain("components/offsite/restore-offsite.sh");
    expect(cmd).toContain("OFFSITE_FILENAME_ENCRYPTION='obfuscate'");
    expect(cmd).toContain("OFFSITE_FTP_PORT='2121'");
  });

  it("the textfile sits in the collector directory", () => {
    expect(offsiteTextfilePath(s.hub!)).toBe(`/var/lib/prometheus/node-exporter/${names.offsiteTextfile}`);
  });
});

describe("plan sections", () => {
  it("offsite: where the key is, how to restore, the OnCalendar the timer really has", () => {
    const p = offsitePlan(stack());
    expect(p.rows).toHaveLength(1);
    expect(p.rows[0].how).toContain("OnCalendar=*-*-* 06:00:00 UTC");
    expect(p.rows[0].where).toBe("ftpes://me@example.com@ftp.box.com:21/Homelab");
    expect(p.details).toContain("pulumi stack output offsiteEncryptionKey --show-secrets");
    expect(p.details).toContain(metrics.offsiteLastSuccess);
    expect(p.restore).toContain("restore-offsite.sh");
  });

  it("offsite in the cluster names the CronJob and says the key is not needed when encryption is off", () => {
    const s = parseStackConfig({
      "homelab-backup:hub": JSON.stringify({ kind: "aws", bucket: "backups" }),
      "homelab-backup:offsiteFtpPassword": "pw",
      "homelab-backup:offsite": JSON.stringify({
        ftp: { host: "ftp.example", user: "u" },
        encryption: { enabled: false },
      }),
    });
    const p = offsitePlan(s);
    expect(p.rows[0].how).toContain(`backup-system/${names.offsiteCronJob}`);
    expect(p.details).toContain("not encrypted");
    expect(offsiteRestoreCommand(offsiteOf(s) as OffsiteConfig)).not.toContain("offsiteEncryptionKey");
  });

  it("mirrors: one row per mirror, landing in buckets/<name>/", () => {
    const s = stack(
      {},
      {
        "homelab-backup:buckets": JSON.stringify({
          mirrors: [
            {
              name: "photos",
              schedule: "0 4 * * *",
              source: {
                endpoint: "http://rook-ceph-rgw.rook-ceph.svc:80",
                bucket: "photos",
                credentialsSecret: { namespace: "apps", name: "photos-obc" },
              },
            },
          ],
        }),
      },
    );
    const p = mirrorsPlan(s);
    expect(p.rows).toHaveLength(1);
    expect(p.rows[0].where).toBe("s3://backups/buckets/photos/");
    expect(p.rows[0].how).toContain(`apps/${names.mirrorCronJob("photos")}`);
    const m = s.buckets!.mirrors[0];
    expect(mirrorPrefix(m)).toBe("buckets/photos/");
    expect(mirrorEnv(m, hubConnection(s.hub!))).toMatchObject({
      MIRROR_SOURCE_BUCKET: "photos",
      MIRROR_HUB_PREFIX: "buckets/photos/",
      MIRROR_HUB_PROVIDER: "Other",
      MIRROR_SOURCE_REGION: "us-east-1",
    });
  });
});

describe("scripts", () => {
  const all = [
    ...readdirSync(path.join(COMPONENTS_DIR, "offsite")).map((f) => `offsite/${f}`),
    ...readdirSync(path.join(COMPONENTS_DIR, "mirror")).map((f) => `mirror/${f}`),
  ].filter((f) => f.endsWith(".sh"));

  it.each(all)("%s passes shellcheck (POSIX sh unless it is a bash script)", async (file) => {
    // Scripts that run in the stock alpine/rclone image must be POSIX sh (busybox has no bash).
    const shell = readScript(file).startsWith("#!/bin/bash") ? "bash" : "sh";
    // --external-sources: follow what a script sources (components/core/rclone-remotes.sh) rather than report it.
    await expect(
      run("shellcheck", ["--external-sources", "-s", shell, path.join(COMPONENTS_DIR, file)]),
    ).resolves.toBeDefined();
  });

  it("shellcheck bites: bash syntax in a POSIX sh script is reported", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "sc-"));
    dirs.push(dir);
    writeFileSync(path.join(dir, "x.sh"), '#!/bin/sh\nif [[ -n "$1" ]]; then echo x; fi\n');
    await expect(run("shellcheck", ["-s", "sh", path.join(dir, "x.sh")])).rejects.toThrow();
  });
});
