/**
 * robfig/cron v3 `ParseStandard`, the parser Kubernetes CronJobs, Velero Schedules and Longhorn
 * RecurringJobs all use, run for real: `robfig-cron/main.go` is built offline with Debian's Go
 * (golang-1.19-go) against Debian's golang-github-robfig-cron-dev (v3.0.1, in GOPATH mode from
 * /usr/share/gocode) the first time a test needs it, and cached by the source's hash in the temp dir.
 */
import { spawn } from "node:child_process";
import * as path from "node:path";
import { goHelperBinary } from "./goHelper.js";

const SOURCE_DIR = path.join(__dirname, "robfig-cron");

export interface RobfigResult {
  /** The parser's error message; "" when the schedule is accepted. */
  readonly error: string;
  /** The next runs after the `from` time, in UTC (fewer when the schedule never fires). */
  readonly next: Date[];
}

/** Builds the helper once (per source content) and returns the binary's path. */
export function robfigBinary(): Promise<string> {
  return goHelperBinary(SOURCE_DIR, "robfig-cron", 300_000);
}

/** Parses every schedule with robfig/cron's ParseStandard and returns, per schedule, its verdict and next `count` runs. */
export async function robfigParse(
  schedules: readonly string[],
  from: Date,
  count = 5,
): Promise<Map<string, RobfigResult>> {
  for (const s of schedules) if (s.includes("\n")) throw new Error(`schedule ${JSON.stringify(s)} spans lines`);
  const bin = await robfigBinary();
  const stdout = await new Promise<string>((resolve, reject) => {
    const child = spawn(bin, [from.toISOString().replace(/\.\d{3}Z$/, "Z"), String(count)], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    child.on("error", reject);
    child.on("exit", (code) =>
      code === 0 ? resolve(out) : reject(new Error(`robfig-cron exited with ${code}: ${err}`)),
    );
    child.stdin.end(schedules.map((s) => `${s}\n`).join(""));
  });
  const results = new Map<string, RobfigResult>();
  for (const line of stdout.split("\n").filter(Boolean)) {
    const r = JSON.parse(line) as { expr: string; error: string; next: string[] };
    results.set(r.expr, { error: r.error, next: r.next.map((t) => new Date(t)) });
  }
  if (schedules.some((s) => !results.has(s))) throw new Error("robfig-cron did not answer for every schedule");
  return results;
}

/** Every schedule in a set of Kubernetes objects: CronJob and Velero Schedule `spec.schedule`, Longhorn RecurringJob `spec.cron`. */
export function schedulesOf(objects: readonly any[]): { where: string; schedule: string }[] {
  const out: { where: string; schedule: string }[] = [];
  for (const o of objects) {
    const where = `${o?.kind} ${o?.metadata?.namespace ? `${o.metadata.namespace}/` : ""}${o?.metadata?.name}`;
    if (
      (o?.kind === "CronJob" || (o?.kind === "Schedule" && String(o?.apiVersion).startsWith("velero.io/"))) &&
      typeof o.spec?.schedule === "string"
    )
      out.push({ where, schedule: o.spec.schedule });
    if (o?.kind === "RecurringJob" && typeof o.spec?.cron === "string") out.push({ where, schedule: o.spec.cron });
  }
  return out;
}
