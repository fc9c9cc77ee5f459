/**
 * The project's schedule validator against robfig/cron v3 itself (test/support/robfigCron.ts): on
 * every edge case below both must give the same verdict, and where both accept, the project's run
 * times must be robfig's. The few schedules the project refuses although robfig accepts are listed
 * with the reason, and robfig must still accept them (so the list stays true).
 */
import { describe, expect, it } from "vitest";
import { cronError, nextRuns } from "../../components/core/cron.js";
import { robfigParse } from "../support/robfigCron.js";

const FROM = new Date(Date.UTC(2026, 0, 1, 0, 0, 0));

/** Schedules both must accept. */
const BOTH_ACCEPT = [
  "0 3 * * *",
  "0 3 * * 0",
  "0 3 * * 6",
  "0 3 * * 0-6",
  "0 3 * * 1-5",
  "0 3 * * 1,3,5",
  "0 3 * * */2",
  "0 3 * * 1-6/2",
  "0 3 * * */7",
  "0 3 * * SUN",
  "0 3 * * sun",
  "0 3 * * MON-FRI",
  "0 3 * * SAT,SUN",
  "0 3 * * MON-FRI/2",
  "0 3 ? * MON",
  "0 3 1 * ?",
  "0 3 * JAN-MAR *",
  "0 3 1 jan,jul *",
  "0 3 1 */3 *",
  "0 3 1 1-12 *",
  "*/15 * * * *",
  "0/15 * * * *",
  "5-55/10 * * * *",
  "59 23 31 12 *",
  "0 0 29 2 *",
  "0 0 1 1 *",
  "00 03 * * *",
  "0 3 * * 00",
  "  0 3 * * *  ",
  "0  3 * * *",
  "0 0-23/6 * * *",
  "15 1,13 * * *",
  "0 3 1-7 * 1",
];

/** Schedules both must refuse (robfig's message for each is printed on failure). */
const BOTH_REFUSE = [
  // Day of week 7: robfig's range is 0..6 ("end of range (7) above maximum (6)").
  "0 3 * * 7",
  "0 3 * * 07",
  "0 3 * * 5-7",
  "0 3 * * 0-7",
  "0 3 * * 1,7",
  "0 3 * * 7,1",
  "0 3 * * 7-7",
  "0 3 * * 7/1",
  "0 3 * * SUN-7",
  "0 3 * * 1-3,5-7",
  // Other bounds.
  "60 3 * * *",
  "0 24 * * *",
  "0 3 0 * *",
  "0 3 32 * *",
  "0 3 * 0 *",
  "0 3 * 13 *",
  "-1 3 * * *",
  // Syntax.
  "",
  "   ",
  "0 3 * *",
  "0 3 * * * *",
  "0 0 3 * * * *",
  "0 3 * * MON-",
  "0 3 * * FOO",
  "0 3 * * L",
  "0 3 L * *",
  "0 3 15W * *",
  "0 3 * * 5#2",
  "H 3 * * *",
  "*/0 * * * *",
  "5-1 * * * *",
  "a b c d e",
  "0 3 * * 1-2-3",
  "@reboot",
  "@fortnightly",
];

/**
 * Schedules robfig/cron accepts that the project refuses, and why: each is either outside what the
 * three controllers agree on or something whose run times the plan and alerts cannot compute.
 */
const PROJECT_STRICTER: { schedule: string; why: RegExp }[] = [
  // Descriptors: the 5-field form says the same thing and is what the plan and alerts compute with.
  { schedule: "@daily", why: /write the 5-field form "0 0 \* \* \*"/ },
  { schedule: "@midnight", why: /write the 5-field form "0 0 \* \* \*"/ },
  { schedule: "@hourly", why: /write the 5-field form "0 \* \* \* \*"/ },
  { schedule: "@weekly", why: /write the 5-field form "0 0 \* \* 0"/ },
  { schedule: "@monthly", why: /write the 5-field form "0 0 1 \* \*"/ },
  { schedule: "@yearly", why: /write the 5-field form "0 0 1 1 \*"/ },
  { schedule: "@annually", why: /write the 5-field form "0 0 1 1 \*"/ },
  // Runs relative to whenever the controller started: no fixed times, no backup window.
  { schedule: "@every 6h", why: /no fixed run times/ },
  // Kubernetes refuses a TZ/CRON_TZ prefix (validateScheduleFormat), robfig alone accepts it.
  { schedule: "CRON_TZ=UTC 0 3 * * *", why: /refused by Kubernetes/ },
  { schedule: "TZ=Europe/Berlin 0 3 * * *", why: /refused by Kubernetes/ },
  // A single start with a step: robfig runs it to Saturday (6), cron-parser to Sunday (7).
  { schedule: "0 3 * * 1/2", why: /write the range, e.g. "1-6\/2"/ },
  { schedule: "0 3 * * MON/2", why: /write the range/ },
  // `?` outside the day fields: robfig reads it as `*`; standard cron has no such thing.
  { schedule: "? 3 * * *", why: /minute/ },
  // An empty list element: robfig skips it, cron-parser does not; nobody means it.
  { schedule: "0,,5 3 * * *", why: /./ },
  // A day that never comes: robfig parses it and never fires.
  { schedule: "0 3 30 2 *", why: /./ },
  { schedule: "0 3 31 4 *", why: /./ },
];

describe("schedule validation agrees with robfig/cron v3 ParseStandard", () => {
  it("accepts what robfig accepts, with robfig's next five run times", async () => {
    const robfig = await robfigParse(BOTH_ACCEPT, FROM, 5);
    for (const s of BOTH_ACCEPT) {
      const r = robfig.get(s)!;
      expect(r.error, `robfig refuses ${JSON.stringify(s)}`).toBe("");
      expect(cronError(s), `project refuses ${JSON.stringify(s)}`).toBeUndefined();
      expect(
        nextRuns(s, FROM, 5).map((d) => d.toISOString()),
        s,
      ).toEqual(r.next.map((d) => d.toISOString()));
    }
  }, 300_000);

  it("refuses what robfig refuses", async () => {
    const robfig = await robfigParse(BOTH_REFUSE, FROM);
    for (const s of BOTH_REFUSE) {
      const r = robfig.get(s)!;
      expect(r.error, `robfig accepts ${JSON.stringify(s)}`).not.toBe("");
      expect(cronError(s), `project accepts ${JSON.stringify(s)} (robfig: ${r.error})`).toBeDefined();
    }
  }, 300_000);

  it("refuses day-of-week 7 saying 0 is Sunday", () => {
    for (const s of ["0 3 * * 7", "0 3 * * 5-7", "0 3 * * 1,7"])
      expect(cronError(s)).toMatch(
        /day of week 7 is not accepted by Kubernetes, Velero or Longhorn .*: use 0 for Sunday/,
      );
  });

  it("is stricter than robfig only where listed, for the reason given", async () => {
    const robfig = await robfigParse(
      PROJECT_STRICTER.map((c) => c.schedule),
      FROM,
    );
    for (const { schedule, why } of PROJECT_STRICTER) {
      expect(robfig.get(schedule)!.error, `robfig now refuses ${schedule}: move it to BOTH_REFUSE`).toBe("");
      expect(cronError(schedule), schedule).toMatch(why);
    }
  }, 300_000);
});
