/**
 * OffsiteHubTimer under the mock runtime: what reaches a Debian hub over SSH (files, units, the config
 * command fed by stdin), what reaches a NixOS hub (the rclone config alone), and that every secret stays
 * a Pulumi secret (never on a command line). The staged config scripts are laid out as the uploads place
 * them and run, so write-config.sh is shown to find the rclone remotes it sources on the hub.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { offsiteOf, parseStackConfig } from "../../components/config.js";
import { hubConnection } from "../../components/core/hubConnection.js";
import { names } from "../../components/core/names.js";
import { VERSIONS } from "../../components/core/versions.js";
import { NIXOS_PATHS } from "../../components/hub/pi/nixos.js";
import { offsiteConfigEnv } from "../../components/offsite/logic.js";
import { piHubOf } from "../../components/hub/schema.js";
import type { OffsiteHubTimer } from "../../components/offsite/offsiteHubTimer.js";
import {
  installMocks,
  isSecretOutput,
  recordingMocks,
  settle,
  unwrapSecrets,
  valueOf,
  type RecordingMocks,
} from "../../tools/mocks.js";
import { READER_KEY_ID, READER_SECRET, readerCredentials } from "../support/readerCredentials.js";

let rec: RecordingMocks;
const FTP_PASSWORD = "ftp-secret-value";
const KEY_ID = READER_KEY_ID;
const SECRET = READER_SECRET;
const reader = readerCredentials;

const piStack = (os: "debian" | "nixos") =>
  parseStackConfig({
    "homelab-backup:hub": JSON.stringify({
      kind: "pi",
      os,
      bucket: "backups",
      host: "backup1.lan",
      ssh: { user: "pi", port: 2222 },
      dataDir: "/mnt/backup-hdd",
    }),
    "homelab-backup:hubSshPrivateKey": "k",
    "homelab-backup:offsiteFtpPassword": "pw",
    "homelab-backup:offsite": JSON.stringify({
      schedule: "0 0 1,15 * 1",
      ftp: { host: "ftp.box.com", user: "me@example.com", path: "/Homelab" },
      prefixes: ["longhorn/"],
    }),
  });

let debian: OffsiteHubTimer;
let nixos: OffsiteHubTimer;

beforeAll(async () => {
  rec = recordingMocks();
  await installMocks(rec);
  const { OffsiteHubTimer } = await import("../../components/offsite/offsiteHubTimer.js");
  const build = (name: string, stack: ReturnType<typeof piStack>, encryptionKey?: pulumi.Input<string>) =>
    new OffsiteHubTimer(name, {
      config: offsiteOf(stack)!,
      hub: hubConnection(stack.hub!),
      hubConfig: piHubOf(stack.hub!),
      sshPrivateKey: pulumi.secret("PRIVATE KEY"),
      ftpPassword: pulumi.secret(FTP_PASSWORD),
      encryptionKey,
      reader: reader(),
    });
  debian = build("offsite-hub", piStack("debian"));
  nixos = build("offsite-nix", piStack("nixos"), pulumi.secret("user-chosen-key"));
  await settle();
});

const children = (parent: string) => rec.resources.filter((r) => r.parent === parent);

/**
 * Writes every file the component uploads at its remote path under a scratch root (a relative path is
 * under the SSH user's home, here the root itself), runs the staged write-config.sh from there with the
 * config command's stdin, and returns the config it wrote. Proves the uploads put the helper where
 * write-config.sh sources it ("$(dirname "$0")/../core/rclone-remotes.sh").
 */
async function configFromStagedScripts(parent: string, stack: ReturnType<typeof piStack>): Promise<string> {
  const root = mkdtempSync(path.join(tmpdir(), "offsite-staged-"));
  try {
    const copies = rec.byType("command:remote:CopyToRemote").filter((r) => r.parent === parent);
    let writeConfig: string | undefined;
    for (const c of copies) {
      const remotePath = String(unwrapSecrets(c.inputs).remotePath);
      const file = path.join(root, remotePath);
      mkdirSync(path.dirname(file), { recursive: true });
      // Under the mock runtime the deserialized StringAsset holds its text as a Promise.
      writeFileSync(file, String(await c.inputs.source.text));
      if (remotePath.endsWith("/write-config.sh")) writeConfig = file;
    }
    const conf = path.join(root, "out", "rclone.conf");
    const stdin = String(unwrapSecrets(rec.one("command:remote:Command", `${parent}-config`).inputs.stdin));
    const r = spawnSync("sh", [writeConfig!, conf], {
      input: stdin,
      encoding: "utf8",
      env: { PATH: process.env.PATH, ...offsiteConfigEnv(offsiteOf(stack)!, hubConnection(stack.hub!)) },
    });
    expect(r.status, r.stderr).toBe(0);
    return readFileSync(conf, "utf8");
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

describe("OffsiteHubTimer on a Debian hub", () => {
  it("registers as homelab-backup:index:OffsiteHubTimer", () => {
    expect(rec.resources.filter((r) => r.type === "homelab-backup:index:OffsiteHubTimer").map((r) => r.name)).toEqual([
      "offsite-hub",
      "offsite-nix",
    ]);
  });

  it("generates the key when none is given, as a secret output", async () => {
    const bytes = rec.one("random:index/randomBytes:RandomBytes", "offsite-hub-key");
    expect(bytes.inputs.length).toBe(32);
    expect(bytes.parent).toBe("offsite-hub");
    expect(await isSecretOutput(debian.encryptionKey!)).toBe(true);
    expect(await valueOf(debian.encryptionKey!)).toMatch(/^[0-9a-f]{64}$/);
  });

  it("copies the scripts and the rendered units, with the converted OnCalendar lines", async () => {
    const copies = rec.byType("command:remote:CopyToRemote").filter((r) => r.parent === "offsite-hub");
    const paths = copies.map((c) => unwrapSecrets(c.inputs).remotePath).sort();
    expect(paths).toEqual([
      ".homelab-backup/core/rclone-remotes.sh",
      ".homelab-backup/offsite/homelab-backup-offsite.service",
      ".homelab-backup/offsite/homelab-backup-offsite.timer",
      ".homelab-backup/offsite/install-rclone.sh",
      ".homelab-backup/offsite/offsite-sync.sh",
      ".homelab-backup/offsite/write-config.sh",
    ]);
    // scp creates no directory: the stage command makes both.
    const stage = unwrapSecrets(rec.one("command:remote:Command", "offsite-hub-stage").inputs.create) as string;
    expect(stage).toBe(
      "mkdir -p .homelab-backup/offsite .homelab-backup/core && chmod 0700 .homelab-backup .homelab-backup/offsite .homelab-backup/core",
    );
    expect(await valueOf(debian.onCalendar)).toEqual(["Mon *-*-* 00:00:00 UTC", "*-*-01,15 00:00:00 UTC"]);
    expect(await valueOf(debian.timerName)).toBe(`${names.offsiteUnit}.timer`);
    const conn = unwrapSecrets(copies[0].inputs.connection);
    expect(conn).toMatchObject({ host: "backup1.lan", port: 2222, user: "pi" });
    expect(pulumi.runtime.isRpcSecret(copies[0].inputs.connection)).toBe(true);
  });

  it("installs the pinned rclone, then writes the config with secrets on stdin only", () => {
    const install = unwrapSecrets(rec.one("command:remote:Command", "offsite-hub-rclone").inputs);
    expect(install.create).toContain(`install-rclone.sh ${VERSIONS.rclone}`);
    expect(install.create).toMatch(/^sudo -n sh -c /);

    const config = rec.one("command:remote:Command", "offsite-hub-config");
    expect(pulumi.runtime.isRpcSecret(config.inputs.stdin)).toBe(true);
    expect(unwrapSecrets(config.inputs.stdin)).toBe(
      `${FTP_PASSWORD}\n${unwrapSecrets(config.inputs.stdin).split("\n")[1]}\n${KEY_ID}\n${SECRET}\n`,
    );
    const create = unwrapSecrets(config.inputs.create) as string;
    for (const secret of [FTP_PASSWORD, KEY_ID, SECRET]) expect(create).not.toContain(secret);
    expect(create).toContain("sh .homelab-backup/offsite/write-config.sh /etc/homelab-backup/offsite/rclone.conf");
  });

  it("stages write-config.sh with the rclone remotes it sources: run from the staged layout, it writes the four remotes", async () => {
    const conf = await configFromStagedScripts("offsite-hub", piStack("debian"));
    expect(conf.match(/^\[.*\]$/gm)).toEqual(["[hub]", "[ftp]", "[offsite_raw]", "[offsite]"]);
    expect(conf).toContain(`access_key_id = ${KEY_ID}\n`);
    expect(conf).toContain("remote = ftp:/Homelab\n");
  });

  it("installs only the timer's script: write-config.sh runs from the staging directory at `pulumi up`", () => {
    const create = unwrapSecrets(rec.one("command:remote:Command", "offsite-hub-units").inputs.create) as string;
    expect(create.match(/install -m 0755 \S+ \S+/g)).toEqual([
      "install -m 0755 .homelab-backup/offsite/offsite-sync.sh /usr/local/lib/homelab-backup/offsite/offsite-sync.sh",
    ]);
  });

  it("enables the timer after the config exists", () => {
    const units = rec.one("command:remote:Command", "offsite-hub-units");
    const create = unwrapSecrets(units.inputs.create) as string;
    expect(create).toContain(`systemctl enable --now ${names.offsiteUnit}.timer`);
    expect(create).toContain("install -d -m 0755 /var/lib/prometheus/node-exporter");
    expect(unwrapSecrets(units.inputs.delete)).toContain(`systemctl disable --now ${names.offsiteUnit}.timer`);
  });

  it("builds nothing in the cluster", () => {
    expect(children("offsite-hub").some((r) => r.type.startsWith("kubernetes:"))).toBe(false);
  });

  it("gives a restore command that needs only the key and the FTP login", async () => {
    const cmd = await valueOf(debian.restoreCommand);
    expect(cmd).toContain("restore-offsite.sh");
    expect(cmd).toContain("pulumi stack output offsiteEncryptionKey --show-secrets");
  });
});

describe("OffsiteHubTimer on a NixOS hub", () => {
  it("writes only the rclone config, inside the module's directory, with secrets on stdin only", () => {
    expect(
      children("offsite-nix")
        .map((r) => `${r.type}::${r.name}`)
        .sort(),
    ).toEqual([
      "command:remote:Command::offsite-nix-config",
      "command:remote:Command::offsite-nix-stage",
      "command:remote:CopyToRemote::offsite-nix-copy-rclone-remotes-sh",
      "command:remote:CopyToRemote::offsite-nix-copy-write-config-sh",
    ]);
    const paths = children("offsite-nix")
      .filter((r) => r.type === "command:remote:CopyToRemote")
      .map((r) => unwrapSecrets(r.inputs).remotePath)
      .sort();
    expect(paths).toEqual([
      `${NIXOS_PATHS.staging}/core/rclone-remotes.sh`,
      `${NIXOS_PATHS.staging}/offsite/write-config.sh`,
    ]);
    const stage = unwrapSecrets(rec.one("command:remote:Command", "offsite-nix-stage").inputs.create) as string;
    expect(stage).toMatch(
      new RegExp(`&& mkdir -p -m 0700 ${NIXOS_PATHS.staging}/offsite ${NIXOS_PATHS.staging}/core$`),
    );
    const config = rec.one("command:remote:Command", "offsite-nix-config");
    const create = unwrapSecrets(config.inputs.create) as string;
    expect(create).toContain(`sh ${NIXOS_PATHS.staging}/offsite/write-config.sh ${NIXOS_PATHS.rcloneConfig}`);
    expect(create).toContain(NIXOS_PATHS.rclone);
    expect(unwrapSecrets(config.inputs.stdin).split("\n")[1]).toBe("user-chosen-key");
    expect(config.options!.additionalSecretOutputs).toContain("stdin");
    expect(config.options!.deleteBeforeReplace).toBe(true);
  });

  it("stages write-config.sh with the rclone remotes it sources: run from the staged layout, it writes the four remotes", async () => {
    const conf = await configFromStagedScripts("offsite-nix", piStack("nixos"));
    expect(conf.match(/^\[.*\]$/gm)).toEqual(["[hub]", "[ftp]", "[offsite_raw]", "[offsite]"]);
    expect(conf).toMatch(/^type = crypt$/m);
  });

  it("uses the given key (secret) and creates no random key; the module's timer has the same name and calendar", async () => {
    expect(rec.resources.some((r) => r.name === "offsite-nix-key")).toBe(false);
    expect(await valueOf(nixos.encryptionKey!)).toBe("user-chosen-key");
    expect(await isSecretOutput(nixos.encryptionKey!)).toBe(true);
    expect(await valueOf(nixos.timerName)).toBe(`${names.offsiteUnit}.timer`);
    expect(await valueOf(nixos.onCalendar)).toEqual(["Mon *-*-* 00:00:00 UTC", "*-*-01,15 00:00:00 UTC"]);
  });
});
