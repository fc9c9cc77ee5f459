/**
 * longhorn-drill.sh under BusyBox with recorded API answers (test/support/fake-kubectl.cjs replaying
 * test/fixtures/drills/longhorn/). Every case (success, a failed restore, a restore that does not
 * finish, a reader pod that fails, a signal, no backup) ends in the right exit status and deletes the
 * pod, claim, PersistentVolume and scratch Volume; the Volume it creates is valid against the Longhorn
 * CRD and restores the newest Completed backup of the PVC's volume.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { busyboxPath, type BusyboxPath } from "../support/busybox.js";
import { validateCustomResource } from "../support/crds.js";
import { childEnv } from "../support/s3peer.js";
import { DRILL_VOLUME_GROUP } from "../../components/longhorn/schema.js";
import { judgeDrillRecord, type DrillJudgement } from "../../components/alerts/hubReader.mjs";

const ROOT = path.resolve(__dirname, "..", "..");
const DRILL = path.join(ROOT, "components", "drills", "longhorn-drill.sh");
const FIX = path.join(ROOT, "test", "fixtures", "drills", "longhorn");
const VOL = "pvc-0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
const NAME = "drill-data-1700000000";

type Response = { file?: string; stdout?: string; stderr?: string; code?: number };
const f = (name: string): Response => ({ file: path.join(FIX, name) });
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

let dir: string;
let bb: BusyboxPath;
let bin: string;

const VOLUME_GET = `^-n longhorn-system get volumes\\.longhorn\\.io ${NAME} -o json$`;
const POD_GET = `^-n homelab-drills get pod ${NAME} -o json$`;
const DELETES = [
  `-n homelab-drills delete pod ${NAME} --ignore-not-found --wait=true --timeout=120s`,
  `-n homelab-drills delete persistentvolumeclaim ${NAME} --ignore-not-found --wait=true --timeout=120s`,
  `delete persistentvolume ${NAME} --ignore-not-found --wait=true --timeout=120s`,
  `-n longhorn-system delete volumes.longhorn.io ${NAME} --ignore-not-found --wait=true --timeout=300s`,
];

function scenario(over: Record<string, Response[]> = {}) {
  const base: Record<string, Response[]> = {
    "^-n longhorn-system get backups\\.longhorn\\.io -o json$": [f("backups.json")],
    "^-n wiki get persistentvolumeclaim data -o json$": [f("pvc.json")],
    "^-n longhorn-system create -f -$": [{ stdout: `volume.longhorn.io/${NAME} created\n` }],
    [VOLUME_GET]: [f("volume-creating.json"), f("volume-restoring.json"), f("volume-restored.json")],
    [`^get persistentvolume ${esc(VOL)} -o json$`]: [f("pv.json")],
    "^create -f -$": [
      { stdout: `persistentvolume/${NAME} created\npersistentvolumeclaim/${NAME} created\npod/${NAME} created\n` },
    ],
    [POD_GET]: [f("pod-pending.json"), f("pod-running.json"), f("pod-succeeded.json")],
    [`^-n homelab-drills logs ${NAME} --tail=20$`]: [{ stdout: "read 12 files\n" }],
  };
  for (const d of DELETES) base[`^${esc(d)}$`] = [{ stdout: "deleted\n" }];
  Object.assign(base, over);
  return Object.entries(base).map(([match, responses]) => ({ match, responses }));
}

interface Run {
  code: number | null;
  stderr: string;
  calls: { args: string[]; stdin: string }[];
  /** The status record the drill left (components/drills/drill-record.sh), as `npm run status` judges it. */
  record?: DrillJudgement;
}

function drill(
  rules: ReturnType<typeof scenario>,
  extra: Record<string, string> = {},
  killWhen?: string,
): Promise<Run> {
  const state = mkdtempSync(path.join(dir, "state-"));
  const scenarioFile = path.join(state, "scenario.json");
  writeFileSync(scenarioFile, JSON.stringify(rules));
  const env = childEnv({
    PATH: `${bin}:${bb.path}`,
    FAKE_KUBECTL_SCENARIO: scenarioFile,
    FAKE_KUBECTL_STATE: state,
    TMPDIR: state,
    DRILL_PVCS: "wiki/data",
    DRILL_NAMESPACE: "homelab-drills",
    DRILL_READER_IMAGE: "busybox:1.37.0",
    DRILL_RUN_ID: "1700000000",
    DRILL_POLL_SECONDS: "0",
    DRILL_TIMEOUT_SECONDS: "60",
    // No hub in this test: the drill's record goes to a local rclone remote (its "bucket" a directory).
    DRILL_RECORD_CLASS: "longhorn",
    DRILL_RECORD_ITEM: "longhorn",
    RCLONE_CONFIG_HUB_TYPE: "local",
    DRILL_RECORD_BUCKET: path.join(state, "hub"),
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
    child.on("close", (code) => {
      const calls = readFileSync(path.join(state, "calls.jsonl"), "utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l));
      const recordFile = path.join(state, "hub", "status", "drills", "longhorn", "longhorn.json");
      const record = existsSync(recordFile)
        ? judgeDrillRecord(JSON.parse(readFileSync(recordFile, "utf8")), "longhorn", "longhorn", Date.now() / 1000)
        : undefined;
      resolve({ code, stderr, calls, record });
    });
  });
}

const joined = (r: Run) => r.calls.map((c) => c.args.join(" "));
function expectCleanedUp(r: Run) {
  const calls = joined(r);
  const at = DELETES.map((d) => calls.indexOf(d));
  expect(
    at.every((i) => i >= 0),
    calls.join("\n"),
  ).toBe(true);
  // Pod before claim before PersistentVolume before Volume.
  expect([...at].sort((a, b) => a - b)).toEqual(at);
  expect(r.stderr).toContain(`removed scratch volume ${NAME}`);
}

beforeAll(() => {
  bb = busyboxPath();
  dir = mkdtempSync(path.join(tmpdir(), "longhorn-drill-"));
  bin = path.join(dir, "bin");
  mkdirSync(bin);
  symlinkSync(path.join(ROOT, "test", "support", "fake-kubectl.cjs"), path.join(bin, "kubectl"));
});

afterAll(() => {
  bb?.remove();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("Longhorn restore drill", () => {
  it("the recorded Backups and Volumes are valid Longhorn objects", () => {
    for (const item of JSON.parse(readFileSync(path.join(FIX, "backups.json"), "utf8")).items)
      expect(validateCustomResource(item)).toEqual([]);
    for (const name of ["volume-creating", "volume-restoring", "volume-restored", "volume-faulted"]) {
      expect(validateCustomResource(JSON.parse(readFileSync(path.join(FIX, `${name}.json`), "utf8")))).toEqual([]);
    }
  });

  it("restores the newest Completed backup into a scratch volume, reads it read-only, cleans up", async () => {
    const r = await drill(scenario());
    expect(r.code, r.stderr).toBe(0);
    const volume = JSON.parse(r.calls.find((c) => c.args.join(" ") === "-n longhorn-system create -f -")!.stdin);
    expect(validateCustomResource(volume)).toEqual([]);
    expect(volume.metadata.name).toBe(NAME);
    // Out of Longhorn's `default` group: a job label of its own, in a group no job backs up.
    expect(volume.metadata.labels).toMatchObject({ "recurring-job-group.longhorn.io/homelab-backup-drill": "enabled" });
    expect(volume.metadata.labels[`recurring-job-group.longhorn.io/${DRILL_VOLUME_GROUP}`]).toBe("enabled");
    expect(volume.spec).toEqual({
      fromBackup: `s3://backups@us-east-1/longhorn?backup=backup-9a8b7c6d5e4f4a3b&volume=${VOL}`,
      size: "2147483648",
      numberOfReplicas: 1,
      frontend: "blockdev",
      dataEngine: "v1",
      accessMode: "rwo",
      staleReplicaTimeout: 30,
    });
    const reader = JSON.parse(r.calls.find((c) => c.args.join(" ") === "create -f -")!.stdin);
    const [pv, pvc, pod] = reader.items;
    expect(pv.spec.csi).toEqual({ driver: "driver.longhorn.io", volumeHandle: NAME, fsType: "xfs", readOnly: true });
    expect(pv.spec.persistentVolumeReclaimPolicy).toBe("Retain");
    expect(pvc.spec.volumeName).toBe(NAME);
    expect(pod.spec.volumes[0].persistentVolumeClaim).toEqual({ claimName: NAME, readOnly: true });
    expect(pod.spec.containers[0].volumeMounts[0].readOnly).toBe(true);
    expect(pod.spec.containers[0].securityContext.capabilities).toEqual({ drop: ["ALL"], add: ["DAC_READ_SEARCH"] });
    expect(r.stderr).toMatch(
      /PVC wiki\/data: backup backup-9a8b7c6d5e4f4a3b restored and read \(read 12 files\), restore \d+s/,
    );
    expectCleanedUp(r);
    expect(r.record).toMatchObject({ state: "passed", restoreSeconds: expect.any(Number) });
    expect(r.record!.restored).toMatch(/^backup-/);
  }, 60_000);

  it("fails on a restore that faults, and cleans up without starting a reader", async () => {
    const r = await drill(scenario({ [VOLUME_GET]: [f("volume-restoring.json"), f("volume-faulted.json")] }));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`volume ${NAME} failed to restore`);
    expect(r.stderr).toContain("checksum mismatch");
    expect(joined(r)).not.toContain("create -f -");
    expectCleanedUp(r);
  }, 60_000);

  it("fails when the restore does not finish in time, and cleans up", async () => {
    const r = await drill(scenario({ [VOLUME_GET]: [f("volume-restoring.json")] }), { DRILL_TIMEOUT_SECONDS: "2" });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`volume ${NAME} did not finish restoring within 2s`);
    expectCleanedUp(r);
  }, 60_000);

  it("fails when the reader pod cannot read the volume, and cleans up", async () => {
    const r = await drill(
      scenario({
        [POD_GET]: [f("pod-running.json"), f("pod-failed.json")],
        [`^-n homelab-drills logs ${NAME} --tail=20$`]: [
          { stdout: "cat: read error: I/O error\nunreadable: /data/db/base.sqlite\n" },
        ],
      }),
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      "reading volume drill-data-1700000000: pod failed (cat: read error: I/O error unreadable: /data/db/base.sqlite)",
    );
    expectCleanedUp(r);
  }, 60_000);

  it("cleans up when it is stopped mid-restore (SIGTERM)", async () => {
    const r = await drill(scenario({ [VOLUME_GET]: [f("volume-restoring.json")] }), {}, "restoring backup");
    expect(r.code).not.toBe(0);
    expectCleanedUp(r);
  }, 60_000);

  it("fails for a PVC whose volume has no Completed backup, creating nothing", async () => {
    const pvc = JSON.parse(readFileSync(path.join(FIX, "pvc.json"), "utf8"));
    pvc.spec.volumeName = "pvc-no-backup";
    const r = await drill(
      scenario({ "^-n wiki get persistentvolumeclaim data -o json$": [{ stdout: JSON.stringify(pvc) }] }),
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("no Completed Longhorn backup of pvc-no-backup (PVC wiki/data)");
    expect(r.record).toMatchObject({
      state: "failed",
      reason: expect.stringContaining("no Completed Longhorn backup of pvc-no-backup (PVC wiki/data)"),
    });
    expect(joined(r).some((a) => a.includes("create"))).toBe(false);
  }, 60_000);
});
