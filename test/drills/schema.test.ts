/**
 * The drills section of the stack file: each drill needs the class it proves, `drills.postgres` is
 * `postgres.restoreDrill` under its new name (one of the two), and defaults are applied.
 */
import { describe, expect, it } from "vitest";
import { parseStackConfig, StackConfigError } from "../../components/config.js";

const base = {
  "homelab-backup:hub": JSON.stringify({ kind: "aws", bucket: "my-homelab-backups" }),
  "homelab-backup:postgres": JSON.stringify({
    databases: [{ name: "wiki", namespace: "wiki", host: "pg", passwordSecret: { name: "pg", key: "password" } }],
  }),
  "homelab-backup:etcd": "{}",
};
const problems = (raw: Record<string, string>) => {
  try {
    parseStackConfig(raw);
    return [];
  } catch (e) {
    if (!(e instanceof StackConfigError)) throw e;
    return e.problems.map((p) => `${p.path}: ${p.message}`);
  }
};

describe("drills section", () => {
  it("applies defaults: weekly schedules, the homelab-drills namespace, sample sizes", () => {
    const s = parseStackConfig({ ...base, "homelab-backup:drills": JSON.stringify({ etcd: {} }) });
    expect(s.drills).toEqual({ namespace: "homelab-drills", etcd: { schedule: "30 7 * * 0", minKeys: 1 } });
  });

  it("refuses a drill for a class the stack does not back up, naming the key", () => {
    const p = problems({
      ...base,
      "homelab-backup:drills": JSON.stringify({ velero: { namespaces: ["wiki"] }, buckets: {} }),
    });
    expect(p).toEqual([
      "drills.velero: needs the homelab-backup:velero section: there is nothing to restore",
      "drills.buckets: needs at least one buckets.mirrors entry: there is nothing to restore",
    ]);
  });

  it("takes drills.postgres as the PostgreSQL restore drill, and refuses it beside postgres.restoreDrill", () => {
    const s = parseStackConfig({
      ...base,
      "homelab-backup:drills": JSON.stringify({ postgres: { schedule: "0 5 * * 6" } }),
    });
    expect(s.postgres!.restoreDrill).toMatchObject({ schedule: "0 5 * * 6", databases: ["wiki"] });
    expect(s.postgres!.restoreDrill!.checks).toHaveLength(1);
    const both = JSON.parse(base["homelab-backup:postgres"]);
    both.restoreDrill = {};
    const p = problems({
      ...base,
      "homelab-backup:postgres": JSON.stringify(both),
      "homelab-backup:drills": JSON.stringify({ postgres: {} }),
    });
    expect(p).toEqual(["drills.postgres: and postgres.restoreDrill are the same drill: keep one of them"]);
  });

  it("names bad values by key: an unknown database, a bad RTO target", () => {
    const p = problems({
      ...base,
      "homelab-backup:drills": JSON.stringify({ postgres: { databases: ["wikki"] }, etcd: { rtoTarget: "15" } }),
    });
    expect(p).toContain(
      'drills.postgres.databases[0]: names database "wikki", which is not in postgres.databases; did you mean "wiki"?',
    );
    expect(p.some((x) => x.startsWith("drills.etcd.rtoTarget: "))).toBe(true);
  });
});

describe("the drills identity on the hub", () => {
  it("reads only the prefixes the configured drills read and puts only its results under status/drills/; no drill reading the hub, no read", async () => {
    const { writerPolicy } = await import("../../components/hub/iam.js");
    const { drillReadPrefixes } = await import("../../components/drills/logic.js");
    const s = parseStackConfig({ ...base, "homelab-backup:drills": JSON.stringify({ etcd: {} }) });
    const doc = writerPolicy("drills", "b", { drillPrefixes: drillReadPrefixes(s.drills!, undefined) });
    const allowed = doc.Statement.filter((x) => x.Effect === "Allow");
    expect(allowed.flatMap((x) => x.Action).sort()).toEqual(["s3:GetObject", "s3:ListBucket", "s3:PutObject"]);
    expect(doc.Statement[0].Resource).toEqual(["arn:aws:s3:::b/etcd-snapshots/*"]);
    expect(allowed.find((x) => x.Action.includes("s3:PutObject"))!.Resource).toEqual([
      "arn:aws:s3:::b/status/drills/*",
    ]);
    const none = writerPolicy("drills", "b", {});
    expect(none.Statement.filter((x) => x.Effect === "Allow").flatMap((x) => x.Resource)).toEqual([
      "arn:aws:s3:::b/status/drills/*",
    ]);
    expect(none.Statement.find((x) => x.Effect === "Deny" && x.Action.includes("s3:GetObject"))).toBeDefined();
  });
});

describe("drills.longhorn.pvcs", () => {
  const withLonghorn = (pvcs: unknown[]) => ({
    ...base,
    "homelab-backup:longhorn": JSON.stringify({
      recurringJobs: [{ name: "nightly", cron: "0 3 * * *", task: "backup", retain: 7 }],
    }),
    "homelab-backup:drills": JSON.stringify({ longhorn: { pvcs } }),
  });

  it('accepts a PVC as "namespace/name" or as {namespace, name}, the form longhorn.pvcs uses', () => {
    const s = parseStackConfig(withLonghorn(["wiki/wiki-data", { namespace: "traefik", name: "traefik-acme" }]));
    expect(s.drills?.longhorn?.pvcs).toEqual(["wiki/wiki-data", "traefik/traefik-acme"]);
  });

  it("refuses anything else, naming the element", () => {
    expect(problems(withLonghorn(["wiki-data"]))).toEqual([
      'drills.longhorn.pvcs[0]: must be a PVC as "namespace/name"',
    ]);
    expect(problems(withLonghorn([{ namespace: "wiki" }])).length).toBeGreaterThan(0);
  });
});
