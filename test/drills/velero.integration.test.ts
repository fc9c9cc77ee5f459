/**
 * velero-drill.sh under BusyBox with recorded API answers (test/support/fake-kubectl.cjs replaying
 * test/fixtures/drills/velero/) and the backup's real resource list on an S3 peer. Every case (success,
 * a missing object, a PartiallyFailed and a Failed Restore, a timeout, a signal, no backup at all) ends
 * in the right exit status and deletes the Restore and the scratch namespace; the Restore it creates is
 * valid against the Velero CRD.
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { busyboxPath, type BusyboxPath } from "../support/busybox.js";
import { validateCustomResource } from "../support/crds.js";
import { childEnv, startS3Peer, type S3Peer } from "../support/s3peer.js";
import { judgeDrillRecord } from "../../components/alerts/hubReader.mjs";

const ROOT = path.resolve(__dirname, "..", "..");
const DRILL = path.join(ROOT, "components", "drills", "velero-drill.sh");
const FIX = path.join(ROOT, "test", "fixtures", "drills", "velero");
const BACKUP = "velero-nightly-20261130030000";

type Rule = { match: string; responses: { file?: string; stdout?: string; stderr?: string; code?: number }[] };
const f = (name: string) => ({ file: path.join(FIX, name) });

let peer: S3Peer;
let dir: string;
let bb: BusyboxPath;
let bin: string;

function scenario(over: Partial<Record<string, Rule["responses"]>> = {}): Rule[] {
  const base: Record<string, Rule["responses"]> = {
    "^-n velero get backups\\.velero\\.io -o json$": [f("backups.json")],
    "^get namespace drill-wiki -o name --ignore-not-found$": [{ stdout: "" }],
    "^-n velero create -f -$": [{ stdout: "restore.velero.io/drill-wiki-1700000000 created\n" }],
    "^-n velero get restores\\.velero\\.io drill-wiki-1700000000 -o json$": [
      f("restore-new.json"),
      f("restore-inprogress.json"),
      f("restore-completed.json"),
    ],
    "^-n drill-wiki get Deployment\\.v1\\.apps -o json$": [f("scratch-deployments.json")],
    "^-n drill-wiki get ConfigMap -o json$": [f("scratch-configmaps.json")],
    "^-n drill-wiki get Secret -o json$": [f("scratch-secrets.json")],
    "^-n drill-wiki get Service -o json$": [f("scratch-services.json")],
    "^-n drill-wiki get ServiceAccount -o json$": [f("scratch-serviceaccounts.json")],
    "^-n velero delete restores\\.velero\\.io drill-wiki-1700000000 --ignore-not-found --wait=false$": [
      { stdout: 'restore.velero.io "drill-wiki-1700000000" deleted\n' },
    ],
    "^delete namespace drill-wiki --ignore-not-found --wait=true --timeout=300s$": [
      { stdout: 'namespace "drill-wiki" deleted\n' },
    ],
    "^delete namespace drill-wiki --wait=true --timeout=300s$": [{ stdout: 'namespace "drill-wiki" deleted\n' }],
  };
  for (const [k, v] of Object.entries(over)) base[k] = v!;
  return Object.entries(base).map(([match, responses]) => ({ match, responses }));
}

interface Run {
  code: number | null;
  signal: string | null;
  stderr: string;
  calls: { args: string[]; stdin: string }[];
}

function drill(rules: Rule[], extra: Record<string, string> = {}, killWhen?: string): Promise<Run> {
  const state = mkdtempSync(path.join(dir, "state-"));
  const scenarioFile = path.join(state, "scenario.json");
  writeFileSync(scenarioFile, JSON.stringify(rules));
  const env = childEnv({
    ...peer.rcloneEnv,
    PATH: `${bin}:${bb.path}`,
    FAKE_KUBECTL_SCENARIO: scenarioFile,
    FAKE_KUBECTL_STATE: state,
    TMPDIR: state,
    HUB_BUCKET: "backups",
    VELERO_PREFIX: "velero",
    DRILL_NAMESPACES: "wiki",
    DRILL_RUN_ID: "1700000000",
    DRILL_POLL_SECONDS: "0",
    DRILL_TIMEOUT_SECONDS: "60",
    DRILL_EXCLUDED_RESOURCES: "pods replicasets.apps jobs.batch",
    DRILL_SKIP_KINDS: "Pod ReplicaSet Job",
    DRILL_RESOURCE_MODIFIER: "drill-velero-modifier",
    DRILL_RECORD_CLASS: "velero",
    DRILL_RECORD_ITEM: "velero",
    ...extra,
  });
  return new Promise((resolve) => {
    const child = spawn("busybox", ["sh", DRILL], { env, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    let killed = false;
    child.stderr.on("data", (d) => {
      stderr += d;
      if (killWhen && !killed && stderr.includes(killWhen)) {
        killed = true;
        child.kill("SIGTERM");
      }
    });
    child.on("close", (code, signal) => {
      const calls = readFileSync(path.join(state, "calls.jsonl"), "utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l));
      resolve({ code, signal, stderr, calls });
    });
  });
}

/** The drill's status record on the S3 peer (components/drills/drill-record.sh), as `npm run status` judges it. */
function drillRecord() {
  const text = execFileSync("rclone", ["--config", "", "cat", "hub:backups/status/drills/velero/velero.json"], {
    env: childEnv(peer.rcloneEnv),
    encoding: "utf8",
  });
  return judgeDrillRecord(JSON.parse(text), "velero", "velero", Date.now() / 1000);
}

const joined = (r: Run) => r.calls.map((c) => c.args.join(" "));
function expectCleanedUp(r: Run) {
  expect(joined(r)).toContain(
    "-n velero delete restores.velero.io drill-wiki-1700000000 --ignore-not-found --wait=false",
  );
  expect(joined(r)).toContain("delete namespace drill-wiki --ignore-not-found --wait=true --timeout=300s");
  expect(r.stderr).toContain("removed scratch namespace drill-wiki");
}

beforeAll(async () => {
  bb = busyboxPath();
  dir = mkdtempSync(path.join(tmpdir(), "velero-drill-"));
  bin = path.join(dir, "bin");
  mkdirSync(bin);
  symlinkSync(path.join(ROOT, "test", "support", "fake-kubectl.cjs"), path.join(bin, "kubectl"));
  peer = await startS3Peer(["backups"]);
  const list = path.join(dir, `${BACKUP}-resource-list.json.gz`);
  writeFileSync(list, gzipSync(readFileSync(path.join(FIX, `${BACKUP}-resource-list.json`))));
  execFileSync(
    "rclone",
    ["--config", "", "copyto", list, `hub:backups/velero/backups/${BACKUP}/${BACKUP}-resource-list.json.gz`],
    { env: childEnv(peer.rcloneEnv) },
  );
}, 60_000);

afterAll(async () => {
  await peer?.stop();
  bb?.remove();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("Velero restore drill", () => {
  it("the recorded Backups and Restores are valid Velero objects", () => {
    for (const item of JSON.parse(readFileSync(path.join(FIX, "backups.json"), "utf8")).items)
      expect(validateCustomResource(item)).toEqual([]);
    for (const name of [
      "restore-new",
      "restore-inprogress",
      "restore-completed",
      "restore-partiallyfailed",
      "restore-failed",
    ]) {
      expect(validateCustomResource(JSON.parse(readFileSync(path.join(FIX, `${name}.json`), "utf8")))).toEqual([]);
    }
  });

  it("restores the newest Completed backup into the scratch namespace, finds every object, cleans up", async () => {
    const r = await drill(scenario());
    expect(r.code, r.stderr).toBe(0);
    const create = r.calls.find((c) => c.args.join(" ") === "-n velero create -f -")!;
    const restore = JSON.parse(create.stdin);
    expect(validateCustomResource(restore)).toEqual([]);
    expect(restore.spec).toEqual({
      backupName: BACKUP,
      includedNamespaces: ["wiki"],
      namespaceMapping: { wiki: "drill-wiki" },
      excludedResources: ["pods", "replicasets.apps", "jobs.batch"],
      includeClusterResources: false,
      restorePVs: false,
      existingResourcePolicy: "none",
      resourceModifier: { kind: "configmap", name: "drill-velero-modifier" },
    });
    expect(r.stderr).toContain("namespace wiki: all 6 objects of velero-nightly-20261130030000 are in drill-wiki");
    expect(drillRecord()).toMatchObject({
      state: "passed",
      restored: BACKUP,
      restoreSeconds: expect.any(Number),
    });
    // Excluded kinds are not looked for; other namespaces' objects are not expected.
    expect(
      joined(r)
        .filter((a) => a.startsWith("-n drill-wiki get"))
        .sort(),
    ).toEqual(
      ["ConfigMap", "Deployment.v1.apps", "Secret", "Service", "ServiceAccount"].map(
        (k) => `-n drill-wiki get ${k} -o json`,
      ),
    );
    expectCleanedUp(r);
  }, 60_000);

  it("fails when a backed-up object is missing from the scratch namespace", async () => {
    const r = await drill(
      scenario({ "^-n drill-wiki get ConfigMap -o json$": [f("scratch-configmaps-missing.json")] }),
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("1 of 6 objects of velero-nightly-20261130030000/wiki missing from drill-wiki");
    expect(r.stderr).toContain("missing: v1/ConfigMap wiki-config");
    expectCleanedUp(r);
    // The first failure named is the record's reason, not the summary that follows it.
    expect(drillRecord()).toMatchObject({
      state: "failed",
      reason: "1 of 6 objects of velero-nightly-20261130030000/wiki missing from drill-wiki:",
    });
  }, 60_000);

  it("fails on a PartiallyFailed and on a Failed Restore, and cleans up", async () => {
    const partial = await drill(
      scenario({
        "^-n velero get restores\\.velero\\.io drill-wiki-1700000000 -o json$": [
          f("restore-inprogress.json"),
          f("restore-partiallyfailed.json"),
        ],
      }),
    );
    expect(partial.code).toBe(1);
    expect(partial.stderr).toMatch(
      /Restore drill-wiki-1700000000 ended PartiallyFailed after \d+s \(errors 2, warnings 1\)/,
    );
    expect(joined(partial).some((a) => a.startsWith("-n drill-wiki get"))).toBe(false);
    expectCleanedUp(partial);
    const failed = await drill(
      scenario({ "^-n velero get restores\\.velero\\.io drill-wiki-1700000000 -o json$": [f("restore-failed.json")] }),
    );
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain("ended Failed after");
    expect(failed.stderr).toContain("backup velero-nightly-20261130030000 not found in object storage");
    expectCleanedUp(failed);
  }, 60_000);

  it("fails when the Restore does not finish in time, and cleans up", async () => {
    const r = await drill(
      scenario({
        "^-n velero get restores\\.velero\\.io drill-wiki-1700000000 -o json$": [f("restore-inprogress.json")],
      }),
      { DRILL_TIMEOUT_SECONDS: "2" },
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("Restore drill-wiki-1700000000 did not finish within 2s");
    expectCleanedUp(r);
  }, 60_000);

  it("cleans up when it is stopped (SIGTERM, as on activeDeadlineSeconds)", async () => {
    const r = await drill(
      scenario({
        "^-n velero get restores\\.velero\\.io drill-wiki-1700000000 -o json$": [f("restore-inprogress.json")],
      }),
      {},
      "restoring backup",
    );
    expect(r.code).not.toBe(0);
    expectCleanedUp(r);
    // A stopped drill leaves a failed record too (its EXIT trap).
    expect(drillRecord()).toMatchObject({ state: "failed", reason: "exit status 1" });
  }, 60_000);

  it("removes a leftover scratch namespace first; fails for a namespace no Completed backup holds", async () => {
    const leftover = await drill(
      scenario({ "^get namespace drill-wiki -o name --ignore-not-found$": [{ stdout: "namespace/drill-wiki\n" }] }),
    );
    expect(leftover.code, leftover.stderr).toBe(0);
    expect(joined(leftover)).toContain("delete namespace drill-wiki --wait=true --timeout=300s");
    const none = await drill(scenario(), { DRILL_NAMESPACES: "photos" });
    expect(none.code).toBe(1);
    expect(none.stderr).toContain("no Completed Velero backup holds namespace photos");
    expect(joined(none).some((a) => a.includes("create"))).toBe(false);
  }, 60_000);
});
