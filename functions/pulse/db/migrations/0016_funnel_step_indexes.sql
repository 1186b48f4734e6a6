-- A funnel reads the range's events that match one of its steps (pulse.data.funnels). It read
-- them with a scan of the month's events (3.3M rows for 232,350 matches on 3.4M events a month),
-- as the event index held no session or user and no index held a page: fetching ~200,000 rows
-- from the heap one by one cost as much as the scan.
--
-- The event index now carries the session and the user, so that a step of an event name reads
-- its rows from the index alone (an index-only scan once VACUUM has marked the pages visible,
-- which autovacuum does for an insert-only table), and page views have an index by page path
-- (pulse.data.sessions.PATH; the same expression, so the planner matches it), so that a step of
-- a page view on one page reads that page's rows only. The page index carries no session or
-- user: Postgres reads no index-only scan of an expression index, so they would only weigh (130
-- bytes a page view). docs/benchmarks.md has what they cost.
CREATE INDEX events_project_event_ts_cover_idx ON events (project_id, event, "timestamp")
    INCLUDE (session_id, distinct_id);
DROP INDEX events_project_event_ts_idx;
CREATE INDEX events_page_view_path_idx ON events (
    project_id,
    (coalesce(properties->>'path', substring(page_url from '^[a-z]+://[^/]+(/[^?#]*)'))),
    "timestamp"
) WHERE event = 'page_view';
