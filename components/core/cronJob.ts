/**
 * The one shape every backup CronJob has (the policy pack checks exactly this): UTC schedule,
 * no overlapping runs, deadlines so a hung run cannot block the next one forever, bounded resources,
 * non-root, no privilege escalation, read-only root filesystem, no capabilities, and a small
 * memory-backed /tmp for the few bytes the scripts keep (never the backup itself).
 */
import type * as k8s from "@pulumi/kubernetes";
import { VERSIONS } from "./versions.js";

type Container = k8s.types.input.core.v1.Container;
type Volume = k8s.types.input.core.v1.Volume;
type Toleration = k8s.types.input.core.v1.Toleration;

export interface BackupCronJobSpecArgs {
  /** 5-field cron, UTC. */
  readonly schedule: string;
  readonly containers: Container[];
  readonly initContainers?: Container[];
  readonly volumes?: Volume[];
  /** Seconds a run may take before Kubernetes kills it. @default 3600 */
  readonly activeDeadlineSeconds?: number;
  /** How late a missed run may still start. @default 600 */
  readonly startingDeadlineSeconds?: number;
  /** Retries of a failed run. @default 1 */
  readonly backoffLimit?: number;
  /** How long a finished Job stays for inspection. @default 86400 */
  readonly ttlSecondsAfterFinished?: number;
  readonly nodeSelector?: Record<string, string>;
  readonly tolerations?: Toleration[];
  /** Pod labels (the CronJob's own labels are set by the caller). */
  readonly podLabels?: Record<string, string>;
  /** UID the pod runs as. @default 65534 (nobody) */
  readonly runAsUser?: number;
  readonly runAsGroup?: number;
  readonly serviceAccountName?: string;
}

/** Seconds a backup run may take before Kubernetes kills it, unless a job sets its own (alert thresholds add it). */
export const DEFAULT_ACTIVE_DEADLINE_SECONDS = 3600;
/** How late a missed run may still start, unless a job sets its own (alert thresholds add it). */
export const DEFAULT_STARTING_DEADLINE_SECONDS = 600;

/** Container securityContext of every backup container. */
export const RESTRICTED_CONTAINER = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  privileged: false,
  capabilities: { drop: ["ALL"] },
  seccompProfile: { type: "RuntimeDefault" },
};

/** A memory-backed scratch directory for /tmp: small, because nothing large is ever written. */
export const TMP_VOLUME: Volume = { name: "tmp", emptyDir: { medium: "Memory", sizeLimit: "64Mi" } };
export const TMP_MOUNT = { name: "tmp", mountPath: "/tmp" };
/** Where the init container puts the rclone binary for the main container. */
export const TOOLS_VOLUME: Volume = { name: "tools", emptyDir: { sizeLimit: "128Mi" } };
export const TOOLS_MOUNT = { name: "tools", mountPath: "/opt/tools", readOnly: true };

/**
 * An init container that copies the rclone binary out of the pinned stock rclone image, so a stock
 * client image (postgres, alpine) can stream to S3 without the project building an image.
 */
export function rcloneInitContainer(image: string = VERSIONS.rcloneImage): Container {
  return {
    name: "rclone",
    image,
    imagePullPolicy: "IfNotPresent",
    command: ["cp", "/usr/local/bin/rclone", "/opt/tools/rclone"],
    securityContext: RESTRICTED_CONTAINER,
    resources: { requests: { cpu: "10m", memory: "16Mi" }, limits: { cpu: "200m", memory: "64Mi" } },
    volumeMounts: [{ name: "tools", mountPath: "/opt/tools" }],
  };
}

/**
 * The ConfigMap volume that carries the job's scripts, mounted read-only and executable. Every key is a
 * file at the top of the mount, unless `paths` (key → path below the mount, from scriptTree in
 * components/core/files.ts) places each key, and only those keys, at its own path.
 */
export function scriptsVolume(configMapName: string, paths?: Record<string, string>): Volume {
  return {
    name: "scripts",
    configMap: {
      name: configMapName,
      defaultMode: 0o555,
      ...(paths ? { items: Object.entries(paths).map(([key, p]) => ({ key, path: p })) } : {}),
    },
  };
}
export const SCRIPTS_MOUNT = { name: "scripts", mountPath: "/scripts", readOnly: true };
/** Where the file `components/<relative>` is in a pod whose scripts volume has scriptTree's paths. */
export function mountedScript(relative: string): string {
  return `${SCRIPTS_MOUNT.mountPath}/${relative}`;
}

/** The full CronJob spec of a backup job. */
export function backupCronJobSpec(args: BackupCronJobSpecArgs): k8s.types.input.batch.v1.CronJobSpec {
  const runAsUser = args.runAsUser ?? 65534;
  return {
    schedule: args.schedule,
    timeZone: "Etc/UTC",
    concurrencyPolicy: "Forbid",
    startingDeadlineSeconds: args.startingDeadlineSeconds ?? DEFAULT_STARTING_DEADLINE_SECONDS,
    successfulJobsHistoryLimit: 3,
    failedJobsHistoryLimit: 3,
    suspend: false,
    jobTemplate: {
      metadata: { labels: args.podLabels ?? {} },
      spec: {
        backoffLimit: args.backoffLimit ?? 1,
        activeDeadlineSeconds: args.activeDeadlineSeconds ?? DEFAULT_ACTIVE_DEADLINE_SECONDS,
        ttlSecondsAfterFinished: args.ttlSecondsAfterFinished ?? 86_400,
        template: {
          metadata: { labels: args.podLabels ?? {} },
          spec: {
            restartPolicy: "Never",
            automountServiceAccountToken: false,
            ...(args.serviceAccountName ? { serviceAccountName: args.serviceAccountName } : {}),
            securityContext: {
              runAsNonRoot: true,
              runAsUser,
              runAsGroup: args.runAsGroup ?? runAsUser,
              fsGroup: args.runAsGroup ?? runAsUser,
              seccompProfile: { type: "RuntimeDefault" },
            },
            ...(args.nodeSelector ? { nodeSelector: args.nodeSelector } : {}),
            ...(args.tolerations ? { tolerations: args.tolerations } : {}),
            ...(args.initContainers ? { initContainers: args.initContainers } : {}),
            containers: args.containers.map((c) => ({
              imagePullPolicy: "IfNotPresent",
              ...c,
              securityContext: { ...RESTRICTED_CONTAINER, ...(c.securityContext as object) },
            })),
            volumes: [TMP_VOLUME, ...(args.volumes ?? [])],
          },
        },
      },
    },
  };
}

type EnvVar = k8s.types.input.core.v1.EnvVar;

export interface RcloneScriptCronJobArgs {
  /** 5-field cron, UTC. */
  readonly schedule: string;
  /** Seconds a run may take before Kubernetes kills it. @default 3600 */
  readonly activeDeadlineSeconds?: number;
  /** Pod labels. @default none */
  readonly podLabels?: Record<string, string>;
  /** The container's name. */
  readonly container: string;
  /** The script it runs, as `components/<script>` (scriptTree's paths). */
  readonly script: string;
  /** Its environment: settings as values, keys from Secrets. */
  readonly env: EnvVar[];
  /** The ConfigMap holding the scripts, and scriptTree's paths of its keys. */
  readonly scripts: { readonly configMap: string; readonly paths: Record<string, string> };
}

/**
 * The CronJob spec of a job that streams with rclone from a stock Alpine image: one container running a
 * repository script from the scripts ConfigMap, with rclone copied in by the init container (the bucket
 * mirrors and the off-site copy).
 */
export function rcloneScriptCronJobSpec(args: RcloneScriptCronJobArgs): k8s.types.input.batch.v1.CronJobSpec {
  return backupCronJobSpec({
    schedule: args.schedule,
    podLabels: args.podLabels,
    activeDeadlineSeconds: args.activeDeadlineSeconds,
    initContainers: [rcloneInitContainer()],
    containers: [
      {
        name: args.container,
        image: VERSIONS.alpineImage,
        command: ["sh", mountedScript(args.script)],
        env: args.env,
        resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "1", memory: "512Mi" } },
        volumeMounts: [TMP_MOUNT, TOOLS_MOUNT, SCRIPTS_MOUNT],
      },
    ],
    volumes: [TOOLS_VOLUME, scriptsVolume(args.scripts.configMap, args.scripts.paths)],
  });
}
