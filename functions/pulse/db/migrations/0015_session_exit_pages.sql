-- A session's exit page (the path of its last page view), kept beside its entry page, so that
-- the entry and exit page breakdowns read one row per session from session_totals instead of
-- every page view of the range (pulse.data.sessions.session_pages).
--
-- The fold is the entry page's mirrored: a part's exit_page is the path of its last page view
-- (the greatest path among those at that time), and the session's is the part's with the latest
-- exit_at. Both folds are idempotent, so filling the parts from all the raw events of their
-- hours (queued events included) leaves nothing for the rollup to add twice.
ALTER TABLE session_hourly ADD COLUMN exit_page text, ADD COLUMN exit_at timestamptz;
ALTER TABLE session_totals ADD COLUMN exit_page text;

UPDATE session_hourly sh SET exit_page = v.exit_page, exit_at = v.exit_at
FROM (
    SELECT DISTINCT ON (project_id, date_trunc('hour', "timestamp"), session_id)
           project_id, date_trunc('hour', "timestamp") AS hour, session_id,
           coalesce(properties->>'path', substring(page_url from '^[a-z]+://[^/]+(/[^?#]*)'))
               AS exit_page,
           "timestamp" AS exit_at
    FROM events
    WHERE event = 'page_view' AND session_id IS NOT NULL
    ORDER BY project_id, date_trunc('hour', "timestamp"), session_id, "timestamp" DESC,
             coalesce(properties->>'path', substring(page_url from '^[a-z]+://[^/]+(/[^?#]*)'))
                 DESC
) v
WHERE sh.project_id = v.project_id AND sh.hour = v.hour AND sh.session_id = v.session_id;

UPDATE session_totals t SET exit_page = v.exit_page
FROM (
    SELECT project_id, session_id,
           (max(ARRAY[to_char(exit_at AT TIME ZONE 'UTC', 'YYYYMMDDHH24MISSUS'), exit_page])
                FILTER (WHERE exit_at IS NOT NULL))[2] AS exit_page
    FROM session_hourly GROUP BY project_id, session_id
) v
WHERE t.project_id = v.project_id AND t.session_id = v.session_id AND v.exit_page IS NOT NULL;

-- The reports read session_totals by index only: the exit page joins what the index carries.
DROP INDEX session_totals_start_idx;
CREATE INDEX session_totals_start_idx ON session_totals (project_id, started_at, session_id)
    INCLUDE (ended_at, events, page_views, distinct_id, entry_page, exit_page);
