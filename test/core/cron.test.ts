import { describe, expect, it } from "vitest";
import {
  cronError,
  cronGaps,
  describeCron,
  fixedMinuteOfDay,
  formatSeconds,
  nextRuns,
  runsBetween,
} from "../../components/core/cron.js";
import { formatGoDuration, parseGoDuration } from "../../components/core/duration.js";

describe("cron", () => {
  it("accepts the standard 5-field dialect and refuses the rest", () => {
    for (const ok of ["0 6 * * *", "*/15 2-4 * * 1-5", "0 4 1 * *", "30 3 * * SUN", "0 0 1 JAN,JUL *", "0 0 ? * MON"])
      expect(cronError(ok), ok).toBeUndefined();
    expect(cronError("0 6 * *")).toMatch(/4 fields/);
    expect(cronError("0 0 6 * * *")).toMatch(/6 fields/);
    expect(cronError("@daily")).toMatch(/write the 5-field form "0 0 \* \* \*"/);
    expect(cronError("0 2 L * *")).toMatch(/day of month/);
    expect(cronError("0 2 * * 1#2")).toMatch(/day of week/);
    expect(cronError("60 * * * *")).toMatch(/not a valid cron/);
    expect(cronError("")).toMatch(/empty/);
  });

  it("computes runs in UTC", () => {
    const runs = nextRuns("0 6 * * *", new Date("2026-03-28T12:00:00Z"), 3).map((d) => d.toISOString());
    // 2026-03-29 is the European DST switch: UTC schedules do not move.
    expect(runs).toEqual(["2026-03-29T06:00:00.000Z", "2026-03-30T06:00:00.000Z", "2026-03-31T06:00:00.000Z"]);
    expect(runsBetween("0 */6 * * *", new Date("2026-01-01T00:00:00Z"), new Date("2026-01-02T00:00:00Z"))).toHaveLength(
      4,
    );
  });

  it("derives the longest and shortest gap from the schedule", () => {
    expect(cronGaps("0 2 * * *")).toMatchObject({ minGapSeconds: 86_400, maxGapSeconds: 86_400 });
    expect(cronGaps("0 3 * * 0").maxGapSeconds).toBe(7 * 86_400);
    expect(cronGaps("0 4 1 * *")).toMatchObject({ minGapSeconds: 28 * 86_400, maxGapSeconds: 31 * 86_400 });
    // Weekdays only: the weekend gap is the one a staleness alert must tolerate.
    expect(cronGaps("0 3 * * 1-5")).toMatchObject({ minGapSeconds: 86_400, maxGapSeconds: 3 * 86_400 });
    expect(cronGaps("*/15 2-4 * * *")).toMatchObject({
      minGapSeconds: 900,
      maxGapSeconds: 86_400 - 2 * 3600 - 45 * 60 + 0,
    });
    expect(cronGaps("0 0 29 2 *").maxGapSeconds).toBeGreaterThanOrEqual(4 * 365 * 86_400);
  });

  it("describes schedules for the plan", () => {
    expect(fixedMinuteOfDay("30 3 * * *")).toBe(210);
    expect(fixedMinuteOfDay("*/5 3 * * *")).toBeUndefined();
    expect(describeCron("30 3 * * *")).toBe("daily 03:30 UTC (`30 3 * * *`)");
    expect(describeCron("0 3 * * 0")).toBe("weekly Sun 03:00 UTC (`0 3 * * 0`)");
    expect(describeCron("0 4 1 * *")).toBe("monthly on day 1 04:00 UTC (`0 4 1 * *`)");
    expect(describeCron("15 * * * *")).toMatch(/^24×\/day/);
    expect(formatSeconds(93_600)).toBe("1d2h");
    expect(formatSeconds(90)).toBe("1m30s");
  });
});

describe("Go durations", () => {
  it("parses what Go parses and refuses the rest", () => {
    expect(parseGoDuration("720h")).toBe(2_592_000);
    expect(parseGoDuration("5m0s")).toBe(300);
    expect(parseGoDuration("1h30m")).toBe(5400);
    expect(parseGoDuration("1.5h")).toBe(5400);
    expect(parseGoDuration("300ms")).toBeCloseTo(0.3);
    expect(parseGoDuration("0")).toBe(0);
    expect(parseGoDuration("300")).toBeUndefined();
    expect(parseGoDuration("30d")).toBeUndefined();
    expect(parseGoDuration("")).toBeUndefined();
  });
  it("formats like Duration.String()", () => {
    expect(formatGoDuration(300)).toBe("5m0s");
    expect(formatGoDuration(2_592_000)).toBe("720h0m0s");
    expect(formatGoDuration(45)).toBe("45s");
    expect(formatGoDuration(0)).toBe("0s");
  });
});
