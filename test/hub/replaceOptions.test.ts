/**
 * The registered `deleteBeforeReplace` of every remote command, on a Debian hub (the example stack)
 * and a NixOS hub: exactly the commands that have a `delete` run it before their replacement's
 * `create`. Each such delete removes what its create writes (the rclone config, the arrivals
 * EnvironmentFile, a timer's units and scripts), so in the engine's default order it would remove
 * the new files (components/core/hubHost.ts, sameFilesOnReplace; played over SSH by
 * test/hub/replaceOrder.integration.test.ts). Commands without a delete keep the default order.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { runProgram } from "../../tools/harness.js";
import { unwrapSecrets, type RecordingMocks } from "../../tools/mocks.js";
import { exampleStack } from "../support/stackFiles.js";

const debian = exampleStack();
const NIXOS_SECRETS = ["homelab-backup:hubSshPrivateKey", "homelab-backup:offsiteFtpPassword"];
const nixos: Record<string, string> = {
  "homelab-backup:hub": JSON.stringify({
    kind: "pi",
    os: "nixos",
    bucket: "homelab-backups",
    region: "home-1",
    host: "nixhub.lan",
    ssh: { user: "deploy" },
    dataDir: "/srv/s3",
  }),
  "homelab-backup:offsite": JSON.stringify({
    schedule: "0 6 * * *",
    ftp: { host: "ftp.example.net", user: "backup", path: "homelab" },
  }),
  "homelab-backup:alerts": JSON.stringify({ notify: { ntfy: { url: "https://ntfy.example.org", topic: "nixhub" } } }),
  "homelab-backup:hubSshPrivateKey":
    "-----BEGIN OPENSSH PRIVATE KEY-----\nnixos-test-key\n-----END OPENSSH PRIVATE KEY-----",
  "homelab-backup:offsiteFtpPassword": "ftp-password-nixos",
};

/** The one call of the harness (tools/harness.ts): the program run as the CLI runs it. */
function render(config: Record<string, string>, secretKeys: string[]): Promise<{ rec: RecordingMocks }> {
  return runProgram(config, secretKeys);
}

/** name → [has a delete, registered deleteBeforeReplace] for every remote command. */
function commands(rec: RecordingMocks): Record<string, [boolean, boolean]> {
  return Object.fromEntries(
    rec.byType("command:remote:Command").map((r) => {
      if (!r.options) throw new Error(`${r.name}: no registered options`);
      return [r.name, [typeof unwrapSecrets(r.inputs.delete) === "string", r.options.deleteBeforeReplace]];
    }),
  );
}

let onDebian: Record<string, [boolean, boolean]>;
let onNixos: Record<string, [boolean, boolean]>;
beforeAll(async () => {
  onDebian = commands((await render(debian.config, debian.secretKeys)).rec);
  onNixos = commands((await render(nixos, NIXOS_SECRETS)).rec);
}, 120_000);

describe("remote commands whose delete undoes their create are deleted before their replacement is created", () => {
  it("Debian hub: the off-site config and units, the arrivals EnvironmentFile and units; no other command", () => {
    const withDelete = Object.keys(onDebian).filter((n) => onDebian[n][0]);
    expect(withDelete.sort()).toEqual(["hub-arrivals-env", "hub-arrivals-units", "offsite-config", "offsite-units"]);
    for (const [name, [hasDelete, dbr]] of Object.entries(onDebian)) expect(dbr, name).toBe(hasDelete);
  });

  it("NixOS hub: the off-site config and the arrivals EnvironmentFile; no other command", () => {
    const withDelete = Object.keys(onNixos).filter((n) => onNixos[n][0]);
    expect(withDelete.sort()).toEqual(["hub-arrivals-env", "offsite-config"]);
    for (const [name, [hasDelete, dbr]] of Object.entries(onNixos)) expect(dbr, name).toBe(hasDelete);
  });
});
