-- Users, projects, raw events (partitioned by month), hourly rollups and the per-hour / per-day
-- presence sets that exact unique counts over long ranges are computed from.

CREATE TABLE users (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email         text NOT NULL,
    password_hash text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

CREATE TABLE projects (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    owner_id   uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    api_key    text NOT NULL UNIQUE CHECK (api_key LIKE 'proj\_%'),
    domain     text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX projects_owner_idx ON projects (owner_id, created_at);

-- Raw events: append-only, one row per client event uuid. The primary key carries the partition
-- key (Postgres requires it); the (project_id, id) index lets the processor find replays of an
-- event whose skew-corrected timestamp moved by a few milliseconds between client retries.
CREATE TABLE events (
    project_id  uuid        NOT NULL,
    id          uuid        NOT NULL,
    event       text        NOT NULL,
    distinct_id text,
    properties  jsonb       NOT NULL DEFAULT '{}'::jsonb,
    session_id  text,
    page_url    text,
    referrer    text,
    user_agent  text,
    ip_hash     text,
    "timestamp" timestamptz NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (project_id, "timestamp", id)
) PARTITION BY RANGE ("timestamp");
CREATE INDEX events_project_id_idx ON events (project_id, id);
CREATE INDEX events_project_event_ts_idx ON events (project_id, event, "timestamp");
CREATE INDEX events_project_distinct_ts_idx ON events (project_id, distinct_id, "timestamp")
    WHERE distinct_id IS NOT NULL;
CREATE INDEX events_project_session_ts_idx ON events (project_id, session_id, "timestamp")
    WHERE session_id IS NOT NULL;

-- Monthly partitions, made ahead: by this migration, by the rollup job, and by the processor
-- for any month it is about to write into.
CREATE FUNCTION pulse_ensure_event_partitions(from_ts timestamptz, to_ts timestamptz)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    month_start timestamptz := date_trunc('month', from_ts AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
    created integer := 0;
    part_name text;
BEGIN
    WHILE month_start < to_ts LOOP
        part_name := 'events_' || to_char(month_start AT TIME ZONE 'UTC', 'YYYYMM');
        IF to_regclass(part_name) IS NULL THEN
            EXECUTE format(
                'CREATE TABLE IF NOT EXISTS %I PARTITION OF events FOR VALUES FROM (%L) TO (%L)',
                part_name, month_start, month_start + interval '1 month');
            created := created + 1;
        END IF;
        month_start := month_start + interval '1 month';
    END LOOP;
    RETURN created;
END;
$$;
SELECT pulse_ensure_event_partitions(now() - interval '2 months', now() + interval '3 months');

-- Hourly rollups: exact counts for closed, clean hours.
CREATE TABLE event_rollups_hourly (
    project_id      uuid        NOT NULL,
    event           text        NOT NULL,
    hour            timestamptz NOT NULL,
    count           bigint      NOT NULL,
    unique_sessions bigint      NOT NULL,
    unique_users    bigint      NOT NULL,
    computed_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (project_id, hour, event)
);
CREATE INDEX event_rollups_hourly_event_idx ON event_rollups_hourly (project_id, event, hour);

-- Hours whose raw events changed since their rollup; the durable twin of the Redis dirty set.
-- Until an hour leaves this table, queries read it from raw events.
CREATE TABLE rollup_dirty_hours (
    project_id uuid        NOT NULL,
    hour       timestamptz NOT NULL,
    marked_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (project_id, hour)
);

-- Exact unique counts over long ranges cannot be summed from hourly uniques. These hold, per
-- hour and per UTC day, the set of sessions (kind 's') and identified users (kind 'u') seen,
-- so COUNT(DISTINCT value) over whole days plus the edge hours is exact and reads far fewer
-- rows than the raw events.
CREATE TABLE presence_hourly (
    project_id uuid        NOT NULL,
    kind       "char"      NOT NULL CHECK (kind IN ('s', 'u')),
    hour       timestamptz NOT NULL,
    value      text        NOT NULL,
    PRIMARY KEY (project_id, kind, hour, value)
);
CREATE TABLE presence_daily (
    project_id uuid   NOT NULL,
    kind       "char" NOT NULL CHECK (kind IN ('s', 'u')),
    day        date   NOT NULL,
    value      text   NOT NULL,
    PRIMARY KEY (project_id, kind, day, value)
);
