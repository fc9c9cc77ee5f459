/**
 * The Longhorn restore of plan.md, pasted as a person runs it: the block goes through one bash with a
 * kubectl stand-in that answers the reads from a small fixed cluster (a PVC bound to a Longhorn PV,
 * two Backups with their `status.volumeSize` and `status.url`) and records every write. What it
 * applies is checked with the real schemas: the Volume against Longhorn's CRD, the PV and PVC against
 * Kubernetes' OpenAPI and kubernetes-models. The steps follow Longhorn's documented flow for a
 * statically bound volume (longhorn.io docs, references/examples "CSI Persistent Volume"): the new PV
 * names the restored volume in `csi.volumeHandle`, the PVC takes the original name and names the PV.
 */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import * as YAML from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseStackConfig } from "../../components/config.js";
import { longhornPlan } from "../../components/longhorn/plan.js";
import { validateCustomResource } from "../support/crds.js";
import { validateBuiltIn } from "../support/k8sSchema.js";
import { pasteRun, shellBlocks } from "../support/pasteRun.js";
import { exampleStack } from "../support/stackFiles.js";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), "lh-restore-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const BACKUP_URL = "s3://homelab-backups@fr-home-1/longhorn/?backup=backup-9f1&volume=pvc-1234";

/** kubectl answering `get ... -o jsonpath=` from `answers` (a regex on the arguments → output), logging every call. */
function kubectl(answers: [RegExp, string][]): string {
  const bin = path.join(dir, "bin");
  mkdirSync(bin, { recursive: true });
  const log = path.join(dir, "calls.jsonl");
  writeFileSync(log, "");
  const script = `#!/usr/bin/env node
const fs = require("node:fs");
const a = process.argv.slice(2).join(" ");
const stdin = a.includes("-f -") ? fs.readFileSync(0, "utf8") : "";
fs.appendFileSync(${JSON.stringify(log)}, JSON.stringify({ a, stdin }) + "\\n");
const answers = ${JSON.stringify(answers.map(([re, out]) => [re.source, out]))};
for (const [re, out] of answers) if (new RegExp(re).test(a)) { process.stdout.write(out); process.exit(0); }
if (/^(-n \\S+ )?(scale|patch|delete|apply|wait) /.test(a)) process.exit(0);
console.error("kubectl stand-in: unexpected " + a); process.exit(1);
`;
  writeFileSync(path.join(bin, "kubectl"), script);
  chmodSync(path.join(bin, "kubectl"), 0o755);
  return bin;
}

const calls = () =>
  readFileSync(path.join(dir, "calls.jsonl"), "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { a: string; stdin: string });

describe("the Longhorn restore of plan.md", () => {
  it("restores a PVC to its original name from the chosen backup, with the backup's size, keeping the old volume", async () => {
    const restore = longhornPlan(parseStackConfig(exampleStack().config)).restore;
    const [block] = shellBlocks(restore);
    const pasted = block
      .replace("NS=<namespace> PVC=<pvc>", "NS=wiki PVC=wiki-data")
      .replace("-l <the workload's labels>", "-l app=wiki")
      .replace(/^BACKUP=<[^>]*>$/m, "BACKUP=backup-9f1");
    expect(pasted).not.toMatch(/<[a-z][^>]*>/);
    const bin = kubectl([
      [/get pvc wiki-data -o jsonpath=\{\.spec\.volumeName\}/, "pvc-1234"],
      [/get pvc wiki-data -o jsonpath=\{\.spec\.storageClassName\}/, "longhorn"],
      [/get pvc wiki-data -o jsonpath=\{\.spec\.accessModes\[0\]\}/, "ReadWriteOnce"],
      [/get pv pvc-1234 -o jsonpath=\{\.spec\.csi\.volumeHandle\}/, "pvc-1234"],
      [
        /get backups\.longhorn\.io -l backup-volume=pvc-1234/,
        "NAME  CREATED  STATE  BYTES\nbackup-9f1  2026-12-06T05:00:00Z  Completed  2147483648\n",
      ],
      [/get backups\.longhorn\.io backup-9f1 -o jsonpath=\{\.status\.url\}/, BACKUP_URL],
      [/get backups\.longhorn\.io backup-9f1 -o jsonpath=\{\.status\.volumeSize\}/, "2147483648"],
      [/get pvc wiki-data$/, "wiki-data Bound"],
    ]);
    const r = await pasteRun([pasted], { cwd: dir, binDirs: [bin] });
    expect(r.code, r.stderr).toBe(0);
    const log = calls().map((c) => c.a);
    // Nothing uses the PVC; the old PV is Retain before its PVC goes, so its data survives.
    const order = ["scale", "patch pv pvc-1234", "delete pvc wiki-data", "apply -f -", "wait volumes.longhorn.io/"].map(
      (w) => log.findIndex((a) => a.includes(w)),
    );
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(log.find((a) => a.startsWith("patch pv"))).toContain('"persistentVolumeReclaimPolicy":"Retain"');
    expect(log.some((a) => /delete (pv |volumes)/.test(a))).toBe(false);

    const applied = YAML.parseAllDocuments(calls().find((c) => c.a === "apply -f -")!.stdin).map((d) => d.toJS());
    expect(applied.map((o) => o.kind)).toEqual(["Volume", "PersistentVolume", "PersistentVolumeClaim"]);
    const [volume, pv, pvc] = applied;
    expect(validateCustomResource(volume)).toEqual([]);
    expect(await validateBuiltIn(pv)).toEqual([]);
    expect(await validateBuiltIn(pvc)).toEqual([]);
    expect(volume.metadata).toMatchObject({
      namespace: "longhorn-system",
      name: expect.stringMatching(/^pvc-1234-restored-\d{12}$/),
    });
    expect(volume.spec).toMatchObject({ fromBackup: BACKUP_URL, size: "2147483648" });
    expect(pv.spec.csi).toEqual({ driver: "driver.longhorn.io", fsType: "ext4", volumeHandle: volume.metadata.name });
    expect(pv.spec).toMatchObject({
      persistentVolumeReclaimPolicy: "Retain",
      storageClassName: "longhorn",
      accessModes: ["ReadWriteOnce"],
    });
    expect(pv.spec.capacity.storage).toBe("2147483648");
    expect(pvc).toMatchObject({
      metadata: { name: "wiki-data", namespace: "wiki" },
      spec: {
        volumeName: pv.metadata.name,
        storageClassName: "longhorn",
        resources: { requests: { storage: "2147483648" } },
      },
    });
  });
});
