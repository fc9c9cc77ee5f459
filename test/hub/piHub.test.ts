/**
 * The Pi hub: the pure helpers of lib/piHub.ts, then the PiHub component under the mock runtime
 * (resources, triggers, secrets on stdin only, and the preflight → install → node exporter order; the
 * bucket and identities are configured through the server's APIs by S3Hub, test/hub/backupHub.test.ts).
 */
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import type { HubConfig } from "../../components/config.js";
import { contentHash, readScript } from "../../components/core/files.js";
import { WRITERS } from "../../components/core/hubConnection.js";
import {
  adminPasswordError,
  hubSteps,
  piHubErrors,
  piHubSettings,
  serverEnvFile,
  serverUnit,
  stepCommand,
  stepTriggers,
} from "../../components/hub/pi/piHubSteps.js";
import { piHubOf } from "../../components/hub/schema.js";
import {
  installMocks,
  isSecretOutput,
  recordingMocks,
  settle,
  unwrapSecrets,
  valueOf,
  type RecordingMocks,
} from "../../tools/mocks.js";

const hub = (over: Partial<HubConfig> = {}): HubConfig =>
  ({
    kind: "pi",
    bucket: "homelab-backups",
    region: "fr-home-1",
    host: "backup1.lab.home.arpa",
    ssh: { user: "pi", port: 2222 },
    server: "silo",
    os: "debian",
    monitoring: true,
    adopt: false,
    dataDir: "/mnt/backup-hdd/minio",
    port: 9000,
    consolePort: 9001,
    tls: false,
    textfileCollectorDir: "/var/lib/prometheus/node-exporter",
    ...over,
  }) as HubConfig;

describe("piHubErrors", () => {
  it("accepts the example hub", () => {
    expect(piHubErrors(hub())).toEqual([]);
  });
  it.each([
    [
      "a data directory with a space",
      { dataDir: "/mnt/backup hdd" },
      /hub.dataDir "\/mnt\/backup hdd" must be an absolute path of letters/,
    ],
    ["a data directory with a systemd specifier", { dataDir: "/mnt/%h" }, /unquoted into the systemd unit/],
    [
      "object lock on RustFS",
      { server: "rustfs", objectLock: { mode: "GOVERNANCE", days: 7 } },
      /objectLock needs server "silo"/,
    ],
    ["server minio", { server: "minio" }, /hub.server "minio" cannot be installed/],
    ["an AWS hub", { kind: "aws" }, /not "pi"/],
    ["no SSH user", { ssh: undefined }, /hub.ssh.user is required/],
  ] as [string, Partial<HubConfig>, RegExp][])("refuses %s", (_, over, message) => {
    expect(piHubErrors(hub(over)).join("\n")).toMatch(message);
    expect(() => piHubSettings(hub(over))).toThrow(message);
  });
});

describe("stepCommand", () => {
  it("runs install and node exporter through sudo -n for a non-root user, the read-only preflight without", () => {
    const s = piHubSettings(hub());
    expect(stepCommand("preflight", s)).toBe(
      "env HUB_DATA_DIR='/mnt/backup-hdd/minio' HUB_SERVER='silo' HUB_OS='debian' bash homelab-backup/preflight.sh",
    );
    expect(stepCommand("install", s)).toMatch(
      /^sudo -n env HUB_SERVER='silo' HUB_VERSION='RELEASE\.[^']+' HUB_SERVER_ASSETS='arm64 https:\/\/github\.com\/pgsty\/silo\/releases\/download\/\S+ [0-9a-f]{64} amd64 \S+ [0-9a-f]{64}' .* bash homelab-backup\/install-server\.sh$/,
    );
    expect(stepCommand("monitoring", s)).toBe(
      "sudo -n env HUB_TEXTFILE_DIR='/var/lib/prometheus/node-exporter' bash homelab-backup/install-node-exporter.sh",
    );
    expect(stepCommand("install", piHubSettings(hub({ ssh: { user: "root", port: 22 } })))).toMatch(/^env /);
  });

  it("installs the server alone: no client release on the install step's command line", () => {
    const cmd = stepCommand("install", piHubSettings(hub()));
    expect(cmd).not.toMatch(/HUB_CLIENT|mcli|pgsty\/mc\//);
  });
});

describe("hubSteps", () => {
  it("keeps only the server's installation: no configure step on Debian or NixOS", () => {
    expect(hubSteps({ os: "debian", monitoring: true })).toEqual(["preflight", "install", "monitoring"]);
    expect(hubSteps({ os: "debian", monitoring: false })).toEqual(["preflight", "install"]);
    expect(hubSteps({ os: "nixos", monitoring: true })).toEqual(["preflight", "credentials"]);
  });
});

describe("stepTriggers", () => {
  const changed = (step: "preflight" | "install", a: HubConfig, b: HubConfig) =>
    JSON.stringify(stepTriggers(step, a)) !== JSON.stringify(stepTriggers(step, b));

  it("start with the content hash of the step's script; the install step also hashes the unit", () => {
    expect(stepTriggers("preflight", hub())[0]).toBe(contentHash(readScript("hub/pi/preflight.sh")));
    const install = stepTriggers("install", hub());
    expect(install[0]).toBe(contentHash(readScript("hub/pi/install-server.sh")));
    expect(install[1]).toBe(contentHash(serverUnit(piHubSettings(hub())).content));
  });

  it("re-run exactly the steps that read a changed value", () => {
    const moved = hub({ dataDir: "/mnt/other" });
    expect([changed("preflight", hub(), moved), changed("install", hub(), moved)]).toEqual([true, true]);
    const port = hub({ port: 9100, consolePort: 9101 });
    expect([changed("preflight", hub(), port), changed("install", hub(), port)]).toEqual([false, true]);
    const version = hub({
      version: "RELEASE.2026-10-01T00-00-00Z",
      sha256: { arm64: "1".repeat(64), amd64: "2".repeat(64) },
    });
    expect([changed("preflight", hub(), version), changed("install", hub(), version)]).toEqual([false, true]);
    // Bucket settings are the S3HubBucket's now: a new lock re-runs no installation step.
    const lock = hub({ objectLock: { mode: "GOVERNANCE", days: 14 } });
    expect([changed("preflight", hub(), lock), changed("install", hub(), lock)]).toEqual([false, false]);
  });

  it("are identical for an identical stack (an unchanged hub re-runs nothing)", () => {
    for (const step of ["preflight", "install", "monitoring"] as const)
      expect(stepTriggers(step, hub())).toEqual(stepTriggers(step, hub({})));
  });
});

describe("credentials formats", () => {
  it("writes the EnvironmentFile with single-quoted literal values", () => {
    expect(serverEnvFile("silo", "homelab-admin", "s3cr3t-p4ss")).toContain(
      "MINIO_ROOT_USER='homelab-admin'\nMINIO_ROOT_PASSWORD='s3cr3t-p4ss'\n",
    );
    expect(serverEnvFile("rustfs", "homelab-admin", "s3cr3t-p4ss")).toContain("RUSTFS_SECRET_KEY='s3cr3t-p4ss'");
  });
  it("refuses admin passwords the file cannot hold or MinIO refuses", () => {
    expect(adminPasswordError("short")).toMatch(/at least 8/);
    expect(adminPasswordError("it's-a-long-one")).toMatch(/single quote/);
    expect(() => serverEnvFile("silo", "homelab-admin", "line\nbreak-here")).toThrow(/newline/);
    expect(adminPasswordError("pässwörd-longer")).toMatch(/printable ASCII/);
    expect(adminPasswordError("Plenty-long_and.fine @:/%+")).toBeUndefined();
  });
});

describe("PiHub under the mock runtime", () => {
  let rec: RecordingMocks;
  /** Dependencies of each registration, as resource names (from the URNs the engine receives). */
  const deps = new Map<string, string[]>();
  let generated: any;
  let given: any;
  const SSH_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\ntest-key-material\n-----END OPENSSH PRIVATE KEY-----\n";
  const GIVEN_PASSWORD = "given-admin-password-123";

  beforeAll(async () => {
    rec = recordingMocks();
    await installMocks(rec);
    const monitor: any = (pulumi.runtime as any).getMonitor();
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req: any, cb: any) => {
      deps.set(
        req.getName(),
        (req.getDependenciesList() as string[]).map((u) => u.split("::").pop()!),
      );
      register(req, cb);
    };
    const { PiHub } = await import("../../components/hub/pi/piHub.js");
    generated = new PiHub("hub", {
      hub: piHubOf(hub()),
      sshPrivateKey: pulumi.secret(SSH_KEY),
      writers: WRITERS,
    });
    given = new PiHub("hub2", {
      hub: piHubOf(hub({ ssh: { user: "root", port: 22 } })),
      sshPrivateKey: SSH_KEY,
      adminPassword: GIVEN_PASSWORD,
      writers: ["etcd", "offsite"],
    });
    await valueOf(generated.writerSecrets.offsite);
    await valueOf(given.writerSecrets.offsite);
    await settle();
  });

  const commands = () => rec.byType("command:remote:Command").filter((r) => r.parent === "hub");

  it("registers the staging command, one upload per file and the three installation steps, all children of the component", async () => {
    expect(rec.one("homelab-backup:index:PiHub", "hub")).toBeDefined();
    expect(
      commands()
        .map((r) => r.name)
        .sort(),
    ).toEqual(["hub-install", "hub-monitoring", "hub-preflight", "hub-staging"]);
    const uploads = rec.byType("command:remote:CopyToRemote").filter((r) => r.parent === "hub");
    expect(uploads.map((r) => unwrapSecrets(r.inputs.remotePath)).sort()).toEqual([
      "homelab-backup/install-node-exporter.sh",
      "homelab-backup/install-server.sh",
      "homelab-backup/preflight.sh",
      "homelab-backup/silo.service",
    ]);
    for (const u of uploads) {
      // Under the mock runtime the deserialized StringAsset holds its text as a Promise.
      const text = (await u.inputs.source.text) as string;
      expect(u.inputs.triggers, u.name).toEqual([contentHash(text)]);
    }
    expect(await rec.one("command:remote:CopyToRemote", "hub-file-preflight").inputs.source.text).toBe(
      readScript("hub/pi/preflight.sh"),
    );
    expect(await rec.one("command:remote:CopyToRemote", "hub-file-silo").inputs.source.text).toBe(
      serverUnit(piHubSettings(hub())).content,
    );
  });

  it("generates the admin password and one secret key per writer in use, under the names they always had, unless the admin password is given", () => {
    const passwords = rec.byType("random:index/randomPassword:RandomPassword");
    expect(
      passwords
        .filter((r) => r.parent === "hub")
        .map((r) => r.name)
        .sort(),
    ).toEqual(["hub-admin-password", ...WRITERS.map((w) => `hub-${w}-secret-key`)].sort());
    expect(
      passwords
        .filter((r) => r.parent === "hub2")
        .map((r) => r.name)
        .sort(),
    ).toEqual(["hub2-etcd-secret-key", "hub2-offsite-secret-key"]);
  });

  it("gives each step the triggers of piHubSteps.ts, which start with the script's content hash", () => {
    for (const step of ["preflight", "install", "monitoring"] as const) {
      const r = rec.one("command:remote:Command", `hub-${step}`);
      expect(r.inputs.triggers, step).toEqual(stepTriggers(step, hub()));
    }
  });

  it("runs preflight, then install, then node exporter, the last step the one the API configuration waits for", () => {
    expect(deps.get("hub-preflight")).toContain("hub-file-preflight");
    expect(deps.get("hub-install")).toEqual(
      expect.arrayContaining(["hub-preflight", "hub-file-install-server", "hub-file-silo"]),
    );
    expect(deps.get("hub-monitoring")).toEqual(
      expect.arrayContaining(["hub-install", "hub-file-install-node-exporter"]),
    );
    expect(deps.get("hub-preflight")).not.toContain("hub-install");
    expect(generated.serverReady.__name ?? "").toBe("hub-monitoring");
    for (const u of ["hub-file-preflight", "hub-file-install-server", "hub-file-silo"])
      expect(deps.get(u), u).toContain("hub-staging");
  });

  it("sends the SSH key only secret-wrapped (it hides the whole connection)", () => {
    for (const r of [...commands(), ...rec.byType("command:remote:CopyToRemote").filter((x) => x.parent === "hub")]) {
      expect(pulumi.runtime.isRpcSecret(r.inputs.connection), r.name).toBe(true);
      expect(unwrapSecrets(r.inputs.connection)).toMatchObject({
        host: "backup1.lab.home.arpa",
        port: 2222,
        user: "pi",
        privateKey: SSH_KEY,
      });
    }
  });

  it("passes the admin password on stdin, secret-wrapped, and no secret on a command line", async () => {
    const install = rec.one("command:remote:Command", "hub-install");
    expect(pulumi.runtime.isRpcSecret(install.inputs.stdin)).toBe(true);
    const adminPassword = await valueOf(generated.adminPassword);
    expect(adminPassword).toHaveLength(40);
    expect(unwrapSecrets(install.inputs.stdin)).toBe(serverEnvFile("silo", "homelab-admin", adminPassword));
    const secrets: string[] = [adminPassword];
    for (const w of WRITERS) secrets.push(await valueOf(generated.writerSecrets[w] as pulumi.Output<string>));
    for (const r of commands()) {
      const visible = JSON.stringify([r.inputs.create, r.inputs.triggers, r.inputs.environment ?? null]);
      for (const s of secrets) expect(visible, r.name).not.toContain(s);
    }
    expect(unwrapSecrets(rec.one("command:remote:Command", "hub2-install").inputs.stdin)).toContain(
      `MINIO_ROOT_PASSWORD='${GIVEN_PASSWORD}'`,
    );
  });

  it("exposes the admin password and every writer's secret as secrets", async () => {
    expect(await valueOf(generated.adminUser)).toBe("homelab-admin");
    expect(await isSecretOutput(generated.adminPassword)).toBe(true);
    expect(await valueOf(given.adminPassword)).toBe(GIVEN_PASSWORD);
    for (const w of WRITERS) {
      expect(await valueOf(generated.writerSecrets[w])).toHaveLength(40);
      expect(await isSecretOutput(generated.writerSecrets[w])).toBe(true);
    }
    expect(Object.keys(given.writerSecrets).sort()).toEqual(["etcd", "offsite"]);
  });
});
