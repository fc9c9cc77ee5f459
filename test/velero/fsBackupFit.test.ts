/**
 * Which namespaces' pod volumes the built Velero Schedules copy by default (the scope the
 * VeleroVolumesExceedHubDisk rule and the plan's estimate sum up), and when the rule exists.
 * The rule's firing and silence are proven by promtool in test/alerts/promtool.integration.test.ts.
 */
import { describe, expect, it } from "vitest";
import { regexAlternatives } from "../../components/alerts/ruleHelpers.js";
import { parseStackConfig } from "../../components/config.js";
import { veleroVolumesFitRule } from "../../components/velero/alerts.js";
import { defaultVolumeNamespaceMatcher } from "../../components/velero/fsBackup.js";
import { veleroSchedules } from "../../components/velero/logic.js";
import { veleroPlan } from "../../components/velero/plan.js";

const hub = { kind: "pi", bucket: "backups", host: "hub.lan", ssh: { user: "pi" }, dataDir: "/mnt/hdd/silo" };
const stackWith = (velero: Record<string, unknown>, hubOverride: Record<string, unknown> = {}) =>
  parseStackConfig({
    "homelab-backup:hub": { ...hub, ...hubOverride },
    "homelab-backup:hubSshPrivateKey": "k",
    "homelab-backup:velero": velero,
    "homelab-backup:alerts": { hubDiskUsagePercent: 80 },
  });
const scopeOf = (velero: Record<string, unknown>) => {
  const v = stackWith(velero).velero!;
  return defaultVolumeNamespaceMatcher(veleroSchedules(v), v.excludedNamespaces, regexAlternatives);
};

describe("the namespaces whose volumes Velero copies by default", () => {
  it("opt-out (and true): every namespace but the excluded ones", () => {
    expect(scopeOf({ fsBackup: true })).toBe('namespace!~"kube-node-lease|kube-public|kube-system|velero"');
    expect(scopeOf({ fsBackup: { mode: "opt-out" }, excludedNamespaces: [] })).toBe('namespace!=""');
  });
  it("opt-in: exactly the listed namespaces, within each schedule's own", () => {
    expect(scopeOf({ fsBackup: { mode: "opt-in", namespaces: ["wiki", "media"] } })).toBe('namespace=~"media|wiki"');
    expect(
      scopeOf({
        fsBackup: { mode: "opt-in", namespaces: ["wiki", "media"] },
        schedules: [{ name: "apps", cron: "0 2 * * *", ttl: "720h", includedNamespaces: ["wiki", "shop"] }],
      }),
    ).toBe('namespace=~"wiki"');
  });
  it("off, or opt-in without namespaces (annotated volumes only): nothing by default", () => {
    expect(scopeOf({})).toBeUndefined();
    expect(scopeOf({ fsBackup: { mode: "opt-in" } })).toBeUndefined();
  });
});

describe("VeleroVolumesExceedHubDisk", () => {
  it("compares the scope's used bytes with alerts.hubDiskUsagePercent of the Pi hub's data disk", () => {
    const built = veleroVolumesFitRule(stackWith({ fsBackup: { mode: "opt-in", namespaces: ["media"] } }))!;
    expect(built.rule.expr).toBe(
      'sum(max by (namespace, persistentvolumeclaim) (kubelet_volume_stats_used_bytes{namespace=~"media"})) > 0.8 * max(node_filesystem_size_bytes{mountpoint=~"/mnt/hdd/silo|/mnt/hdd|/mnt"})',
    );
    expect(built.rule.for).toBe("1h");
  });
  it("exists only where it can: fsBackup on, a Pi hub with monitoring, volumes copied by default", () => {
    expect(veleroVolumesFitRule(stackWith({}))).toBeUndefined();
    expect(veleroVolumesFitRule(stackWith({ fsBackup: { mode: "opt-in" } }))).toBeUndefined();
    expect(veleroVolumesFitRule(stackWith({ fsBackup: true }, { monitoring: false }))).toBeUndefined();
  });
  it("the plan gives the estimate query and names the alert, or says to compare by hand", () => {
    const withAlert = veleroPlan(stackWith({ fsBackup: true })).details;
    expect(withAlert).toContain(
      'sum(max by (namespace, persistentvolumeclaim) (kubelet_volume_stats_used_bytes{namespace!~"kube-node-lease|kube-public|kube-system|velero"}))',
    );
    expect(withAlert).toContain("Alert `VeleroVolumesExceedHubDisk` fires when it exceeds 80% of the hub's data disk");
    const noMetrics = veleroPlan(stackWith({ fsBackup: true }, { monitoring: false })).details;
    expect(noMetrics).toContain("Compare it with the free space of the hub yourself");
    expect(veleroPlan(stackWith({})).details).not.toContain("kubelet_volume_stats_used_bytes");
  });
});
