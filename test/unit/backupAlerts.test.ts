/**
 * BackupAlerts under the mock runtime: the PrometheusRule is a valid prometheus-operator object
 * (upstream CRD schema), carries the kube-prometheus-stack discovery labels and exactly the groups of
 * lib/alerts.ts; the dashboard ConfigMap is labelled for the Grafana sidecar and holds valid JSON.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { alertNames, alertRuleGroups } from "../../lib/alerts.js";
import { parseStackConfig } from "../../lib/config.js";
import { installMocks, recordingMocks, settle, unwrapSecrets, valueOf, type RecordingMocks } from "../../tools/mocks.js";
import { validateCustomResource } from "../support/crds.js";

const stack = parseStackConfig({
  hub: { kind: "pi", bucket: "homelab-backups", host: "hub.lan", ssh: { user: "pi" }, dataDir: "/mnt/backup-hdd/minio" },
  hubSshPrivateKey: "key",
  offsiteFtpPassword: "pw",
  longhorn: { recurringJobs: [{ name: "nightly-backup", cron: "0 5 * * *", task: "backup", retain: 14 }] },
  postgres: { databases: [{ name: "wiki", namespace: "wiki", host: "wiki-pg", passwordSecret: { name: "pg", key: "password" } }], restoreDrill: {} },
  etcd: {},
  velero: { schedules: [{ name: "daily", cron: "0 2 * * *", ttl: "720h" }, { name: "weekly", cron: "0 3 * * 0", ttl: "8640h" }] },
  offsite: { ftp: { host: "ftp.example.org", user: "u" } },
  alerts: { namespace: "observability", ruleLabels: { release: "kps", team: "home" }, bucketQuotaGiB: 200 },
});

let rec: RecordingMocks;
let component: any;
let withoutDashboard: any;

beforeAll(async () => {
  rec = recordingMocks();
  await installMocks(rec);
  const { BackupAlerts } = await import("../../components/backupAlerts.js");
  component = new BackupAlerts("alerts", { config: stack.alerts!, stack });
  withoutDashboard = new BackupAlerts("quiet", { config: { ...stack.alerts!, grafanaDashboard: false }, stack });
  await settle();
});

describe("BackupAlerts", () => {
  it("creates one PrometheusRule with the discovery labels, in the alerts namespace, valid against the CRD", async () => {
    const r = rec.one("kubernetes:monitoring.coreos.com/v1:PrometheusRule", "alerts-rules");
    const obj = unwrapSecrets(r.inputs);
    expect(obj.metadata).toMatchObject({ name: "homelab-backup-alerts", namespace: "observability" });
    expect(obj.metadata.labels).toMatchObject({ release: "kps", team: "home", "app.kubernetes.io/part-of": "homelab-backup" });
    expect(obj.spec.groups).toEqual(JSON.parse(JSON.stringify(alertRuleGroups(stack))));
    expect(validateCustomResource(obj)).toEqual([]);
    expect(r.parent).toBe("alerts");
    expect(await valueOf(component.ruleName)).toBe("homelab-backup-alerts");
  });

  it("a broken rule fails the same CRD validation (the check can fail)", () => {
    const obj = unwrapSecrets(rec.one("kubernetes:monitoring.coreos.com/v1:PrometheusRule", "alerts-rules").inputs);
    const broken = structuredClone(obj);
    delete broken.spec.groups[0].rules[0].expr;
    broken.spec.groups[0].rules[0].severity = "critical";
    expect(validateCustomResource(broken).length).toBeGreaterThan(0);
  });

  it("exports every alert name of the stack", () => {
    expect(component.alertNames).toEqual(alertNames(stack));
    expect(component.alertNames).toEqual(expect.arrayContaining(["VeleroBackupStale", "PostgresRestoreDrillStale", "OffsiteBackupStale", "BackupBucketQuotaExceeded"]));
  });

  it("creates the Grafana dashboard ConfigMap for the sidecar, only when asked", async () => {
    const cm = unwrapSecrets(rec.one("kubernetes:core/v1:ConfigMap", "alerts-dashboard").inputs);
    expect(cm.metadata).toMatchObject({ name: "homelab-backup-dashboard", namespace: "observability" });
    expect(cm.metadata.labels.grafana_dashboard).toBe("1");
    const files = Object.keys(cm.data);
    expect(files).toEqual(["homelab-backup.json"]);
    const dashboard = JSON.parse(cm.data["homelab-backup.json"]);
    expect(dashboard.uid).toBe("homelab-backup");
    expect(dashboard.panels.length).toBeGreaterThanOrEqual(4);
    expect(await valueOf(component.dashboardName)).toBe("homelab-backup-dashboard");
    expect(rec.byType("kubernetes:core/v1:ConfigMap").filter((r) => r.name.startsWith("quiet"))).toEqual([]);
    expect(withoutDashboard.dashboardName).toBeUndefined();
  });
});
