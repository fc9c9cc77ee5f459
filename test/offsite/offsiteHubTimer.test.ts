/**
 * OffsiteHubTimer under the mock runtime: what reaches a Debian hub over SSH (files, units, the config
 * command fed by stdin), what reaches a NixOS hub (the rclone config alone), and that every secret stays
 * a Pulumi secret (never on a command line).
 */
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { offsiteOf, parseStackConfig } from "../../components/config.js";
import { hubConnection, type WriterCredentials } from "../../components/core/hubConnection.js";
import { names } from "../../components/core/names.js";
import { VERSIONS } from "../../components/core/versions.js";
import { NIXOS_PATHS } from "../../components/hub/pi/nixos.js";
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

let rec: RecordingMocks;
const FTP_PASSWORD = "ftp-secret-value";
const KEY_ID = "reader-key-id";
const SECRET = "reader-secret-value";
const reader = (): WriterCredentials => ({
  accessKeyId: pulumi.secret(KEY_ID),
  secretAccessKey: pulumi.secret(SECRET),
});

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
      ".homelab-backup/offsite/homelab-backup-offsite.service",
      ".homelab-backup/offsite/homelab-backup-offsite.timer",
      ".homelab-backup/offsite/install-rclone.sh",
      ".homelab-backup/offsite/offsite-sync.sh",
      ".homelab-backup/offsite/write-config.sh",
    ]);
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
    expect(create).toContain("write-config.sh /etc/homelab-backup/offsite/rclone.conf");
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
      "command:remote:CopyToRemote::offsite-nix-copy-write-config-sh",
    ]);
    const config = rec.one("command:remote:Command", "offsite-nix-config");
    const create = unwrapSecrets(config.inputs.create) as string;
    expect(create).toContain(`sh ${NIXOS_PATHS.staging}/write-config.sh ${NIXOS_PATHS.rcloneConfig}`);
    expect(create).toContain(NIXOS_PATHS.rclone);
    expect(unwrapSecrets(config.inputs.stdin).split("\n")[1]).toBe("user-chosen-key");
    expect(config.options!.additionalSecretOutputs).toContain("stdin");
    expect(config.options!.deleteBeforeReplace).toBe(true);
  });

  it("uses the given key (secret) and creates no random key; the module's timer has the same name and calendar", async () => {
    expect(rec.resources.some((r) => r.name === "offsite-nix-key")).toBe(false);
    expect(await valueOf(nixos.encryptionKey!)).toBe("user-chosen-key");
    expect(await isSecretOutput(nixos.encryptionKey!)).toBe(true);
    expect(await valueOf(nixos.timerName)).toBe(`${names.offsiteUnit}.timer`);
    expect(await valueOf(nixos.onCalendar)).toEqual(["Mon *-*-* 00:00:00 UTC", "*-*-01,15 00:00:00 UTC"]);
  });
});
