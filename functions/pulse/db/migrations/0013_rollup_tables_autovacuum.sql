-- The reports read the rollup tables by index-only scans, which visit the table for every row on
-- a page the visibility map does not mark all-visible; only a VACUUM marks them. By default
-- autovacuum comes after a fifth of a table has changed or been inserted (800,000 rows of a
-- 4M-row presence_counts), so the pages of the latest day or more of rollups stay unmarked and
-- every report over them pays for it (on 10M events rolled up and not vacuumed: the sessions
-- report 400 ms, 50 ms after a VACUUM). A large run vacuums them itself
-- (pulse.data.rollups.vacuum_rollups); these make autovacuum come after 1% instead.
ALTER TABLE event_rollups_hourly SET (
    autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_insert_scale_factor = 0.01);
ALTER TABLE presence_hourly SET (
    autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_insert_scale_factor = 0.01);
ALTER TABLE presence_counts SET (
    autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_insert_scale_factor = 0.01);
ALTER TABLE session_hourly SET (
    autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_insert_scale_factor = 0.01);
ALTER TABLE session_totals SET (
    autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_insert_scale_factor = 0.01);
ALTER TABLE session_daily SET (
    autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_insert_scale_factor = 0.01);
ALTER TABLE session_entry_daily SET (
    autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_insert_scale_factor = 0.01);
ALTER TABLE breakdown_hourly SET (
    autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_insert_scale_factor = 0.01);
