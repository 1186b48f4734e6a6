-- Rollups that cost what the new events cost.
--
-- The rollup queue: what the rollup needs of every event written since the rollup last took it,
-- filled in the writing transaction by a trigger on events (so nothing written can be missed,
-- and nothing rolled back is ever counted). The rollup applies these rows to the rollups, the
-- presence sets and the session parts as increments, then deletes them, in one transaction.
CREATE TABLE rollup_queue (
    project_id  uuid        NOT NULL,
    id          uuid        NOT NULL,
    "timestamp" timestamptz NOT NULL,
    event       text        NOT NULL,
    session_id  text,
    distinct_id text,
    -- Of a page_view (null for other events): its page path, referrer domain, UTM source.
    path        text,
    referrer    text,
    utm_source  text
);
CREATE INDEX rollup_queue_project_ts_idx ON rollup_queue (project_id, "timestamp");

-- The expressions are those of pulse.data.sessions.PATH and pulse.data.analytics.DIMENSIONS
-- (tests/integration/test_breakdowns.py holds them to the same results).
CREATE FUNCTION pulse_queue_new_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO rollup_queue (project_id, id, "timestamp", event, session_id, distinct_id, path,
                              referrer, utm_source)
    SELECT n.project_id, n.id, n."timestamp", n.event, n.session_id, n.distinct_id,
           CASE WHEN n.event = 'page_view' THEN
               coalesce(n.properties->>'path',
                        substring(n.page_url from '^[a-z]+://[^/]+(/[^?#]*)')) END,
           CASE WHEN n.event = 'page_view' THEN
               coalesce(lower(substring(n.referrer from '^[a-z]+://(?:www\.)?([^/:?#]+)')),
                        '(direct)') END,
           CASE WHEN n.event = 'page_view' THEN
               coalesce(n.properties->>'utm_source', '(none)') END
    FROM new_events n;
    RETURN NULL;
END;
$$;
CREATE TRIGGER events_queue_for_rollup AFTER INSERT ON events
    REFERENCING NEW TABLE AS new_events
    FOR EACH STATEMENT EXECUTE FUNCTION pulse_queue_new_events();

-- A dirty mark either says "these events are in the queue" (the processor's marks) or "rebuild
-- this hour from its raw events" (a backfill, or an hour written before the queue existed).
ALTER TABLE rollup_dirty_hours ADD COLUMN rebuild boolean NOT NULL DEFAULT false;
UPDATE rollup_dirty_hours SET rebuild = true;

-- Presence counts change by increments now: one row per (hour, prev_hour), NULL included.
DROP INDEX presence_counts_idx;
CREATE UNIQUE INDEX presence_counts_key ON presence_counts (project_id, event, hour, kind, prev_hour)
    INCLUDE (n) NULLS NOT DISTINCT;

-- Page views by page path ('p'), referrer domain ('r') and UTM source ('m'), per hour; their
-- unique sessions come from presence rows of the same kinds (event = the value).
CREATE TABLE breakdown_hourly (
    project_id uuid        NOT NULL,
    kind       "char"      NOT NULL CHECK (kind IN ('p', 'r', 'm')),
    hour       timestamptz NOT NULL,
    value      text        NOT NULL,
    count      bigint      NOT NULL,
    PRIMARY KEY (project_id, kind, hour, value)
);
ALTER TABLE presence_hourly DROP CONSTRAINT presence_hourly_kind_check;
ALTER TABLE presence_hourly ADD CONSTRAINT presence_hourly_kind_check
    CHECK (kind IN ('s', 'u', 'p', 'r', 'm'));
-- Hours whose rollups were kept before the breakdowns existed are rebuilt by the next rollup.
INSERT INTO rollup_dirty_hours (project_id, hour, rebuild)
SELECT DISTINCT project_id, hour, true FROM event_rollups_hourly
ON CONFLICT (project_id, hour) DO UPDATE SET rebuild = true;

-- Sessions over all their rolled-up hours: each session's parts folded (as the sessions report
-- folds them), kept by the rollup for the sessions its new events touch. A report reads the
-- sessions that lie wholly inside its closed clean hours from here, and their sums per UTC day
-- of their start from session_daily / session_entry_daily, so that it folds only the sessions
-- at its edges and in its raw (dirty, open) hours.
CREATE INDEX session_hourly_session_idx ON session_hourly (project_id, session_id);
CREATE TABLE session_totals (
    project_id  uuid        NOT NULL,
    session_id  text        NOT NULL,
    started_at  timestamptz NOT NULL,
    ended_at    timestamptz NOT NULL,
    events      bigint      NOT NULL,
    page_views  bigint      NOT NULL,
    distinct_id text,
    entry_page  text,
    PRIMARY KEY (project_id, session_id)
);
CREATE INDEX session_totals_start_idx ON session_totals (project_id, started_at, session_id)
    INCLUDE (ended_at, events, page_views, distinct_id, entry_page);
-- The few sessions longer than a day, for finding the sessions that span an instant.
CREATE INDEX session_totals_long_idx ON session_totals (project_id, started_at)
    INCLUDE (ended_at) WHERE ended_at - started_at > interval '1 day';
CREATE TABLE session_daily (
    project_id  uuid   NOT NULL,
    day         date   NOT NULL,   -- the UTC day the sessions started
    sessions    bigint NOT NULL,
    duration_us bigint NOT NULL,   -- their durations summed, in microseconds
    bounces     bigint NOT NULL,   -- those with exactly one page view
    page_views  bigint NOT NULL,
    PRIMARY KEY (project_id, day)
);
CREATE TABLE session_entry_daily (
    project_id uuid   NOT NULL,
    day        date   NOT NULL,
    entry_page text   NOT NULL,
    sessions   bigint NOT NULL,
    PRIMARY KEY (project_id, day, entry_page)
);
