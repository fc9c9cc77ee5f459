/**
 * Every component of the library (components/index.ts), built with only its required args, registers the
 * same resources with the same inputs as the same component built from the parsed stack file, where the
 * schema has filled in every default (parseStackConfig of a stack whose section sets only what it must).
 * So a program that uses the components without the stack file gets what the stack file documents, and
 * each documented `@default` is checked in the resources where it lands.
 *
 * Each build is recorded in a run of the mocks of its own, under the same names, so that generated values
 * (tools/mocks.ts standIn) come out the same on both sides and any difference is a difference of inputs.
 */
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { auditSpec } from "../../components/alerts/auditSpec.js";
import { auditIntervalSeconds } from "../../components/alerts/stackRules.js";
import { offsiteOf, parseStackConfig, type StackConfig } from "../../components/config.js";
import type { PiHubArgs } from "../../components/index.js";
import { hubConnection, type WriterCredentials } from "../../components/core/hubConnection.js";
import { VERSIONS } from "../../components/core/versions.js";
import { dumpSchedules } from "../../components/postgres/logic.js";
import { VELERO_PREFIX } from "../../components/velero/logic.js";
import {
  installMocks,
  recordingMocks,
  settle,
  unwrapSecrets,
  valueOf,
  type RecordedResource,
} from "../../tools/mocks.js";
import { stackWatches } from "../../components/model.js";

type Library = typeof import("../../components/index.js");
let lib: Library;

beforeAll(async () => {
  // As another program would import it; the index registers nothing on import (test/program/library.test.ts).
  lib = await import("../../components/index.js");
});

const AWS_HUB = { kind: "aws", bucket: "homelab-backups" };
const PI_HUB = { kind: "pi", bucket: "homelab-backups", host: "backup1.lan", ssh: { user: "pi" }, dataDir: "/mnt/hdd" };
const FTP = { host: "ftp.example.com", user: "me" };
const DATABASE = {
  name: "app",
  namespace: "apps",
  host: "app-postgresql",
  passwordSecret: { name: "app-postgresql", key: "postgres-password" },
};

/** A stack file with the given sections, parsed: every default the schema knows is filled in. */
function parse(sections: Record<string, unknown>, secrets: Record<string, string> = {}): StackConfig {
  return parseStackConfig({ ...sections, ...secrets });
}

/** The parsed pi hub, whose host, ssh and dataDir the schema has checked (components/stack.ts hands it over through piHubOf). */
const parsedPiHub = (stack: StackConfig) => stack.hub as PiHubArgs["hub"];

const credentials = (): WriterCredentials => ({
  accessKeyId: pulumi.output("AKIAEXAMPLE"),
  secretAccessKey: pulumi.secret("example-secret"),
});

/** What `build` registers, in a run of the mocks of its own. */
async function record(build: () => unknown): Promise<RecordedResource[]> {
  const rec = recordingMocks();
  await installMocks(rec);
  build();
  await settle();
  return rec.resources;
}

/** What two builds are compared on: every resource, its parent and its inputs (secrets still wrapped). */
const shape = (rs: RecordedResource[]) =>
  rs.map((r) => ({ type: r.type, name: r.name, parent: r.parent, inputs: r.inputs }));

/** Builds `withDefaults` and `fromSchema` and expects the same registrations; returns the first's. */
async function sameAsSchema(withDefaults: () => unknown, fromSchema: () => unknown): Promise<RecordedResource[]> {
  const built = await record(withDefaults);
  const reference = await record(fromSchema);
  expect(built.length).toBeGreaterThan(0);
  expect(shape(built)).toEqual(shape(reference));
  return built;
}

function one(rs: RecordedResource[], type: string, name: string): any {
  const found = rs.filter((r) => r.type === type && r.name === name);
  if (found.length !== 1)
    throw new Error(`expected one ${type} ${name}, have: ${rs.map((r) => `${r.type} ${r.name}`).join(", ")}`);
  return unwrapSecrets(found[0].inputs);
}

/** A container's plain environment as a map. */
const envOf = (container: any): Record<string, string> =>
  Object.fromEntries(container.env.filter((e: any) => e.value !== undefined).map((e: any) => [e.name, e.value]));
const podOf = (cronJob: any) => cronJob.spec.jobTemplate.spec.template.spec;

const CRONJOB = "kubernetes:batch/v1:CronJob";

/** The components the cases below build, one or more cases each (their titles start with the name). */
const COVERED = [
  "BackupAlerts",
  "BackupAudit",
  "HubArrivals",
  "RestoreDrills",
  "EtcdOffload",
  "TalosEtcdSnapshot",
  "S3FtpBridge",
  "BackupHub",
  "PiHub",
  "S3Hub",
  "LonghornBackupTarget",
  "BucketMirror",
  "OffsiteCronJob",
  "OffsiteHubTimer",
  "PostgresDumpJob",
  "PostgresRestoreDrill",
  "Velero",
];

describe("components built with only their required args apply the schema's defaults", () => {
  it("covers every component the library exports", () => {
    const components = Object.entries(lib)
      .filter(([, v]) => typeof v === "function" && v.prototype instanceof pulumi.ComponentResource)
      .map(([k]) => k);
    expect(components.sort()).toEqual([...COVERED].sort());
  });

  it("BackupAlerts: alerts {} is the empty alerts section", async () => {
    const stack = parse({ hub: AWS_HUB, etcd: {}, alerts: {} });
    const rs = await sameAsSchema(
      () => new lib.BackupAlerts("alerts", { config: {}, stack, watches: stackWatches(stack) }),
      () => new lib.BackupAlerts("alerts", { config: stack.alerts!, stack, watches: stackWatches(stack) }),
    );
    const rule = one(rs, "kubernetes:monitoring.coreos.com/v1:PrometheusRule", "alerts-rules");
    expect(rule.metadata.namespace).toBe("monitoring");
    expect(rule.metadata.labels.release).toBe("kube-prometheus-stack");
    // grafanaDashboard: true
    expect(one(rs, "kubernetes:core/v1:ConfigMap", "alerts-dashboard").metadata.namespace).toBe("monitoring");
  });

  it("BackupAudit: namespace, ServiceMonitor labels and interval are the alerts section's defaults", async () => {
    const stack = parse({ hub: AWS_HUB, etcd: {}, alerts: {} });
    const alerts = stack.alerts!;
    const common = { spec: auditSpec(stack, alerts.coverage.ignore), hub: hubConnection(stack.hub!) };
    const rs = await sameAsSchema(
      () => new lib.BackupAudit("audit", { ...common, reader: credentials() }),
      () =>
        new lib.BackupAudit("audit", {
          ...common,
          reader: credentials(),
          namespace: alerts.namespace,
          serviceMonitorLabels: alerts.ruleLabels,
          intervalSeconds: auditIntervalSeconds(alerts),
        }),
    );
    const deployment = one(rs, "kubernetes:apps/v1:Deployment", "audit-deployment");
    expect(deployment.metadata.namespace).toBe("monitoring");
    expect(envOf(deployment.spec.template.spec.containers[0]).AUDIT_INTERVAL_SECONDS).toBe("3600");
    const monitor = one(rs, "kubernetes:monitoring.coreos.com/v1:ServiceMonitor", "audit-servicemonitor");
    expect(monitor.metadata.labels.release).toBe("kube-prometheus-stack");
  });

  it("HubArrivals: the hub's and the heartbeat's defaults", async () => {
    const ntfy = { url: "https://ntfy.sh", topic: "homelab-backups" };
    const stack = parse(
      { hub: PI_HUB, etcd: {}, alerts: { notify: { ntfy }, heartbeat: {} } },
      { hubSshPrivateKey: "KEY", alertsHeartbeatUrl: "https://hc.example.com/ping" },
    );
    const rs = await sameAsSchema(
      () =>
        new lib.HubArrivals("arrivals", {
          alerts: { notify: { ntfy }, heartbeat: {} },
          hub: { kind: "pi", bucket: PI_HUB.bucket, host: PI_HUB.host, ssh: PI_HUB.ssh, dataDir: PI_HUB.dataDir },
          sshPrivateKey: "KEY",
        }),
      () =>
        new lib.HubArrivals("arrivals", {
          alerts: stack.alerts!,
          hub: parsedPiHub(stack),
          sshPrivateKey: "KEY",
          secrets: {},
        }),
    );
    const env = one(rs, "command:remote:Command", "arrivals-env");
    expect(env.connection.port).toBe(22);
    expect(env.stdin).toContain('ARRIVALS_MAX_AGE_MINUTES="1560"');
  });

  it("RestoreDrills: the drills section's schedules, limits and namespaces", async () => {
    const drills = {
      velero: { namespaces: ["apps"] },
      longhorn: { pvcs: [{ namespace: "apps", name: "data" }] },
      etcd: {},
      offsite: {},
    };
    const stack = parse(
      { hub: AWS_HUB, velero: {}, longhorn: {}, etcd: {}, offsite: { ftp: FTP }, drills },
      { offsiteFtpPassword: "pw" },
    );
    const hub = hubConnection(stack.hub!);
    const rs = await sameAsSchema(
      () =>
        new lib.RestoreDrills("drills", {
          drills,
          hub,
          reader: credentials(),
          velero: {},
          offsite: { config: { ftp: FTP }, ftpPassword: "pw" },
        }),
      () =>
        new lib.RestoreDrills("drills", {
          drills: stack.drills!,
          hub,
          reader: credentials(),
          velero: { namespace: stack.velero!.namespace, prefix: VELERO_PREFIX },
          longhornNamespace: stack.longhorn!.namespace,
          offsite: { config: offsiteOf(stack)!, ftpPassword: "pw" },
        }),
    );
    expect(one(rs, "kubernetes:core/v1:Namespace", "drills-namespace").metadata.name).toBe("homelab-drills");
    const schedules = Object.fromEntries(
      ["velero", "longhorn", "etcd", "offsite"].map((c) => [c, one(rs, CRONJOB, `drills-${c}`).spec.schedule]),
    );
    expect(schedules).toEqual({
      velero: "30 6 * * 0",
      longhorn: "0 7 * * 0",
      etcd: "30 7 * * 0",
      offsite: "0 8 * * 0",
    });
    expect(one(rs, "kubernetes:core/v1:ConfigMap", "drills-velero-modifiers").metadata.namespace).toBe("velero");
    expect(one(rs, "kubernetes:rbac.authorization.k8s.io/v1:Role", "drills-longhorn-role").metadata.namespace).toBe(
      "longhorn-system",
    );
    const longhornEnv = envOf(podOf(one(rs, CRONJOB, "drills-longhorn")).containers[0]);
    expect(longhornEnv.DRILL_READER_IMAGE).toBe("busybox:1.37.0");
    expect(longhornEnv.DRILL_PVCS ?? JSON.stringify(longhornEnv)).toContain("apps/data");
    expect(envOf(podOf(one(rs, CRONJOB, "drills-etcd")).containers[0]).DRILL_MIN_KEYS).toBe("1");
    const offsiteEnv = envOf(podOf(one(rs, CRONJOB, "drills-offsite")).containers[0]);
    expect(offsiteEnv).toMatchObject({ DRILL_SAMPLE: "5", OFFSITE_FTP_PORT: "21", OFFSITE_FTP_PATH: "/" });
  });

  it("EtcdOffload: etcd {} is the empty etcd section", async () => {
    const stack = parse({ hub: AWS_HUB, etcd: {} });
    const hub = hubConnection(stack.hub!);
    const rs = await sameAsSchema(
      () => new lib.EtcdOffload("etcd", { config: {}, hub, credentials: credentials() }),
      () => new lib.EtcdOffload("etcd", { config: stack.etcd!, hub, credentials: credentials() }),
    );
    const cj = one(rs, CRONJOB, "etcd-cronjob");
    expect(cj.metadata.namespace).toBe("kube-system");
    expect(cj.spec.schedule).toBe("0 2 * * *");
    const pod = podOf(cj);
    expect(pod.nodeSelector).toEqual({ "node-role.kubernetes.io/control-plane": "true" });
    expect(pod.tolerations.map((t: any) => `${t.key} ${t.operator} ${t.effect}`)).toEqual([
      "node-role.kubernetes.io/control-plane Exists NoSchedule",
      "node-role.kubernetes.io/master Exists NoSchedule",
    ]);
    expect(pod.volumes.find((v: any) => v.name === "snapshots").hostPath.path).toBe(
      "/var/lib/rancher/k3s/server/db/snapshots",
    );
    expect(envOf(pod.containers[0]).MAX_AGE_DAYS).toBe("7");
  });

  it("TalosEtcdSnapshot: namespace and schedule are the etcd section's", async () => {
    const stack = parse({ hub: AWS_HUB, etcd: { distribution: "talos" } });
    const hub = hubConnection(stack.hub!);
    const rs = await sameAsSchema(
      () => new lib.TalosEtcdSnapshot("etcd", { hub, credentials: credentials() }),
      () =>
        new lib.TalosEtcdSnapshot("etcd", {
          hub,
          credentials: credentials(),
          namespace: stack.etcd!.namespace,
          schedule: stack.etcd!.schedule,
          talosNode: stack.etcd!.talosNode,
        }),
    );
    const cj = one(rs, CRONJOB, "etcd-cronjob");
    expect(cj.metadata.namespace).toBe("kube-system");
    expect(cj.spec.schedule).toBe("0 2 * * *");
    expect(podOf(cj).volumes.find((v: any) => v.name === "work").emptyDir.sizeLimit).toBe("4Gi");
  });

  it("S3FtpBridge: only the FTP login is required", async () => {
    const stack = parse({ ftpBridge: { ftp: FTP } }, { ftpBridgePassword: "pw" });
    let endpoint: pulumi.Output<string> | undefined;
    const rs = await sameAsSchema(
      () => (endpoint = new lib.S3FtpBridge("bridge", { config: { ftp: FTP }, ftpPassword: "pw" }).endpoint),
      () => new lib.S3FtpBridge("bridge", { config: stack.ftpBridge!, ftpPassword: "pw" }),
    );
    const deployment = one(rs, "kubernetes:apps/v1:Deployment", "bridge-deployment");
    expect(deployment.metadata.namespace).toBe("longhorn-system");
    expect(deployment.spec.replicas).toBe(1);
    const container = deployment.spec.template.spec.containers[0];
    expect(container.image).toBe(VERSIONS.s3ToFtpImage);
    expect(envOf(container)).toMatchObject({ FTP_PORT: "21", FTP_ROOT_PATH: "/" });
    // encryption: true
    expect(container.env.map((e: any) => e.name)).toContain("ENCRYPTION_KEY");
    expect(one(rs, "kubernetes:core/v1:Service", "bridge-service").spec.ports[0].port).toBe(9000);
    expect(await valueOf(endpoint!)).toBe("http://s3-to-ftp.longhorn-system.svc.cluster.local:9000");
  });

  it("BackupHub: an AWS hub needs only its kind and bucket", async () => {
    const stack = parse({ hub: AWS_HUB, etcd: {} });
    let endpoint: pulumi.Output<string> | undefined;
    await sameAsSchema(
      () =>
        (endpoint = new lib.BackupHub("hub", { hub: { kind: "aws", bucket: AWS_HUB.bucket }, lifecycles: [] })
          .endpoint),
      () => new lib.BackupHub("hub", { hub: stack.hub!, lifecycles: [] }),
    );
    // region: "us-east-1"
    expect(await valueOf(endpoint!)).toBe("https://s3.us-east-1.amazonaws.com");
  });

  it("PiHub: a pi hub needs its host, SSH user and data directory", async () => {
    const stack = parse({ hub: PI_HUB, etcd: {} }, { hubSshPrivateKey: "KEY" });
    const common = { sshPrivateKey: "KEY", writers: ["etcd"] as const };
    const rs = await sameAsSchema(
      () =>
        new lib.PiHub("hub", {
          ...common,
          hub: { kind: "pi", bucket: PI_HUB.bucket, host: PI_HUB.host, ssh: PI_HUB.ssh, dataDir: PI_HUB.dataDir },
        }),
      () => new lib.PiHub("hub", { ...common, hub: parsedPiHub(stack) }),
    );
    const install = one(rs, "command:remote:Command", "hub-install");
    expect(install.connection.port).toBe(22);
    // monitoring: true
    expect(rs.some((r) => r.type === "command:remote:Command" && r.name === "hub-monitoring")).toBe(true);
    expect(install.triggers).toContain("HUB_SERVER=silo");
    expect(install.triggers).toContain("HUB_PORT=9000");
    // The component's registered inputs show the hub it is built from.
    expect(one(rs, "homelab-backup:index:PiHub", "hub").hub).toMatchObject({
      region: "us-east-1",
      ssh: { user: "pi", port: 22 },
      server: "silo",
      os: "debian",
      monitoring: true,
      port: 9000,
      consolePort: 9001,
      tls: false,
      textfileCollectorDir: "/var/lib/prometheus/node-exporter",
    });
  });

  it("S3Hub: region and flavor are the hub section's defaults", async () => {
    const endpoint = "https://s3.lan:9000";
    const keys = JSON.stringify({ etcd: { accessKeyId: "id", secretAccessKey: "secret" } });
    const stack = parse(
      { hub: { kind: "s3", bucket: "homelab-backups", endpoint }, etcd: {} },
      { hubWriterKeys: keys },
    );
    const common = { lifecycles: [], writers: ["etcd"] as const, writerKeys: keys };
    const rs = await sameAsSchema(
      () => new lib.S3Hub("hub", { ...common, hub: { bucket: "homelab-backups", endpoint } }),
      () =>
        new lib.S3Hub("hub", {
          ...common,
          hub: { ...stack.hub!, endpoint: stack.hub!.endpoint!, flavor: stack.hub!.flavor ?? "generic" },
        }),
    );
    const check = JSON.parse(one(rs, "command:local:Command", "hub-conformance").stdin);
    expect(check.target).toEqual({ endpoint, region: "us-east-1" });
  });

  it("LonghornBackupTarget: longhorn {} is the empty longhorn section", async () => {
    const stack = parse({ hub: AWS_HUB, longhorn: {} });
    const target = {
      endpoint: "http://hub.lan:9000",
      bucket: "homelab-backups",
      region: "us-east-1",
      pathStyle: true,
      accessKeyId: "id",
      secretAccessKey: "secret",
    };
    const rs = await sameAsSchema(
      () => new lib.LonghornBackupTarget("longhorn", { config: {}, target }),
      () =>
        new lib.LonghornBackupTarget("longhorn", {
          config: stack.longhorn!,
          target: { ...target, prefix: stack.longhorn!.prefix },
        }),
    );
    const backupTarget = one(rs, "kubernetes:longhorn.io/v1beta2:BackupTargetPatch", "longhorn-backup-target");
    expect(backupTarget.metadata.namespace).toBe("longhorn-system");
    expect(backupTarget.spec.backupTargetURL).toBe("s3://homelab-backups@us-east-1/longhorn/");
    expect(backupTarget.spec.pollInterval).toBe("5m0s");
    expect(one(rs, "kubernetes:longhorn.io/v1beta2:SettingPatch", "longhorn-detached-volumes").value).toBe("true");
  });

  it("LonghornBackupTarget: a recurring job and a storage class get their defaults too", async () => {
    const section = {
      recurringJobs: [{ name: "nightly", cron: "0 3 * * *", task: "backup" as const, retain: 7 }],
      storageClasses: [{ name: "longhorn-backed-up", recurringJobs: ["nightly"] }],
    };
    const stack = parse({ hub: AWS_HUB, longhorn: section });
    const target = {
      endpoint: "http://hub.lan:9000",
      bucket: "homelab-backups",
      region: "us-east-1",
      prefix: "longhorn/",
      pathStyle: true,
      accessKeyId: "id",
      secretAccessKey: "secret",
    };
    const rs = await sameAsSchema(
      () => new lib.LonghornBackupTarget("longhorn", { config: section, target }),
      () => new lib.LonghornBackupTarget("longhorn", { config: stack.longhorn!, target }),
    );
    const job = one(rs, "kubernetes:longhorn.io/v1beta2:RecurringJob", "longhorn-job-nightly");
    expect(job.spec).toMatchObject({ concurrency: 1, groups: [], labels: {} });
    const sc = one(rs, "kubernetes:storage.k8s.io/v1:StorageClass", "longhorn-sc-longhorn-backed-up");
    expect(sc.reclaimPolicy).toBe("Retain");
    expect(sc.parameters.numberOfReplicas).toBe("2");
  });

  it("BucketMirror: the source region", async () => {
    const mirror = {
      name: "photos",
      schedule: "0 4 * * *",
      source: {
        endpoint: "http://rgw.rook-ceph.svc:80",
        bucket: "photos",
        credentialsSecret: { namespace: "media", name: "photos-bucket" },
      },
    };
    const stack = parse({ hub: AWS_HUB, buckets: { mirrors: [mirror] } });
    const hub = hubConnection(stack.hub!);
    const rs = await sameAsSchema(
      () => new lib.BucketMirror("mirror-photos", { mirror, hub, credentials: credentials() }),
      () =>
        new lib.BucketMirror("mirror-photos", { mirror: stack.buckets!.mirrors[0], hub, credentials: credentials() }),
    );
    const env = envOf(podOf(one(rs, CRONJOB, "mirror-photos-cronjob")).containers[0]);
    expect(env.MIRROR_SOURCE_REGION).toBe("us-east-1");
  });

  it("OffsiteCronJob: only the FTP login is required", async () => {
    const stack = parse({ hub: AWS_HUB, offsite: { ftp: FTP } }, { offsiteFtpPassword: "pw" });
    const common = { hub: hubConnection(stack.hub!), ftpPassword: "pw" };
    const rs = await sameAsSchema(
      () => new lib.OffsiteCronJob("offsite", { ...common, config: { ftp: FTP }, reader: credentials() }),
      () => new lib.OffsiteCronJob("offsite", { ...common, config: offsiteOf(stack)!, reader: credentials() }),
    );
    expect(one(rs, "kubernetes:core/v1:Namespace", "offsite-namespace").metadata.name).toBe("backup-system");
    const cj = one(rs, CRONJOB, "offsite-cronjob");
    expect(cj.spec.schedule).toBe("0 6 * * *");
    expect(envOf(podOf(cj).containers[0])).toMatchObject({
      OFFSITE_FTP_PORT: "21",
      OFFSITE_FTP_PATH: "/",
      OFFSITE_FTP_EXPLICIT_TLS: "true",
      OFFSITE_ENCRYPTION: "true",
      OFFSITE_FILENAME_ENCRYPTION: "standard",
    });
    // encryption on: a key is generated
    expect(rs.some((r) => r.type === "random:index/randomBytes:RandomBytes")).toBe(true);
  });

  it("OffsiteHubTimer: the offsite and hub sections' defaults", async () => {
    const stack = parse({ hub: PI_HUB, offsite: { ftp: FTP } }, { hubSshPrivateKey: "KEY", offsiteFtpPassword: "pw" });
    const common = { hub: hubConnection(stack.hub!), ftpPassword: "pw", sshPrivateKey: "KEY" };
    let onCalendar: pulumi.Output<string[]> | undefined;
    const rs = await sameAsSchema(
      () =>
        (onCalendar = new lib.OffsiteHubTimer("offsite", {
          ...common,
          config: { ftp: FTP },
          hubConfig: { kind: "pi", bucket: PI_HUB.bucket, host: PI_HUB.host, ssh: PI_HUB.ssh, dataDir: PI_HUB.dataDir },
          reader: credentials(),
        }).onCalendar),
      () =>
        new lib.OffsiteHubTimer("offsite", {
          ...common,
          config: offsiteOf(stack)!,
          hubConfig: parsedPiHub(stack),
          reader: credentials(),
        }),
    );
    const config = one(rs, "command:remote:Command", "offsite-config");
    expect(config.connection.port).toBe(22);
    expect(config.create).toMatch(/OFFSITE_FTP_PORT=\W*21\W/);
    // schedule: "0 6 * * *"
    expect(await valueOf(onCalendar!)).toEqual(["*-*-* 06:00:00 UTC"]);
  });

  it("PostgresDumpJob: one database and its connection's defaults", async () => {
    const stack = parse({ hub: AWS_HUB, postgres: { databases: [DATABASE] } });
    const common = { hub: hubConnection(stack.hub!) };
    const rs = await sameAsSchema(
      () => new lib.PostgresDumpJob("pg-app", { ...common, database: DATABASE, credentials: credentials() }),
      () =>
        new lib.PostgresDumpJob("pg-app", {
          ...common,
          database: stack.postgres!.databases[0],
          schedule: dumpSchedules(stack.postgres!).get("app")!,
          credentials: credentials(),
        }),
    );
    const cj = one(rs, CRONJOB, "pg-app-cronjob");
    expect(cj.spec.schedule).toBe("0 3 * * *");
    const container = podOf(cj).containers[0];
    expect(container.image).toBe(VERSIONS.postgresImage);
    expect(envOf(container)).toMatchObject({
      PGPORT: "5432",
      PGUSER: "postgres",
      DUMP_MODE: "database",
      PGDATABASE: "app",
      LOCK_TIMEOUT: "120000ms",
    });
  });

  it("PostgresRestoreDrill: restoreDrill {} covers every database with the default check", async () => {
    const stack = parse({ hub: AWS_HUB, postgres: { databases: [DATABASE], restoreDrill: {} } });
    const common = { hub: hubConnection(stack.hub!) };
    const rs = await sameAsSchema(
      () => new lib.PostgresRestoreDrill("pg-drill", { ...common, databases: [DATABASE], credentials: credentials() }),
      () =>
        new lib.PostgresRestoreDrill("pg-drill", {
          ...common,
          drill: stack.postgres!.restoreDrill!,
          databases: stack.postgres!.databases,
          credentials: credentials(),
        }),
    );
    expect(one(rs, CRONJOB, "pg-drill-app").spec.schedule).toBe("0 6 * * 0");
    const checks = one(rs, "kubernetes:core/v1:ConfigMap", "pg-drill-app-scripts").data;
    expect(checks["check-001.sql"]).toContain("information_schema.tables");
    expect(checks["check-002.sql"]).toBeUndefined();
  });

  it("Velero: velero {} is the empty velero section", async () => {
    const stack = parse({ hub: AWS_HUB, velero: {} });
    const hub = hubConnection(stack.hub!);
    const rs = await sameAsSchema(
      () => new lib.Velero("velero", { config: {}, hub, credentials: credentials() }),
      () => new lib.Velero("velero", { config: stack.velero!, hub, credentials: credentials() }),
    );
    // install: true, fsBackup: false
    expect(one(rs, "kubernetes:core/v1:Namespace", "velero-namespace").metadata.name).toBe("velero");
    expect(one(rs, "kubernetes:helm.sh/v3:Release", "velero-release").values.deployNodeAgent).toBe(false);
    const daily = one(rs, "kubernetes:velero.io/v1:Schedule", "velero-schedule-daily");
    expect(daily.metadata.namespace).toBe("velero");
    expect(daily.spec.schedule).toBe("0 2 * * *");
    expect(daily.spec.template.ttl).toBe("720h0m0s");
    expect(daily.spec.template.excludedNamespaces).toEqual(["kube-system", "kube-node-lease", "kube-public", "velero"]);
  });
});
