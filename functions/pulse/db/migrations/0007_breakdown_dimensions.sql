-- Breakdowns by every dimension of a page view: the rollup queue keeps, besides the page path,
-- referrer domain and UTM source (0005), the UTM medium and campaign, the browser, OS, device
-- type and country (0006), and the screen and language the tracker sends as properties. The
-- rollup counts page views per value (breakdown_hourly) and keeps presence rows of the
-- sessions (lower-case kind) and the users (upper-case kind) per value.
--
-- The expressions are those of pulse.data.dimensions (tests/integration/test_breakdowns.py
-- holds them to the same results).
ALTER TABLE rollup_queue
    ADD COLUMN utm_medium   text,
    ADD COLUMN utm_campaign text,
    ADD COLUMN browser      text,
    ADD COLUMN os           text,
    ADD COLUMN device       text,
    ADD COLUMN country      text,
    ADD COLUMN screen       text,
    ADD COLUMN language     text;

CREATE OR REPLACE FUNCTION pulse_queue_new_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO rollup_queue (project_id, id, "timestamp", event, session_id, distinct_id, path,
                              referrer, utm_source, utm_medium, utm_campaign, browser, os,
                              device, country, screen, language)
    SELECT n.project_id, n.id, n."timestamp", n.event, n.session_id, n.distinct_id,
           CASE WHEN pv THEN coalesce(n.properties->>'path',
                                      substring(n.page_url from '^[a-z]+://[^/]+(/[^?#]*)')) END,
           -- the referrer's domain; none for a link inside the site (the page's own domain)
           CASE WHEN pv THEN
               CASE WHEN lower(substring(n.referrer from '^[a-z]+://(?:www\.)?([^/:?#]+)'))
                         = lower(substring(n.page_url from '^[a-z]+://(?:www\.)?([^/:?#]+)'))
                    THEN NULL
                    ELSE coalesce(lower(substring(n.referrer
                                                  from '^[a-z]+://(?:www\.)?([^/:?#]+)')),
                                  '(direct)') END END,
           CASE WHEN pv THEN coalesce(n.properties->>'utm_source', '(none)') END,
           CASE WHEN pv THEN coalesce(n.properties->>'utm_medium', '(none)') END,
           CASE WHEN pv THEN coalesce(n.properties->>'utm_campaign', '(none)') END,
           CASE WHEN pv THEN coalesce(n.browser, '(unknown)') END,
           CASE WHEN pv THEN coalesce(n.os, '(unknown)') END,
           CASE WHEN pv THEN coalesce(n.device, '(unknown)') END,
           CASE WHEN pv THEN coalesce(n.country, '(unknown)') END,
           CASE WHEN pv THEN coalesce(n.properties->>'screen', '(unknown)') END,
           CASE WHEN pv THEN coalesce(n.properties->>'language', '(unknown)') END
    FROM new_events n CROSS JOIN LATERAL (SELECT n.event = 'page_view' AS pv) x;
    RETURN NULL;
END;
$$;

ALTER TABLE breakdown_hourly DROP CONSTRAINT breakdown_hourly_kind_check;
ALTER TABLE breakdown_hourly ADD CONSTRAINT breakdown_hourly_kind_check
    CHECK (kind IN ('p', 'r', 'm', 'n', 'g', 'b', 'o', 'd', 'c', 'z', 'l'));
ALTER TABLE presence_hourly DROP CONSTRAINT presence_hourly_kind_check;
ALTER TABLE presence_hourly ADD CONSTRAINT presence_hourly_kind_check
    CHECK (kind IN ('s', 'u', 'p', 'r', 'm', 'n', 'g', 'b', 'o', 'd', 'c', 'z', 'l',
                    'P', 'R', 'M', 'N', 'G', 'B', 'O', 'D', 'C', 'Z', 'L'));

-- Hours rolled up before these dimensions existed are rebuilt by the next rollup.
INSERT INTO rollup_dirty_hours (project_id, hour, rebuild)
SELECT DISTINCT project_id, hour, true FROM event_rollups_hourly
ON CONFLICT (project_id, hour) DO UPDATE SET rebuild = true;
-- Events queued before this migration lack the new columns: their hours are rebuilt too.
INSERT INTO rollup_dirty_hours (project_id, hour, rebuild)
SELECT DISTINCT project_id, date_trunc('hour', "timestamp"), true FROM rollup_queue
ON CONFLICT (project_id, hour) DO UPDATE SET rebuild = true;
