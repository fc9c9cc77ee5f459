/**
 * `longhorn.version`: a stale volume alerts under promtool with only the metrics of that Longhorn
 * release. Metric sets (longhorn/longhorn-manager `metrics_collector/`): v1.10.1 exports
 * `longhorn_backup_state{volume, backup, recurring_job}` (`backup_collector.go`) and no per-volume
 * backup time; v1.11.0 adds `longhorn_volume_last_backup_at{node, volume, pvc, pvc_namespace}`
 * (`volume_collector.go`).
 */
import { describe, expect, it } from "vitest";
import { alertRuleGroups } from "../../components/alerts/rules.js";
import { parseStackConfig } from "../../components/config.js";
import { stackWatches } from "../../components/model.js";
import { hasLastBackupAtMetric } from "../../components/longhorn/schema.js";
import { expandAnnotations, promtoolTest } from "../support/promtool.js";

const H = 3600;
/** Daily backup job: 24 h gap + 2 h for Longhorn to finish. */
const T = 26 * H;
const m = (s: number) => `${s / 60}m`;

function longhornGroups(version: string) {
  const stack = parseStackConfig({
    "homelab-backup:hub": JSON.stringify({ kind: "aws", bucket: "homelab-backups" }),
    "homelab-backup:longhorn": JSON.stringify({
      version,
      recurringJobs: [{ name: "nightly-backup", cron: "0 5 * * *", task: "backup", retain: 14, groups: ["default"] }],
    }),
  });
  return alertRuleGroups(stack, stackWatches(stack)).filter((g) => g.name === "homelab-backup.longhorn");
}

const series = (metric: string, labels: Record<string, string>, values: string) => ({
  series: `${metric}{${Object.entries(labels)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(", ")}}`,
  values,
});
const samples = (s: number) => Math.ceil(s / 60) + 30;

function expected(groups: ReturnType<typeof longhornGroups>, labels: Record<string, string>) {
  const rule = groups.flatMap((g) => g.rules).find((r) => r.alert === "LonghornVolumeBackupStale")!;
  const { severity, class: cls, ...series } = labels;
  void severity;
  void cls;
  return { exp_labels: labels, exp_annotations: expandAnnotations(rule.annotations, series) };
}

describe("LonghornVolumeBackupStale per Longhorn version", () => {
  it("1.10.1 metrics (longhorn_backup_state only): a volume whose newest completed backup is older than its threshold fires; one with a newer backup does not", async () => {
    expect(hasLastBackupAtMetric("1.10.1")).toBe(false);
    const groups = longhornGroups("1.10.1");
    expect(JSON.stringify(groups)).not.toContain("longhorn_volume_last_backup_at");
    const state = (volume: string, backup: string, values: string) =>
      series("longhorn_backup_state", { volume, backup, recurring_job: "nightly-backup" }, values);
    const n = samples(T + H);
    const input = [
      // pvc-a: one backup, completed at t=0, nothing since.
      state("pvc-a", "backup-a1", `3x${n}`),
      // pvc-b: a backup at t=0, and a new one at 20 h (in progress, then completed).
      state("pvc-b", "backup-b1", `3x${n}`),
      state("pvc-b", "backup-b2", `_x${20 * 60} 2x30 3x${n}`),
      // pvc-c: only a failed backup (LonghornBackupError's, and the audit's "no restore point").
      state("pvc-c", "backup-c1", `4x${n}`),
    ];
    const stale = (v: string) => expected(groups, { volume: v, severity: "critical", class: "longhorn" });
    const { check, test } = await promtoolTest(
      groups,
      [
        {
          interval: "1m",
          input_series: input,
          alert_rule_test: [
            { eval_time: m(T - 600), alertname: "LonghornVolumeBackupStale", exp_alerts: [] },
            { eval_time: m(T + 600), alertname: "LonghornVolumeBackupStale", exp_alerts: [stale("pvc-a")] },
          ],
        },
      ],
      "10m",
    );
    expect(check.code, check.output).toBe(0);
    expect(test.code, test.output).toBe(0);
  });

  it("1.11.0 metrics (longhorn_volume_last_backup_at): the stale volume fires with its PVC's namespace as backup_namespace", async () => {
    expect(hasLastBackupAtMetric("1.11.0")).toBe(true);
    const groups = longhornGroups("1.11.0");
    const vol = (v: string) => ({ node: "n1", volume: v, pvc: `data-${v}`, pvc_namespace: "apps" });
    const n = samples(T + H);
    const { check, test } = await promtoolTest(
      groups,
      [
        {
          interval: "1m",
          input_series: [
            series("longhorn_volume_last_backup_at", vol("pvc-a"), `1x${n}`),
            series("longhorn_volume_last_backup_at", vol("pvc-b"), `0+60x${n}`),
          ],
          alert_rule_test: [
            { eval_time: m(T - 600), alertname: "LonghornVolumeBackupStale", exp_alerts: [] },
            {
              eval_time: m(T + 600),
              alertname: "LonghornVolumeBackupStale",
              exp_alerts: [
                expected(groups, {
                  volume: "pvc-a",
                  pvc: "data-pvc-a",
                  pvc_namespace: "apps",
                  severity: "critical",
                  class: "longhorn",
                  backup_namespace: "apps",
                }),
              ],
            },
          ],
        },
      ],
      "10m",
    );
    expect(check.code, check.output).toBe(0);
    expect(test.code, test.output).toBe(0);
  });

  it("the 1.10 rule is not a test that cannot fail: with 1.11 metrics only, it stays silent", async () => {
    const groups = longhornGroups("1.10.1");
    const n = samples(T + H);
    const { test } = await promtoolTest(
      groups,
      [
        {
          interval: "1m",
          input_series: [
            series(
              "longhorn_volume_last_backup_at",
              { node: "n1", volume: "pvc-a", pvc: "d", pvc_namespace: "apps" },
              `1x${n}`,
            ),
          ],
          alert_rule_test: [
            {
              eval_time: m(T + 600),
              alertname: "LonghornVolumeBackupStale",
              exp_alerts: [expected(groups, { volume: "pvc-a", severity: "critical", class: "longhorn" })],
            },
          ],
        },
      ],
      "10m",
    );
    expect(test.code).not.toBe(0);
  });
});

describe("longhorn.version", () => {
  it("accepts the supported releases and refuses others, naming the key", () => {
    const parse = (version: unknown) =>
      parseStackConfig({
        "homelab-backup:hub": JSON.stringify({ kind: "aws", bucket: "homelab-backups" }),
        "homelab-backup:longhorn": JSON.stringify({ version }),
      });
    for (const v of ["1.9.2", "v1.10.1", "1.11.0", "1.12.1"]) expect(parse(v).longhorn!.version).toBe(v);
    expect(
      parseStackConfig({
        "homelab-backup:hub": JSON.stringify({ kind: "aws", bucket: "homelab-backups" }),
        "homelab-backup:longhorn": "{}",
      }).longhorn!.version,
    ).toBe("1.12.1");
    for (const v of ["1.8.4", "1.13.0", "2.0.0", "latest", "1.10", 1.1])
      expect(() => parse(v), String(v)).toThrow(/longhorn\.version/);
  });
});
