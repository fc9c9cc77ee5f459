/**
 * A NixOS hub (`hub.os: nixos`) through the whole program (index.ts under the mock runtime, imported
 * after the mocks): no remote command writes /etc/systemd, /usr/local or /etc/nixos, neither in its
 * command line nor in any script it runs (every uploaded file a command names is read); uploads go
 * only to the module's own directory; the NixOS module is rendered and uploaded beside them, and it
 * declares the arrivals check whose EnvironmentFile is the only thing written for it. The
 * same check on the Debian example stack finds /etc/systemd and /usr/local, so it can fail.
 */
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import {
  NIXOS_FORBIDDEN_PATHS,
  NIXOS_MODULE_FILE,
  NIXOS_PATHS,
  NIXOS_STATE_DIR,
} from "../../components/hub/pi/nixos.js";
import { PINNED_RELEASES } from "../../components/hub/releases.js";
import { runProgram, type ProgramRun } from "../../tools/harness.js";
import { unwrapSecrets } from "../../tools/mocks.js";
import { remoteActions } from "../support/remoteActions.js";

const SECRETS = [
  "homelab-backup:hubSshPrivateKey",
  "homelab-backup:offsiteFtpPassword",
  "homelab-backup:alertsNtfyToken",
];
const config: Record<string, string> = {
  "homelab-backup:hub": JSON.stringify({
    kind: "pi",
    os: "nixos",
    bucket: "homelab-backups",
    region: "home-1",
    host: "nixhub.lan",
    ssh: { user: "deploy" },
    dataDir: "/srv/s3",
  }),
  "homelab-backup:postgres": JSON.stringify({
    databases: [
      { name: "wiki", namespace: "wiki", host: "wiki-db", passwordSecret: { name: "wiki-db", key: "password" } },
    ],
  }),
  "homelab-backup:offsite": JSON.stringify({
    schedule: "0 6 * * *",
    ftp: { host: "ftp.example.net", user: "backup", path: "homelab" },
  }),
  // Notify channels: the hub runs its own arrivals check, declared by the module.
  "homelab-backup:alerts": JSON.stringify({ notify: { ntfy: { url: "https://ntfy.example.org", topic: "nixhub" } } }),
  "homelab-backup:alertsNtfyToken": "tk_nixos-arrivals-token",
  "homelab-backup:hubSshPrivateKey":
    "-----BEGIN OPENSSH PRIVATE KEY-----\nnixos-test-key\n-----END OPENSSH PRIVATE KEY-----",
  "homelab-backup:offsiteFtpPassword": "ftp-password-nixos",
};

let run: ProgramRun;
beforeAll(async () => {
  run = await runProgram(config, SECRETS);
});

describe("NixOS hub: pulumi up writes nothing outside the module's own directory", () => {
  it("no remote command writes /etc/systemd, /usr/local or /etc/nixos, in its command line or in a script it runs", async () => {
    const actions = await remoteActions(run.rec);
    expect(actions.commands.length).toBeGreaterThan(3);
    for (const c of actions.commands) {
      for (const p of NIXOS_FORBIDDEN_PATHS) {
        expect(c.text, `${c.name} mentions ${p}`).not.toContain(p);
        for (const s of c.scripts) expect(s.content, `${c.name} runs ${s.path}, which mentions ${p}`).not.toContain(p);
      }
    }
    // Every command that runs a script names one that was uploaded (nothing runs unread).
    expect(actions.commands.filter((c) => /\.sh\b/.test(c.text)).every((c) => c.scripts.length > 0)).toBe(true);
  });

  it("uploads only into the module's own directory, and nothing lands in the Nix store or the system configuration", async () => {
    const actions = await remoteActions(run.rec);
    expect(actions.uploads.length).toBeGreaterThan(0);
    for (const u of actions.uploads) expect(u.path.startsWith(`${NIXOS_PATHS.staging}/`), u.path).toBe(true);
  });

  it("puts the credentials in the EnvironmentFile the module reads, from stdin, never on a command line", async () => {
    const actions = await remoteActions(run.rec);
    const cred = actions.commands.find((c) => c.text.includes("nixos-credentials.sh"));
    expect(cred?.text).toContain(`HUB_ENV_FILE='${NIXOS_PATHS.envFile}'`);
    const r = run.rec.byType("command:remote:Command").find((x) => x.name === cred!.name)!;
    expect(String(unwrapSecrets(r.inputs.stdin))).toMatch(/^MINIO_ROOT_USER='homelab-admin'\nMINIO_ROOT_PASSWORD='/m);
    for (const c of actions.commands) expect(c.text).not.toMatch(/MINIO_ROOT_PASSWORD|ftp-password-nixos/);
  });

  it("uploads the rendered NixOS module, which holds the pinned Silo release and the off-site timer", async () => {
    const actions = await remoteActions(run.rec);
    const module = actions.uploads.find((u) => u.path.endsWith(`/${NIXOS_MODULE_FILE}`));
    expect(module).toBeDefined();
    expect(module!.content).toContain(PINNED_RELEASES.silo.assets.arm64.sha256);
    expect(module!.content).toContain(`stateDir = "${NIXOS_STATE_DIR}";`);
    expect(module!.content).toMatch(/onCalendar = \[\n\s+"\*-\*-\* 06:00:00 UTC"/);
    expect(module!.content).not.toContain("dl.min.io");
    // No step of a Debian hub: no install-server.sh, no unit file, no rclone install.
    const names = actions.uploads.map((u) => u.path.split("/").pop());
    expect(names).not.toContain("install-server.sh");
    expect(names.some((n) => n?.endsWith(".service") || n?.endsWith(".timer"))).toBe(false);
  });

  it("declares the arrivals check in the module and writes only its EnvironmentFile, from stdin, a Pulumi secret", async () => {
    const actions = await remoteActions(run.rec);
    const module = actions.uploads.find((u) => u.path.endsWith(`/${NIXOS_MODULE_FILE}`))!;
    expect(module.content).toContain("systemd.services.homelab-backup-arrivals = {");
    expect(module.content).toContain(`dir = "/srv/s3/homelab-backups";`);
    expect(module.content).toContain(`envFile = "${NIXOS_PATHS.arrivalsEnv}";`);
    expect(actions.uploads.some((u) => u.path.includes("arrivals"))).toBe(false);
    const env = run.rec.byType("command:remote:Command").filter((r) => r.name.startsWith("hub-arrivals"));
    expect(env.map((r) => r.name)).toEqual(["hub-arrivals-env"]);
    expect(String(unwrapSecrets(env[0].inputs.create))).toContain(`mv -f "$t" ${NIXOS_PATHS.arrivalsEnv}`);
    expect(pulumi.runtime.isRpcSecret(env[0].inputs.stdin)).toBe(true);
    const stdin = String(unwrapSecrets(env[0].inputs.stdin));
    expect(stdin).toContain('ARRIVALS_DIR="/srv/s3/homelab-backups"\n');
    expect(stdin).toContain('ARRIVALS_NTFY_URL="https://ntfy.example.org/nixhub"\n');
    expect(stdin).toContain('ARRIVALS_NTFY_TOKEN="tk_nixos-arrivals-token"\n');
    for (const c of actions.commands) expect(c.text).not.toContain("tk_nixos-arrivals-token");
  });
});
