/**
 * What `pulumi up` leaves on a Debian Pi hub when it replaces the hub's off-site and arrivals
 * commands, played against a real OpenSSH server on 127.0.0.1.
 *
 * The example stack (Pulumi.homelab.yaml) is rendered three times, its hub pointed at this server
 * (127.0.0.1, user root: the test host has no sudo):
 *   v1 as written (the first `pulumi up`),
 *   v2 with another off-site FTP path and schedule (the rclone config's and the timer's triggers change),
 *   v3 as v2 with another SSH port and key (every command's `connection` changes).
 * Between two versions the hub's remote commands run in the engine's order. A command whose
 * `connection` or `triggers` changed is replaced (the provider marks both replaceOnChanges: repository
 * pulumi/pulumi-command, provider/pkg/provider/remote/command.go), and the NEW registration's
 * `deleteBeforeReplace` decides the order (repository pulumi/pulumi, pkg/resource/deploy/step_generator.go,
 * `goal.DeleteBeforeReplace`): true runs the old `delete` and then the new `create`; false runs the
 * new `create` at once and the old `delete` at the end of the update, in reverse dependency order,
 * with the other condemned resources. Only `dependsOn` links join these commands, so no dependent is
 * replaced along (calculateDependentReplacements, same file, follows property dependencies only). A
 * command that changed otherwise is updated (its `update`, else its `create`, runs again). The
 * provider feeds the stored `stdin` to `create` and `delete` alike, over the resource's own
 * connection (provider/pkg/provider/remote/commandOutputs.go).
 *
 * The server runs in a mount namespace of its own and chroots every session into a tmpfs root
 * (/run/hub there) holding the host's /usr read-only, a writable /usr/local, /etc, /var and /root:
 * the commands write /etc/systemd/system, /etc/homelab-backup and /usr/local/lib as they would on
 * a hub, and nothing of the test host changes. Two stand-ins, each for what the test host lacks:
 *   - rclone: `offsite-rclone` downloads the pinned release, which this machine cannot; the hub gets
 *     the system's rclone at the same path (/usr/local/bin/rclone) instead, and that command is not run;
 *   - systemd as PID 1: sessions run with SYSTEMD_OFFLINE=1, so the real systemctl edits unit files
 *     (enable/disable and their `.wants` links) and ignores daemon-reload and list-timers; `--now`
 *     would need the manager, so a `systemctl` first on root's PATH records the start or stop in
 *     /var/log/systemctl-manager.log and hands the rest to the real one.
 * What is left is read from outside through /proc/<sshd>/root, the server's own view of its mounts,
 * with `systemctl --root=<that dir>`.
 *
 * Needs root (mount namespaces, as .ci/run runs the suite), openssh-server and rclone (.ci/run).
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { chmodSync, lstatSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ARRIVALS_HUB_PATHS } from "../../components/alerts/arrivals.js";
import { OFFSITE_HUB_PATHS } from "../../components/offsite/logic.js";
import { runProgram } from "../../tools/harness.js";
import { unwrapSecrets, type RecordingMocks } from "../../tools/mocks.js";
import { freePort } from "../support/net.js";
import { exampleStack } from "../support/stackFiles.js";
import { sshClientOptions } from "../support/ssh.js";

const run = promisify(execFile);

/** The session root inside the server's namespace (ChrootDirectory). */
const CHROOT = "/run/hub";
const MANAGER_LOG = "/var/log/systemctl-manager.log";
const OFFSITE_TIMER = "homelab-backup-offsite.timer";
const OFFSITE_SERVICE = "homelab-backup-offsite.service";
const ARRIVALS_TIMER = "homelab-backup-arrivals.timer";
const ARRIVALS_SERVICE = "homelab-backup-arrivals.service";
const OLD_FTP_PATH = "/Homelab";
const NEW_FTP_PATH = "/Homelab-v2";

let dir: string;
let ports: [number, number];
let keys: [string, string];
let sshd: ChildProcess;
let sshdLog = "";
/** The chroot as seen from this process: /proc/<sshd>/root/run/hub. */
let hubRoot: string;

// ---------------------------------------------------------------------------------------------
// The stack versions and their rendering

const stack = exampleStack();

/** The example stack with its hub at this server (root: the test host has no sudo), on `port` with `key`. */
function version(port: number, key: string, offsite: { ftpPath: string; schedule?: string }): Record<string, string> {
  const hub = JSON.parse(stack.config["homelab-backup:hub"]);
  const off = JSON.parse(stack.config["homelab-backup:offsite"]);
  expect(off.runOn, "the example stack's off-site copy runs on the hub").toBe("hub");
  expect(off.ftp.path, "the example stack's off-site FTP path").toBe(OLD_FTP_PATH);
  off.ftp.path = offsite.ftpPath;
  if (offsite.schedule) off.schedule = offsite.schedule;
  return {
    ...stack.config,
    "homelab-backup:hub": JSON.stringify({ ...hub, host: "127.0.0.1", ssh: { user: "root", port } }),
    "homelab-backup:offsite": JSON.stringify(off),
    "homelab-backup:hubSshPrivateKey": readFileSync(key, "utf8"),
  };
}

/** The one call of the harness (tools/harness.ts): the program run as the CLI runs it, with `config`. */
function render(config: Record<string, string>): Promise<{ rec: RecordingMocks }> {
  return runProgram(config, stack.secretKeys);
}

interface Connection {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly privateKey: string;
}

/** A remote command or upload of the off-site copy or the arrivals check, as registered. */
interface HubStep {
  readonly name: string;
  readonly kind: "command" | "copy";
  readonly connection: Connection;
  readonly create?: string;
  readonly update?: string;
  readonly delete?: string;
  readonly stdin?: string;
  readonly remotePath?: string;
  readonly content?: string;
  /** The inputs that replace the resource when they change (provider schema plus registered replaceOnChanges). */
  readonly replaceKeys: readonly string[];
  /** Every input, plain, for the diff. */
  readonly inputs: Record<string, unknown>;
  readonly deleteBeforeReplace: boolean;
  /** Names of the hub steps it depends on. */
  readonly after: readonly string[];
}

/** Resources that run on the hub for the off-site copy and the arrivals check, in dependency order. */
async function hubSteps(rec: RecordingMocks): Promise<HubStep[]> {
  const nameOf = new Map(rec.resources.map((r) => [r.urn, r.name]));
  const picked = rec.resources.filter(
    (r) =>
      (r.type === "command:remote:Command" || r.type === "command:remote:CopyToRemote") &&
      (r.name.startsWith("offsite-") || r.name.startsWith("hub-arrivals-")) &&
      // Downloads the pinned rclone from GitHub; the chroot has the system's rclone in its place.
      r.name !== "offsite-rclone",
  );
  const names = new Set(picked.map((r) => r.name));
  const steps: HubStep[] = [];
  for (const r of picked) {
    const inputs = unwrapSecrets(r.inputs) as Record<string, any>;
    const copy = r.type === "command:remote:CopyToRemote";
    if (!r.options) throw new Error(`${r.name}: the recording has no resource options`);
    steps.push({
      name: r.name,
      kind: copy ? "copy" : "command",
      connection: inputs.connection,
      create: inputs.create,
      update: inputs.update,
      delete: inputs.delete,
      stdin: inputs.stdin,
      remotePath: copy ? String(inputs.remotePath) : undefined,
      // Under the mock runtime the deserialized StringAsset holds its text as a Promise (test/support/remoteActions.ts).
      content: copy ? String(await r.inputs.source.text) : undefined,
      replaceKeys: [
        "connection",
        "triggers",
        ...(copy ? ["source", "remotePath"] : []),
        ...r.options.replaceOnChanges.map((k) => k.split(/[.[]/)[0]),
      ],
      inputs: copy ? { ...inputs, source: String(await r.inputs.source.text) } : inputs,
      deleteBeforeReplace: r.options.deleteBeforeReplace,
      after: r.options.dependencies.map((u) => nameOf.get(u)!).filter((n) => names.has(n)),
    });
  }
  // Stable topological order: the engine creates nothing before what it depends on.
  const done = new Set<string>();
  const ordered: HubStep[] = [];
  while (ordered.length < steps.length) {
    const next = steps.find((s) => !done.has(s.name) && s.after.every((a) => done.has(a)));
    if (!next) throw new Error("dependency cycle among the hub steps");
    done.add(next.name);
    ordered.push(next);
  }
  return ordered;
}

// ---------------------------------------------------------------------------------------------
// Running them on the hub

/** ssh/scp options for this test's own server (test/support/ssh.ts). */
const sshOptions = (key: string): string[] => sshClientOptions(key, path.join(dir, "known_hosts"));

/** The client key file whose text the registration carries; never connects anywhere but this server. */
function target(c: Connection): { key: string; port: number; user: string } {
  if (c.host !== "127.0.0.1") throw new Error(`refusing to connect to ${c.host}: the test server is 127.0.0.1`);
  if (!ports.includes(c.port)) throw new Error(`port ${c.port} is not the test server's (${ports.join(", ")})`);
  const key = keys.find((k) => readFileSync(k, "utf8") === c.privateKey);
  if (!key) throw new Error("the registered private key is none of the test's client keys");
  return { key, port: c.port, user: c.user };
}

/** Runs `command` over SSH with `stdin`, as pulumi-command does; resolves with its stdout, rejects on a non-zero exit with its output. */
function ssh(c: Connection, command: string, stdin?: string): Promise<string> {
  const t = target(c);
  return new Promise((resolve, reject) => {
    const child = spawn("ssh", [...sshOptions(t.key), "-p", String(t.port), `${t.user}@127.0.0.1`, command]);
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0 ? resolve(out) : reject(new Error(`exit ${code}: ${command}\n${out}${err}`)),
    );
    // The provider attaches stdin only when it is not empty.
    child.stdin.end(stdin && stdin.length > 0 ? stdin : undefined);
  });
}

/** Uploads `content` to `remotePath` (relative to the login directory) over SFTP, as CopyToRemote does. */
async function upload(c: Connection, remotePath: string, content: string): Promise<void> {
  const t = target(c);
  const local = path.join(mkdtempSync(path.join(dir, "upload-")), path.basename(remotePath));
  writeFileSync(local, content);
  await run("scp", [...sshOptions(t.key), "-P", String(t.port), local, `${t.user}@127.0.0.1:${remotePath}`], {
    timeout: 60_000,
  });
}

async function createOrUpdate(s: HubStep, op: "create" | "update", trace: string[]): Promise<void> {
  trace.push(`${op} ${s.name}`);
  if (s.kind === "copy") return upload(s.connection, s.remotePath!, s.content!);
  const cmd = op === "update" ? (s.update ?? s.create) : s.create;
  if (cmd) await ssh(s.connection, cmd, s.stdin);
}

async function destroy(s: HubStep, trace: string[]): Promise<void> {
  trace.push(`delete ${s.name}`);
  // The provider runs the OLD state's delete, over the OLD connection, with the OLD stdin.
  if (s.kind === "command" && s.delete) await ssh(s.connection, s.delete, s.stdin);
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * Takes the hub from `olds` to `news` in the engine's order (see the header) and returns what ran.
 * Throws at the first failing command, as the update would stop there.
 */
async function up(olds: HubStep[], news: HubStep[]): Promise<string[]> {
  const trace: string[] = [];
  const condemned: HubStep[] = [];
  const oldByName = new Map(olds.map((s) => [s.name, s]));
  for (const s of news) {
    const old = oldByName.get(s.name);
    if (!old) {
      await createOrUpdate(s, "create", trace);
    } else if (s.replaceKeys.some((k) => !same(old.inputs[k], s.inputs[k]))) {
      if (s.deleteBeforeReplace) {
        await destroy(old, trace);
        await createOrUpdate(s, "create", trace);
      } else {
        await createOrUpdate(s, "create", trace);
        condemned.push(old);
      }
    } else if (!same(old.inputs, s.inputs)) {
      await createOrUpdate(s, "update", trace);
    }
  }
  const newNames = new Set(news.map((s) => s.name));
  condemned.push(...olds.filter((s) => !newNames.has(s.name)));
  for (const s of condemned.reverse()) await destroy(s, trace);
  return trace;
}

// ---------------------------------------------------------------------------------------------
// What is left on the hub

const onHub = (p: string) => path.join(hubRoot, p);

function fileOnHub(p: string): string | undefined {
  try {
    return readFileSync(onHub(p), "utf8");
  } catch (e: any) {
    if (e.code === "ENOENT") return undefined;
    throw e;
  }
}

/** The unit's `[Install]` link (an absolute link: it points into the hub's root, so it is read, not followed). */
function wantsLink(timer: string): string | undefined {
  const link = onHub(`/etc/systemd/system/timers.target.wants/${timer}`);
  try {
    lstatSync(link);
  } catch {
    return undefined;
  }
  return readlinkSync(link);
}

async function isEnabled(unit: string): Promise<string> {
  const r = await run("systemctl", [`--root=${hubRoot}`, "is-enabled", unit]).then(
    (x) => x.stdout,
    (e) => String(e.stdout ?? e),
  );
  return r.trim();
}

/** The last start or stop the units' commands asked the manager for, for `unit`. */
function lastManagerAction(unit: string): string | undefined {
  const lines = (fileOnHub(MANAGER_LOG) ?? "").split("\n").filter((l) => l.split(" ").slice(1).includes(unit));
  return lines.pop()?.split(" ")[0];
}

const uploaded = (steps: HubStep[], name: string) => steps.find((s) => s.name === name)!.content!;

/** The off-site timer job as the hub must run it after `steps`: units, scripts, config, timer enabled and started. */
async function expectOffsiteInstalled(steps: HubStep[], ftpPath: string, trace: string[]): Promise<string> {
  const why = `steps:\n${trace.join("\n")}`;
  const conf = fileOnHub(OFFSITE_HUB_PATHS.rcloneConfig);
  expect(conf, `${OFFSITE_HUB_PATHS.rcloneConfig} is missing; ${why}`).toBeDefined();
  expect(conf).toContain(`remote = ftp:${ftpPath}\n`);
  expect(conf).toContain("[offsite]\ntype = crypt\n");
  const unitDir = OFFSITE_HUB_PATHS.unitDir;
  expect(fileOnHub(`${unitDir}/${OFFSITE_TIMER}`), `${OFFSITE_TIMER}; ${why}`).toBe(
    uploaded(steps, "offsite-copy-homelab-backup-offsite-timer"),
  );
  expect(fileOnHub(`${unitDir}/${OFFSITE_SERVICE}`), `${OFFSITE_SERVICE}; ${why}`).toBe(
    uploaded(steps, "offsite-copy-homelab-backup-offsite-service"),
  );
  expect(fileOnHub(`${OFFSITE_HUB_PATHS.libDir}/offsite-sync.sh`), `offsite-sync.sh; ${why}`).toBe(
    uploaded(steps, "offsite-copy-offsite-sync-sh"),
  );
  expect(wantsLink(OFFSITE_TIMER), `timers.target.wants/${OFFSITE_TIMER}; ${why}`).toBe(`${unitDir}/${OFFSITE_TIMER}`);
  expect(await isEnabled(OFFSITE_TIMER), why).toBe("enabled");
  expect(lastManagerAction(OFFSITE_TIMER), why).toBe("start");
  return conf!;
}

/** The arrivals check as the hub must run it after `steps`: EnvironmentFile, units, script, timer enabled and started. */
async function expectArrivalsInstalled(steps: HubStep[], trace: string[]): Promise<void> {
  const why = `steps:\n${trace.join("\n")}`;
  const env = steps.find((s) => s.name === "hub-arrivals-env")!;
  expect(fileOnHub(ARRIVALS_HUB_PATHS.envFile), `${ARRIVALS_HUB_PATHS.envFile}; ${why}`).toBe(env.stdin);
  expect(lstatSync(onHub(ARRIVALS_HUB_PATHS.envFile)).mode & 0o777).toBe(0o600);
  const unitDir = ARRIVALS_HUB_PATHS.unitDir;
  expect(fileOnHub(`${unitDir}/${ARRIVALS_TIMER}`), `${ARRIVALS_TIMER}; ${why}`).toBe(
    uploaded(steps, "hub-arrivals-copy-homelab-backup-arrivals-timer"),
  );
  expect(fileOnHub(`${unitDir}/${ARRIVALS_SERVICE}`), `${ARRIVALS_SERVICE}; ${why}`).toBe(
    uploaded(steps, "hub-arrivals-copy-homelab-backup-arrivals-service"),
  );
  expect(fileOnHub(ARRIVALS_HUB_PATHS.script), `hub-arrivals.sh; ${why}`).toBe(
    uploaded(steps, "hub-arrivals-copy-hub-arrivals-sh"),
  );
  expect(wantsLink(ARRIVALS_TIMER), `timers.target.wants/${ARRIVALS_TIMER}; ${why}`).toBe(
    `${unitDir}/${ARRIVALS_TIMER}`,
  );
  expect(await isEnabled(ARRIVALS_TIMER), why).toBe("enabled");
  expect(lastManagerAction(ARRIVALS_TIMER), why).toBe("start");
}

// ---------------------------------------------------------------------------------------------
// The server

/** Stands in for systemd as PID 1 (see the header); everything but `--now` goes to the real systemctl. */
const SYSTEMCTL_STAND_IN = `#!/bin/sh
# systemd is not PID 1 on the test host: record the start/stop of --now, let the real systemctl do the rest.
now=; verb=; units=; args=
for a in "$@"; do
  case "$a" in
    --now) now=1 ;;
    -*) args="$args $a" ;;
    *) if [ -z "$verb" ]; then verb=$a; else units="$units $a"; fi; args="$args $a" ;;
  esac
done
/usr/bin/systemctl $args || exit $?
if [ -n "$now" ]; then
  case "$verb" in
    enable) echo "start$units" >>${MANAGER_LOG} ;;
    disable|mask) echo "stop$units" >>${MANAGER_LOG} ;;
  esac
fi
`;

beforeAll(async () => {
  if (process.getuid?.() !== 0)
    throw new Error("this test mounts in a private mount namespace: run it as root (as .ci/run does)");
  const rclone = (await run("sh", ["-c", "command -v rclone"]).catch(() => ({ stdout: "" }))).stdout.trim();
  if (!rclone.startsWith("/")) throw new Error("rclone is not installed (.ci/run installs Debian's rclone)");

  dir = mkdtempSync(path.join(tmpdir(), "hub-replace-"));
  chmodSync(dir, 0o755);
  ports = [await freePort(), await freePort()];
  for (const k of ["host", "client-old", "client-new"])
    await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", `hub-replace-${k}`, "-f", path.join(dir, k)]);
  keys = [path.join(dir, "client-old"), path.join(dir, "client-new")];
  writeFileSync(path.join(dir, "authorized_keys"), keys.map((k) => readFileSync(`${k}.pub`, "utf8")).join(""));
  const hostKey = readFileSync(path.join(dir, "host.pub"), "utf8");
  writeFileSync(path.join(dir, "known_hosts"), ports.map((p) => `[127.0.0.1]:${p} ${hostKey}`).join(""));
  writeFileSync(path.join(dir, "systemctl"), SYSTEMCTL_STAND_IN, { mode: 0o755 });
  const config = path.join(dir, "sshd_config");
  writeFileSync(
    config,
    [
      // Both ports and both keys: the old commands' delete still reaches the hub after the change.
      ...ports.map((p) => `Port ${p}`),
      "ListenAddress 127.0.0.1",
      `HostKey ${path.join(dir, "host")}`,
      `PidFile ${path.join(dir, "sshd.pid")}`,
      `AuthorizedKeysFile ${path.join(dir, "authorized_keys")}`,
      "StrictModes no",
      "PubkeyAuthentication yes",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "UsePAM no",
      "PermitRootLogin prohibit-password",
      "AllowUsers root",
      "Subsystem sftp internal-sftp",
      `ChrootDirectory ${CHROOT}`,
      "SetEnv SYSTEMD_OFFLINE=1",
      "LogLevel INFO",
      "",
    ].join("\n"),
  );
  // Inside the namespace: a fresh /run (sshd's privilege-separation directory and the chroot), the
  // host's /usr read-only, a writable /usr/local with the two stand-ins, and four device nodes.
  const namespaceSetup = [
    "set -euo pipefail",
    "mount -t tmpfs -o size=64m,mode=0755 tmpfs /run",
    `mkdir -p /run/sshd ${CHROOT} && cd ${CHROOT}`,
    "mkdir -p usr etc/systemd/system root tmp dev var/log",
    "chmod 1777 tmp && chmod 0700 root",
    'for l in bin sbin lib lib64; do if [ -L "/$l" ]; then ln -s "$(readlink "/$l")" "$l"; elif [ -d "/$l" ]; then mkdir "$l" && mount --bind -o ro "/$l" "$l"; fi; done',
    "mount --bind /usr usr && mount -o remount,bind,ro usr",
    "mount -t tmpfs -o size=32m,mode=0755 tmpfs usr/local",
    "mkdir -p usr/local/bin usr/local/sbin usr/local/lib",
    'ln -s "$1" usr/local/bin/rclone',
    'install -m 0755 "$2" usr/local/sbin/systemctl',
    "for d in null zero random urandom; do touch dev/$d && mount --bind /dev/$d dev/$d; done",
    "cp /etc/passwd /etc/group etc/",
    'exec /usr/sbin/sshd -D -e -f "$3"',
  ].join("\n");
  sshd = spawn(
    "unshare",
    [
      "--mount",
      "--propagation",
      "private",
      "bash",
      "-c",
      namespaceSetup,
      "hub-ns",
      rclone,
      path.join(dir, "systemctl"),
      config,
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`sshd did not start within 60 s:\n${sshdLog}`)), 60_000);
    sshd.stderr!.on("data", (chunk: Buffer) => {
      sshdLog += chunk.toString();
      if (ports.every((p) => sshdLog.includes(`Server listening on 127.0.0.1 port ${p}.`))) {
        clearTimeout(timer);
        resolve();
      }
    });
    sshd.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`sshd exited with ${code} before listening (namespace or sshd config failed):\n${sshdLog}`));
    });
  });
  // unshare and bash exec into sshd: the child is the server, and its /proc root is its namespace's view.
  hubRoot = path.join(`/proc/${sshd.pid}/root`, CHROOT);
}, 120_000);

afterAll(async () => {
  if (sshd && sshd.exitCode === null) {
    const exited = new Promise((r) => sshd.once("exit", r));
    sshd.kill("SIGTERM");
    await exited;
  }
  // The chroot was a tmpfs in the server's namespace and is gone with it.
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------

describe("replacing the hub's off-site and arrivals commands (engine order, real SSH)", () => {
  let v1: HubStep[];
  let v2: HubStep[];
  let v3: HubStep[];

  beforeAll(async () => {
    const base = { ftpPath: OLD_FTP_PATH };
    const changed = { ftpPath: NEW_FTP_PATH, schedule: "30 5 * * *" };
    v1 = await hubSteps((await render(version(ports[0], keys[0], base))).rec);
    v2 = await hubSteps((await render(version(ports[0], keys[0], changed))).rec);
    v3 = await hubSteps((await render(version(ports[1], keys[1], changed))).rec);
  }, 180_000);

  it("the first pulumi up installs the off-site job and the arrivals check, each timer enabled and started", async () => {
    // A session lands in the chroot, as root, with the stand-in systemctl first on PATH.
    const probe = await ssh(
      v1[0].connection,
      "id -u; pwd; command -v systemctl; test -d /etc/homelab-backup || echo fresh",
    );
    expect(probe.split("\n").slice(0, 4)).toEqual(["0", "/root", "/usr/local/sbin/systemctl", "fresh"]);

    const trace = await up([], v1);
    expect(trace.every((t) => t.startsWith("create "))).toBe(true);
    await expectOffsiteInstalled(v1, OLD_FTP_PATH, trace);
    await expectArrivalsInstalled(v1, trace);
  });

  it("another off-site FTP path and schedule: the new rclone config and timer are in place, enabled, started", async () => {
    // The change replaces the config and units commands through their triggers (same connection).
    const replaced = (name: string) => {
      const a = v1.find((s) => s.name === name)!;
      const b = v2.find((s) => s.name === name)!;
      return !same(a.inputs.triggers, b.inputs.triggers) && same(a.inputs.connection, b.inputs.connection);
    };
    expect(["offsite-config", "offsite-units"].filter(replaced)).toEqual(["offsite-config", "offsite-units"]);
    expect(replaced("hub-arrivals-units")).toBe(false);

    const trace = await up(v1, v2);
    await expectOffsiteInstalled(v2, NEW_FTP_PATH, trace);
    expect(fileOnHub(`${OFFSITE_HUB_PATHS.unitDir}/${OFFSITE_TIMER}`)).toContain('cron "30 5 * * *"');
    await expectArrivalsInstalled(v2, trace);
  });

  it("another SSH port and key: every command is replaced, and the arrivals EnvironmentFile, the rclone config and both timers stay", async () => {
    for (const name of ["hub-arrivals-env", "hub-arrivals-units", "offsite-config", "offsite-units"]) {
      const a = v2.find((s) => s.name === name)!;
      const b = v3.find((s) => s.name === name)!;
      expect([a.connection.port, b.connection.port], name).toEqual(ports);
      expect(same(a.inputs.triggers, b.inputs.triggers), name).toBe(true);
    }
    const before = fileOnHub(OFFSITE_HUB_PATHS.rcloneConfig);

    const trace = await up(v2, v3);
    await expectArrivalsInstalled(v3, trace);
    const conf = await expectOffsiteInstalled(v3, NEW_FTP_PATH, trace);
    // Written again by the new command: rclone obscure salts each password anew.
    expect(conf).not.toBe(before);
  });
});
