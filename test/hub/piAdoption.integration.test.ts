/**
 * A Pi hub configured by the former mcli step (`configure-bucket.sh`) moves to the API path with no key
 * changed. The madmin stand-in (test/support/madminStandIn.ts: madmin for Silo, RustFS's madmin alias for
 * RustFS over plain http) is loaded as that step left the server: one user `<writer>-backup` per writer with
 * PiHub's secret, holding the canned policy `homelab-backup-<writer>` (an older document). Then the example
 * stack's S3HubWriter registrations, pointed at the stand-in, run through the SDK's dynamic-provider host as
 * `pulumi up` runs them (test/support/dynamicProviderHost.ts createAndRefresh: check, create, refresh, and a
 * preview that finds no change).
 *
 * Afterwards every user keeps its secret key, holds exactly its own policy under the same name (replaced in
 * place with the stack's document), and no user was added or removed.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writerAccessKey, writerPolicyName } from "../../components/hub/pi/piHubSteps.js";
import { runProgram } from "../../tools/harness.js";
import { standIn, unwrapSecrets, type RecordedResource } from "../../tools/mocks.js";
import { readStackFile } from "../../tools/render.js";
import {
  createAndRefresh,
  startDynamicProviderHost,
  type DynamicProviderHost,
} from "../support/dynamicProviderHost.js";
import { startMadminStandIn, type MadminStandIn } from "../support/madminStandIn.js";
import { EXAMPLE_STACK } from "../support/stackFiles.js";

const ADMIN = { accessKeyId: "homelab-admin", secretAccessKey: "stand-in-admin-password" };
const WRITER = "pulumi-nodejs:dynamic/homelab-backup:S3HubWriter";
/** The alphabet of PiHub's RandomPassword (special: false) in the offline engine's stand-ins (tools/mocks.ts). */
const PASSWORD_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
/** What the mcli step attached: a document other than the stack's, so the replacement in place shows. */
const OLD_POLICY = JSON.stringify({
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Action: ["s3:GetObject"], Resource: ["arn:aws:s3:::homelab-backups/*"] }],
});

type Server = "silo" | "rustfs";
const SERVERS: readonly Server[] = ["silo", "rustfs"];
let host: DynamicProviderHost;
const stands = new Map<Server, MadminStandIn>();
const writers = new Map<Server, RecordedResource[]>();

/** The example stack (a Pi hub) with its server at the stand-in, over plain http on loopback. */
async function registrations(server: Server, endpoint: string): Promise<RecordedResource[]> {
  const file = readStackFile(EXAMPLE_STACK);
  const hub = JSON.parse(file.config["homelab-backup:hub"]);
  const { hostname, port } = new URL(endpoint);
  delete hub.objectLock;
  const config = {
    ...file.config,
    "homelab-backup:hub": JSON.stringify({
      ...hub,
      server,
      host: hostname,
      port: Number(port),
      consolePort: Number(port) + 1,
      tls: false,
      allowPlainHttp: true,
    }),
    "homelab-backup:hubAdminPassword": ADMIN.secretAccessKey,
  };
  const run = await runProgram(config, [...file.secretKeys]);
  return run.rec.resources.filter((r) => r.type === WRITER);
}

beforeAll(async () => {
  host = await startDynamicProviderHost();
  for (const server of SERVERS) {
    const stand = await startMadminStandIn(ADMIN, server === "silo" ? "madmin" : "rustfs-madmin");
    stands.set(server, stand);
    const rs = await registrations(server, stand.endpoint);
    writers.set(server, rs);
    // The server as configure-bucket.sh left it: one user per writer with PiHub's secret and its policy.
    for (const r of rs) {
      const w = r.name.replace(/^hub-s3-/, "") as Parameters<typeof writerAccessKey>[0];
      stand.policies.set(writerPolicyName(w), OLD_POLICY);
      stand.users.set(writerAccessKey(w), {
        secretKey: standIn(`hub-pi-${w}-secret-key/result`, 40, PASSWORD_ALPHABET),
        status: "enabled",
        policies: [writerPolicyName(w)],
      });
    }
  }
}, 600_000);

afterAll(async () => {
  await host?.stop();
  for (const s of stands.values()) await s.stop();
}, 60_000);

describe.each(SERVERS)("a Pi hub on %s configured by the mcli step, adopted by the API path", (server) => {
  it("registers one S3HubWriter per writer in use, with <writer>-backup, PiHub's secret and homelab-backup-<writer>", () => {
    const rs = writers.get(server)!;
    expect(rs.length).toBeGreaterThan(0);
    for (const r of rs) {
      const w = r.name.replace(/^hub-s3-/, "") as Parameters<typeof writerAccessKey>[0];
      const req = unwrapSecrets(r.inputs.request);
      expect(req.flavor).toBe(server);
      expect(req.target.endpoint).toBe(stands.get(server)!.endpoint);
      expect(req.userName).toBe(writerPolicyName(w));
      expect(req.key.accessKeyId).toBe(writerAccessKey(w));
      expect(req.key.secretAccessKey).toBe(stands.get(server)!.users.get(writerAccessKey(w))!.secretKey);
    }
  });

  it(
    "create keeps every key, replaces each policy in place, removes no user; a preview after finds no change",
    { timeout: 300_000 },
    async () => {
      const stand = stands.get(server)!;
      const before = new Map([...stand.users].map(([k, u]) => [k, u.secretKey]));
      for (const r of writers.get(server)!) {
        const life = await createAndRefresh(host, r);
        const policy = life.inputs.request.userName as string;
        const key = life.inputs.request.key.accessKeyId as string;
        expect(stand.users.get(key), key).toEqual({
          secretKey: before.get(key),
          status: "enabled",
          policies: [policy],
        });
        expect(JSON.parse(stand.policies.get(policy)!)).toEqual(life.inputs.want.policy);
        expect(stand.policies.get(policy)).not.toBe(OLD_POLICY);
      }
      expect(new Map([...stand.users].map(([k, u]) => [k, u.secretKey]))).toEqual(before);
      expect(stand.calls.filter((c) => /remove-user/.test(c))).toEqual([]);
    },
  );
});
