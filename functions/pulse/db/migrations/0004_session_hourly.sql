-- Per project, hour and session: what a sessions report needs of that hour's events, so that
-- whole clean hours are read from here instead of the raw events. A session spans a few rows
-- (one per hour it was active in); the report folds them:
--   started_at = min, ended_at = max, events and page_views = sums,
--   distinct_id = the one of the latest distinct_at, entry_page = the one of the earliest entry_at.
CREATE TABLE session_hourly (
    project_id  uuid        NOT NULL,
    hour        timestamptz NOT NULL,
    session_id  text        NOT NULL,
    started_at  timestamptz NOT NULL,
    ended_at    timestamptz NOT NULL,
    events      integer     NOT NULL,
    page_views  integer     NOT NULL,
    distinct_id text,          -- the hour's last non-null distinct_id
    distinct_at timestamptz,   -- and its time (null when the hour has none)
    entry_page  text,          -- the path of the hour's first page_view (may be null)
    entry_at    timestamptz,   -- and its time (null when the hour has no page_view)
    PRIMARY KEY (project_id, hour, session_id)
);

-- The hours already recorded. Hours written after this (or dirty now) are recomputed by the
-- rollup job like every other rollup.
INSERT INTO session_hourly
SELECT project_id, date_trunc('hour', "timestamp"), session_id,
       min("timestamp"), max("timestamp"), count(*),
       count(*) FILTER (WHERE event = 'page_view'),
       (array_agg(distinct_id ORDER BY "timestamp" DESC) FILTER (WHERE distinct_id IS NOT NULL))[1],
       max("timestamp") FILTER (WHERE distinct_id IS NOT NULL),
       (array_agg(coalesce(properties->>'path', substring(page_url from '^[a-z]+://[^/]+(/[^?#]*)'))
                  ORDER BY "timestamp") FILTER (WHERE event = 'page_view'))[1],
       min("timestamp") FILTER (WHERE event = 'page_view')
FROM events
WHERE session_id IS NOT NULL
GROUP BY project_id, date_trunc('hour', "timestamp"), session_id;
