-- Queries read presence_counts by project, event and a range of hours, for both kinds at once;
-- with kind second in the key, the hour range could not narrow the scan.
DROP INDEX presence_counts_idx;
CREATE INDEX presence_counts_idx ON presence_counts (project_id, event, hour)
    INCLUDE (kind, prev_hour, n);
