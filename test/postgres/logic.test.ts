/** Pure functions of components/postgres/logic.ts: schedules, container environment, runbook, plan. */
import { describe, expect, it } from "vitest";
import { parseStackConfig, type PostgresConfig, type StackConfig } from "../../components/config.js";
import { fixedMinuteOfDay } from "../../components/core/cron.js";
import { DEFAULT_ACTIVE_DEADLINE_SECONDS } from "../../components/core/cronJob.js";
import { hubConnection } from "../../components/core/hubConnection.js";
import {
  DUMP_CPU_LIMIT,
  dumpEnv,
  dumpSchedules,
  drillCheckFiles,
  rcloneHubEnv,
  RESTORE_JOB,
  restoreJobCommands,
  restoreRunbook,
  serverOf,
} from "../../components/postgres/logic.js";
import { postgresPlan } from "../../components/postgres/plan.js";
import { stackWatches } from "../../components/model.js";

const HUB_PI = { kind: "pi", bucket: "backups", host: "hub.lan", dataDir: "/mnt/backups", ssh: { user: "pi" } };

function stack(postgres: Record<string, unknown>, hub: Record<string, unknown> = HUB_PI): StackConfig {
  return parseStackConfig({
    "homelab-backup:hub": hub,
    "homelab-backup:postgres": postgres,
    ...(hub.kind === "pi" ? { "homelab-backup:hubSshPrivateKey": "key" } : {}),
  });
}

function db(name: string, host = `${name}-pg`, extra: Record<string, unknown> = {}) {
  return { name, namespace: name, host, passwordSecret: { name: `${name}-pg`, key: "password" }, ...extra };
}

const minuteOf = (s: Map<string, string>, n: string) => fixedMinuteOfDay(s.get(n)!)!;

describe("dumpSchedules", () => {
  it("keeps configured schedules and spreads the others evenly across the window", () => {
    const pg = stack({
      window: { start: "03:00", end: "05:00" },
      databases: [db("a"), db("b", "b-pg", { schedule: "30 2 * * *" }), db("c"), db("d"), db("e")],
    }).postgres!;
    const s = dumpSchedules(pg);
    expect(s.get("b")).toBe("30 2 * * *");
    expect(["a", "c", "d", "e"].map((n) => s.get(n))).toEqual(["0 3 * * *", "30 3 * * *", "0 4 * * *", "30 4 * * *"]);
  });

  it("never puts two dumps of one server at the same minute and interleaves servers", () => {
    const shared = "shared-pg.databases.svc";
    const dbs = [
      db("a1", shared),
      db("a2", shared),
      db("a3", shared),
      db("b1", "other.databases.svc"),
      db("b2", "other.databases.svc"),
      db("c", "c-pg"),
    ];
    const s = dumpSchedules(stack({ window: { start: "01:00", end: "01:06" }, databases: dbs }).postgres!);
    const minutes = dbs.map((d) => minuteOf(s, d.name));
    expect(new Set(minutes).size).toBe(6);
    // Round-robin over servers in first-seen order: a1 b1 c a2 b2 a3, one minute apart.
    expect(["a1", "b1", "c", "a2", "b2", "a3"].map((n) => minuteOf(s, n))).toEqual([60, 61, 62, 63, 64, 65]);
  });

  it("moves a spread dump off the minute of a configured dump of the same server", () => {
    const dbs = [db("x", "pg.db.svc", { schedule: "0 3 * * *" }), db("y", "pg.db.svc")];
    const s = dumpSchedules(stack({ window: { start: "03:00", end: "04:00" }, databases: dbs }).postgres!);
    expect(s.get("y")).toBe("1 3 * * *");
    // A different server may share the minute.
    const s2 = dumpSchedules(
      stack({
        window: { start: "03:00", end: "04:00" },
        databases: [db("x", "pg.db.svc", { schedule: "0 3 * * *" }), db("z", "other.db.svc")],
      }).postgres!,
    );
    expect(s2.get("z")).toBe("0 3 * * *");
  });

  it("is deterministic and identifies a server by host (qualified with the namespace) and port", () => {
    const pg: PostgresConfig = stack({ databases: [db("a"), db("b")] }).postgres!;
    expect([...dumpSchedules(pg)]).toEqual([...dumpSchedules(pg)]);
    expect(serverOf({ namespace: "wiki", host: "pg", port: 5432 })).toBe("pg.wiki:5432");
    expect(serverOf({ namespace: "apps", host: "pg", port: 5432 })).not.toBe(
      serverOf({ namespace: "wiki", host: "pg", port: 5432 }),
    );
  });
});

describe("container environment", () => {
  it("configures rclone's hub remote per server kind, credentials only by secretKeyRef", () => {
    const aws = rcloneHubEnv(
      hubConnection(stack({ databases: [db("a")] }, { kind: "aws", bucket: "backups-123", region: "eu-west-1" }).hub!),
      "s3-secret",
    );
    const env = (list: typeof aws) => Object.fromEntries(list.map((e) => [e.name, e.value ?? e.valueFrom]));
    expect(env(aws)).toMatchObject({
      RCLONE_CONFIG_HUB_TYPE: "s3",
      RCLONE_CONFIG_HUB_PROVIDER: "AWS",
      RCLONE_CONFIG_HUB_REGION: "eu-west-1",
      RCLONE_CONFIG_HUB_FORCE_PATH_STYLE: "false",
    });
    const minio = env(rcloneHubEnv(hubConnection(stack({ databases: [db("a")] }).hub!), "s"));
    expect(minio).toMatchObject({
      RCLONE_CONFIG_HUB_PROVIDER: "Minio",
      RCLONE_CONFIG_HUB_ENDPOINT: "http://hub.lan:9000",
      RCLONE_CONFIG_HUB_FORCE_PATH_STYLE: "true",
    });
    expect(
      env(rcloneHubEnv(hubConnection(stack({ databases: [db("a")] }, { ...HUB_PI, server: "rustfs" }).hub!), "s"))
        .RCLONE_CONFIG_HUB_PROVIDER,
    ).toBe("Other");
    expect(minio.RCLONE_CONFIG_HUB_SECRET_ACCESS_KEY).toEqual({
      secretKeyRef: { name: "s", key: "secret-access-key" },
    });
    expect(minio.RCLONE_CONFIG_HUB_ACCESS_KEY_ID).toEqual({ secretKeyRef: { name: "s", key: "access-key-id" } });
  });

  it("references the database password Secret that already exists and never carries a secret as a value", () => {
    const s = stack({ databases: [db("wiki", "wiki-pg", { user: "wiki", mode: "cluster" })] });
    const env = dumpEnv(s.postgres!.databases[0], hubConnection(s.hub!), "pg-dump-wiki-s3", 3);
    const byName = Object.fromEntries(env.map((e) => [e.name, e]));
    expect(byName.PGPASSWORD).toEqual({
      name: "PGPASSWORD",
      valueFrom: { secretKeyRef: { name: "wiki-pg", key: "password" } },
    });
    expect(byName.DUMP_MODE.value).toBe("cluster");
    // `database` defaults to the name "wiki", which a whole server need not have: pg_dumpall uses postgres.
    expect(byName.PGDATABASE.value).toBe("postgres");
    expect(
      dumpEnv(stack({ databases: [db("wiki")] }).postgres!.databases[0], hubConnection(s.hub!), "x").find(
        (e) => e.name === "PGDATABASE",
      )!.value,
    ).toBe("wiki");
    expect(byName.ZSTD_LEVEL.value).toBe("3");
    // Threads follow the CPU limit: -T0 would count the node's cores, not the container's.
    expect(byName.ZSTD_THREADS.value).toBe(String(DUMP_CPU_LIMIT));
    expect(byName.GZIP_LEVEL).toBeUndefined();
    expect(byName.BACKUP_PREFIX.value).toBe("postgres-backups");
    for (const e of env)
      if (/PASSWORD|SECRET|ACCESS_KEY/.test(e.name as string)) expect(e.value, e.name as string).toBeUndefined();
  });

  it("names drill checks so they run in order and end with a semicolon", () => {
    expect(drillCheckFiles(["SELECT 1", "SELECT 2;"])).toEqual({
      "check-001.sql": "SELECT 1;\n",
      "check-002.sql": "SELECT 2;\n",
    });
  });
});

describe("lock timeout", () => {
  const lockEnv = (postgres: Record<string, unknown>, i = 0) =>
    dumpEnv(stack(postgres).postgres!.databases[i], hubConnection(stack(postgres).hub!), "x").find(
      (e) => e.name === "LOCK_TIMEOUT",
    )!.value;

  it("defaults to 2 minutes, takes a section value and a per-database override, and reaches pg_dump in ms", () => {
    expect(lockEnv({ databases: [db("a")] })).toBe("120000ms");
    expect(lockEnv({ lockTimeout: "30s", databases: [db("a"), db("b", "b-pg", { lockTimeout: "1m30s" })] })).toBe(
      "30000ms",
    );
    expect(lockEnv({ lockTimeout: "30s", databases: [db("a"), db("b", "b-pg", { lockTimeout: "1m30s" })] }, 1)).toBe(
      "90000ms",
    );
    expect(lockEnv({ databases: [db("a", "a-pg", { lockTimeout: "250ms" })] })).toBe("250ms");
  });

  it.each([
    [{ lockTimeout: "0s" }, "postgres.lockTimeout", /at least 1ms/],
    [{ lockTimeout: "2" }, "postgres.lockTimeout", /not a Go duration/],
    [{ lockTimeout: "2min" }, "postgres.lockTimeout", /not a Go duration/],
    [{ lockTimeout: "1h" }, "postgres.lockTimeout", /shorter than the dump job's one-hour deadline/],
  ])("refuses %o with a message naming %s", (extra, key, message) => {
    let error: unknown;
    try {
      stack({ databases: [db("a")], ...extra });
    } catch (e) {
      error = e;
    }
    expect(String(error)).toContain(key);
    expect(String(error)).toMatch(message);
  });

  it("names the database key of a bad override", () => {
    expect(() => stack({ databases: [db("a", "a-pg", { lockTimeout: "-5s" })] })).toThrow(
      /postgres\.databases\[0\]\.lockTimeout/,
    );
  });
});

describe("restore runbook and plan", () => {
  it("makes a Job from the dump CronJob with ACTION=restore and a new target, no retry and its own deadline, and follows its log", () => {
    const s = stack({ databases: [db("wiki"), db("all", "pg", { mode: "cluster" })] });
    const hub = hubConnection(s.hub!);
    const cmd = restoreRunbook(s.postgres!.databases[0], hub);
    const lines = cmd.split("\n");
    expect(lines[0]).toBe("job=pg-restore-wiki-$(date +%s)");
    expect(lines[1]).toBe('kubectl -n wiki create job --from=cronjob/pg-dump-wiki "$job" --dry-run=client -o yaml \\');
    expect(lines[2]).toBe("  | kubectl set env --local -f - ACTION=restore TARGET_DATABASE=wiki_restored -o yaml \\");
    const patch = JSON.parse(/-p '([^']+)'/.exec(lines[3])![1]);
    // The dump's Job may retry once within an hour; a restore must not run twice, and may take hours.
    expect(patch).toEqual({ spec: { backoffLimit: 0, activeDeadlineSeconds: 21_600 } });
    expect(RESTORE_JOB.activeDeadlineSeconds).toBeGreaterThan(DEFAULT_ACTIVE_DEADLINE_SECONDS);
    expect(lines[4]).toBe("  | kubectl -n wiki apply -f -");
    expect(lines[5]).toBe('kubectl -n wiki logs -f "job/$job" --pod-running-timeout=10m');
    expect(restoreRunbook(s.postgres!.databases[0], hub, "wiki_2")).toContain("TARGET_DATABASE=wiki_2");
    expect(restoreRunbook(s.postgres!.databases[1], hub, "new-pg.all.svc")).toContain(
      "ACTION=restore PGHOST=new-pg.all.svc",
    );
    expect(restoreJobCommands(s.postgres!.databases[0], "list")).toContain("ACTION=list -o yaml");
    expect(restoreJobCommands(s.postgres!.databases[0], "restore", { RESTORE_MODE: "replace" })).toContain(
      "ACTION=restore RESTORE_MODE=replace -o yaml",
    );
  });

  it("the plan gives, per database, the list, the restore, the swap and the in-place restore as the owner", () => {
    const s = stack({ databases: [db("wiki")] });
    const restore = postgresPlan(s, stackWatches(s)).restore;
    for (const want of [
      "ACTION=list",
      "ACTION=restore TARGET_DATABASE=wiki_restored",
      "ACTION=swap TARGET_DATABASE=wiki_restored",
      "ACTION=restore RESTORE_MODE=replace",
    ])
      expect(restore).toContain(want);
    expect(restore).toContain("no retry and its own deadline of 6h");
  });

  it("has one row per database plus the drill, with the assigned time and where dumps land", () => {
    const s = stack({
      window: { start: "03:00", end: "04:00" },
      databases: [db("wiki"), db("gitea")],
      restoreDrill: { schedule: "0 6 * * 0" },
    });
    const plan = postgresPlan(s, stackWatches(s));
    expect(plan.rows).toHaveLength(3);
    expect(plan.rows[0]).toMatchObject({
      when: "daily 03:00 UTC (`0 3 * * *`)",
      where: "s3://backups/postgres-backups/wiki/",
      retention: "7 days (hub lifecycle)",
    });
    expect(plan.rows[1].when).toBe("daily 03:30 UTC (`30 3 * * *`)");
    expect(plan.rows[2].how).toContain("pg-restore-drill-wiki, pg-restore-drill-gitea");
    expect(plan.restore).toContain("--from=cronjob/pg-dump-gitea");
    expect(plan.details).toContain(".partial/");
    expect(plan.details).toContain("<UTC timestamp>.sql.zst");
    expect(plan.rows[0].how).toMatch(/pg_dump → zstd -\d+ \(\d+ threads\)/);
  });
});
