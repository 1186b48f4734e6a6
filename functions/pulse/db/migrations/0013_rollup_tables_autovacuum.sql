-- The reports read the rollup tables by index-only scans, which visit the table for every row on
-- a page the visibility map does not mark all-visible; only a VACUUM marks them. By default
-- autovacuum comes after a fifth of a table has changed or been inserted (800,000 rows of a
-- 4M-row presence_counts), so the pages of the latest day or more of rollups stay unmarked and
-- every report over them pays for it (on 10M events rolled up and not vacuumed: the sessions
-- report 400 ms, 50 ms after a VACUUM). A large run vacuums them itself
-- (pulse.data.rollups.vacuum_rollups); these make autovacuum come after 1% instead.
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['event_rollups_hourly', 'presence_hourly', 'presence_counts',
                             'session_hourly', 'session_totals', 'session_daily',
                             'session_entry_daily', 'breakdown_hourly'] LOOP
        EXECUTE format('ALTER TABLE %I SET (autovacuum_vacuum_scale_factor = 0.01, '
                       'autovacuum_vacuum_insert_scale_factor = 0.01)', t);
    END LOOP;
END $$;
