/**
 * `npm run render` as users and pull-request checks run it: the example stack renders the five
 * outputs, every custom resource validates against the upstream CRDs, the policy pack passes, no
 * secret leaks, and a bad stack file fails naming every bad key path and writes no plan.
 */
import { execFile } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import YAML from "yaml";
import { hasCrd, validateCustomResource } from "../support/crds.js";
import { renderProblems } from "../support/renderChecks.js";
import { EXAMPLE_STACK, REPO } from "../support/stackFiles.js";

const run = promisify(execFile);
const TSX = path.join(REPO, "node_modules/.bin/tsx");
const RENDER = path.join(REPO, "tools/render.ts");

async function render(stackFile: string, out: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(TSX, [RENDER, "--stack-file", stackFile, "--out", out], {
      cwd: REPO,
      maxBuffer: 64 << 20,
    });
    return { code: 0, stdout, stderr };
  } catch (e: any) {
    return { code: e.code ?? 1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

let tmp: string;
let out: string;
let result: { code: number; stdout: string; stderr: string };

beforeAll(async () => {
  tmp = mkdtempSync(path.join(tmpdir(), "render-"));
  out = path.join(tmp, "out");
  result = await render(EXAMPLE_STACK, out);
}, 480_000);

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("render of the example stack", () => {
  it("exits 0 and writes the five outputs", () => {
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    for (const f of ["resources.json", "manifests", "files", "plan.md", "policy.json"])
      expect(existsSync(path.join(out, f)), f).toBe(true);
    const resources = JSON.parse(readFileSync(path.join(out, "resources.json"), "utf8"));
    expect(resources.length).toBeGreaterThan(50);
    for (const r of resources) expect(Object.keys(r).sort()).toEqual(["inputs", "name", "parent", "type"]);
  });

  it("never writes a secret value, only the mask", () => {
    const text = walk(out)
      .map((f) => readFileSync(f, "utf8"))
      .join("\n");
    for (const v of [
      "secure-value-of-hubSshPrivateKey",
      "secure-value-of-offsiteFtpPassword",
      "secure-value-of-ftpBridgePassword",
      "v1:bvE/ZyxIfUwb5o3j",
    ])
      expect(text).not.toContain(v);
    expect(text).toContain("[secret]");
  });

  it("emits only objects that pass the upstream rules: Kubernetes schema (strict), CRDs, robfig/cron, name limits, Velero chart values", async () => {
    const resources = JSON.parse(readFileSync(path.join(out, "resources.json"), "utf8"));
    expect(await renderProblems(resources)).toEqual([]);
  }, 120_000);

  it("emits custom resources that validate against the upstream CRDs", () => {
    const docs = walk(path.join(out, "manifests")).flatMap((f) =>
      YAML.parseAllDocuments(readFileSync(f, "utf8")).map((d) => ({ f, obj: d.toJS() })),
    );
    const custom = docs.filter(({ obj }) => hasCrd(obj.apiVersion, obj.kind));
    const kinds = new Set(custom.map(({ obj }) => obj.kind));
    for (const k of [
      "BackupTarget",
      "RecurringJob",
      "Setting",
      "BackupStorageLocation",
      "Schedule",
      "PrometheusRule",
      "ServiceMonitor",
      "AlertmanagerConfig",
    ])
      expect(kinds, k).toContain(k);
    for (const { f, obj } of custom) expect(validateCustomResource(obj), path.relative(out, f)).toEqual([]);
    // Compiling the CRD schemas (ScrapeConfig's is 13k lines) takes tens of seconds on a loaded machine.
  }, 120_000);

  it("passes the policy pack", () => {
    const verdicts = JSON.parse(readFileSync(path.join(out, "policy.json"), "utf8"));
    expect(verdicts.filter((v: any) => v.level === "mandatory")).toEqual([]);
  });

  it("writes the host and job files", () => {
    const files = walk(path.join(out, "files")).map((f) => path.relative(path.join(out, "files"), f));
    expect(files.some((f) => f.startsWith("hub/") && f.endsWith(".service"))).toBe(true);
    expect(files.some((f) => f.startsWith("hub/") && f.endsWith(".timer"))).toBe(true);
    expect(files.some((f) => f.startsWith("jobs/") && f.endsWith("dump.sh"))).toBe(true);
  });

  it("writes shell scripts that pass shellcheck, as rendered", async () => {
    const scripts = walk(path.join(out, "files")).filter((f) => f.endsWith(".sh"));
    expect(scripts.length).toBeGreaterThan(5);
    const r = await run("shellcheck", ["--severity=warning", ...scripts]).catch((e) => e);
    expect(r.stdout ?? "", String(r.stderr ?? "")).toBe("");
    // shellcheck over every rendered script takes seconds each on a loaded two-core machine.
  }, 90_000);

  it("writes systemd units that pass systemd-analyze verify, as rendered", async () => {
    // verify needs every ExecStart= binary to exist: the units are checked in a scratch tree where
    // /usr/local is re-rooted, holding the rendered scripts and an executable stand-in for the
    // server binary (the real one is downloaded on the hub).
    const root = path.join(tmp, "verify");
    const units = walk(path.join(out, "files/hub")).filter((f) => /\.(service|timer)$/.test(f));
    expect(units.map((u) => path.basename(u)).sort()).toEqual([
      "homelab-backup-arrivals.service",
      "homelab-backup-arrivals.timer",
      "homelab-backup-offsite.service",
      "homelab-backup-offsite.timer",
      "silo.service",
    ]);
    mkdirSync(path.join(root, "units"), { recursive: true });
    for (const u of units) {
      const text = readFileSync(u, "utf8").split("/usr/local/").join(`${root}/usr/local/`);
      writeFileSync(path.join(root, "units", path.basename(u)), text);
      for (const m of text.matchAll(/^Exec\w*=-?(\S+)/gm)) {
        const bin = m[1];
        mkdirSync(path.dirname(bin), { recursive: true });
        const rendered = walk(path.join(out, "files/hub")).find((f) => path.basename(f) === path.basename(bin));
        if (rendered) copyFileSync(rendered, bin);
        else writeFileSync(bin, "#!/bin/sh\nexit 0\n");
        chmodSync(bin, 0o755);
      }
    }
    const r = await run("systemd-analyze", [
      "verify",
      ...readdirSync(path.join(root, "units")).map((u) => path.join(root, "units", u)),
    ]).catch((e) => e);
    expect(`${r.stdout ?? ""}${r.stderr ?? ""}`.split("\n").filter((l: string) => l.trim())).toEqual([]);
    expect(r.code ?? 0).toBe(0);
  });

  it("writes a plan with the schedule, the window and the restore commands", () => {
    const plan = readFileSync(path.join(out, "plan.md"), "utf8");
    expect(plan).toMatch(/## What is backed up/);
    expect(plan).toMatch(/03:00–04:30 UTC/);
    expect(plan).toMatch(/## How to restore/);
    expect(plan).toMatch(/## Expected storage/);
    expect(plan).toMatch(/PostgreSQL dumps \| 70 dumps \(5 databases × ~14\)/);
    expect(plan).toMatch(/Velero backups \| 94 backups \(daily 30, weekly 52, monthly 12\)/);
    for (const db of ["wiki", "immich", "authentik", "gitea", "shared-cluster"]) expect(plan).toContain(db);
    expect(plan).toMatch(/cluster-reset/);
    expect(plan).toMatch(/velero restore create/);
  });

  it("writes the Restore readiness table: every class with its drill, where it restores and its RTO target", () => {
    const plan = readFileSync(path.join(out, "plan.md"), "utf8");
    const section = plan.slice(plan.indexOf("## Restore readiness"), plan.indexOf("## Alerts"));
    expect(section).toContain("| Class | Drill | Last drill | Measured RTO | RTO target | Restores into |");
    const rows = section
      .split("\n")
      .filter((l) => l.startsWith("| ") && !l.startsWith("| Class") && !l.startsWith("| ---"));
    expect(rows.map((r) => r.split(" | ")[0].slice(2))).toEqual([
      ...Array(3).fill("PostgreSQL databases"),
      "Kubernetes objects (Velero)",
      "Longhorn volumes",
      "etcd snapshots",
      "Off-site encrypted copy",
      "Object-store buckets",
    ]);
    expect(section).toContain("`homelab-drills/drill-etcd`");
    expect(section).toContain("15m (alert RestoreTimeAboveTarget)");
    expect(section).toContain("scratch namespaces `drill-wiki`, `drill-gitea`");
  });
});

describe("render of a k3s stack on AWS (test/fixtures/Pulumi.aws-k3s.yaml)", () => {
  it("renders the bucket, an identity for each section that uses the hub (no mirror, no drill: none for them), 15 dump jobs and the Velero schedules, and passes the pack", async () => {
    const awsOut = path.join(tmp, "aws-out");
    const r = await render(path.join(REPO, "test/fixtures/Pulumi.aws-k3s.yaml"), awsOut);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const resources: { type: string; name: string; inputs: any }[] = JSON.parse(
      readFileSync(path.join(awsOut, "resources.json"), "utf8"),
    );
    const count = (t: string) => resources.filter((x) => x.type === t).length;
    expect(count("aws:s3/bucket:Bucket")).toBe(1);
    const users = resources.filter((x) => x.type === "aws:iam/user:User").map((x) => x.name);
    expect(users.sort()).toEqual([
      "hub-audit",
      "hub-etcd",
      "hub-longhorn",
      "hub-offsite",
      "hub-postgres",
      "hub-velero",
    ]);
    expect(count("aws:iam/accessKey:AccessKey")).toBe(users.length);
    const cronJobs = resources
      .filter((x) => x.type === "kubernetes:batch/v1:CronJob")
      .map((x) => x.inputs.metadata.name);
    expect(cronJobs.filter((n: string) => n.startsWith("pg-dump-"))).toHaveLength(15);
    expect(cronJobs).toContain("etcd-offload");
    expect(cronJobs).toContain("offsite-sync");
    const schedules = resources
      .filter((x) => x.type === "kubernetes:velero.io/v1:Schedule")
      .map((x) => x.inputs.metadata.name)
      .sort();
    expect(schedules).toEqual(["k3s-daily-backup", "k3s-monthly-backup", "k3s-weekly-backup"]);
    const lifecycle = resources.find(
      (x) => x.type === "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    )!;
    expect(JSON.stringify(lifecycle.inputs)).toContain("GLACIER_IR");
    expect(
      JSON.parse(readFileSync(path.join(awsOut, "policy.json"), "utf8")).filter((v: any) => v.level === "mandatory"),
    ).toEqual([]);
    // A secret key given as a plain value in the stack file is still a secret: it appears nowhere.
    for (const secret of [
      "sample-ftp-password",
      "sample-slack-webhook-secret",
      "sample-smtp-password",
      "sample-heartbeat-uuid",
    ])
      expect(
        walk(awsOut).some((f) => readFileSync(f, "utf8").includes(secret)),
        secret,
      ).toBe(false);
    // alerts.notify (Slack, e-mail) and alerts.heartbeat: one CRD-valid AlertmanagerConfig, Secret references only.
    const amcs = resources.filter((x) => x.type === "kubernetes:monitoring.coreos.com/v1alpha1:AlertmanagerConfig");
    expect(amcs).toHaveLength(1);
    expect(validateCustomResource(amcs[0].inputs)).toEqual([]);
    expect(amcs[0].inputs.spec.receivers.map((r: { name: string }) => r.name)).toEqual([
      "none",
      "heartbeat",
      "slack",
      "email",
    ]);
    // Every hand-made alert of the seed's table has its counterpart, side by side in the plan.
    const awsPlan = readFileSync(path.join(awsOut, "plan.md"), "utf8");
    const side = awsPlan.slice(
      awsPlan.indexOf("### Common hand-made alerts"),
      awsPlan.indexOf("### PVCs without a backup"),
    );
    expect(side.match(/^\| [A-Za-z0-9]+ \|/gm)).toHaveLength(14);
    expect(side).not.toContain("not configured");
    const plan = readFileSync(path.join(awsOut, "plan.md"), "utf8");
    expect(plan).toMatch(/k3s-weekly-backup.*51–52/);
    expect(plan).toMatch(/03:00–04:10 UTC/);
    expect(await renderProblems(resources)).toEqual([]);
    for (const f of walk(path.join(awsOut, "manifests"))) {
      for (const d of YAML.parseAllDocuments(readFileSync(f, "utf8"))) {
        const obj = d.toJS();
        if (hasCrd(obj.apiVersion, obj.kind)) expect(validateCustomResource(obj), f).toEqual([]);
      }
    }
  }, 300_000);
});

describe("render of a bad stack file", () => {
  it("exits non-zero, names every bad key path, and writes no plan", async () => {
    const bad = path.join(tmp, "Pulumi.bad.yaml");
    const text = readFileSync(EXAMPLE_STACK, "utf8")
      .replace("homelab-backup:alerts:", "homelab-backup:alrets:")
      .replace(
        "retain: 14\n        concurrency: 2\n        fullBackupInterval: 7",
        "retain: 7\n        concurrency: 2\n        fullBackupInterval: 7",
      )
      .replace("ttl: 720h", "ttl: 720");
    writeFileSync(bad, text);
    const badOut = path.join(tmp, "bad-out");
    const r = await render(bad, badOut);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("homelab-backup:alrets");
    expect(r.stderr).toContain('did you mean "alerts"');
    expect(r.stderr).toContain("longhorn.recurringJobs[0].retain");
    expect(r.stderr).toContain("velero.schedules[0].ttl");
    expect(existsSync(path.join(badOut, "plan.md"))).toBe(false);
  }, 300_000);
});
