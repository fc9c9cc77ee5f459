import { describe, expect, it } from "vitest";
import { normalizeFsBackup, splitSchedule } from "../../components/velero/fsBackup.js";

describe("normalizeFsBackup", () => {
  it("reads true as opt-out, false/absent as off", () => {
    expect(normalizeFsBackup(true)).toEqual({ mode: "opt-out" });
    expect(normalizeFsBackup(false)).toEqual({ mode: "off" });
    expect(normalizeFsBackup(undefined)).toEqual({ mode: "off" });
    expect(normalizeFsBackup({ mode: "opt-in", namespaces: ["a"] })).toEqual({ mode: "opt-in", namespaces: ["a"] });
  });
});

describe("splitSchedule", () => {
  const optIn = normalizeFsBackup({ mode: "opt-in", namespaces: ["a", "b"] });

  it("opt-in over all namespaces: the configured schedule without a and b copies only annotated volumes; -volumes copies a and b", () => {
    const [others, volumes] = splitSchedule(optIn, { name: "daily" });
    expect(others).toMatchObject({
      name: "daily",
      extraExcludedNamespaces: ["a", "b"],
      defaultVolumesToFsBackup: false,
      volumeScope: "annotated",
    });
    expect(others.includedNamespaces).toBeUndefined();
    expect(volumes).toMatchObject({
      name: "daily-volumes",
      includedNamespaces: ["a", "b"],
      defaultVolumesToFsBackup: true,
    });
  });

  it("opt-in with includedNamespaces keeps to them", () => {
    expect(splitSchedule(optIn, { name: "apps", includedNamespaces: ["a", "c"] })).toMatchObject([
      { name: "apps", includedNamespaces: ["c"], defaultVolumesToFsBackup: false },
      { name: "apps-volumes", includedNamespaces: ["a"], defaultVolumesToFsBackup: true },
    ]);
    expect(splitSchedule(optIn, { name: "ab", includedNamespaces: ["b"] })).toMatchObject([
      { name: "ab", includedNamespaces: ["b"], defaultVolumesToFsBackup: true },
    ]);
    expect(splitSchedule(optIn, { name: "c", includedNamespaces: ["c"] })).toMatchObject([
      { name: "c", includedNamespaces: ["c"], defaultVolumesToFsBackup: false },
    ]);
  });

  it("opt-out copies everything, off nothing", () => {
    expect(splitSchedule({ mode: "opt-out" }, { name: "daily" })).toMatchObject([
      { name: "daily", defaultVolumesToFsBackup: true, volumeScope: "all" },
    ]);
    expect(splitSchedule({ mode: "off" }, { name: "daily" })).toMatchObject([
      { name: "daily", defaultVolumesToFsBackup: false, volumeScope: "none" },
    ]);
  });
});
