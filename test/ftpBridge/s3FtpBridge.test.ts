/**
 * S3FtpBridge under the mock runtime, and the bridge wired into LonghornBackupTarget the way index.ts
 * does it: Longhorn must sign with exactly the key pair the bridge accepts, at the bridge's Service.
 */
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { parseStackConfig, type StackConfig } from "../../components/config.js";
import { VERSIONS } from "../../components/core/versions.js";
import {
  installMocks,
  recordingMocks,
  settle,
  unwrapSecrets,
  valueOf,
  type RecordingMocks,
} from "../../tools/mocks.js";

const SECRET = "kubernetes:core/v1:Secret";
const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
const SERVICE = "kubernetes:core/v1:Service";
const RANDOM_BYTES = "random:index/randomBytes:RandomBytes";
const GIVEN_KEY = "ab".repeat(32);

function stack(ftpBridge: Record<string, unknown>): StackConfig {
  return parseStackConfig({
    "homelab-backup:hub": JSON.stringify({ kind: "aws", bucket: "homelab-backups" }),
    "homelab-backup:longhorn": JSON.stringify({
      target: "ftpBridge",
      recurringJobs: [{ name: "daily", cron: "0 2 * * *", task: "backup", retain: 7, groups: ["default"] }],
    }),
    "homelab-backup:ftpBridge": JSON.stringify({
      bucket: "longhorn",
      region: "box",
      ftp: { host: "ftp.box.com", user: "box-user", path: "/Homelab" },
      ...ftpBridge,
    }),
    "homelab-backup:ftpBridgePassword": "ftp-pass",
  });
}

let rec: RecordingMocks;
let generated: any;
let given: any;
let plain: any;
const child = (type: string, parent: string) => {
  const found = rec.byType(type).filter((r) => r.parent === parent);
  expect(found, `${type} under ${parent}`).toHaveLength(1);
  return found[0];
};

beforeAll(async () => {
  rec = recordingMocks();
  await installMocks(rec);
  const { S3FtpBridge } = await import("../../components/ftpBridge/s3FtpBridge.js");
  const { LonghornBackupTarget } = await import("../../components/longhorn/longhornBackupTarget.js");
  const s = stack({});
  generated = new S3FtpBridge("bridge", { config: s.ftpBridge!, ftpPassword: pulumi.secret("ftp-pass") });
  // index.ts wiring for longhorn.target: ftpBridge.
  new LonghornBackupTarget("longhorn", {
    config: s.longhorn!,
    target: {
      endpoint: generated.endpoint,
      bucket: s.ftpBridge!.bucket,
      region: s.ftpBridge!.region,
      prefix: "longhorn/",
      pathStyle: true,
      accessKeyId: generated.accessKeyId,
      secretAccessKey: generated.secretAccessKey,
    },
  });
  given = new S3FtpBridge("bridge-given", {
    config: stack({ namespace: "ftp", port: 9100 }).ftpBridge!,
    ftpPassword: pulumi.secret("ftp-pass"),
    encryptionKey: pulumi.secret(GIVEN_KEY),
  });
  plain = new S3FtpBridge("bridge-plain", {
    config: stack({ encryption: false }).ftpBridge!,
    ftpPassword: pulumi.secret("ftp-pass"),
    encryptionKey: pulumi.secret(GIVEN_KEY),
  });
  await settle();
});

describe("secrets", () => {
  it("keeps every credential in one secret stringData, generating the S3 key pair and a 32-byte encryption key", () => {
    const s = child(SECRET, "bridge");
    expect(pulumi.runtime.isRpcSecret(s.inputs.stringData)).toBe(true);
    const data = unwrapSecrets(s.inputs.stringData);
    expect(Object.keys(data).sort()).toEqual([
      "encryption_key",
      "ftp_password",
      "ftp_user",
      "s3_access_key",
      "s3_secret_key",
    ]);
    expect(data.ftp_password).toBe("ftp-pass");
    expect(data.ftp_user).toBe("box-user");
    expect(data.encryption_key).toMatch(/^[0-9a-f]{64}$/);
    // Alphanumeric only: no character that needs escaping in a Secret, a URL or a shell.
    const pw = (n: string) => unwrapSecrets(rec.one("random:index/randomPassword:RandomPassword", n).inputs);
    expect(pw("bridge-access-key-id")).toMatchObject({ length: 20, special: false, lower: false });
    expect(pw("bridge-secret-access-key")).toMatchObject({ length: 40, special: false });
    expect(data.s3_access_key).toMatch(/^[A-Za-z0-9]{20}$/);
    expect(data.s3_secret_key).toMatch(/^[A-Za-z0-9]{40}$/);
    expect(unwrapSecrets(child(RANDOM_BYTES, "bridge").inputs).length).toBe(32);
  });

  it("uses a given key instead of generating one, and drops the key when encryption is off", () => {
    expect(rec.byType(RANDOM_BYTES).filter((r) => r.parent === "bridge-given" || r.parent === "bridge-plain")).toEqual(
      [],
    );
    expect(unwrapSecrets(child(SECRET, "bridge-given").inputs.stringData).encryption_key).toBe(GIVEN_KEY);
    expect(unwrapSecrets(child(SECRET, "bridge-plain").inputs.stringData)).not.toHaveProperty("encryption_key");
    expect(plain.encryptionKey).toBeUndefined();
  });
});

describe("deployment and service", () => {
  it("runs the pinned image, non-root, read-only, without capabilities, with probes and limits", () => {
    const d = unwrapSecrets(child(DEPLOYMENT, "bridge").inputs);
    expect(d.metadata).toMatchObject({ name: "s3-to-ftp", namespace: "longhorn-system" });
    expect(d.spec.replicas).toBe(1);
    const pod = d.spec.template.spec;
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65532 });
    expect(pod.automountServiceAccountToken).toBe(false);
    const [c] = pod.containers;
    expect(c.image).toBe(VERSIONS.s3ToFtpImage);
    expect(c.image).toMatch(/:v\d+\.\d+\.\d+$/);
    expect(c.securityContext).toMatchObject({
      runAsNonRoot: true,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
    });
    expect(c.livenessProbe.httpGet.path).toBe("/health");
    expect(c.readinessProbe.httpGet.path).toBe("/health");
    expect(c.resources).toEqual({
      requests: { cpu: "100m", memory: "128Mi" },
      limits: { cpu: "500m", memory: "512Mi" },
    });
    expect(d.spec.selector.matchLabels).toEqual(
      Object.fromEntries(
        Object.entries(d.spec.template.metadata.labels).filter(([k]) => k in d.spec.selector.matchLabels),
      ),
    );
  });

  it("never puts a secret in an env value: credentials come from the Secret by secretKeyRef", () => {
    for (const parent of ["bridge", "bridge-given", "bridge-plain"]) {
      const d = unwrapSecrets(child(DEPLOYMENT, parent).inputs);
      const secretName = unwrapSecrets(child(SECRET, parent).inputs).metadata.name;
      const data = unwrapSecrets(child(SECRET, parent).inputs.stringData) as Record<string, string>;
      const env = d.spec.template.spec.containers[0].env as any[];
      for (const e of env) {
        if (e.value !== undefined) expect(Object.values(data), `${parent} ${e.name}`).not.toContain(e.value);
        else expect(e.valueFrom.secretKeyRef.name).toBe(secretName);
      }
      const refs = env
        .filter((e) => e.valueFrom)
        .map((e) => e.valueFrom.secretKeyRef.key)
        .sort();
      expect(refs, parent).toEqual(Object.keys(data).sort());
      expect(env.map((e) => e.name)).toEqual(
        expect.arrayContaining([
          "FTP_HOST",
          "FTP_PORT",
          "FTP_USER",
          "FTP_PASSWORD",
          "FTP_ROOT_PATH",
          "S3_ACCESS_KEY",
          "S3_SECRET_KEY",
        ]),
      );
      expect(
        env.some((e) => e.name === "ENCRYPTION_KEY"),
        parent,
      ).toBe(parent !== "bridge-plain");
    }
  });

  it("exposes the configured port and reports the in-cluster endpoint", async () => {
    const svc = unwrapSecrets(child(SERVICE, "bridge-given").inputs);
    expect(svc.metadata).toMatchObject({ name: "s3-to-ftp", namespace: "ftp" });
    expect(svc.spec.ports).toEqual([{ name: "s3-api", port: 9100, targetPort: "s3", protocol: "TCP" }]);
    expect(await valueOf(given.endpoint)).toBe("http://s3-to-ftp.ftp.svc.cluster.local:9100");
    expect(await valueOf(generated.endpoint)).toBe("http://s3-to-ftp.longhorn-system.svc.cluster.local:9000");
    expect(await valueOf(generated.bucket)).toBe("longhorn");
    expect(await valueOf(generated.region)).toBe("box");
    expect(await (generated.secretAccessKey as any).isSecret).toBe(true);
    expect(await (generated.encryptionKey as any).isSecret).toBe(true);
  });
});

describe("wired to Longhorn", () => {
  it("gives Longhorn the key pair the bridge accepts, at the bridge's Service, in an s3://bucket@region/longhorn/ target", async () => {
    const bridgeData = unwrapSecrets(child(SECRET, "bridge").inputs.stringData);
    const lh = unwrapSecrets(child(SECRET, "longhorn").inputs.stringData);
    expect(lh).toEqual({
      AWS_ACCESS_KEY_ID: bridgeData.s3_access_key,
      AWS_SECRET_ACCESS_KEY: bridgeData.s3_secret_key,
      AWS_ENDPOINTS: "http://s3-to-ftp.longhorn-system.svc.cluster.local:9000",
      VIRTUAL_HOSTED_STYLE: "false",
    });
    const bt = unwrapSecrets(child("kubernetes:longhorn.io/v1beta2:BackupTargetPatch", "longhorn").inputs);
    expect(bt.spec.backupTargetURL).toBe("s3://longhorn@box/longhorn/");
    expect(await valueOf(generated.accessKeyId)).toBe(bridgeData.s3_access_key);
  });
});

describe("plan.md: the FTP bridge section and the key-escrow list", () => {
  it("says what the bridge is, where its key lives and how to read its data back; lists every key to keep", async () => {
    const { readStackFile } = await import("../../tools/render.js");
    const { parseStackConfig } = await import("../../components/config.js");
    const { renderPlan } = await import("../../components/plan.js");
    const { EXAMPLE_STACK } = await import("../support/stackFiles.js");
    const plan = renderPlan(parseStackConfig(readStackFile(EXAMPLE_STACK).config));
    expect(plan).toContain("## FTP bridge (S3 API in front of FTP)");
    expect(plan).toContain("pulumi stack output ftpBridgeEncryptionKey --show-secrets");
    expect(plan).toContain("kubectl -n longhorn-system port-forward svc/s3-to-ftp");
    expect(plan).toContain('rclone copy "bridge:longhorn-ftp/longhorn/" ./bridge-restore/longhorn/');
    const escrow = plan.slice(plan.indexOf("## Keys to keep outside the homelab"), plan.indexOf("## How to restore"));
    for (const output of [
      "veleroRepositoryPassword",
      "offsiteEncryptionKey",
      "ftpBridgeEncryptionKey",
      "hubAdminPassword",
    ])
      expect(escrow).toContain(`pulumi stack output ${output} --show-secrets`);
  });
});
