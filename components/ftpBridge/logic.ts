/**
 * The s3-to-ftp bridge as plain data: an S3 endpoint in the cluster that stores on FTP, Longhorn's
 * backup target when the only large storage is an FTP server. The component
 * (components/ftpBridge/s3FtpBridge.ts) only turns these objects into resources.
 */
import type { FtpBridgeConfig } from "./schema.js";

/** Name of the bridge's Deployment, Service and Secret prefix (one bridge per stack). */
export const BRIDGE_NAME = "s3-to-ftp";
/** The port the bridge image listens on; the Service maps `ftpBridge.port` onto it. */
export const BRIDGE_CONTAINER_PORT = 9000;
/** The bridge runs as this unprivileged user (the image's own user is not relied upon). */
export const BRIDGE_UID = 65532;
/** The bridge's Secret: FTP login, the S3 key pair it accepts, the encryption key. */
export const BRIDGE_SECRET = `${BRIDGE_NAME}-credentials`;

/** Pod selector labels of the bridge. */
export function bridgeSelector(): Record<string, string> {
  return { "app.kubernetes.io/name": BRIDGE_NAME };
}

/** `http://s3-to-ftp.<namespace>.svc.cluster.local:<port>`: what Longhorn puts in AWS_ENDPOINTS. */
export function bridgeEndpoint(cfg: FtpBridgeConfig): string {
  return `http://${BRIDGE_NAME}.${cfg.namespace}.svc.cluster.local:${cfg.port}`;
}

/** The bridge's environment (the names the bridge image reads): plain settings as values, every credential from the Secret. */
export function bridgeEnv(cfg: FtpBridgeConfig, secretName: string) {
  const fromSecret = (name: string, key: string) => ({ name, valueFrom: { secretKeyRef: { name: secretName, key } } });
  return [
    { name: "FTP_HOST", value: cfg.ftp.host },
    { name: "FTP_PORT", value: String(cfg.ftp.port) },
    { name: "FTP_ROOT_PATH", value: cfg.ftp.path },
    fromSecret("FTP_USER", "ftp_user"),
    fromSecret("FTP_PASSWORD", "ftp_password"),
    fromSecret("S3_ACCESS_KEY", "s3_access_key"),
    fromSecret("S3_SECRET_KEY", "s3_secret_key"),
    // Without ENCRYPTION_KEY the bridge stores plain data: present exactly when encryption is on.
    ...(cfg.encryption ? [fromSecret("ENCRYPTION_KEY", "encryption_key")] : []),
  ];
}

/** The Deployment spec: pinned image, non-root, read-only root, no capabilities, probes on /health. */
export function bridgeDeploymentSpec(
  cfg: FtpBridgeConfig,
  secretName: string,
  labels: Record<string, string>,
  containerSecurity: object,
) {
  return {
    replicas: cfg.replicas,
    revisionHistoryLimit: 3,
    selector: { matchLabels: bridgeSelector() },
    template: {
      metadata: { labels },
      spec: {
        automountServiceAccountToken: false,
        securityContext: {
          runAsNonRoot: true,
          runAsUser: BRIDGE_UID,
          runAsGroup: BRIDGE_UID,
          fsGroup: BRIDGE_UID,
          seccompProfile: { type: "RuntimeDefault" },
        },
        containers: [
          {
            name: BRIDGE_NAME,
            image: cfg.image,
            imagePullPolicy: "IfNotPresent",
            ports: [{ name: "s3", containerPort: BRIDGE_CONTAINER_PORT, protocol: "TCP" }],
            env: bridgeEnv(cfg, secretName),
            securityContext: containerSecurity,
            resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "512Mi" } },
            livenessProbe: {
              httpGet: { path: "/health", port: "s3" },
              initialDelaySeconds: 30,
              periodSeconds: 30,
              timeoutSeconds: 5,
              failureThreshold: 3,
            },
            readinessProbe: {
              httpGet: { path: "/health", port: "s3" },
              initialDelaySeconds: 10,
              periodSeconds: 10,
              timeoutSeconds: 5,
              failureThreshold: 3,
            },
            // Read-only root: scratch space for buffering objects on their way to FTP.
            volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
          },
        ],
        volumes: [{ name: "tmp", emptyDir: { sizeLimit: "1Gi" } }],
      },
    },
  };
}

/** The ClusterIP Service: `ftpBridge.port` → the container's S3 port. */
export function bridgeServiceSpec(cfg: FtpBridgeConfig) {
  return {
    type: "ClusterIP",
    selector: bridgeSelector(),
    ports: [{ name: "s3-api", port: cfg.port, targetPort: "s3", protocol: "TCP" }],
  };
}
