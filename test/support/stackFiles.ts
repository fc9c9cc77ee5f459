/** Stack files for program-level tests and benchmarks, built the way users write them. */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { readStackFile, type StackFile } from "../../tools/render.js";

export const REPO = path.resolve(__dirname, "../..");
export const EXAMPLE_STACK = path.join(REPO, "Pulumi.homelab.yaml");

export function exampleStack(): StackFile {
  return readStackFile(EXAMPLE_STACK);
}

/** The example stack file's YAML text. */
export function exampleStackText(): string {
  return readFileSync(EXAMPLE_STACK, "utf8");
}

/**
 * A large stack as YAML: `databases` PostgreSQL databases (spread across the window), two PVCs per
 * database on the Longhorn jobs, and `schedules` Velero schedules, on an AWS hub with alerts.
 */
export function largeStackYaml(databases: number, pvcs: number, schedules: number): string {
  const dbs = Array.from(
    { length: databases },
    (_, i) =>
      `      - { name: db-${i}, namespace: ns-${i % 50}, host: pg-${i % 25}, passwordSecret: { name: pg-${i}, key: password } }`,
  );
  const claims = Array.from({ length: pvcs }, (_, i) => `          - { namespace: ns-${i % 50}, name: data-${i} }`);
  const velero = Array.from(
    { length: schedules },
    (_, i) => `      - { name: s-${i}, cron: "${i % 60} ${i % 24} * * *", ttl: 720h }`,
  );
  return [
    "config:",
    "  homelab-backup:hub:",
    "    kind: aws",
    "    bucket: bench-backups",
    "    region: eu-central-1",
    "  homelab-backup:longhorn:",
    "    recurringJobs:",
    "      - name: nightly",
    '        cron: "0 5 * * *"',
    "        task: backup",
    "        retain: 14",
    "        fullBackupInterval: 7",
    "        pvcs:",
    ...claims,
    "  homelab-backup:postgres:",
    '    window: { start: "01:00", end: "05:00" }',
    "    databases:",
    ...dbs,
    "  homelab-backup:velero:",
    "    schedules:",
    ...velero,
    "  homelab-backup:etcd: {}",
    "  homelab-backup:alerts: {}",
    "",
  ].join("\n");
}
