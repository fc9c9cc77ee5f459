/**
 * The s3-to-ftp bridge: an S3 API in the cluster that stores objects on an FTP server, so
 * that Longhorn can back up to FTP-only storage. Secrets for the FTP login, the S3 key pair the
 * bridge accepts (generated here; Longhorn signs with the same pair) and the encryption key
 * (generated when not given), a hardened Deployment and a ClusterIP Service.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { RESTRICTED_CONTAINER } from "../core/cronJob.js";
import {
  bridgeDeploymentSpec,
  bridgeEndpoint,
  BRIDGE_NAME,
  BRIDGE_SECRET,
  bridgeSelector,
  bridgeServiceSpec,
} from "./logic.js";
import { commonLabels } from "../core/names.js";
import { ftpBridgeWithDefaults, type FtpBridgeInput } from "./schema.js";

export interface S3FtpBridgeArgs {
  /** The ftpBridge section of the stack file; each key left out takes the schema's default (FTP_BRIDGE_DEFAULTS in ./schema.ts). */
  readonly config: FtpBridgeInput;
  /** Password of the FTP login (`homelab-backup:ftpBridgePassword`). */
  readonly ftpPassword: pulumi.Input<string>;
  /** 64 hex characters (`homelab-backup:ftpBridgeEncryptionKey`); ignored when encryption is off. @default generated (32 random bytes, hex) */
  readonly encryptionKey?: pulumi.Input<string>;
}

export class S3FtpBridge extends pulumi.ComponentResource {
  /** `http://<service>.<namespace>.svc.cluster.local:<port>`: the S3 endpoint for Longhorn. */
  public readonly endpoint: pulumi.Output<string>;
  /** Bucket Longhorn addresses on the bridge. */
  public readonly bucket: pulumi.Output<string>;
  /** Region label of the bridge. */
  public readonly region: pulumi.Output<string>;
  /** Access key id the bridge accepts (generated, secret). */
  public readonly accessKeyId: pulumi.Output<string>;
  /** Secret access key the bridge accepts (generated, secret). */
  public readonly secretAccessKey: pulumi.Output<string>;
  /** The encryption key in use (secret); undefined when encryption is off. */
  public readonly encryptionKey?: pulumi.Output<string>;

  constructor(name: string, args: S3FtpBridgeArgs, opts?: pulumi.ComponentResourceOptions) {
    super("homelab-backup:index:S3FtpBridge", name, {}, opts);
    const cfg = ftpBridgeWithDefaults(args.config);
    const child = { parent: this };
    const labels = { ...commonLabels("ftp-bridge"), ...bridgeSelector() };

    const accessKey = new random.RandomPassword(
      `${name}-access-key-id`,
      { length: 20, special: false, lower: false },
      child,
    );
    const secretKey = new random.RandomPassword(`${name}-secret-access-key`, { length: 40, special: false }, child);
    this.accessKeyId = pulumi.secret(accessKey.result);
    this.secretAccessKey = pulumi.secret(secretKey.result);

    if (cfg.encryption) {
      this.encryptionKey = pulumi.secret(
        args.encryptionKey ?? new random.RandomBytes(`${name}-encryption-key`, { length: 32 }, child).hex,
      );
    }

    const secret = new k8s.core.v1.Secret(
      `${name}-credentials`,
      {
        metadata: { name: BRIDGE_SECRET, namespace: cfg.namespace, labels },
        type: "Opaque",
        stringData: pulumi.secret(
          pulumi
            .all([args.ftpPassword, this.accessKeyId, this.secretAccessKey, this.encryptionKey ?? ""])
            .apply(([ftpPassword, id, key, enc]) => ({
              ftp_user: cfg.ftp.user,
              ftp_password: ftpPassword,
              s3_access_key: id,
              s3_secret_key: key,
              ...(cfg.encryption ? { encryption_key: enc } : {}),
            })),
        ),
      },
      child,
    );

    const deployment = new k8s.apps.v1.Deployment(
      `${name}-deployment`,
      {
        metadata: { name: BRIDGE_NAME, namespace: cfg.namespace, labels },
        spec: bridgeDeploymentSpec(cfg, BRIDGE_SECRET, labels, RESTRICTED_CONTAINER),
      },
      { parent: this, dependsOn: [secret] },
    );

    const service = new k8s.core.v1.Service(
      `${name}-service`,
      { metadata: { name: BRIDGE_NAME, namespace: cfg.namespace, labels }, spec: bridgeServiceSpec(cfg) },
      { parent: this, dependsOn: [deployment] },
    );

    this.endpoint = pulumi.all([service.metadata.name, service.metadata.namespace]).apply(() => bridgeEndpoint(cfg));
    this.bucket = pulumi.output(cfg.bucket);
    this.region = pulumi.output(cfg.region);
    this.registerOutputs({
      endpoint: this.endpoint,
      bucket: this.bucket,
      region: this.region,
      accessKeyId: this.accessKeyId,
      secretAccessKey: this.secretAccessKey,
      encryptionKey: this.encryptionKey,
    });
  }
}
