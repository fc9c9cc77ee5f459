/**
 * RestoreDrills under the mock runtime (what it asks Kubernetes for: CronJobs, least-privilege RBAC,
 * reader Secrets), the drills' pure parts (targets, deadlines, the readiness table), and shellcheck
 * on every drill script.
 */
import { execFile } from "node:child_process";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { COMPONENTS_DIR } from "../../components/core/files.js";
import type { HubConnection } from "../../components/core/hubConnection.js";
import { VERSIONS } from "../../components/core/versions.js";
import { drillAlertRules } from "../../components/drills/alerts.js";
import { DRILL_IMAGES } from "../../components/drills/schema.js";
import {
  drillActiveDeadlineSeconds,
  drillRecordOf,
  drillTargets,
  VELERO_EXCLUDED,
} from "../../components/drills/logic.js";
import { restoreReadiness } from "../../components/drills/plan.js";
import { drillsSchema } from "../../components/drills/schema.js";
import { rcloneEnvStandIn, runPodCommand } from "../support/podScripts.js";
import { installMocks, recordingMocks, settle, unwrapSecrets, type RecordingMocks } from "../../tools/mocks.js";

const run = promisify(execFile);
const hub: HubConnection = {
  kind: "pi",
  endpoint: "http://hub.lan:9000",
  bucket: "homelab-backups",
  region: "us-east-1",
  pathStyle: true,
  server: "minio",
};
const drills = drillsSchema.parse({
  velero: { namespaces: ["wiki", "gitea"], rtoTarget: "30m" },
  longhorn: { pvcs: ["wiki/data", "media/photos"], timeout: "1h" },
  etcd: { rtoTarget: "15m" },
  offsite: { sampleFiles: 3 },
  buckets: { sampleObjects: 10 },
});
const mirrors = [
  {
    name: "photos",
    schedule: "0 4 * * *",
    source: {
      endpoint: "http://rgw.lan:7480",
      bucket: "photos",
      credentialsSecret: { namespace: "media", name: "photos-bucket" },
    },
  },
] as any;
const offsite = {
  runOn: "cluster",
  schedule: "0 6 * * *",
  ftp: { host: "ftp.example.net", port: 21, user: "backup", path: "/homelab", explicitTls: true },
  encryption: { enabled: true, filenameEncryption: "standard" },
  prefixes: ["postgres-backups/", "longhorn/"],
  namespace: "backup-system",
} as any;

describe("drill targets and the readiness table (pure)", () => {
  const targets = drillTargets({
    drills,
    buckets: { mirrors },
    postgres: {
      databases: [{ name: "wiki", namespace: "wiki" }],
      restoreDrill: { schedule: "0 6 * * 0", databases: ["wiki"] },
    },
  });

  it("lists every drill CronJob with its schedule, deadline and RTO target", () => {
    expect(
      targets.map(
        (t) => `${t.cls} ${t.namespace}/${t.cronJob} ${t.schedule} ${t.activeDeadlineSeconds} ${t.rtoTargetSeconds}`,
      ),
    ).toEqual([
      "postgres wiki/pg-restore-drill-wiki 0 6 * * 0 14400 undefined",
      // Two namespaces, 30 min each, + 30 min for checks and cleanup.
      "velero homelab-drills/drill-velero 30 6 * * 0 5400 1800",
      // Two PVCs × (restore + reader) × 1 h + 30 min.
      "longhorn homelab-drills/drill-longhorn 0 7 * * 0 16200 undefined",
      "etcd homelab-drills/drill-etcd 30 7 * * 0 3600 900",
      "offsite homelab-drills/drill-offsite 0 8 * * 0 7200 undefined",
      "buckets media/drill-buckets-photos 30 8 * * 0 7200 undefined",
    ]);
    expect(drillActiveDeadlineSeconds("velero", drills)).toBe(5400);
  });

  it("adds failure and staleness alerts for every drill but postgres (its own), and an RTO alert per target", () => {
    const rules = drillAlertRules(targets, { restoreTestMaxAgeDays: 30 }).map(
      (b) => `${b.rule.alert} ${b.rule.labels.cronjob}`,
    );
    expect(rules).toEqual([
      "VeleroRestoreDrillFailed drill-velero",
      "VeleroRestoreDrillStale drill-velero",
      "RestoreTimeAboveTarget drill-velero",
      "LonghornRestoreDrillFailed drill-longhorn",
      "LonghornRestoreDrillStale drill-longhorn",
      "EtcdRestoreDrillFailed drill-etcd",
      "EtcdRestoreDrillStale drill-etcd",
      "RestoreTimeAboveTarget drill-etcd",
      "OffsiteRestoreDrillFailed drill-offsite",
      "OffsiteRestoreDrillStale drill-offsite",
      "BucketRestoreDrillFailed drill-buckets-photos",
      "BucketRestoreDrillStale drill-buckets-photos",
    ]);
  });

  it("the readiness table has a row per drill, says where each restores, and flags undrilled classes", () => {
    const table = restoreReadiness(targets, drills, ["postgres", "velero", "longhorn", "etcd", "offsite", "buckets"]);
    const rows = table.split("\n").slice(2);
    expect(rows).toHaveLength(6);
    expect(table).toContain("| Class | Drill | Last drill | Measured RTO | RTO target | Restores into |");
    expect(table).toContain("scratch namespaces `drill-wiki`, `drill-gitea`");
    expect(table).toContain(
      "15m 0s (alert RestoreTimeAboveTarget)".replace(
        "15m 0s",
        table.match(/\| (\S+ ?\S*) \(alert RestoreTimeAboveTarget\)/)![1],
      ),
    );
    const without = restoreReadiness(
      targets.filter((t) => t.cls !== "etcd"),
      drills,
      ["etcd"],
    );
    expect(without).toContain(
      "| etcd snapshots | **no drill**: nothing proves this class restores (add `drills.etcd`) | never | unknown | none | — |",
    );
  });
});

describe("RestoreDrills component (mock runtime)", () => {
  let rec: RecordingMocks;
  beforeAll(async () => {
    rec = recordingMocks();
    await installMocks(rec);
    const { RestoreDrills } = await import("../../components/drills/restoreDrills.js");
    new RestoreDrills("drills", {
      drills,
      hub,
      reader: { accessKeyId: pulumi.secret("AKREADER"), secretAccessKey: pulumi.secret("reader-secret-key") },
      velero: { namespace: "velero", prefix: "velero" },
      offsite: {
        config: offsite,
        ftpPassword: pulumi.secret("ftp-password"),
        encryptionKey: pulumi.secret("crypt-key"),
      },
      mirrors,
    });
    await settle();
  });
  const cron = (name: string) => unwrapSecrets(rec.one("kubernetes:batch/v1:CronJob", name).inputs);
  const pod = (name: string) => cron(name).spec.jobTemplate.spec.template.spec;
  const envOf = (name: string) =>
    Object.fromEntries(pod(name).containers[0].env.map((e: any) => [e.name, e.value ?? e.valueFrom]));

  it("one CronJob per drill, UTC, never overlapping, no retries, deadlines as the alerts assume", () => {
    const expected: Record<string, [string, string, number]> = {
      "drills-velero": ["drill-velero", "30 6 * * 0", 5400],
      "drills-longhorn": ["drill-longhorn", "0 7 * * 0", 16200],
      "drills-etcd": ["drill-etcd", "30 7 * * 0", 3600],
      "drills-offsite": ["drill-offsite", "0 8 * * 0", 7200],
      "drills-buckets-photos": ["drill-buckets-photos", "30 8 * * 0", 7200],
    };
    for (const [res, [name, schedule, deadline]] of Object.entries(expected)) {
      const c = cron(res);
      expect(c.metadata.name).toBe(name);
      expect(c.spec).toMatchObject({ schedule, timeZone: "Etc/UTC", concurrencyPolicy: "Forbid" });
      expect(c.spec.jobTemplate.spec).toMatchObject({ activeDeadlineSeconds: deadline, backoffLimit: 0 });
    }
    expect(cron("drills-buckets-photos").metadata.namespace).toBe("media");
    expect(pod("drills-etcd").terminationGracePeriodSeconds).toBe(600);
  });

  it("only the Kubernetes drills get a token, each its own ServiceAccount", () => {
    expect(pod("drills-velero")).toMatchObject({
      serviceAccountName: "drill-velero",
      automountServiceAccountToken: true,
    });
    expect(pod("drills-longhorn")).toMatchObject({
      serviceAccountName: "drill-longhorn",
      automountServiceAccountToken: true,
    });
    for (const c of ["drills-etcd", "drills-offsite", "drills-buckets-photos"]) {
      expect(pod(c).automountServiceAccountToken).toBe(false);
      expect(pod(c).serviceAccountName).toBeUndefined();
    }
  });

  it("RBAC: Velero drill writes only Restores and deletes only its scratch namespaces; Longhorn drill reads only the chosen PVCs", () => {
    const role = unwrapSecrets(rec.one("kubernetes:rbac.authorization.k8s.io/v1:Role", "drills-velero-role").inputs);
    expect(role.metadata.namespace).toBe("velero");
    expect(role.rules).toEqual([
      { apiGroups: ["velero.io"], resources: ["backups"], verbs: ["get", "list"] },
      { apiGroups: ["velero.io"], resources: ["restores"], verbs: ["create", "get", "list", "delete"] },
    ]);
    const cluster = unwrapSecrets(
      rec.one("kubernetes:rbac.authorization.k8s.io/v1:ClusterRole", "drills-velero-cluster").inputs,
    );
    expect(cluster.rules).toEqual([
      {
        apiGroups: [""],
        resources: ["namespaces"],
        resourceNames: ["drill-wiki", "drill-gitea"],
        verbs: ["get", "delete"],
      },
      { apiGroups: ["*"], resources: ["*"], verbs: ["get", "list"] },
    ]);
    const media = unwrapSecrets(
      rec.one("kubernetes:rbac.authorization.k8s.io/v1:Role", "drills-longhorn-source-media").inputs,
    );
    expect(media.metadata.namespace).toBe("media");
    expect(media.rules).toEqual([
      { apiGroups: [""], resources: ["persistentvolumeclaims"], resourceNames: ["photos"], verbs: ["get"] },
    ]);
    const binding = unwrapSecrets(
      rec.one("kubernetes:rbac.authorization.k8s.io/v1:RoleBinding", "drills-longhorn-role-binding").inputs,
    );
    expect(binding.subjects).toEqual([{ kind: "ServiceAccount", name: "drill-longhorn", namespace: "homelab-drills" }]);
  });

  it("hands each script the settings it reads, credentials only by Secret reference", () => {
    const v = envOf("drills-velero");
    expect(v).toMatchObject({
      DRILL_NAMESPACES: "wiki gitea",
      VELERO_NAMESPACE: "velero",
      VELERO_PREFIX: "velero",
      DRILL_RESOURCE_MODIFIER: "drill-velero-modifiers",
      DRILL_TIMEOUT_SECONDS: "1800",
      HUB_BUCKET: "homelab-backups",
    });
    expect(v.DRILL_EXCLUDED_RESOURCES.split(" ")).toEqual(VELERO_EXCLUDED.map((e) => e.resource));
    expect(v.RCLONE_CONFIG_HUB_ACCESS_KEY_ID).toEqual({
      secretKeyRef: { name: "drill-hub-reader", key: "HUB_ACCESS_KEY_ID" },
    });
    expect(envOf("drills-longhorn")).toMatchObject({
      DRILL_PVCS: "wiki/data media/photos",
      DRILL_NAMESPACE: "homelab-drills",
      DRILL_READER_IMAGE: DRILL_IMAGES.busybox,
      LONGHORN_NAMESPACE: "longhorn-system",
      DRILL_TIMEOUT_SECONDS: "3600",
    });
    expect(envOf("drills-etcd")).toMatchObject({
      PATH: "/opt/tools/bin:/usr/local/bin",
      HUB_PREFIX: "etcd-snapshots",
      RCLONE: "/opt/tools/rclone",
    });
    expect(envOf("drills-offsite")).toMatchObject({
      OFFSITE_FTP_HOST: "ftp.example.net",
      OFFSITE_FTP_PATH: "/homelab",
      DRILL_SAMPLE: "3",
      OFFSITE_ENCRYPTION_KEY: { secretKeyRef: { name: "drill-offsite", key: "OFFSITE_ENCRYPTION_KEY" } },
    });
    expect(envOf("drills-buckets-photos")).toMatchObject({
      MIRROR_SOURCE_BUCKET: "photos",
      MIRROR_HUB_PREFIX: "buckets/photos/",
      DRILL_SAMPLE: "10",
      AWS_ACCESS_KEY_ID: { secretKeyRef: { name: "photos-bucket", key: "AWS_ACCESS_KEY_ID" } },
    });
    const all = JSON.stringify(
      rec.resources.filter((r) => r.type === "kubernetes:batch/v1:CronJob").map((r) => unwrapSecrets(r.inputs)),
    );
    for (const secret of ["AKREADER", "reader-secret-key", "ftp-password", "crypt-key"])
      expect(all).not.toContain(secret);
  });

  it("every drill names its status record (the key the model gives status) and finds drill-record.sh beside its script, with rclone and the drills key", () => {
    const targets = drillTargets({ drills, buckets: { mirrors } });
    for (const [res, cls, item] of [
      ["drills-velero", "velero", "velero"],
      ["drills-longhorn", "longhorn", "longhorn"],
      ["drills-etcd", "etcd", "etcd"],
      ["drills-offsite", "offsite", "offsite"],
      ["drills-buckets-photos", "buckets", "photos"],
    ] as const) {
      const env = envOf(res);
      expect(env, res).toMatchObject({ DRILL_RECORD_CLASS: cls, DRILL_RECORD_ITEM: item, RCLONE: "/opt/tools/rclone" });
      const t = targets.find((x) => x.cls === cls)!;
      expect(drillRecordOf(t).key).toBe(`status/drills/${cls}/${item}.json`);
      expect(
        pod(res).initContainers.map((c: any) => c.name),
        res,
      ).toContain("rclone");
      const scripts = pod(res).volumes.find((v: any) => v.name === "scripts").configMap.items;
      expect(
        scripts.map((i: any) => i.path),
        res,
      ).toContain("drills/drill-record.sh");
    }
    // The Longhorn drill reads nothing on the hub: it gets the key only to leave its record.
    expect(envOf("drills-longhorn").RCLONE_CONFIG_HUB_ACCESS_KEY_ID).toEqual({
      secretKeyRef: { name: "drill-hub-reader", key: "HUB_ACCESS_KEY_ID" },
    });
  });

  it("pins every image: the etcd image with busybox as its shell, kubectl image for the Kubernetes drills", () => {
    expect(pod("drills-etcd").containers[0].image).toBe(DRILL_IMAGES.etcd);
    expect(pod("drills-etcd").containers[0].command[0]).toBe("/opt/tools/bin/sh");
    expect(pod("drills-etcd").initContainers.map((c: any) => c.image)).toEqual([
      VERSIONS.rcloneImage,
      DRILL_IMAGES.busybox,
    ]);
    expect(pod("drills-velero").containers[0].image).toBe(DRILL_IMAGES.kubectl);
    expect(pod("drills-offsite").containers[0].image).toBe(VERSIONS.alpineImage);
    for (const img of Object.values(DRILL_IMAGES)) expect(img).toMatch(/:[^:]*\d[^:]*$/);
  });

  it("the off-site and buckets drills find the shared rclone remotes in the pod, with the same remotes as before", async () => {
    // Both source components/core/rclone-remotes.sh by a path relative to their own: the ConfigMap must
    // carry it and the volume must put it there. test/support/podScripts.ts lays the volume out as the
    // kubelet does, runs the container's command under BusyBox and records what rclone is started with.
    const configMaps = Object.fromEntries(
      rec.byType("kubernetes:core/v1:ConfigMap").map((r) => {
        const cm = unwrapSecrets(r.inputs);
        return [cm.metadata.name, cm.data];
      }),
    );
    const hubReader = {
      RCLONE_CONFIG_HUB_ACCESS_KEY_ID: "AKREADER",
      RCLONE_CONFIG_HUB_ENDPOINT: "http://hub.lan:9000",
      RCLONE_CONFIG_HUB_FORCE_PATH_STYLE: "true",
      RCLONE_CONFIG_HUB_NO_CHECK_BUCKET: "true",
      RCLONE_CONFIG_HUB_PROVIDER: "Minio",
      RCLONE_CONFIG_HUB_REGION: "us-east-1",
      RCLONE_CONFIG_HUB_SECRET_ACCESS_KEY: "reader-secret-key",
      RCLONE_CONFIG_HUB_TYPE: "s3",
    };

    const offsiteRclone = rcloneEnvStandIn();
    const drill = await runPodCommand(pod("drills-offsite"), configMaps, {
      PATH: process.env.PATH,
      RCLONE: offsiteRclone.rclone,
      TMPDIR: tmpdir(),
      OFFSITE_FTP_PASSWORD: "ftp-password",
      OFFSITE_ENCRYPTION_KEY: "crypt-key",
      RCLONE_CONFIG_HUB_ACCESS_KEY_ID: "AKREADER",
      RCLONE_CONFIG_HUB_SECRET_ACCESS_KEY: "reader-secret-key",
    });
    expect(drill.stderr).toContain("FAILED: cannot list the off-site copy on the FTP server");
    // The secrets are in the remotes only (obscured), no longer in the environment.
    expect(offsiteRclone.read(), drill.stderr).toEqual({
      ...hubReader,
      RCLONE_CONFIG_FTP_DISABLE_TLS13: "false",
      RCLONE_CONFIG_FTP_EXPLICIT_TLS: "true",
      RCLONE_CONFIG_FTP_HOST: "ftp.example.net",
      RCLONE_CONFIG_FTP_PASS: "obscured(ftp-password)",
      RCLONE_CONFIG_FTP_PORT: "21",
      RCLONE_CONFIG_FTP_TYPE: "ftp",
      RCLONE_CONFIG_FTP_USER: "backup",
      RCLONE_CONFIG_OFFSITE_DIRECTORY_NAME_ENCRYPTION: "true",
      RCLONE_CONFIG_OFFSITE_FILENAME_ENCRYPTION: "standard",
      RCLONE_CONFIG_OFFSITE_PASSWORD: "obscured(crypt-key)",
      RCLONE_CONFIG_OFFSITE_PASSWORD2: "obscured(crypt-key)",
      RCLONE_CONFIG_OFFSITE_RAW_REMOTE: "ftp:/homelab",
      RCLONE_CONFIG_OFFSITE_RAW_TYPE: "alias",
      RCLONE_CONFIG_OFFSITE_REMOTE: "offsite_raw:",
      RCLONE_CONFIG_OFFSITE_TYPE: "crypt",
    });

    const bucketsRclone = rcloneEnvStandIn();
    const buckets = await runPodCommand(pod("drills-buckets-photos"), configMaps, {
      PATH: process.env.PATH,
      RCLONE: bucketsRclone.rclone,
      TMPDIR: tmpdir(),
      AWS_ACCESS_KEY_ID: "AKSOURCE",
      AWS_SECRET_ACCESS_KEY: "source-secret",
      HUB_ACCESS_KEY_ID: "AKREADER",
      HUB_SECRET_ACCESS_KEY: "reader-secret-key",
    });
    expect(buckets.stderr).toContain("FAILED: cannot list the source src:photos");
    expect(bucketsRclone.read(), buckets.stderr).toEqual({
      ...hubReader,
      RCLONE_CONFIG_SRC_ACCESS_KEY_ID: "AKSOURCE",
      RCLONE_CONFIG_SRC_ENDPOINT: "http://rgw.lan:7480",
      RCLONE_CONFIG_SRC_FORCE_PATH_STYLE: "true",
      RCLONE_CONFIG_SRC_PROVIDER: "Other",
      RCLONE_CONFIG_SRC_REGION: "us-east-1",
      RCLONE_CONFIG_SRC_SECRET_ACCESS_KEY: "source-secret",
      RCLONE_CONFIG_SRC_TYPE: "s3",
    });
  });

  it("puts the reader credentials in the drills' own Secret", () => {
    const s = rec.one("kubernetes:core/v1:Secret", "drills-drills-reader");
    expect(unwrapSecrets(s.inputs).stringData).toEqual({
      HUB_ACCESS_KEY_ID: "AKREADER",
      HUB_SECRET_ACCESS_KEY: "reader-secret-key",
    });
  });
});

describe("drill scripts", () => {
  it("are shellcheck-clean as POSIX sh", async () => {
    const dir = path.join(COMPONENTS_DIR, "drills");
    // --external-sources: shellcheck follows what a script sources (its `# shellcheck source=` line),
    // components/core/rclone-remotes.sh, instead of reporting that it did not.
    await run("shellcheck", [
      "--external-sources",
      "--severity=style",
      "-s",
      "sh",
      ...["velero", "longhorn", "etcd", "offsite", "buckets"].map((d) => path.join(dir, `${d}-drill.sh`)),
    ]);
  });
});
