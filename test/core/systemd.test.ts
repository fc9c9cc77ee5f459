/**
 * The cron → systemd calendar conversion, checked by systemd itself: for each schedule the next N
 * elapse times `systemd-analyze calendar` computes from the converted expressions must equal the next
 * N runs cron-parser computes from the cron expression.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { nextRuns } from "../../components/core/cron.js";
import {
  expandCronField,
  fillTemplate,
  renderTimerUnit,
  systemdEnvironmentLine,
  toSystemdCalendar,
} from "../../components/core/systemd.js";

const run = promisify(execFile);
const ITERATIONS = 40;

/** The next `n` elapse times systemd computes for a timer with these OnCalendar= expressions. */
async function systemdNext(calendars: string[], base: Date, n: number): Promise<number[]> {
  const times = new Set<number>();
  // One expression at a time: systemd-analyze prints each expression's own iterations; a timer with
  // several OnCalendar= lines fires at the union of them, which is what the sort below builds.
  for (const cal of calendars) {
    const { stdout } = await run(
      "systemd-analyze",
      ["calendar", `--iterations=${n}`, `--base-time=@${Math.floor(base.getTime() / 1000)}`, cal],
      { env: { ...process.env, TZ: "UTC", LC_ALL: "C" } },
    );
    const found = [...stdout.matchAll(/(?:Next elapse|Iter\. #\d+): \w{3} (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC/g)].map(
      (m) => Date.parse(`${m[1].replace(" ", "T")}Z`),
    );
    expect(found.length, `systemd-analyze output for ${cal}:\n${stdout}`).toBe(n);
    for (const t of found) times.add(t);
  }
  return [...times].sort((a, b) => a - b).slice(0, n);
}

const SCHEDULES = [
  "0 6 * * *", // the daily off-site copy
  "*/15 2-4 * * 1-5",
  "0 4 1 * *",
  "30 3 * * 0",
  "0 0 1,15 * 1", // dom and dow both restricted: cron runs on the 1st, the 15th AND every Monday
  "0 0 13 * 5",
  "0 0 */2 * 1",
  "5,35 */6 * JAN-MAR/2 *",
  "0 12 * * MON-FRI",
  "0 1 * * 0,5,6", // Friday to Sunday (7 for Sunday is refused: robfig/cron allows 0-6)
  "0 2 1-7 * SUN",
  "0 3 ? * 6",
  "10 4 29 2 *", // leap days only
  "0 22 L/5 * *".replace("L/5", "25/3"), // 25, 28, 31
  "* 3 * * *",
  "0 0 31 */2 *",
];

describe("toSystemdCalendar", () => {
  it.each(SCHEDULES)("%s: systemd's next elapse times equal cron's next runs", async (cron) => {
    const calendars = toSystemdCalendar(cron);
    for (const base of [new Date("2026-11-23T12:34:56Z"), new Date("2027-02-27T23:59:00Z")]) {
      const expected = nextRuns(cron, base, ITERATIONS).map((d) => d.getTime());
      const actual = await systemdNext(calendars, base, ITERATIONS);
      expect(actual.map((t) => new Date(t).toISOString())).toEqual(expected.map((t) => new Date(t).toISOString()));
    }
  });

  it("gives the off-site default schedule as a daily 06:00 UTC calendar, not the cron string", () => {
    expect(toSystemdCalendar("0 6 * * *")).toEqual(["*-*-* 06:00:00 UTC"]);
  });

  it("needs two expressions exactly when both day fields are restricted", () => {
    expect(toSystemdCalendar("0 0 1,15 * 1")).toHaveLength(2);
    expect(toSystemdCalendar("0 0 1,15 * *")).toHaveLength(1);
    expect(toSystemdCalendar("0 0 * * 1")).toHaveLength(1);
  });

  it("a cron string passed to systemd unconverted is rejected by systemd (the bug this conversion prevents)", async () => {
    await expect(
      run("systemd-analyze", ["calendar", "0 6 * * *"], { env: { ...process.env, TZ: "UTC" } }),
    ).rejects.toThrow();
  });

  it("rejects invalid cron", () => {
    expect(() => toSystemdCalendar("0 6 * *")).toThrow(/5/);
    expect(() => toSystemdCalendar("61 6 * * *")).toThrow();
  });

  it("expands fields like cron", () => {
    expect(expandCronField("1-10/3", 0)).toEqual([1, 4, 7, 10]);
    expect(expandCronField("5/20", 0)).toEqual([5, 25, 45]);
    expect(expandCronField("FRI-7", 4)).toEqual([0, 5, 6]);
    expect(expandCronField("jan,DEC", 3)).toEqual([1, 12]);
  });
});

describe("unit templates", () => {
  const template = "[Timer]\nOnCalendar=@ON_CALENDAR@\nUnit=@UNIT@\n";

  it("writes one OnCalendar= line per expression", () => {
    const text = renderTimerUnit(template, "0 0 1,15 * 1", { UNIT: "x.service" });
    expect(text.match(/^OnCalendar=/gm)).toHaveLength(2);
    expect(text).toContain("Unit=x.service");
  });

  it("refuses missing or unused placeholders", () => {
    expect(() => fillTemplate("a=@A@ b=@B@", { A: "1" })).toThrow(/@B@/);
    expect(() => fillTemplate("a=@A@", { A: "1", C: "3" })).toThrow(/@C@/);
    expect(() => renderTimerUnit("[Timer]\n", "0 6 * * *")).toThrow(/OnCalendar/);
  });

  it("escapes systemd specifiers and quotes in Environment=", () => {
    expect(systemdEnvironmentLine("A", 'x%y"z\\')).toBe('Environment="A=x%%y\\"z\\\\"');
    expect(() => systemdEnvironmentLine("A", "x\ny")).toThrow();
  });
});
