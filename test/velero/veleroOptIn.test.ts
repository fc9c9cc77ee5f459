/**
 * Velero with fsBackup opt-in under the mock runtime: no Schedule copies pod volumes outside the chosen
 * namespaces (only annotated ones), every Schedule validates against Velero's CRD, and the Kopia
 * repository password is a Pulumi secret in `velero-repo-credentials`, created before Velero starts,
 * never Velero's default.
 */
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { parseStackConfig, type StackConfig } from "../../components/config.js";
import { hubConnection } from "../../components/core/hubConnection.js";
import { veleroSchedules } from "../../components/velero/logic.js";
import { validateCustomResource } from "../support/crds.js";
import { installMocks, recordingMocks, settle, unwrapSecrets, type RecordingMocks } from "../../tools/mocks.js";

const piHub = { kind: "pi", bucket: "homelab-backups", host: "hub.lan", ssh: { user: "pi" }, dataDir: "/mnt/backup" };
function stackOf(sections: Record<string, unknown>): StackConfig {
  const raw: Record<string, string> = { "homelab-backup:hubSshPrivateKey": "key" };
  for (const [k, v] of Object.entries(sections)) raw[`homelab-backup:${k}`] = JSON.stringify(v);
  return parseStackConfig(raw);
}
const CHOSEN = ["a", "b"];
const velero = {
  fsBackup: { mode: "opt-in", namespaces: CHOSEN },
  schedules: [
    { name: "daily", cron: "0 2 * * *", ttl: "720h" },
    { name: "apps", cron: "0 3 * * 0", ttl: "8640h", includedNamespaces: ["a", "c"] },
    { name: "only-c", cron: "0 4 1 * *", ttl: "8760h", includedNamespaces: ["c"] },
  ],
};

/** True when a Schedule template can copy the volumes of a pod in `ns` without an annotation. */
function copiesVolumesByDefault(template: any, ns: string): boolean {
  if (template.defaultVolumesToFsBackup !== true) return false;
  if (
    template.includedNamespaces &&
    !template.includedNamespaces.includes(ns) &&
    !template.includedNamespaces.includes("*")
  )
    return false;
  if (template.excludedNamespaces?.includes(ns)) return false;
  return true;
}

describe("Velero fsBackup opt-in (mock runtime)", () => {
  let rec: RecordingMocks;
  const options = new Map<string, { dependencies: string[] }>();
  beforeAll(async () => {
    rec = recordingMocks();
    await installMocks(rec);
    const monitor: any = (pulumi.runtime as any).getMonitor();
    const inner = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req: any, cb: any) => {
      options.set(req.getName(), { dependencies: req.getDependenciesList() });
      return inner(req, cb);
    };
    const { Velero } = await import("../../components/velero/velero.js");
    const stack = stackOf({ hub: piHub, velero });
    const credentials = { accessKeyId: pulumi.secret("AKVELERO"), secretAccessKey: pulumi.secret("velero-secret-key") };
    new Velero("velero", { config: stack.velero!, hub: hubConnection(stack.hub!), credentials });
    const other = stackOf({ hub: piHub, velero: { namespace: "velero2", install: false } });
    new Velero("given", {
      config: other.velero!,
      hub: hubConnection(other.hub!),
      credentials,
      repositoryPassword: pulumi.secret("my-own-kopia-password"),
    });
    await settle();
  });
  const schedules = () =>
    rec
      .byType("kubernetes:velero.io/v1:Schedule")
      .map((r) => unwrapSecrets(r.inputs))
      .filter((s) => s.metadata.namespace === "velero");

  it("renders no Schedule that copies volumes outside a and b", () => {
    const all = schedules();
    expect(all.map((s) => s.metadata.name).sort()).toEqual([
      "apps",
      "apps-volumes",
      "daily",
      "daily-volumes",
      "only-c",
    ]);
    for (const s of all) expect(validateCustomResource(s), s.metadata.name).toEqual([]);
    for (const ns of ["c", "d", "default", "kube-system", "velero"]) {
      for (const s of all)
        expect(copiesVolumesByDefault(s.spec.template, ns), `${s.metadata.name} copies ${ns}`).toBe(false);
    }
    // ...while a and b are copied, each by exactly one Schedule per configured schedule that covers it.
    const byName = new Map(all.map((s) => [s.metadata.name, s.spec.template]));
    expect(copiesVolumesByDefault(byName.get("daily-volumes"), "a")).toBe(true);
    expect(copiesVolumesByDefault(byName.get("daily-volumes"), "b")).toBe(true);
    expect(copiesVolumesByDefault(byName.get("apps-volumes"), "a")).toBe(true);
    expect(byName.get("apps-volumes").includedNamespaces).toEqual(["a"]);
    // Every Schedule says it explicitly, so a server-wide default cannot widen it.
    for (const s of all) expect(typeof s.spec.template.defaultVolumesToFsBackup, s.metadata.name).toBe("boolean");
  });

  it("backs up the same objects as configured: the split Schedules' namespaces add up, and a and b stay out of the annotated-only one", () => {
    const byName = new Map(schedules().map((s) => [s.metadata.name, s.spec.template]));
    expect(byName.get("daily").excludedNamespaces).toEqual(expect.arrayContaining(["a", "b", "kube-system"]));
    expect(byName.get("daily").includedNamespaces).toBeUndefined();
    expect(byName.get("apps").includedNamespaces).toEqual(["c"]);
    expect(byName.get("only-c")).toMatchObject({ includedNamespaces: ["c"], defaultVolumesToFsBackup: false });
    expect(veleroSchedules(stackOf({ hub: piHub, velero }).velero!).map((s) => s.configured)).toEqual([
      "daily",
      "daily",
      "apps",
      "apps",
      "only-c",
    ]);
  });

  it("keeps the Kopia repository password in velero-repo-credentials as a secret, generated, never the default, before the release", () => {
    const raw = rec.one("kubernetes:core/v1:Secret", "velero-repository-password");
    expect(pulumi.runtime.isRpcSecret(raw.inputs.stringData)).toBe(true);
    const secret = unwrapSecrets(raw.inputs);
    expect(secret.metadata).toMatchObject({ name: "velero-repo-credentials", namespace: "velero" });
    const password = secret.stringData["repository-password"];
    expect(password).toMatch(/^[A-Za-z0-9]{40}$/);
    expect(password).not.toBe("static-passw0rd");
    expect(rec.byType("random:index/randomPassword:RandomPassword").map((r) => r.name)).toContain(
      "velero-repository-password",
    );
    expect(
      options
        .get("velero-release")!
        .dependencies.some((u) => u.endsWith("::velero-repository-password") && u.includes("core/v1:Secret")),
    ).toBe(true);
  });

  it("uses the configured password when given, still as a secret", () => {
    const raw = rec.one("kubernetes:core/v1:Secret", "given-repository-password");
    expect(pulumi.runtime.isRpcSecret(raw.inputs.stringData)).toBe(true);
    expect(unwrapSecrets(raw.inputs).stringData).toEqual({ "repository-password": "my-own-kopia-password" });
    expect(rec.byType("random:index/randomPassword:RandomPassword").map((r) => r.name)).not.toContain(
      "given-repository-password",
    );
  });
});

describe("velero.fsBackup in the stack file", () => {
  it("accepts true (opt-out), the object forms, and refuses namespaces with opt-out", () => {
    expect(stackOf({ hub: piHub, velero: { fsBackup: true } }).velero!.fsBackup).toEqual({ mode: "opt-out" });
    expect(stackOf({ hub: piHub, velero: { fsBackup: { mode: "opt-in" } } }).velero!.fsBackup).toEqual({
      mode: "opt-in",
      namespaces: [],
    });
    expect(() => stackOf({ hub: piHub, velero: { fsBackup: { mode: "opt-out", namespaces: ["a"] } } })).toThrow(
      /velero\.fsBackup\.namespaces/,
    );
    expect(() => stackOf({ hub: piHub, velero: { fsBackup: { mode: "some" } } })).toThrow(/velero\.fsBackup/);
  });
  it("refuses a schedule name too long for its -volumes Schedule", () => {
    const name = "x".repeat(60);
    expect(() =>
      stackOf({
        hub: piHub,
        velero: {
          fsBackup: { mode: "opt-in", namespaces: ["a"] },
          schedules: [{ name, cron: "0 2 * * *", ttl: "24h" }],
        },
      }),
    ).toThrow(/velero\.schedules\[0\]\.name/);
  });
});
