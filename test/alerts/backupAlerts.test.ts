/**
 * BackupAlerts under the mock runtime: the PrometheusRule is a valid prometheus-operator object
 * (upstream CRD schema), carries the kube-prometheus-stack discovery labels and exactly the groups of
 * components/alerts/rules.ts; the dashboard ConfigMap is labelled for the Grafana sidecar and holds valid JSON.
 */
import { beforeAll, describe, expect, it } from "vitest";
import * as pulumi from "@pulumi/pulumi";
import { alertNames, alertRuleGroups } from "../../components/alerts/rules.js";
import { offsiteOf, parseStackConfig } from "../../components/config.js";
import { cronGaps } from "../../components/core/cron.js";
import { hubConnection } from "../../components/core/hubConnection.js";
import {
  installMocks,
  recordingMocks,
  settle,
  unwrapSecrets,
  valueOf,
  type RecordingMocks,
} from "../../tools/mocks.js";
import { validateCustomResource } from "../support/crds.js";
import { stackWatches } from "../../components/model.js";

const stack = parseStackConfig({
  hub: {
    kind: "pi",
    bucket: "homelab-backups",
    host: "hub.lan",
    ssh: { user: "pi" },
    dataDir: "/mnt/backup-hdd/minio",
  },
  hubSshPrivateKey: "key",
  offsiteFtpPassword: "pw",
  longhorn: { recurringJobs: [{ name: "nightly-backup", cron: "0 5 * * *", task: "backup", retain: 14 }] },
  postgres: {
    databases: [{ name: "wiki", namespace: "wiki", host: "wiki-pg", passwordSecret: { name: "pg", key: "password" } }],
    restoreDrill: {},
  },
  etcd: {},
  velero: {
    schedules: [
      { name: "daily", cron: "0 2 * * *", ttl: "720h" },
      { name: "weekly", cron: "0 3 * * 0", ttl: "8640h" },
    ],
  },
  buckets: {
    mirrors: [
      {
        name: "photos",
        schedule: "0 4 * * 1-5",
        source: {
          endpoint: "http://rgw:80",
          bucket: "photos",
          credentialsSecret: { namespace: "media", name: "photos-bucket" },
        },
      },
    ],
  },
  offsite: { ftp: { host: "ftp.example.org", user: "u" } },
  alerts: { namespace: "observability", ruleLabels: { release: "kps", team: "home" }, bucketQuotaGiB: 200 },
});

let rec: RecordingMocks;
let component: any;
let withoutDashboard: any;

beforeAll(async () => {
  rec = recordingMocks();
  await installMocks(rec);
  const { BackupAlerts } = await import("../../components/alerts/backupAlerts.js");
  component = new BackupAlerts("alerts", { config: stack.alerts!, stack, watches: stackWatches(stack) });
  withoutDashboard = new BackupAlerts("quiet", {
    config: { ...stack.alerts!, grafanaDashboard: false },
    stack,
    watches: stackWatches(stack),
  });
  // The CronJob components whose runs the staleness thresholds must allow for.
  const hub = hubConnection(stack.hub!);
  const credentials = { accessKeyId: pulumi.output("AKIAEXAMPLE"), secretAccessKey: pulumi.secret("secret") };
  const { BucketMirror } = await import("../../components/mirror/bucketMirror.js");
  const { PostgresDumpJob } = await import("../../components/postgres/postgresDumpJob.js");
  const { PostgresRestoreDrill } = await import("../../components/postgres/postgresRestoreDrill.js");
  const { OffsiteCronJob } = await import("../../components/offsite/offsiteCronJob.js");
  for (const m of stack.buckets!.mirrors) new BucketMirror(`mirror-${m.name}`, { mirror: m, hub, credentials });
  for (const db of stack.postgres!.databases)
    new PostgresDumpJob(`pg-${db.name}`, { database: db, schedule: "0 3 * * *", hub, credentials });
  new PostgresRestoreDrill("drill", {
    drill: stack.postgres!.restoreDrill!,
    databases: stack.postgres!.databases,
    hub,
    credentials,
  });
  new OffsiteCronJob("offsite", {
    config: { ...offsiteOf(stack)!, runOn: "cluster" },
    hub,
    ftpPassword: pulumi.secret("pw"),
    reader: credentials,
  });
  await settle();
});

describe("BackupAlerts", () => {
  it("creates one PrometheusRule with the discovery labels, in the alerts namespace, valid against the CRD", async () => {
    const r = rec.one("kubernetes:monitoring.coreos.com/v1:PrometheusRule", "alerts-rules");
    const obj = unwrapSecrets(r.inputs);
    expect(obj.metadata).toMatchObject({ name: "homelab-backup-alerts", namespace: "observability" });
    expect(obj.metadata.labels).toMatchObject({
      release: "kps",
      team: "home",
      "app.kubernetes.io/part-of": "homelab-backup",
    });
    expect(obj.spec.groups).toEqual(JSON.parse(JSON.stringify(alertRuleGroups(stack, stackWatches(stack)))));
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
    expect(component.alertNames).toEqual(alertNames(stack, stackWatches(stack)));
    expect(component.alertNames).toEqual(
      expect.arrayContaining([
        "VeleroBackupStale",
        "PostgresRestoreDrillStale",
        "OffsiteBackupStale",
        "BackupBucketQuotaExceeded",
      ]),
    );
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

  it("allows each real CronJob its longest gap + startingDeadlineSeconds + activeDeadlineSeconds", () => {
    const clusterOffsite = { ...stack, offsite: { ...stack.offsite!, runOn: "cluster" as const } };
    const staleRules = alertRuleGroups(clusterOffsite, stackWatches(clusterOffsite))
      .flatMap((g) => g.rules)
      .filter((r) => r.alert.endsWith("Stale") && r.labels.cronjob);
    const cronJobs = rec.byType("kubernetes:batch/v1:CronJob").map((r) => unwrapSecrets(r.inputs));
    expect(cronJobs.length).toBeGreaterThanOrEqual(4);
    for (const cj of cronJobs) {
      const { name, namespace } = cj.metadata;
      const rule = staleRules.find((r) => r.labels.cronjob === name && r.labels.namespace === namespace);
      expect(rule, `no staleness alert for CronJob ${namespace}/${name}`).toBeDefined();
      const threshold = Number(/> (\d+)\)/.exec(rule!.expr)![1]);
      // Dumps get their schedule from the window spreading, not this test's "0 3 * * *": both daily.
      const schedule = name.startsWith("pg-dump-") ? "0 3 * * *" : cj.spec.schedule;
      const run =
        cronGaps(schedule).maxGapSeconds +
        cj.spec.startingDeadlineSeconds +
        cj.spec.jobTemplate.spec.activeDeadlineSeconds;
      if (name.startsWith("pg-restore-drill-"))
        expect(threshold, name).toBe(Math.max(run, stack.alerts!.restoreTestMaxAgeDays * 86_400));
      else expect(threshold, `${namespace}/${name}`).toBe(run);
    }
  });
});
