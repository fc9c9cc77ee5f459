/**
 * BackupAudit: the audit exporter (audit.mjs) as a one-replica Deployment with a Service and a
 * ServiceMonitor. It reads the hub with the audit reader's key (components/hub/iam.ts auditReaderPolicy),
 * the off-site copy through its crypt remote, and the Kubernetes API through a ClusterRole that can
 * only get/list. Why a Deployment and not a CronJob: see audit.mjs's header.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import {
  mountedScript,
  RESTRICTED_CONTAINER,
  rcloneInitContainer,
  SCRIPTS_MOUNT,
  scriptsVolume,
  TMP_MOUNT,
  TMP_VOLUME,
  TOOLS_MOUNT,
  TOOLS_VOLUME,
} from "../core/cronJob.js";
import { contentHash, RCLONE_REMOTES_SCRIPT, scriptTree } from "../core/files.js";
import type { HubConnection, WriterCredentials } from "../core/hubConnection.js";
import { commonLabels } from "../core/names.js";
import { rcloneS3Provider } from "../core/rclone.js";
import { offsiteFtpEnv } from "../offsite/logic.js";
import { offsiteWithDefaults, type OffsiteInput } from "../offsite/schema.js";
import { AUDIT_INTERVAL_SECONDS, AUDIT_NODE_IMAGE, AUDIT_PORT } from "./auditMetrics.js";
import type { AuditSpec } from "./auditSpec.js";
import { ALERTS_DEFAULTS } from "./schema.js";

export const AUDIT_NAME = "homelab-backup-audit";
/**
 * Files of the audit pod, mounted at /scripts in the layout of components/ (audit.mjs reads
 * audit-metrics.json from beside itself, audit-entry.sh sources the rclone remotes from ../core/).
 */
export const AUDIT_FILES = [
  "alerts/audit.mjs",
  "alerts/hubReader.mjs",
  "alerts/audit-metrics.json",
  "alerts/audit-entry.sh",
  RCLONE_REMOTES_SCRIPT,
] as const;
/** Where the pod finds its spec: a ConfigMap key beside the files, at the top of the mount. */
const AUDIT_SPEC_FILE = "spec.json";

export interface BackupAuditArgs {
  /** Namespace of the exporter (alerts.namespace). @default "monitoring" */
  readonly namespace?: string;
  /** What to check. */
  readonly spec: AuditSpec;
  /** The hub as the cluster reaches it. */
  readonly hub: HubConnection;
  /** The audit reader's hub credentials (read-only, metadata only). */
  readonly reader: WriterCredentials;
  /** The off-site copy, read through its crypt remote with its FTP login and key. @default none: not read */
  readonly offsite?: {
    /** The offsite section; each key left out takes the schema's default (OFFSITE_DEFAULTS). */
    readonly config: OffsiteInput;
    readonly ftpPassword: pulumi.Input<string>;
    readonly encryptionKey?: pulumi.Input<string>;
  };
  /** Labels of the ServiceMonitor (alerts.ruleLabels: kube-prometheus-stack selects on `release`). @default { release: "kube-prometheus-stack" } */
  readonly serviceMonitorLabels?: Record<string, string>;
  /** Seconds between audits (alerts.audit.intervalMinutes in seconds). @default 3600 */
  readonly intervalSeconds?: number;
}

/** RBAC rules of the audit: get/list only, and only the kinds its spec needs. */
export function auditRbacRules(spec: AuditSpec): k8s.types.input.rbac.v1.PolicyRule[] {
  const core = [
    ...(spec.coverage ? ["persistentvolumeclaims"] : []),
    ...(spec.coverage && spec.longhorn ? ["persistentvolumes"] : []),
    ...(spec.coverage && spec.velero ? ["pods"] : []),
    ...(spec.etcd ? ["nodes"] : []),
  ];
  return [
    ...(core.length ? [{ apiGroups: [""], resources: core, verbs: ["get", "list"] }] : []),
    ...(spec.longhorn
      ? [{ apiGroups: ["longhorn.io"], resources: ["volumes", "backuptargets"], verbs: ["get", "list"] }]
      : []),
  ];
}

export class BackupAudit extends pulumi.ComponentResource {
  /** `namespace/name` of the exporter Deployment. */
  public readonly deploymentName: pulumi.Output<string>;
  /** Seconds between two audits. */
  public readonly intervalSeconds: pulumi.Output<number>;

  constructor(name: string, args: BackupAuditArgs, opts?: pulumi.ComponentResourceOptions) {
    super("homelab-backup:index:BackupAudit", name, {}, opts);
    const interval = args.intervalSeconds ?? AUDIT_INTERVAL_SECONDS;
    const ns = args.namespace ?? ALERTS_DEFAULTS.namespace;
    const serviceMonitorLabels = args.serviceMonitorLabels ?? ALERTS_DEFAULTS.ruleLabels;
    const offsite = args.offsite && {
      ...args.offsite,
      config: offsiteWithDefaults(args.offsite.config, args.hub.kind),
    };
    const labels = { ...commonLabels("audit"), "app.kubernetes.io/name": AUDIT_NAME };
    const selector = { "app.kubernetes.io/name": AUDIT_NAME, "app.kubernetes.io/part-of": "homelab-backup" };

    const sa = new k8s.core.v1.ServiceAccount(
      `${name}-sa`,
      { metadata: { name: AUDIT_NAME, namespace: ns, labels }, automountServiceAccountToken: false },
      { parent: this },
    );
    const role = new k8s.rbac.v1.ClusterRole(
      `${name}-role`,
      { metadata: { name: AUDIT_NAME, labels }, rules: auditRbacRules(args.spec) },
      { parent: this },
    );
    new k8s.rbac.v1.ClusterRoleBinding(
      `${name}-binding`,
      {
        metadata: { name: AUDIT_NAME, labels },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: role.metadata.name },
        subjects: [{ kind: "ServiceAccount", name: sa.metadata.name, namespace: ns }],
      },
      { parent: this },
    );

    const secret = new k8s.core.v1.Secret(
      `${name}-secret`,
      {
        metadata: { name: `${AUDIT_NAME}-credentials`, namespace: ns, labels },
        type: "Opaque",
        stringData: {
          AUDIT_S3_ACCESS_KEY_ID: pulumi.secret(args.reader.accessKeyId),
          AUDIT_S3_SECRET_ACCESS_KEY: pulumi.secret(args.reader.secretAccessKey),
          ...(offsite ? { OFFSITE_FTP_PASSWORD: pulumi.secret(offsite.ftpPassword) } : {}),
          ...(offsite?.encryptionKey ? { OFFSITE_ENCRYPTION_KEY: pulumi.secret(offsite.encryptionKey) } : {}),
        },
      },
      { parent: this },
    );
    const files = scriptTree(AUDIT_FILES);
    const specJson = JSON.stringify(args.spec, null, 2);
    const configMapName = `${AUDIT_NAME}-files`;
    const config = new k8s.core.v1.ConfigMap(
      `${name}-files`,
      {
        metadata: { name: configMapName, namespace: ns, labels },
        data: { ...files.data, [AUDIT_SPEC_FILE]: specJson },
      },
      { parent: this },
    );

    const plainEnv: Record<string, string> = {
      AUDIT_SPEC: `${SCRIPTS_MOUNT.mountPath}/${AUDIT_SPEC_FILE}`,
      AUDIT_PORT: String(AUDIT_PORT),
      AUDIT_INTERVAL_SECONDS: String(interval),
      AUDIT_S3_ENDPOINT: args.hub.endpoint,
      AUDIT_S3_REGION: args.hub.region,
      AUDIT_S3_PROVIDER: rcloneS3Provider(args.hub.server),
      AUDIT_S3_PATH_STYLE: String(args.hub.pathStyle),
      RCLONE: "/opt/tools/rclone",
      TMPDIR: "/tmp",
      HOME: "/tmp",
      // What rclone_offsite_remotes reads (components/core/rclone-remotes.sh), besides the two secrets.
      ...(offsite ? offsiteFtpEnv(offsite.config) : {}),
    };
    const secretKeys = [
      "AUDIT_S3_ACCESS_KEY_ID",
      "AUDIT_S3_SECRET_ACCESS_KEY",
      ...(offsite ? ["OFFSITE_FTP_PASSWORD"] : []),
      ...(offsite?.encryptionKey ? ["OFFSITE_ENCRYPTION_KEY"] : []),
    ];
    const deployment = new k8s.apps.v1.Deployment(
      `${name}-deployment`,
      {
        metadata: { name: AUDIT_NAME, namespace: ns, labels },
        spec: {
          replicas: 1,
          // One exporter at a time: two would double the hub requests for nothing.
          strategy: { type: "Recreate" },
          selector: { matchLabels: selector },
          template: {
            metadata: {
              labels: { ...labels, ...selector },
              annotations: { "homelab-backup/config-hash": contentHash(specJson, ...Object.values(files.data)) },
            },
            spec: {
              serviceAccountName: sa.metadata.name,
              // The token is mounted explicitly (projected, rotating) for the read-only API calls.
              automountServiceAccountToken: true,
              securityContext: {
                runAsNonRoot: true,
                runAsUser: 65534,
                runAsGroup: 65534,
                fsGroup: 65534,
                seccompProfile: { type: "RuntimeDefault" },
              },
              initContainers: [rcloneInitContainer()],
              containers: [
                {
                  name: "audit",
                  image: AUDIT_NODE_IMAGE,
                  imagePullPolicy: "IfNotPresent",
                  command: ["sh", mountedScript("alerts/audit-entry.sh")],
                  env: [
                    ...Object.entries(plainEnv).map(([k, v]) => ({ name: k, value: v })),
                    ...secretKeys.map((k) => ({
                      name: k,
                      valueFrom: { secretKeyRef: { name: secret.metadata.name, key: k } },
                    })),
                  ],
                  ports: [{ name: "metrics", containerPort: AUDIT_PORT, protocol: "TCP" }],
                  readinessProbe: {
                    httpGet: { path: "/metrics", port: "metrics" },
                    periodSeconds: 30,
                    failureThreshold: 2,
                  },
                  livenessProbe: {
                    httpGet: { path: "/healthz", port: "metrics" },
                    periodSeconds: 60,
                    failureThreshold: 3,
                  },
                  resources: { requests: { cpu: "20m", memory: "64Mi" }, limits: { cpu: "500m", memory: "256Mi" } },
                  securityContext: RESTRICTED_CONTAINER,
                  volumeMounts: [TMP_MOUNT, TOOLS_MOUNT, SCRIPTS_MOUNT],
                },
              ],
              volumes: [
                TMP_VOLUME,
                TOOLS_VOLUME,
                scriptsVolume(configMapName, { ...files.paths, [AUDIT_SPEC_FILE]: AUDIT_SPEC_FILE }),
              ],
            },
          },
        },
      },
      { parent: this, dependsOn: [secret, config] },
    );
    const service = new k8s.core.v1.Service(
      `${name}-service`,
      {
        metadata: { name: AUDIT_NAME, namespace: ns, labels: { ...labels, ...selector } },
        spec: { selector, ports: [{ name: "metrics", port: AUDIT_PORT, targetPort: "metrics", protocol: "TCP" }] },
      },
      { parent: this },
    );
    new k8s.apiextensions.CustomResource(
      `${name}-servicemonitor`,
      {
        apiVersion: "monitoring.coreos.com/v1",
        kind: "ServiceMonitor",
        metadata: { name: AUDIT_NAME, namespace: ns, labels: { ...labels, ...serviceMonitorLabels } },
        spec: {
          selector: { matchLabels: selector },
          namespaceSelector: { matchNames: [ns] },
          endpoints: [{ port: "metrics", path: "/metrics", interval: "2m", scrapeTimeout: "30s" }],
        },
      },
      { parent: this, dependsOn: [service] },
    );

    this.deploymentName = pulumi.interpolate`${ns}/${deployment.metadata.name}`;
    this.intervalSeconds = pulumi.output(interval);
    this.registerOutputs({ deploymentName: this.deploymentName, intervalSeconds: this.intervalSeconds });
  }
}
