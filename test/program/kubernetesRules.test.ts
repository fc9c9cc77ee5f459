/**
 * The stack file is refused, naming the configured key, wherever it would give Kubernetes, Velero or
 * Longhorn something they refuse: day-of-week 7 (robfig/cron allows 0-6) in every schedule key, and a
 * database or mirror name that makes a CronJob name longer than Kubernetes' 52 characters or a Job
 * name longer than 63, with one limit per name.
 */
import { describe, expect, it } from "vitest";
import { parseStackConfig, StackConfigError } from "../../components/config.js";
import { exampleStack } from "../support/stackFiles.js";

/** The example stack's config with one section edited. */
function withSection(section: string, edit: (s: any) => void): Record<string, string> {
  const { config } = exampleStack();
  const key = `homelab-backup:${section}`;
  const value = JSON.parse(config[key]);
  edit(value);
  return { ...config, [key]: JSON.stringify(value) };
}

function problems(config: Record<string, string>): string {
  try {
    parseStackConfig(config);
  } catch (e) {
    if (e instanceof StackConfigError) return e.message;
    throw e;
  }
  return "";
}

const SCHEDULE_KEYS: [section: string, path: string, set: (s: any, v: string) => void][] = [
  ["longhorn", "longhorn.recurringJobs[0].cron", (s, v) => (s.recurringJobs[0].cron = v)],
  ["postgres", "postgres.databases[0].schedule", (s, v) => (s.databases[0].schedule = v)],
  ["postgres", "postgres.restoreDrill.schedule", (s, v) => (s.restoreDrill.schedule = v)],
  ["etcd", "etcd.schedule", (s, v) => (s.schedule = v)],
  ["velero", "velero.schedules[0].cron", (s, v) => (s.schedules[0].cron = v)],
  ["buckets", "buckets.mirrors[0].schedule", (s, v) => (s.mirrors[0].schedule = v)],
  ["offsite", "offsite.schedule", (s, v) => (s.schedule = v)],
];

describe("schedules Kubernetes, Velero and Longhorn accept", () => {
  it("the example stack passes", () => {
    expect(problems(exampleStack().config)).toBe("");
  });

  describe.each(SCHEDULE_KEYS)("%s: %s", (section, keyPath, set) => {
    it.each(["0 3 * * 7", "0 3 * * 5-7", "0 3 * * 1,7"])("refuses %s naming the key", (schedule) => {
      const msg = problems(withSection(section, (s) => set(s, schedule)));
      expect(msg).toContain(
        `${keyPath}: must be a 5-field cron expression in UTC: "${schedule}": day of week 7 is not accepted by Kubernetes, Velero or Longhorn`,
      );
    });

    it("accepts 0 for Sunday", () => {
      expect(problems(withSection(section, (s) => set(s, "0 3 * * 0")))).toBe("");
    });
  });
});

/** Renames the example's first database, in the drill's list too. */
const renameFirstDatabase = (s: any, name: string) => {
  const old = s.databases[0].name;
  s.databases[0].name = name;
  if (s.restoreDrill?.databases)
    s.restoreDrill.databases = s.restoreDrill.databases.map((n: string) => (n === old ? name : n));
};

/** The lines of a StackConfigError message that are about one key. */
const linesAbout = (msg: string, key: string) => msg.split("\n").filter((l) => l.includes(`${key}:`));

describe("names within Kubernetes' limits: one limit per name, stated once", () => {
  it("refuses a drilled database name that makes pg-restore-drill-<name> longer than 52, naming the key", () => {
    const name = "d".repeat(36);
    const msg = problems(withSection("postgres", (s) => renameFirstDatabase(s, name)));
    expect(linesAbout(msg, "postgres.databases[0].name")).toEqual([
      expect.stringContaining(
        `postgres.databases[0].name: "${name}" is 36 characters; use at most 35: it makes the CronJob name "pg-restore-drill-${name}" (53 characters), and Kubernetes refuses CronJob names over 52`,
      ),
    ]);
  });

  it("a long database name gets exactly one limit, the tightest of every name made from it", () => {
    const name = "d".repeat(70);
    const msg = problems(withSection("postgres", (s) => renameFirstDatabase(s, name)));
    const lines = linesAbout(msg, "postgres.databases[0].name");
    expect(lines).toHaveLength(1);
    // The limit is said once: no other number of characters appears as a limit.
    expect([...lines[0].matchAll(/at most (\d+)/g)].map((m) => m[1])).toEqual(["35"]);
  });

  it("an undrilled database is limited by the restore Job name pg-restore-<name>-<10 digits> (63)", () => {
    const undrilled = (n: string) =>
      withSection("postgres", (s) => {
        renameFirstDatabase(s, n);
        s.restoreDrill.databases = s.databases.slice(1).map((d: any) => d.name);
      });
    expect(problems(undrilled("d".repeat(41)))).toBe("");
    expect(linesAbout(problems(undrilled("d".repeat(42))), "postgres.databases[0].name")).toEqual([
      expect.stringContaining(
        `"${"d".repeat(42)}" is 42 characters; use at most 41: it makes the Job name "pg-restore-${"d".repeat(42)}-1111111111" (64 characters), and Kubernetes refuses Job names over 63`,
      ),
    ]);
  });

  it("accepts 35 characters for a drilled database", () => {
    expect(problems(withSection("postgres", (s) => renameFirstDatabase(s, "d".repeat(35))))).toBe("");
  });

  it("refuses a mirror name that makes bucket-mirror-<name> longer than 52, naming the key once", () => {
    const name = "m".repeat(39);
    const msg = problems(withSection("buckets", (s) => (s.mirrors[0].name = name)));
    expect(linesAbout(msg, "buckets.mirrors[0].name")).toEqual([
      expect.stringContaining(
        `buckets.mirrors[0].name: "${name}" is 39 characters; use at most 38: it makes the CronJob name "bucket-mirror-${name}" (53 characters), and Kubernetes refuses CronJob names over 52`,
      ),
    ]);
    expect(problems(withSection("buckets", (s) => (s.mirrors[0].name = "m".repeat(38))))).toBe("");
    expect(
      linesAbout(
        problems(withSection("buckets", (s) => (s.mirrors[0].name = "m".repeat(80)))),
        "buckets.mirrors[0].name",
      ),
    ).toHaveLength(1);
  });
});
