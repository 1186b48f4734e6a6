-- The rollup queue and the dirty marks are written and deleted all day: every event goes in and
-- out of rollup_queue within minutes. Reports read the queue of their range (an index range),
-- so its dead rows cost every report until they are vacuumed: right after a rollup of 100,000
-- events, a report's queue read visited 590,000 dead index entries (270 ms). The rollup
-- vacuums both after a run (pulse.data.rollups.vacuum_queue); these make autovacuum come
-- early too, whatever the table's size, and not sleep while it works.
ALTER TABLE rollup_queue SET (
    autovacuum_vacuum_scale_factor = 0,
    autovacuum_vacuum_threshold = 5000,
    autovacuum_vacuum_insert_scale_factor = 0,
    autovacuum_vacuum_insert_threshold = 50000,
    autovacuum_analyze_scale_factor = 0,
    autovacuum_analyze_threshold = 5000,
    autovacuum_vacuum_cost_delay = 0
);
ALTER TABLE rollup_dirty_hours SET (
    autovacuum_vacuum_scale_factor = 0,
    autovacuum_vacuum_threshold = 1000,
    autovacuum_vacuum_cost_delay = 0
);
