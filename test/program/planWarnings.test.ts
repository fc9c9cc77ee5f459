/**
 * The plan's Warnings: gaps no policy refuses. A class the off-site copy leaves out while `offsite` is
 * set (its only copy is the hub's disk), and pod volumes copied twice onto the hub (Longhorn's
 * `default` group and Velero's file-system backup). The example stack shows the safer choice.
 */
import { describe, expect, it } from "vitest";
import { parseStackConfig } from "../../components/config.js";
import { renderPlan, stackWarnings } from "../../components/plan.js";
import { exampleStack } from "../support/stackFiles.js";

function withSections(edit: Record<string, (s: any) => void>): Record<string, string> {
  const { config } = exampleStack();
  const out = { ...config };
  for (const [section, f] of Object.entries(edit)) {
    const key = `homelab-backup:${section}`;
    const v = JSON.parse(out[key]);
    f(v);
    out[key] = JSON.stringify(v);
  }
  return out;
}

describe("plan warnings", () => {
  it("the example stack has none: every hub class is copied off-site, and volumes are Longhorn's alone", () => {
    const stack = parseStackConfig(exampleStack().config);
    expect(stackWarnings(stack)).toEqual([]);
    expect(renderPlan(stack)).not.toContain("## Warnings");
  });

  it("names a class the off-site prefixes leave out, and the key to fix", () => {
    const stack = parseStackConfig(
      withSections({ offsite: (o) => (o.prefixes = ["longhorn/", "postgres-backups/", "etcd-snapshots/", "velero/"]) }),
    );
    const [w] = stackWarnings(stack);
    expect(w).toContain("The off-site copy leaves out Object-store buckets (`buckets/`)");
    expect(w).toContain("`offsite.prefixes`");
    expect(renderPlan(stack)).toContain(`## Warnings\n\n- ${w}`);
  });

  it("says nothing when prefixes are not set (the whole bucket is copied)", () => {
    const stack = parseStackConfig(withSections({ offsite: (o) => delete o.prefixes }));
    expect(stackWarnings(stack).filter((w) => w.includes("off-site"))).toEqual([]);
  });

  it("names volumes copied twice by Longhorn's default group and Velero's file-system backup", () => {
    const stack = parseStackConfig(withSections({ velero: (v) => (v.fsBackup = true) }));
    expect(stackWarnings(stack)).toEqual([
      expect.stringMatching(
        /^Longhorn backs up every volume in the `default` group, and Velero's file-system backup \(`velero.fsBackup`, every pod volume\) copies them again/,
      ),
    ]);
    const optIn = parseStackConfig(
      withSections({ velero: (v) => (v.fsBackup = { mode: "opt-in", namespaces: ["media"] }) }),
    );
    expect(stackWarnings(optIn)[0]).toContain("the volumes of media");
  });
});
