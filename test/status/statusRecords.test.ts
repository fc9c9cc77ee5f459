/**
 * The records only the cluster knows, as pure functions: the audit's PVC inventory
 * (components/alerts/audit.mjs pvcInventory) and how `status` judges it and a drill's record
 * (components/alerts/hubReader.mjs judgePvcInventory, judgeDrillRecord; tools/status.ts drillText,
 * report). What they write and read on a real RGW is test/status/status.integration.test.ts.
 */
import { describe, expect, it } from "vitest";
import { pvcInventory } from "../../components/alerts/audit.mjs";
import {
  DRILL_RECORD_FORMAT,
  judgeDrillRecord,
  judgePvcInventory,
  PVC_INVENTORY_FORMAT,
} from "../../components/alerts/hubReader.mjs";
import { drillText, report, type StatusRow } from "../../tools/status.js";
import { statusSpecFor } from "../support/statusData.js";

const NOW = Date.parse("2026-12-07T12:00:00Z") / 1000;
const at = (secondsAgo: number) => new Date((NOW - secondsAgo) * 1000).toISOString().replace(/\.000Z$/, "Z");
const record = (over: Record<string, unknown> = {}) => ({
  format: DRILL_RECORD_FORMAT,
  class: "postgres",
  item: "wiki",
  result: "passed",
  startedAt: at(3700),
  finishedAt: at(3600),
  seconds: 100,
  restoreSeconds: 100,
  restored: "postgres-backups/wiki/wiki-20261207T030000Z.sql.zst",
  reason: "",
  ...over,
});

describe("judgeDrillRecord", () => {
  it("a pass carries its measured restore time, age and what it restored", () => {
    expect(judgeDrillRecord(record(), "postgres", "wiki", NOW)).toEqual({
      state: "passed",
      finishedAt: at(3600),
      ageSeconds: 3600,
      restoreSeconds: 100,
      restored: "postgres-backups/wiki/wiki-20261207T030000Z.sql.zst",
    });
  });

  it("a failure carries its reason and no restore time", () => {
    const j = judgeDrillRecord(
      record({ result: "failed", restoreSeconds: undefined, reason: "check check-001.sql returned no row" }),
      "postgres",
      "wiki",
      NOW,
    );
    expect(j).toMatchObject({ state: "failed", reason: "check check-001.sql returned no row", ageSeconds: 3600 });
    expect(j.restoreSeconds).toBeUndefined();
  });

  it("absent is not recorded; a record for another drill, of another format, without a finish or a restore time is unreadable, never passed", () => {
    expect(judgeDrillRecord(null, "postgres", "wiki", NOW)).toEqual({ state: "not recorded" });
    for (const [over, why] of [
      [{ item: "shop" }, "the record names postgres/shop"],
      [{ class: "etcd" }, "the record names etcd/wiki"],
      [{ format: "x" }, 'format "x"'],
      [{ finishedAt: "" }, "no finish time"],
      [{ restoreSeconds: undefined }, "no restore time"],
      [{ result: "ok" }, 'result "ok"'],
    ] as const)
      expect(judgeDrillRecord(record(over), "postgres", "wiki", NOW), why).toEqual({
        state: "unreadable",
        reason: why,
      });
    expect(judgeDrillRecord({ unreadable: "not JSON" }, "postgres", "wiki", NOW)).toEqual({
      state: "unreadable",
      reason: "not JSON",
    });
  });

  it("the DRILL cell says each state", () => {
    expect(drillText(judgeDrillRecord(record(), "postgres", "wiki", NOW))).toBe("passed 1h 0m ago, restore 1m");
    expect(drillText(judgeDrillRecord(record({ result: "failed", reason: "no dump" }), "postgres", "wiki", NOW))).toBe(
      "failed 1h 0m ago (no dump)",
    );
    expect(drillText({ state: "not recorded" })).toBe("not recorded");
    expect(drillText(undefined)).toBe("no drill");
  });
});

const pvc = (namespace: string, name: string, storageClassName?: string, storage?: string, volumeName?: string) => ({
  metadata: { namespace, name },
  spec: {
    ...(storageClassName ? { storageClassName } : {}),
    ...(storage ? { resources: { requests: { storage } } } : {}),
    ...(volumeName ? { volumeName } : {}),
  },
});

describe("the audit's PVC inventory", () => {
  const spec = {
    bucket: "b",
    longhorn: {
      prefix: "longhorn/",
      namespace: "longhorn-system",
      jobs: [{ name: "daily", groups: ["default"], retain: 3 }],
      storageClasses: [{ name: "longhorn", jobs: ["daily"], groups: [] }],
    },
    coverage: { ignore: ["scratch"] },
  };
  const k8s = {
    pvcs: [
      pvc("wiki", "data", "longhorn", "10Gi"),
      pvc("media", "uploads", "local-path", "5Gi"),
      pvc("scratch", "tmp", "local-path"),
    ],
  };
  const inv = pvcInventory(spec, k8s, NOW * 1000);

  it("lists every PVC with its storage class, size, the classes covering it and whether it is ignored", () => {
    expect(inv).toEqual({
      format: PVC_INVENTORY_FORMAT,
      takenAt: "2026-12-07T12:00:00Z",
      pvcs: [
        { namespace: "media", pvc: "uploads", storageClass: "local-path", size: "5Gi", coveredBy: [] },
        { namespace: "scratch", pvc: "tmp", storageClass: "local-path", coveredBy: [], ignored: true },
        { namespace: "wiki", pvc: "data", storageClass: "longhorn", size: "10Gi", coveredBy: ["longhorn"] },
      ],
    });
  });

  it("status reads the uncovered ones out of it, current or old by its age", () => {
    const round = JSON.parse(JSON.stringify(inv));
    const j = judgePvcInventory(round, NOW + 600, 3 * 3600);
    expect(j).toMatchObject({ state: "current", ageSeconds: 600, total: 3 });
    expect(j.uncovered).toEqual([{ namespace: "media", pvc: "uploads", storageClass: "local-path", size: "5Gi" }]);
    expect(j.ignored).toEqual([{ namespace: "scratch", pvc: "tmp", storageClass: "local-path" }]);
    expect(judgePvcInventory(round, NOW + 3 * 3600 + 1, 3 * 3600).state).toBe("old");
    expect(judgePvcInventory(null, NOW, 3600)).toEqual({ state: "not recorded" });
    expect(judgePvcInventory({ format: PVC_INVENTORY_FORMAT, pvcs: [] }, NOW, 3600).state).toBe("unreadable");
  });
});

describe("report: the exit status is about restore points (../shared/spec/render.md, section status)", () => {
  const spec = statusSpecFor({ endpoint: "http://127.0.0.1:1", bucket: "b" });
  const fresh: StatusRow = { cls: "postgres", item: "wiki", state: "fresh", verified: true, drill: "", offsite: "" };
  const inventory = {
    ...judgePvcInventory(
      JSON.parse(JSON.stringify(pvcInventory({ bucket: "b" }, { pvcs: [pvc("a", "b")] }, NOW * 1000))),
      NOW,
      3600,
    ),
    key: "status/audit/pvcs.json",
    maxAgeSeconds: 3600,
  };

  it("a failed drill and an uncovered PVC are reported, exit 0 stays; a stale item is exit 1", () => {
    const failed = { ...fresh, lastDrill: { state: "failed" as const, key: "k" } };
    const rep = report(spec, [failed], NOW, inventory);
    expect(rep.exitCode).toBe(0);
    expect(rep.uncoveredPvcs).toEqual([{ namespace: "a", pvc: "b" }]);
    expect(rep.notes).toEqual(["last drill failed: postgres/wiki"]);
    expect(report(spec, [{ ...fresh, state: "stale" }], NOW, inventory).exitCode).toBe(1);
  });

  it("without an audit, or before its first inventory, the uncovered PVCs are not known (null), and said so", () => {
    expect(report(spec, [fresh], NOW).uncoveredPvcs).toBeNull();
    expect(report(spec, [fresh], NOW).notes[0]).toMatch(/^uncovered PVCs: not known without the cluster/);
    const none = { state: "not recorded" as const, key: "status/audit/pvcs.json", maxAgeSeconds: 3600 };
    expect(report(spec, [fresh], NOW, none).uncoveredPvcs).toBeNull();
    expect(report(spec, [fresh], NOW, none).notes[0]).toMatch(/^uncovered PVCs: not recorded/);
  });
});
