/**
 * `npm run render` (tools/render.ts, the real CLI) of a Debian Pi stack (the example stack) and a
 * NixOS Pi stack: nothing anywhere in either render mentions dl.min.io; every download the render
 * describes is a pinned GitHub release asset that names its version and sits next to its sha256;
 * the NixOS render carries the module under files/ and no systemd unit; the ScrapeConfig objects
 * validate against prometheus-operator's CRD. The Pi hub's bucket and identities are configured through the
 * server's APIs (issue 29): no render (Silo on Debian, RustFS on Debian, Silo on NixOS) downloads or runs
 * mcli or carries configure-bucket.sh, and each registers one S3HubBucket and one S3HubWriter per writer in
 * use, at the Pi's endpoint.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import YAML from "yaml";
import { NIXOS_MODULE_FILE } from "../../components/hub/pi/nixos.js";
import { PINNED_RELEASES } from "../../components/hub/releases.js";
import { validateCustomResource } from "../support/crds.js";
import { EXAMPLE_STACK, REPO } from "../support/stackFiles.js";

const run = promisify(execFile);
const TSX = path.join(REPO, "node_modules/.bin/tsx");
const RENDER = path.join(REPO, "tools/render.ts");

const NIXOS_STACK = `config:
  homelab-backup:hubSshPrivateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\\nnixos\\n-----END OPENSSH PRIVATE KEY-----"
  homelab-backup:offsiteFtpPassword: ftp-password
  homelab-backup:hub:
    kind: pi
    os: nixos
    bucket: homelab-backups
    region: home-1
    host: nixhub.lan
    ssh: { user: deploy }
    dataDir: /srv/s3
    allowPlainHttp: true
  homelab-backup:postgres:
    databases:
      - { name: wiki, namespace: wiki, host: wiki-db, passwordSecret: { name: wiki-db, key: password } }
  homelab-backup:offsite:
    schedule: "0 6 * * *"
    ftp: { host: ftp.example.net, user: backup, path: homelab }
  homelab-backup:alerts: {}
`;

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

let tmp: string;
const outs: Record<string, string> = {};

beforeAll(async () => {
  tmp = mkdtempSync(path.join(tmpdir(), "pi-render-"));
  const nixosFile = path.join(tmp, "Pulumi.nixos.yaml");
  writeFileSync(nixosFile, NIXOS_STACK);
  // The example stack with RustFS as its server (RustFS takes no object lock on a Pi hub: piHubSteps.ts).
  const rustfs = YAML.parseDocument(readFileSync(EXAMPLE_STACK, "utf8"));
  rustfs.setIn(["config", "homelab-backup:hub", "server"], "rustfs");
  rustfs.deleteIn(["config", "homelab-backup:hub", "objectLock"]);
  const rustfsFile = path.join(tmp, "Pulumi.rustfs.yaml");
  writeFileSync(rustfsFile, rustfs.toString());
  for (const [label, file] of [
    ["debian", EXAMPLE_STACK],
    ["nixos", nixosFile],
    ["rustfs", rustfsFile],
  ] as const) {
    outs[label] = path.join(tmp, label);
    await run(TSX, [RENDER, "--stack-file", file, "--out", outs[label]], { cwd: REPO, maxBuffer: 64 << 20 });
  }
}, 240_000);

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const PINNED = Object.values(PINNED_RELEASES).flatMap((r) =>
  Object.values(r.assets).map((a) => ({ ...a, version: r.version })),
);

describe.each(["debian", "nixos"])("render of a %s Pi stack", (label) => {
  it("mentions dl.min.io nowhere", () => {
    const files = walk(outs[label]);
    expect(files.length).toBeGreaterThan(3);
    for (const f of files) expect(readFileSync(f, "utf8"), path.relative(outs[label], f)).not.toContain("dl.min.io");
  });

  it("describes every download as a pinned release asset naming its version, next to its sha256", () => {
    let downloads = 0;
    for (const f of walk(outs[label])) {
      const text = readFileSync(f, "utf8");
      for (const m of text.matchAll(/https:\/\/github\.com\/[\w.-]+\/[\w.-]+\/releases\/download\/[^\s"'\\)]+/g)) {
        const url = m[0];
        if (url.endsWith("/SHA256SUMS")) continue;
        const pinned = PINNED.find((a) => a.url === url);
        expect(pinned, `${url} in ${path.relative(outs[label], f)} is not a pinned asset`).toBeDefined();
        expect(url).toContain(`/${pinned!.version}/`);
        // The sha256 follows the URL within the same record (`<url> <sha256>` or `sha256 = "<sha256>";`).
        expect(text.slice(m.index!, m.index! + url.length + 200)).toContain(pinned!.sha256);
        downloads++;
      }
    }
    // The server's asset for each architecture; no client is downloaded any more.
    expect(downloads).toBeGreaterThanOrEqual(2);
  });

  it("emits ScrapeConfig objects for the hub that validate against the CRD", () => {
    const docs = walk(path.join(outs[label], "manifests"))
      .flatMap((f) => YAML.parseAllDocuments(readFileSync(f, "utf8")).map((d) => d.toJS()))
      .filter((d) => d?.kind === "ScrapeConfig");
    expect(docs.map((d) => d.metadata.name).sort()).toEqual([
      "homelab-backup-hub-node",
      "homelab-backup-hub-silo",
      "homelab-backup-hub-silo-bucket",
    ]);
    for (const d of docs) expect(validateCustomResource(d)).toEqual([]);
    // Compiling the ScrapeConfig CRD schema (13k lines) takes tens of seconds on a loaded machine.
  }, 120_000);
});

const ENDPOINTS: Record<string, string> = {
  debian: "http://backup1.lab.home.arpa:9000",
  rustfs: "http://backup1.lab.home.arpa:9000",
  nixos: "http://nixhub.lan:9000",
};

describe.each(["debian", "rustfs", "nixos"])(
  "render of a %s Pi stack: configured through the server's APIs",
  (label) => {
    const resources = () => JSON.parse(readFileSync(path.join(outs[label], "resources.json"), "utf8")) as any[];

    it("downloads no mcli and carries no configure-bucket.sh, in any file or remote command", () => {
      for (const f of walk(path.join(outs[label], "files"))) {
        expect(path.basename(f)).not.toBe("configure-bucket.sh");
        expect(readFileSync(f, "utf8"), f).not.toMatch(/\bmcli\b|pgsty\/mc\/|configure-bucket/);
      }
      const remote = resources().filter((r) => String(r.type).startsWith("command:remote:"));
      expect(remote.length).toBeGreaterThan(0);
      for (const r of remote) expect(JSON.stringify(r), r.name).not.toMatch(/\bmcli\b|pgsty\/mc\/|configure-bucket/);
      expect(remote.map((r) => r.name)).not.toContain("hub-pi-configure");
    });

    it("registers the S3HubBucket and one S3HubWriter per writer in use, at the Pi's endpoint", () => {
      const rs = resources();
      const flavor = label === "rustfs" ? "rustfs" : "silo";
      const buckets = rs.filter((r) => r.type === "pulumi-nodejs:dynamic/homelab-backup:S3HubBucket");
      expect(buckets.map((b) => [b.name, b.inputs.endpoint, b.inputs.flavor])).toEqual([
        ["hub-s3-bucket", ENDPOINTS[label], flavor],
      ]);
      const writers = rs.filter((r) => r.type === "pulumi-nodejs:dynamic/homelab-backup:S3HubWriter");
      const plan = readFileSync(path.join(outs[label], "plan.md"), "utf8");
      const section = plan.slice(plan.indexOf("### Writer credentials"));
      const inUse = [...section.matchAll(/^\| (\w+) \| .* \| `(\w+)-backup` \|/gm)].map((m) => m[1]);
      expect(inUse.length).toBeGreaterThan(0);
      expect(writers.map((w) => w.name).sort()).toEqual(inUse.map((w) => `hub-s3-${w}`).sort());
      for (const w of writers) expect(w.inputs.resourceId, w.name).toMatch(new RegExp(`^${ENDPOINTS[label]}/`));
    });
  },
);

describe("render of the NixOS Pi stack", () => {
  it("writes the NixOS module under files/, and no systemd unit or install script", () => {
    const files = walk(path.join(outs.nixos, "files")).map((f) => path.relative(path.join(outs.nixos, "files"), f));
    expect(files.filter((f) => f.endsWith(`/${NIXOS_MODULE_FILE}`))).toHaveLength(1);
    expect(files.filter((f) => /\.(service|timer)$/.test(f) || f.endsWith("install-server.sh"))).toEqual([]);
  });

  it("says in plan.md how the server was installed", () => {
    const plan = readFileSync(path.join(outs.nixos, "plan.md"), "utf8");
    expect(plan).toContain("runs on a NixOS host (nixhub.lan)");
    expect(plan).toContain(PINNED_RELEASES.silo.assets.arm64.sha256);
  });
});
