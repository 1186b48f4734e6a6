// Pushed events folded into cached answers, so that the cards and the chart's current bucket
// tick up between (throttled) refetches. Pure functions over the API's shapes.

import type { Overview, Timeseries } from "./analytics-types";
import type { LiveEvent } from "./ws";

function matching(events: LiveEvent[], filter: string | null): LiveEvent[] {
  return filter ? events.filter((e) => e.event === filter) : events;
}

export function addToOverview(overview: Overview, events: LiveEvent[], filter: string | null): Overview {
  const counted = matching(events, filter);
  if (counted.length === 0) return overview;
  const top = overview.top_event;
  const topAdded = top ? counted.filter((e) => e.event === top.name).length : 0;
  return {
    ...overview,
    total_events: overview.total_events + counted.length,
    top_event: top ? { ...top, count: top.count + topAdded } : overview.top_event,
  };
}

export function addToTimeseries(series: Timeseries, events: LiveEvent[], filter: string | null): Timeseries {
  const counted = matching(events, filter);
  if (counted.length === 0 || series.points.length === 0) return series;
  const starts = series.points.map((p) => Date.parse(p.bucket));
  const added = new Array<number>(series.points.length).fill(0);
  for (const event of counted) {
    const at = Date.parse(event.timestamp);
    if (Number.isNaN(at) || at < starts[0]) continue;
    let index = starts.length - 1;
    while (index > 0 && starts[index] > at) index -= 1;
    added[index] += 1;
  }
  if (added.every((n) => n === 0)) return series;
  return { ...series, points: series.points.map((p, i) => (added[i] ? { ...p, count: p.count + added[i] } : p)) };
}

/** Newest first, without duplicates (backfill after a reconnect replays events), at most `max`. */
export function mergeFeed(feed: LiveEvent[], incoming: LiveEvent[], max = 100): LiveEvent[] {
  const seen = new Set(feed.map((e) => e.uuid));
  const fresh = incoming.filter((e) => !seen.has(e.uuid) && (seen.add(e.uuid), true));
  if (fresh.length === 0) return feed;
  return [...fresh, ...feed].sort((a, b) => Date.parse(b.timestamp) - Date.parse(a.timestamp)).slice(0, max);
}
