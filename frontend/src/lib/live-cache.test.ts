import { describe, expect, test } from "vitest";

import type { Overview, Timeseries } from "./analytics-types";
import { addToOverview, addToTimeseries, mergeFeed } from "./live-cache";
import type { LiveEvent } from "./ws";

const ev = (uuid: string, event: string, timestamp: string): LiveEvent => ({
  uuid,
  event,
  timestamp,
  properties: {},
  distinct_id: "u",
  session_id: "s",
  page_url: null,
});

const overview: Overview = {
  total_events: 10,
  unique_sessions: 3,
  unique_users: 2,
  top_event: { name: "page_view", count: 7 },
  previous: { total_events: 5, unique_sessions: 1, unique_users: 1, top_event: null },
};

describe("pushed events folded into the cache", () => {
  test("the overview counts them, and the top event's count when it is theirs", () => {
    const next = addToOverview(overview, [ev("1", "page_view", "2026-03-01T10:00:00Z"), ev("2", "signup", "2026-03-01T10:00:01Z")], null);
    expect(next.total_events).toBe(12);
    expect(next.top_event).toEqual({ name: "page_view", count: 8 });
    expect(next.unique_sessions).toBe(3); // exact uniques come from the throttled refetch
    expect(next.previous).toBe(overview.previous);
  });

  test("a filtered overview counts only its event", () => {
    expect(addToOverview(overview, [ev("1", "signup", "2026-03-01T10:00:00Z")], "page_view")).toBe(overview);
    expect(addToOverview(overview, [ev("1", "signup", "2026-03-01T10:00:00Z")], "signup").total_events).toBe(11);
  });

  test("each event lands in the bucket it falls in (buckets carry their zone's offset)", () => {
    const series: Timeseries = {
      interval: "hour",
      points: [
        { bucket: "2026-03-01T11:00:00+01:00", count: 4, unique_sessions: 2 },
        { bucket: "2026-03-01T12:00:00+01:00", count: 1, unique_sessions: 1 },
      ],
    };
    const next = addToTimeseries(
      series,
      [ev("1", "a", "2026-03-01T11:05:00Z"), ev("2", "a", "2026-03-01T10:59:59Z"), ev("3", "a", "2026-03-01T09:00:00Z")],
      null,
    );
    expect(next.points.map((p) => p.count)).toEqual([5, 2]); // 09:00Z is before the range: left out
  });

  test("the feed is newest first, without the duplicates a backfill replays, capped", () => {
    const first = mergeFeed([], [ev("1", "a", "2026-03-01T10:00:00Z"), ev("2", "b", "2026-03-01T10:00:02Z")]);
    expect(first.map((e) => e.uuid)).toEqual(["2", "1"]);
    const again = mergeFeed(first, [ev("2", "b", "2026-03-01T10:00:02Z"), ev("3", "c", "2026-03-01T10:00:01Z")]);
    expect(again.map((e) => e.uuid)).toEqual(["2", "3", "1"]);
    expect(mergeFeed(again, [ev("4", "d", "2026-03-01T10:00:03Z")], 2).map((e) => e.uuid)).toEqual(["4", "2"]);
    expect(mergeFeed(again, [ev("1", "a", "2026-03-01T10:00:00Z")])).toBe(again);
  });
});
