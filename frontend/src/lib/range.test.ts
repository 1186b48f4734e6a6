import { describe, expect, test } from "vitest";

import {
  customRangeError,
  defaultInterval,
  rangeFromSearch,
  rangeIsLive,
  rangeQuery,
  rangeToSearch,
  todayIn,
} from "./range";

describe("range and time zone → the API's query", () => {
  test("a preset is sent as range, with the browser's tz", () => {
    expect(rangeQuery({ preset: "30d" }, "Europe/Paris")).toEqual({ range: "30d", tz: "Europe/Paris" });
  });

  test("a custom range is whole days in tz: from 00:00 to the day after `to`, without offset", () => {
    expect(rangeQuery({ preset: "custom", from: "2026-02-27", to: "2026-02-28" }, "America/New_York")).toEqual({
      from: "2026-02-27T00:00:00",
      to: "2026-03-01T00:00:00",
      tz: "America/New_York",
    });
    // across a year end and a leap day
    expect(rangeQuery({ preset: "custom", from: "2028-02-29", to: "2028-12-31" }, "UTC").to).toBe("2029-01-01T00:00:00");
  });

  test("custom ranges are checked before they are asked for", () => {
    expect(customRangeError("2026-03-02", "2026-03-01")).toMatch(/start/);
    expect(customRangeError("", "2026-03-01")).toMatch(/both/);
    expect(customRangeError("2025-01-01", "2026-03-01")).toMatch(/400/);
    expect(customRangeError("2026-03-01", "2026-03-01")).toBeNull();
  });

  test("hourly buckets for a day or two, daily beyond", () => {
    expect(defaultInterval({ preset: "24h" })).toBe("hour");
    expect(defaultInterval({ preset: "7d" })).toBe("day");
    expect(defaultInterval({ preset: "custom", from: "2026-03-01", to: "2026-03-02" })).toBe("hour");
    expect(defaultInterval({ preset: "custom", from: "2026-03-01", to: "2026-03-09" })).toBe("day");
  });

  test("today depends on the zone", () => {
    const instant = new Date("2026-03-01T02:30:00Z");
    expect(todayIn("UTC", instant)).toBe("2026-03-01");
    expect(todayIn("America/Los_Angeles", instant)).toBe("2026-02-28");
    expect(todayIn("Asia/Tokyo", new Date("2026-02-28T16:00:00Z"))).toBe("2026-03-01");
  });

  test("a range is live when it reaches today", () => {
    expect(rangeIsLive({ preset: "7d" }, "2026-03-01")).toBe(true);
    expect(rangeIsLive({ preset: "custom", from: "2026-02-01", to: "2026-03-01" }, "2026-03-01")).toBe(true);
    expect(rangeIsLive({ preset: "custom", from: "2026-02-01", to: "2026-02-28" }, "2026-03-01")).toBe(false);
  });

  test("the range round-trips through the query string; junk falls back to 7d", () => {
    const custom = { preset: "custom" as const, from: "2026-02-01", to: "2026-02-10" };
    expect(rangeFromSearch(new URLSearchParams(rangeToSearch(custom)))).toEqual(custom);
    expect(rangeFromSearch(new URLSearchParams("range=90d"))).toEqual({ preset: "90d" });
    expect(rangeFromSearch(new URLSearchParams("range=1y"))).toEqual({ preset: "7d" });
    expect(rangeFromSearch(new URLSearchParams("from=2026-02-10&to=2026-02-01"))).toEqual({ preset: "7d" });
  });
});
