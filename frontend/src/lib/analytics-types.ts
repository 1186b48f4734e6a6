// Shapes of the analytics answers. The API's analytics routes return plain dicts, so
// docs/openapi.json types them as `{[key: string]: unknown}`; until the API declares response
// models (noted in the dashboard's report), these follow docs/api.md, and
// src/lib/analytics-types.test.ts checks them against the documented field lists.

export interface OverviewCounts {
  total_events: number;
  unique_sessions: number;
  unique_users: number;
  top_event: { name: string; count: number } | null;
  /** Events ingest dropped as bots' in the period (absent from an older API). */
  bots_filtered?: number;
}
export interface Overview extends OverviewCounts {
  previous: OverviewCounts;
}

export type Interval = "hour" | "day";
export interface TimeseriesPoint {
  bucket: string;
  count: number;
  unique_sessions: number;
}
export interface Timeseries {
  interval: Interval;
  points: TimeseriesPoint[];
}

export interface TopEvent {
  name: string;
  count: number;
  unique_users: number;
}
export interface TopEvents {
  events: TopEvent[];
}

export interface SessionRow {
  session_id: string;
  started_at: string;
  ended_at: string;
  duration_s: number;
  events: number;
  page_views: number;
  distinct_id: string | null;
  entry_page: string | null;
}
export interface Sessions {
  sessions: number;
  avg_duration_s: number;
  bounce_rate: number;
  pages_per_session: number;
  top_entry_pages: { path: string; sessions: number }[];
  list: SessionRow[];
  next_cursor: string | null;
}

export interface UserRow {
  distinct_id: string;
  first_seen: string;
  last_seen: string;
  event_count: number;
  properties: Record<string, unknown> | null;
}
export interface Users {
  users: UserRow[];
  next_cursor: string | null;
}

export interface EventRow {
  uuid: string;
  event: string;
  distinct_id: string | null;
  session_id: string | null;
  properties: Record<string, unknown>;
  page_url: string | null;
  referrer: string | null;
  timestamp: string;
  received_at?: string;
}
export interface UserDetail extends UserRow {
  events: EventRow[];
  next_cursor: string | null;
}
export interface Events {
  events: EventRow[];
  next_cursor: string | null;
}

export interface BreakdownRow {
  value: string;
  count: number;
  unique_sessions: number;
  unique_users: number;
}
export interface Breakdown {
  dimension: string;
  /** The property's name when dimension is "property". */
  property?: string | null;
  /** What `count` counts: page views, events (a property) or sessions (entry and exit pages). */
  counted?: "page_views" | "events" | "sessions";
  items: BreakdownRow[];
}
