/**
 * The Pi hub: the pure helpers of lib/piHub.ts, then the PiHub component under the mock runtime
 * (resources, triggers, secrets on stdin only, and the preflight → install → configure order).
 */
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import type { HubConfig } from "../../components/config.js";
import { contentHash, readScript } from "../../components/core/files.js";
import { WRITERS, type WriterName } from "../../components/core/hubConnection.js";
import {
  adminPasswordError,
  configureStdin,
  lifecycleArg,
  piHubErrors,
  piHubSettings,
  serverEnvFile,
  serverUnit,
  stepCommand,
  stepTriggers,
} from "../../components/hub/pi/piHubSteps.js";
import type { PrefixLifecycle } from "../../components/hub/retention.js";
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

const lifecycles: PrefixLifecycle[] = [
  { prefix: "longhorn/", noncurrentDays: 7 },
  { prefix: "postgres-backups/", expireDays: 14, noncurrentDays: 7 },
  { prefix: "postgres-backups/.partial/", expireDays: 1, noncurrentDays: 1 },
];
const policies = Object.fromEntries(
  WRITERS.map((w) => [
    w,
    {
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Action: ["s3:PutObject"], Resource: [`arn:aws:s3:::homelab-backups/${w}/*`] }],
    },
  ]),
) as Record<WriterName, object>;

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
  it("runs install and configure through sudo -n for a non-root user, the read-only preflight without", () => {
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
    expect(stepCommand("configure", s, lifecycles)).toContain(
      "HUB_LIFECYCLE='longhorn/:-:7 postgres-backups/:14:7 postgres-backups/.partial/:1:1'",
    );
    expect(stepCommand("configure", piHubSettings(hub({ ssh: { user: "root", port: 22 } })), lifecycles)).toMatch(
      /^env /,
    );
  });

  it("passes object lock and TLS settings to the configure step", () => {
    const cmd = stepCommand(
      "configure",
      piHubSettings(hub({ tls: true, objectLock: { mode: "COMPLIANCE", days: 30 } })),
      lifecycles,
    );
    expect(cmd).toContain("HUB_OBJECT_LOCK='COMPLIANCE 30'");
    expect(cmd).toContain("HUB_TLS='true'");
  });
});

describe("stepTriggers", () => {
  const changed = (
    step: "preflight" | "install" | "configure",
    a: HubConfig,
    b: HubConfig,
    la = lifecycles,
    lb = lifecycles,
    pa = policies,
    pb = policies,
  ) => JSON.stringify(stepTriggers(step, a, la, pa)) !== JSON.stringify(stepTriggers(step, b, lb, pb));

  it("start with the content hash of the step's script; the install step also hashes the unit", () => {
    expect(stepTriggers("preflight", hub())[0]).toBe(contentHash(readScript("hub/pi/preflight.sh")));
    const install = stepTriggers("install", hub());
    expect(install[0]).toBe(contentHash(readScript("hub/pi/install-server.sh")));
    expect(install[1]).toBe(contentHash(serverUnit(piHubSettings(hub())).content));
    expect(stepTriggers("configure", hub(), lifecycles, policies)[0]).toBe(
      contentHash(readScript("hub/pi/configure-bucket.sh")),
    );
  });

  it("re-run exactly the steps that read a changed value", () => {
    const moved = hub({ dataDir: "/mnt/other" });
    expect([
      changed("preflight", hub(), moved),
      changed("install", hub(), moved),
      changed("configure", hub(), moved),
    ]).toEqual([true, true, false]);
    const port = hub({ port: 9100, consolePort: 9101 });
    expect([
      changed("preflight", hub(), port),
      changed("install", hub(), port),
      changed("configure", hub(), port),
    ]).toEqual([false, true, true]);
    const version = hub({
      version: "RELEASE.2026-10-01T00-00-00Z",
      sha256: { arm64: "1".repeat(64), amd64: "2".repeat(64) },
    });
    expect([
      changed("preflight", hub(), version),
      changed("install", hub(), version),
      changed("configure", hub(), version),
    ]).toEqual([false, true, false]);
    const lock = hub({ objectLock: { mode: "GOVERNANCE", days: 14 } });
    expect([
      changed("preflight", hub(), lock),
      changed("install", hub(), lock),
      changed("configure", hub(), lock),
    ]).toEqual([false, false, true]);
    const shorter = lifecycles.map((l) => (l.expireDays === 14 ? { ...l, expireDays: 7 } : l));
    expect(changed("configure", hub(), hub(), lifecycles, shorter)).toBe(true);
    const widened = { ...policies, etcd: { Version: "2012-10-17", Statement: [] } };
    expect(changed("configure", hub(), hub(), lifecycles, lifecycles, policies, widened)).toBe(true);
  });

  it("are identical for an identical stack (an unchanged hub re-runs nothing)", () => {
    for (const step of ["preflight", "install", "configure"] as const) {
      expect(stepTriggers(step, hub(), lifecycles, policies)).toEqual(
        stepTriggers(step, hub(), [...lifecycles], { ...policies }),
      );
    }
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
  it("encodes every stdin field in base64, one record per line", () => {
    const text = configureStdin("admin-pass", [{ writer: "etcd", secretKey: "k e y", policy: { a: 1 } }]);
    const [admin, writer] = text
      .trim()
      .split("\n")
      .map((l) => l.split(" "));
    expect(admin[0]).toBe("admin");
    expect(Buffer.from(admin[1], "base64").toString()).toBe("admin-pass");
    expect(writer.slice(1).map((f) => Buffer.from(f, "base64").toString())).toEqual([
      "etcd",
      "etcd-backup",
      "k e y",
      '{"a":1}',
    ]);
  });
  it("refuses an archive transition on a pi hub's lifecycle", () => {
    expect(() =>
      lifecycleArg([
        {
          prefix: "etcd-snapshots/",
          expireDays: 30,
          noncurrentDays: 7,
          archive: { afterDays: 10, storageClass: "GLACIER" },
        },
      ]),
    ).toThrow(/only on AWS/);
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
      lifecycles,
      writerPolicies: policies,
    });
    given = new PiHub("hub2", {
      hub: piHubOf(hub({ ssh: { user: "root", port: 22 } })),
      sshPrivateKey: SSH_KEY,
      adminPassword: GIVEN_PASSWORD,
      lifecycles,
      writerPolicies: policies,
    });
    await valueOf(generated.writers.offsite.secretAccessKey);
    await valueOf(given.writers.offsite.secretAccessKey);
    await settle();
  });

  const commands = () => rec.byType("command:remote:Command").filter((r) => r.parent === "hub");

  it("registers the staging command, one upload per file and the four steps, all children of the component", async () => {
    expect(rec.one("homelab-backup:index:PiHub", "hub")).toBeDefined();
    expect(
      commands()
        .map((r) => r.name)
        .sort(),
    ).toEqual(["hub-configure", "hub-install", "hub-monitoring", "hub-preflight", "hub-staging"]);
    const uploads = rec.byType("command:remote:CopyToRemote").filter((r) => r.parent === "hub");
    expect(uploads.map((r) => unwrapSecrets(r.inputs.remotePath)).sort()).toEqual([
      "homelab-backup/configure-bucket.sh",
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

  it("generates the admin password and one secret key per writer, unless the admin password is given", () => {
    const passwords = rec.byType("random:index/randomPassword:RandomPassword");
    expect(
      passwords
        .filter((r) => r.parent === "hub")
        .map((r) => r.name)
        .sort(),
    ).toEqual(["hub-admin-password", ...WRITERS.map((w) => `hub-${w}-secret-key`)].sort());
    expect(passwords.filter((r) => r.parent === "hub2").map((r) => r.name)).not.toContain("hub2-admin-password");
  });

  it("gives each step the triggers of piHubSteps.ts, which start with the script's content hash", () => {
    for (const step of ["preflight", "install", "monitoring", "configure"] as const) {
      const r = rec.one("command:remote:Command", `hub-${step}`);
      expect(r.inputs.triggers, step).toEqual(stepTriggers(step, hub(), lifecycles, policies));
    }
  });

  it("runs preflight, then install, then node exporter, then configure", () => {
    expect(deps.get("hub-preflight")).toContain("hub-file-preflight");
    expect(deps.get("hub-install")).toEqual(
      expect.arrayContaining(["hub-preflight", "hub-file-install-server", "hub-file-silo"]),
    );
    expect(deps.get("hub-monitoring")).toEqual(
      expect.arrayContaining(["hub-install", "hub-file-install-node-exporter"]),
    );
    expect(deps.get("hub-configure")).toEqual(expect.arrayContaining(["hub-monitoring", "hub-file-configure-bucket"]));
    expect(deps.get("hub-preflight")).not.toContain("hub-install");
    for (const u of ["hub-file-preflight", "hub-file-install-server", "hub-file-configure-bucket", "hub-file-silo"])
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

  it("passes the admin password and writer keys on stdin, secret-wrapped, and never on a command line", async () => {
    const install = rec.one("command:remote:Command", "hub-install");
    const configure = rec.one("command:remote:Command", "hub-configure");
    expect(pulumi.runtime.isRpcSecret(install.inputs.stdin)).toBe(true);
    expect(pulumi.runtime.isRpcSecret(configure.inputs.stdin)).toBe(true);
    const adminPassword = await valueOf(generated.adminPassword);
    expect(adminPassword).toHaveLength(40);
    expect(unwrapSecrets(install.inputs.stdin)).toBe(serverEnvFile("silo", "homelab-admin", adminPassword));
    const stdin = unwrapSecrets(configure.inputs.stdin) as string;
    const secrets: string[] = [adminPassword];
    for (const w of WRITERS) {
      const key = await valueOf(generated.writers[w].secretAccessKey as pulumi.Output<string>);
      secrets.push(key);
      expect(stdin).toContain(Buffer.from(key).toString("base64"));
    }
    for (const r of commands()) {
      const visible = JSON.stringify([r.inputs.create, r.inputs.triggers, r.inputs.environment ?? null]);
      for (const s of secrets) expect(visible, r.name).not.toContain(s);
    }
    expect(unwrapSecrets(rec.one("command:remote:Command", "hub2-install").inputs.stdin)).toContain(
      `MINIO_ROOT_PASSWORD='${GIVEN_PASSWORD}'`,
    );
  });

  it("exposes the admin password and every writer credential as secrets", async () => {
    expect(await valueOf(generated.adminUser)).toBe("homelab-admin");
    expect(await isSecretOutput(generated.adminPassword)).toBe(true);
    expect(await valueOf(given.adminPassword)).toBe(GIVEN_PASSWORD);
    for (const w of WRITERS) {
      expect(await valueOf(generated.writers[w].accessKeyId)).toBe(`${w}-backup`);
      expect(await isSecretOutput(generated.writers[w].accessKeyId)).toBe(true);
      expect(await isSecretOutput(generated.writers[w].secretAccessKey)).toBe(true);
    }
  });
});
