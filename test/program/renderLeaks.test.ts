/**
 * The render masks by Pulumi's secretness and reports, instead of hiding, a secret that reaches a
 * resource unsecreted (tools/render.ts findLeaks): a known secret value inside a plain input, a plain
 * value under a secret-named key, a Kubernetes env entry that sets a password in clear.
 */
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { findLeaks } from "../../tools/render.js";
import { maskSecrets } from "../../tools/mocks.js";

/** A value as the engine receives a Pulumi secret (the mock runtime's wire form). */
const wrapped = (value: unknown) => ({ [pulumi.runtime.specialSigKey]: pulumi.runtime.specialSecretSig, value });

describe("findLeaks", () => {
  const known = new Set(["s3cr3t-generated-password", "ftp-Pa55"]);

  it("reports a known secret value in a plain input, wherever it is embedded", () => {
    const leaks = findLeaks(
      "command:remote:Command::setup",
      { create: "FTP_PASSWORD=ftp-Pa55 sh write-config.sh" },
      known,
    );
    expect(leaks).toEqual([
      "command:remote:Command::setup: create holds a secret value (8 characters) that is not a Pulumi secret",
    ]);
  });

  it("reports a plain value under a secret-named key and a clear-text password env entry", () => {
    const leaks = findLeaks(
      "kubernetes:apps/v1:Deployment::bridge",
      {
        spec: {
          template: {
            spec: {
              containers: [
                {
                  env: [
                    { name: "FTP_PASSWORD", value: "hunter2" },
                    { name: "FTP_USER", value: "backup" },
                  ],
                },
              ],
            },
          },
        },
        values: { adminPassword: "x", secretAccessKey: "y" },
      },
      known,
    );
    expect(leaks).toEqual([
      "kubernetes:apps/v1:Deployment::bridge: spec.template.spec.containers[0].env[0] sets FTP_PASSWORD to a value that is not a Pulumi secret",
      "kubernetes:apps/v1:Deployment::bridge: values.adminPassword is named like a secret but its value is not a Pulumi secret",
      "kubernetes:apps/v1:Deployment::bridge: values.secretAccessKey is named like a secret but its value is not a Pulumi secret",
    ]);
  });

  it("accepts secrets that arrive as Pulumi secrets, references to Secret objects, and env from secretKeyRef", () => {
    const inputs = {
      data: wrapped({ password: "s3cr3t-generated-password" }),
      stringData: { password: wrapped("ftp-Pa55") },
      credentialSecret: "longhorn-hub-credentials",
      existingSecret: "velero-credentials",
      passwordSecret: { name: "wiki-postgresql", key: "password" },
      env: [{ name: "PGPASSWORD", valueFrom: { secretKeyRef: { name: "wiki-postgresql", key: "password" } } }],
    };
    expect(findLeaks("kubernetes:core/v1:Secret::creds", inputs, known)).toEqual([]);
    // ...and those are what the render masks, by their secretness alone.
    expect(maskSecrets(inputs).data).toEqual({ password: "[secret]" });
    expect(maskSecrets(inputs).stringData).toEqual({ password: "[secret]" });
  });
});
