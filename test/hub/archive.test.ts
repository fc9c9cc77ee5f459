import { describe, expect, it } from "vitest";
import { planArchive, type ArchiveCandidate } from "../../components/hub/archive.js";

/** The classes of a stack like the AWS example: 7-day dumps and snapshots, Velero up to 365 days. */
const classes: ArchiveCandidate[] = [
  {
    name: "longhorn",
    prefix: "longhorn/",
    readsItself: true,
    unboundedBecause: "Longhorn keeps a count of backups whose blocks are shared",
  },
  { name: "postgres", prefix: "postgres-backups/", keepDays: 7, shortestKeepDays: 7, readsItself: false },
  { name: "etcd", prefix: "etcd-snapshots/", keepDays: 7, shortestKeepDays: 7, readsItself: false },
  { name: "velero", prefix: "velero/", keepDays: 365, shortestKeepDays: 30, readsItself: true },
];

describe("planArchive", () => {
  it("refuses GLACIER after 1 day with 7-day classes: no class pays, and the thaw is not allowed", () => {
    const { decisions, errors } = planArchive({ afterDays: 1, storageClass: "GLACIER" }, classes);
    expect(decisions.every((d) => !d.moves)).toBe(true);
    expect(decisions.find((d) => d.name === "postgres")!.reason).toContain(
      "only 6 days in GLACIER, under its 90-day minimum",
    );
    expect(decisions.find((d) => d.name === "velero")!.reason).toContain("reads its own stored objects");
    expect(errors.join(" ")).toContain("pays off for no class");
  });

  it("moves only Velero with GLACIER_IR after 30 days, and warns about its 30-day backups", () => {
    const { decisions, errors } = planArchive({ afterDays: 30, storageClass: "GLACIER_IR" }, classes);
    expect(errors).toEqual([]);
    expect(decisions.filter((d) => d.moves).map((d) => d.name)).toEqual(["velero"]);
    const velero = decisions.find((d) => d.name === "velero")!;
    expect(velero.thaw).toBe(false);
    expect(velero.reason).toBe("moves to GLACIER_IR at day 30, kept until day 365 (335 days there, ≥ 90-day minimum)");
    expect(velero.earlyDeletionWarning).toBeUndefined();
    expect(decisions.find((d) => d.name === "postgres")!.reason).toBe(
      "stays in STANDARD: kept 7 days, gone before day 30",
    );
  });

  it("warns when a shorter retention in a moving prefix leaves before the minimum", () => {
    const { decisions } = planArchive({ afterDays: 10, storageClass: "GLACIER_IR" }, classes);
    expect(decisions.find((d) => d.name === "velero")!.earlyDeletionWarning).toContain(
      "objects kept 30 days move at day 10",
    );
  });

  it("refuses GLACIER for classes that are restored unless allowThaw, and then marks them for thawing", () => {
    const long = classes.map((c) => (c.name === "postgres" ? { ...c, keepDays: 400, shortestKeepDays: 400 } : c));
    const refused = planArchive({ afterDays: 30, storageClass: "GLACIER" }, long);
    expect(refused.errors).toHaveLength(1);
    expect(refused.errors[0]).toContain("`postgres-backups/` unreadable until a thaw");
    expect(refused.errors[0]).toContain("allowThaw: true");
    const allowed = planArchive({ afterDays: 30, storageClass: "GLACIER", allowThaw: true }, long);
    expect(allowed.errors).toEqual([]);
    expect(allowed.decisions.find((d) => d.name === "postgres")).toMatchObject({ moves: true, thaw: true });
    // Velero reads its own objects: never frozen, even with allowThaw.
    expect(allowed.decisions.find((d) => d.name === "velero")!.moves).toBe(false);
  });

  it("refuses STANDARD_IA earlier than 30 days (S3 rejects the rule)", () => {
    const { errors } = planArchive({ afterDays: 7, storageClass: "STANDARD_IA" }, classes);
    expect(errors[0]).toContain("S3 accepts a transition to STANDARD_IA only for objects at least 30 days old");
  });

  it("DEEP_ARCHIVE needs 180 days in the class", () => {
    const c: ArchiveCandidate[] = [{ name: "etcd", prefix: "etcd-snapshots/", keepDays: 200, readsItself: false }];
    expect(planArchive({ afterDays: 30, storageClass: "DEEP_ARCHIVE", allowThaw: true }, c).errors[0]).toContain(
      "pays off for no class",
    );
    expect(planArchive({ afterDays: 20, storageClass: "DEEP_ARCHIVE", allowThaw: true }, c).errors).toEqual([]);
  });
});
