import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { MirrorConfig } from "../config.js";
import {
  backupCronJobSpec,
  mountedScript,
  rcloneInitContainer,
  RESTRICTED_CONTAINER,
  SCRIPTS_MOUNT,
  scriptsVolume,
  TMP_MOUNT,
  TOOLS_MOUNT,
  TOOLS_VOLUME,
} from "../core/cronJob.js";
import { contentHash, RCLONE_REMOTES_SCRIPT, scriptTree } from "../core/files.js";
import type { HubConnection, WriterCredentials } from "../core/hubConnection.js";
import { commonLabels } from "../core/names.js";
import { VERSIONS } from "../core/versions.js";
import { mirrorEnv } from "../mirror/logic.js";
import { BUCKETS_DEFAULTS } from "../mirror/schema.js";
import { LONGHORN_DEFAULTS } from "../longhorn/schema.js";
import { offsiteConfigEnv } from "../offsite/logic.js";
import { offsiteWithDefaults, type OffsiteInput } from "../offsite/schema.js";
import { VELERO_PREFIX } from "../velero/logic.js";
import { VELERO_DEFAULTS } from "../velero/schema.js";
import type { DrillTarget } from "./alerts.js";
import {
  DRILL_TERMINATION_GRACE_SECONDS,
  drillActiveDeadlineSeconds,
  drillCronJobName,
  drillRecordEnv,
  drillTargets,
  longhornDrillEnv,
  longhornDrillRules,
  READER_KEYS,
  readerHubEnv,
  VELERO_RESOURCE_MODIFIERS,
  veleroDrillEnv,
  veleroDrillRules,
} from "./logic.js";
import { DRILL_IMAGES, drillsWithDefaults, type DrillsInput } from "./schema.js";

export interface RestoreDrillsArgs {
  /** The drills section of the stack file (its `postgres` entry is built by PostgresRestoreDrill); each key left out takes the schema's default (DRILLS_DEFAULTS in ./schema.ts). */
  readonly drills: DrillsInput;
  /** The hub the backups are on. */
  readonly hub: HubConnection;
  /** The drills' hub identity: it reads the backups and puts only the drills' results under status/drills/ (components/hub/iam.ts). */
  readonly reader: WriterCredentials;
  /** Velero, as the velero section installs it; required with `drills.velero`. */
  readonly velero?: {
    /** Velero's namespace (velero.namespace). @default "velero" */
    readonly namespace?: string;
    /** Where Velero's BackupStorageLocation keeps its backups in the hub bucket. @default "velero" (VELERO_PREFIX) */
    readonly prefix?: string;
  };
  /** Longhorn's namespace (longhorn.namespace). @default "longhorn-system" */
  readonly longhornNamespace?: string;
  /** The off-site copy, its FTP password and its key; required with `drills.offsite`. */
  readonly offsite?: {
    /** The offsite section; each key left out takes the schema's default (OFFSITE_DEFAULTS). */
    readonly config: OffsiteInput;
    readonly ftpPassword: pulumi.Input<string>;
    readonly encryptionKey?: pulumi.Input<string>;
  };
  /** The bucket mirrors the buckets drill samples. @default [] */
  readonly mirrors?: readonly MirrorConfig[];
}

type Container = k8s.types.input.core.v1.Container;

/**
 * One CronJob per drill (the buckets drill: one per mirror, in the mirror's namespace), each with its
 * own ServiceAccount and the least rights it needs, and the hub's reader credentials. Every drill
 * restores the newest backup somewhere harmless, checks it and removes what it made; success is the
 * Job's status and the measured restore time its duration (components/drills/alerts.ts).
 */
export class RestoreDrills extends pulumi.ComponentResource {
  /** `<namespace>/<cronjob>` of every drill CronJob, by drill (`buckets-<mirror>` for mirrors). */
  public readonly cronJobNames: pulumi.Output<Record<string, string>>;
  /** What the alerts, dashboard and plan watch: every drill CronJob with its schedule and deadline. */
  public readonly targets: pulumi.Output<DrillTarget[]>;

  constructor(name: string, args: RestoreDrillsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("homelab-backup:index:RestoreDrills", name, {}, opts);
    const { hub } = args;
    const drills = drillsWithDefaults(args.drills);
    const ns = drills.namespace;
    const mirrors = args.mirrors ?? BUCKETS_DEFAULTS.mirrors;
    const longhornNs = args.longhornNamespace ?? LONGHORN_DEFAULTS.namespace;
    const velero = args.velero && {
      namespace: args.velero.namespace ?? VELERO_DEFAULTS.namespace,
      prefix: args.velero.prefix ?? VELERO_PREFIX,
    };
    const labels = commonLabels("restore-drill");
    const out: Record<string, pulumi.Output<string>> = {};
    const child = { parent: this };

    const namespace = new k8s.core.v1.Namespace(
      `${name}-namespace`,
      {
        metadata: {
          name: ns,
          labels: {
            ...labels,
            // The Longhorn drill's reader pod runs as root with CAP_DAC_READ_SEARCH only (the restored
            // files keep their owners); no Pod Security level below "privileged" allows an added capability.
            ...(drills.longhorn ? { "pod-security.kubernetes.io/enforce": "privileged" } : {}),
          },
        },
      },
      child,
    );
    const readerSecret = (suffix: string, namespaceName: pulumi.Input<string>, deps: pulumi.Resource[]) =>
      new k8s.core.v1.Secret(
        `${name}-${suffix}-reader`,
        {
          metadata: { name: "drill-hub-reader", namespace: namespaceName, labels },
          type: "Opaque",
          stringData: {
            [READER_KEYS.accessKeyId]: pulumi.secret(args.reader.accessKeyId),
            [READER_KEYS.secretAccessKey]: args.reader.secretAccessKey,
          },
        },
        { parent: this, dependsOn: deps },
      );
    const reader = readerSecret("drills", ns, [namespace]);
    // Laid out in the pods as in components/: the off-site drill sources ../core/rclone-remotes.sh.
    const scriptFiles = scriptTree([
      "drills/velero-drill.sh",
      "drills/longhorn-drill.sh",
      "drills/etcd-drill.sh",
      "drills/offsite-drill.sh",
      "drills/drill-record.sh",
      RCLONE_REMOTES_SCRIPT,
    ]);
    const scripts = new k8s.core.v1.ConfigMap(
      `${name}-scripts`,
      { metadata: { name: "drill-scripts", namespace: ns, labels }, data: scriptFiles.data },
      { parent: this, dependsOn: [namespace] },
    );
    const hash = contentHash(...Object.values(scriptFiles.data));

    const serviceAccount = (cls: string) =>
      new k8s.core.v1.ServiceAccount(
        `${name}-${cls}-sa`,
        { metadata: { name: `drill-${cls}`, namespace: ns, labels }, automountServiceAccountToken: false },
        { parent: this, dependsOn: [namespace] },
      );
    const bind = (
      id: string,
      roleNs: string | undefined,
      rules: k8s.types.input.rbac.v1.PolicyRule[],
      sa: k8s.core.v1.ServiceAccount,
      roleName: string,
    ) => {
      const subjects = [{ kind: "ServiceAccount", name: sa.metadata.name, namespace: ns }];
      if (roleNs === undefined) {
        const role = new k8s.rbac.v1.ClusterRole(
          `${name}-${id}`,
          { metadata: { name: roleName, labels }, rules },
          child,
        );
        new k8s.rbac.v1.ClusterRoleBinding(
          `${name}-${id}-binding`,
          {
            metadata: { name: roleName, labels },
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: role.metadata.name },
            subjects,
          },
          child,
        );
        return;
      }
      const role = new k8s.rbac.v1.Role(
        `${name}-${id}`,
        { metadata: { name: roleName, namespace: roleNs, labels }, rules },
        child,
      );
      new k8s.rbac.v1.RoleBinding(
        `${name}-${id}-binding`,
        {
          metadata: { name: roleName, namespace: roleNs, labels },
          roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: role.metadata.name },
          subjects,
        },
        child,
      );
    };

    const cronJob = (
      cls: "velero" | "longhorn" | "etcd" | "offsite",
      schedule: string,
      spec: {
        container: Container;
        initContainers?: Container[];
        volumes?: k8s.types.input.core.v1.Volume[];
        serviceAccount?: k8s.core.v1.ServiceAccount;
        deps?: pulumi.Resource[];
      },
    ) => {
      const jobName = drillCronJobName(cls);
      const podLabels = { ...labels, "homelab-backup/drill": cls, "homelab-backup/scripts-hash": hash };
      const base = backupCronJobSpec({
        schedule,
        podLabels,
        activeDeadlineSeconds: drillActiveDeadlineSeconds(cls, drills),
        backoffLimit: 0,
        initContainers: spec.initContainers,
        containers: [spec.container],
        volumes: [scriptsVolume("drill-scripts", scriptFiles.paths), ...(spec.volumes ?? [])],
        ...(spec.serviceAccount ? { serviceAccountName: `drill-${cls}` } : {}),
      });
      const template = (base.jobTemplate as any).spec.template.spec;
      // Kubernetes drills need their token; and a stopped drill must have time to delete what it made.
      template.automountServiceAccountToken = spec.serviceAccount !== undefined;
      template.terminationGracePeriodSeconds = DRILL_TERMINATION_GRACE_SECONDS;
      const cj = new k8s.batch.v1.CronJob(
        `${name}-${cls}`,
        { metadata: { name: jobName, namespace: ns, labels: { ...labels, "homelab-backup/drill": cls } }, spec: base },
        {
          parent: this,
          dependsOn: [scripts, reader, ...(spec.serviceAccount ? [spec.serviceAccount] : []), ...(spec.deps ?? [])],
        },
      );
      out[cls] = pulumi.interpolate`${ns}/${cj.metadata.name}`;
    };
    const env = (vars: Record<string, string>) => Object.entries(vars).map(([k, v]) => ({ name: k, value: v }));
    const resources = { requests: { cpu: "50m", memory: "64Mi" }, limits: { cpu: "1", memory: "512Mi" } };

    if (drills.velero) {
      if (!velero) throw new Error("drills.velero needs the velero section (Velero's namespace and prefix)");
      const sa = serviceAccount("velero");
      const rules = veleroDrillRules(drills);
      bind("velero-role", velero.namespace, rules.velero, sa, "homelab-backup-drill-velero");
      bind("velero-cluster", undefined, rules.cluster, sa, "homelab-backup-drill-velero");
      const modifiers = new k8s.core.v1.ConfigMap(
        `${name}-velero-modifiers`,
        {
          metadata: { name: "drill-velero-modifiers", namespace: velero.namespace, labels },
          data: { "modifiers.yaml": VELERO_RESOURCE_MODIFIERS },
        },
        child,
      );
      cronJob("velero", drills.velero.schedule, {
        serviceAccount: sa,
        deps: [modifiers],
        initContainers: [rcloneInitContainer()],
        volumes: [TOOLS_VOLUME],
        container: {
          name: "drill",
          image: DRILL_IMAGES.kubectl,
          command: ["/bin/sh", mountedScript("drills/velero-drill.sh")],
          env: [
            ...env({
              ...veleroDrillEnv(drills, velero.namespace, velero.prefix, "drill-velero-modifiers"),
              ...drillRecordEnv("velero"),
            }),
            ...readerHubEnv(hub, "drill-hub-reader"),
          ],
          resources,
          volumeMounts: [TMP_MOUNT, TOOLS_MOUNT, SCRIPTS_MOUNT],
        },
      });
    }

    if (drills.longhorn) {
      const sa = serviceAccount("longhorn");
      const rules = longhornDrillRules(drills);
      bind("longhorn-role", longhornNs, rules.longhorn, sa, "homelab-backup-drill-longhorn");
      bind("longhorn-cluster", undefined, rules.cluster, sa, "homelab-backup-drill-longhorn");
      bind("longhorn-drill-ns", ns, rules.drill, sa, "homelab-backup-drill-longhorn");
      for (const [sourceNs, r] of rules.sources)
        bind(`longhorn-source-${sourceNs}`, sourceNs, r, sa, "homelab-backup-drill-longhorn");
      cronJob("longhorn", drills.longhorn.schedule, {
        serviceAccount: sa,
        // It restores through Longhorn and reads nothing on the hub; rclone and the drills key are
        // there to leave its result at status/drills/longhorn/ (drill-record.sh).
        initContainers: [rcloneInitContainer()],
        volumes: [TOOLS_VOLUME],
        container: {
          name: "drill",
          image: DRILL_IMAGES.kubectl,
          command: ["/bin/sh", mountedScript("drills/longhorn-drill.sh")],
          env: [
            ...env({
              ...longhornDrillEnv(drills, longhornNs),
              ...drillRecordEnv("longhorn"),
              RCLONE: "/opt/tools/rclone",
            }),
            ...readerHubEnv(hub, "drill-hub-reader"),
          ],
          resources,
          volumeMounts: [TMP_MOUNT, TOOLS_MOUNT, SCRIPTS_MOUNT],
        },
      });
    }

    if (drills.etcd) {
      // The etcd image is distroless: a static busybox (copied by an init container) is the shell.
      const busybox: Container = {
        name: "busybox",
        image: DRILL_IMAGES.busybox,
        imagePullPolicy: "IfNotPresent",
        command: [
          "/bin/busybox",
          "sh",
          "-c",
          "mkdir -p /opt/tools/bin && cp /bin/busybox /opt/tools/bin/busybox && /opt/tools/bin/busybox --install -s /opt/tools/bin",
        ],
        securityContext: RESTRICTED_CONTAINER,
        resources: { requests: { cpu: "10m", memory: "16Mi" }, limits: { cpu: "200m", memory: "64Mi" } },
        volumeMounts: [{ name: "tools", mountPath: "/opt/tools" }],
      };
      cronJob("etcd", drills.etcd.schedule, {
        initContainers: [rcloneInitContainer(), busybox],
        volumes: [TOOLS_VOLUME, { name: "scratch", emptyDir: {} }],
        container: {
          name: "drill",
          image: DRILL_IMAGES.etcd,
          command: ["/opt/tools/bin/sh", mountedScript("drills/etcd-drill.sh")],
          env: [
            ...env({
              PATH: "/opt/tools/bin:/usr/local/bin",
              RCLONE: "/opt/tools/rclone",
              HUB_PREFIX: "etcd-snapshots",
              DRILL_DIR: "/var/lib/drill",
              DRILL_MIN_KEYS: String(drills.etcd.minKeys),
              HOME: "/tmp",
              ...drillRecordEnv("etcd"),
            }),
            ...readerHubEnv(hub, "drill-hub-reader"),
          ],
          resources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "2", memory: "2Gi" } },
          volumeMounts: [TMP_MOUNT, TOOLS_MOUNT, SCRIPTS_MOUNT, { name: "scratch", mountPath: "/var/lib/drill" }],
        },
      });
    }

    if (drills.offsite) {
      if (!args.offsite) throw new Error("drills.offsite needs the offsite section");
      const o = { ...args.offsite, config: offsiteWithDefaults(args.offsite.config, hub.kind) };
      const secret = new k8s.core.v1.Secret(
        `${name}-offsite`,
        {
          metadata: { name: "drill-offsite", namespace: ns, labels },
          type: "Opaque",
          stringData: {
            OFFSITE_FTP_PASSWORD: pulumi.secret(o.ftpPassword),
            ...(o.encryptionKey ? { OFFSITE_ENCRYPTION_KEY: pulumi.secret(o.encryptionKey) } : {}),
          },
        },
        { parent: this, dependsOn: [namespace] },
      );
      const fromSecret = (key: string) => ({ name: key, valueFrom: { secretKeyRef: { name: "drill-offsite", key } } });
      cronJob("offsite", drills.offsite.schedule, {
        deps: [secret],
        initContainers: [rcloneInitContainer()],
        volumes: [TOOLS_VOLUME, { name: "scratch", emptyDir: {} }],
        container: {
          name: "drill",
          // Alpine: busybox tools plus the CA bundle rclone needs for FTPS and an https hub.
          image: VERSIONS.alpineImage,
          command: ["/bin/sh", mountedScript("drills/offsite-drill.sh")],
          env: [
            ...env({
              ...offsiteConfigEnv(o.config, hub),
              DRILL_SAMPLE: String(drills.offsite.sampleFiles),
              ...drillRecordEnv("offsite"),
            }),
            { name: "RCLONE", value: "/opt/tools/rclone" },
            { name: "TMPDIR", value: "/var/lib/drill" },
            fromSecret("OFFSITE_FTP_PASSWORD"),
            ...(o.encryptionKey ? [fromSecret("OFFSITE_ENCRYPTION_KEY")] : []),
            ...readerHubEnv(hub, "drill-hub-reader"),
          ],
          resources,
          volumeMounts: [TMP_MOUNT, TOOLS_MOUNT, SCRIPTS_MOUNT, { name: "scratch", mountPath: "/var/lib/drill" }],
        },
      });
    }

    if (drills.buckets) {
      // buckets-drill.sh sources ../core/rclone-remotes.sh: both keep their components/ paths in the pod.
      const files = scriptTree(["drills/buckets-drill.sh", "drills/drill-record.sh", RCLONE_REMOTES_SCRIPT]);
      for (const m of mirrors) {
        const mns = m.source.credentialsSecret.namespace;
        const jobName = drillCronJobName("buckets", m.name);
        const mlabels = { ...labels, "homelab-backup/drill": "buckets", "homelab-backup/mirror": m.name };
        const hubSecret = new k8s.core.v1.Secret(
          `${name}-buckets-${m.name}-reader`,
          {
            metadata: { name: `${jobName}-hub`, namespace: mns, labels: mlabels },
            type: "Opaque",
            stringData: {
              [READER_KEYS.accessKeyId]: pulumi.secret(args.reader.accessKeyId),
              [READER_KEYS.secretAccessKey]: args.reader.secretAccessKey,
            },
          },
          child,
        );
        const cm = new k8s.core.v1.ConfigMap(
          `${name}-buckets-${m.name}-scripts`,
          {
            metadata: { name: `${jobName}-scripts`, namespace: mns, labels: mlabels },
            data: files.data,
          },
          child,
        );
        const ref = (secret: string, key: string, as = key) => ({
          name: as,
          valueFrom: { secretKeyRef: { name: secret, key } },
        });
        const spec = backupCronJobSpec({
          schedule: drills.buckets.schedule,
          podLabels: { ...mlabels, "homelab-backup/scripts-hash": contentHash(...Object.values(files.data)) },
          activeDeadlineSeconds: drillActiveDeadlineSeconds("buckets", drills),
          backoffLimit: 0,
          initContainers: [rcloneInitContainer()],
          volumes: [TOOLS_VOLUME, scriptsVolume(`${jobName}-scripts`, files.paths)],
          containers: [
            {
              name: "drill",
              image: VERSIONS.alpineImage,
              command: ["/bin/sh", mountedScript("drills/buckets-drill.sh")],
              env: [
                ...env({
                  ...mirrorEnv(m, hub),
                  DRILL_SAMPLE: String(drills.buckets.sampleObjects),
                  RCLONE: "/opt/tools/rclone",
                  ...drillRecordEnv("buckets", m.name),
                }),
                ref(m.source.credentialsSecret.name, "AWS_ACCESS_KEY_ID"),
                ref(m.source.credentialsSecret.name, "AWS_SECRET_ACCESS_KEY"),
                ref(`${jobName}-hub`, READER_KEYS.accessKeyId),
                ref(`${jobName}-hub`, READER_KEYS.secretAccessKey),
              ],
              resources,
              volumeMounts: [TMP_MOUNT, TOOLS_MOUNT, SCRIPTS_MOUNT],
            },
          ],
        });
        const cj = new k8s.batch.v1.CronJob(
          `${name}-buckets-${m.name}`,
          { metadata: { name: jobName, namespace: mns, labels: mlabels }, spec },
          { parent: this, dependsOn: [hubSecret, cm] },
        );
        out[`buckets-${m.name}`] = pulumi.interpolate`${mns}/${cj.metadata.name}`;
      }
    }

    this.cronJobNames = pulumi.output(out);
    this.targets = pulumi.output(
      drillTargets({ drills: { ...drills, postgres: undefined }, buckets: { mirrors: [...mirrors] } }),
    );
    this.registerOutputs({ cronJobNames: this.cronJobNames, targets: this.targets });
  }
}
