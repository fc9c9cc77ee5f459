/**
 * Only what is used exists: a writer or reader identity (user, policy, key) is created only for a
 * section that writes to or reads from the hub, on every hub kind, and the read-only audit reader
 * whenever the hub exists (`npm run status` reads with its key); prometheus-operator objects
 * (ScrapeConfig) only with the `alerts` section, whose cluster has that operator.
 */
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { runProgram } from "../../tools/harness.js";
import { readStackFile } from "../../tools/render.js";
import { EXAMPLE_STACK, REPO } from "../support/stackFiles.js";

const AWS = readStackFile(path.join(REPO, "test/fixtures/Pulumi.aws-k3s.yaml"));
const PI = readStackFile(EXAMPLE_STACK);

/** The stack file's config with only `keep` of the homelab-backup sections (secrets kept). */
function only(file: { config: Record<string, string> }, keep: string[], extra: Record<string, unknown> = {}) {
  const config = Object.fromEntries(
    Object.entries(file.config).filter(([k]) => {
      const bare = k.replace(/^homelab-backup:/, "");
      return !k.startsWith("homelab-backup:") || /[A-Z]/.test(bare) || keep.includes(bare);
    }),
  );
  for (const [k, v] of Object.entries(extra)) config[`homelab-backup:${k}`] = JSON.stringify(v);
  return config;
}

async function identities(config: Record<string, string>, secretKeys: string[]) {
  const { rec } = await runProgram(config, secretKeys);
  const names = (type: string) => rec.byType(type).map((r) => r.name);
  return {
    users: names("aws:iam/user:User"),
    keys: names("aws:iam/accessKey:AccessKey"),
    piWriterSecrets: names("random:index/randomPassword:RandomPassword").filter((n) =>
      /^hub-pi-.*-secret-key$/.test(n),
    ),
    operatorObjects: rec.resources.filter((r) => r.type.includes("monitoring.coreos.com")).map((r) => r.name),
  };
}

describe("writer and reader identities", () => {
  it("a Velero-only AWS stack gets Velero's identity and the read-only audit reader `status` uses", async () => {
    const ids = await identities(only(AWS, ["hub", "velero"]), AWS.secretKeys);
    expect(ids.users.sort()).toEqual(["hub-audit", "hub-velero"]);
    expect(ids.keys.sort()).toEqual(["hub-audit-key", "hub-velero-key"]);
  });

  it("the audit reader exists with alerts as without, the drills reader with a drill that reads the hub", async () => {
    const withAlerts = await identities(only(AWS, ["hub", "velero", "alerts"]), AWS.secretKeys);
    expect(withAlerts.users.sort()).toEqual(["hub-audit", "hub-velero"]);
    const withDrill = await identities(
      only(AWS, ["hub", "velero"], { drills: { velero: { schedule: "0 6 * * 0", namespaces: ["wiki"] } } }),
      AWS.secretKeys,
    );
    expect(withDrill.users.sort()).toEqual(["hub-audit", "hub-drills", "hub-velero"]);
  });

  it("a Pi hub creates users only for the sections it serves, and the audit reader", async () => {
    const ids = await identities(only(PI, ["hub", "velero", "postgres"]), PI.secretKeys);
    expect(ids.piWriterSecrets.sort()).toEqual([
      "hub-pi-audit-secret-key",
      "hub-pi-postgres-secret-key",
      "hub-pi-velero-secret-key",
    ]);
  });
});

describe("prometheus-operator objects", () => {
  it("a Pi stack without alerts creates none (with alerts, the next case shows the same hub has scrape targets)", async () => {
    expect((await identities(only(PI, ["hub", "velero"]), PI.secretKeys)).operatorObjects).toEqual([]);
  });

  it("with alerts, the hub's scrape targets are ScrapeConfig objects", async () => {
    const ids = await identities(only(PI, ["hub", "velero", "alerts"]), PI.secretKeys);
    expect(ids.operatorObjects.filter((n) => n.startsWith("hub-")).length).toBeGreaterThan(0);
  });
});
