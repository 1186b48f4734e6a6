-- The columnar archive (pulse.archive): each closed UTC day of a project's events, once the
-- rollup has added all of it, is written as one Parquet file, which filtered reports and
-- property breakdowns read with DuckDB instead of the events table.
--
-- archived_days lists the files a report may read. A row is valid while no hour of its day is
-- dirty: a late event marks its hour dirty (the reader then reads that day from Postgres), and
-- the rollup that adds the hour deletes the row in the same transaction. The writer holds the
-- project's rollup lock, so a rollup never clears a mark between its read of a day and the row.
CREATE TABLE archived_days (
    project_id uuid        NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    day        date        NOT NULL,
    object     text        NOT NULL,  -- the file's key in the archive: <project>/<day>-<n>.parquet
    events     bigint      NOT NULL,
    bytes      bigint      NOT NULL,
    -- The properties most often set that day, each also a column of its own (p0, p1, … in this
    -- order): a column is read many times faster than a lookup in the map of every event.
    prop_columns text[]    NOT NULL DEFAULT '{}',
    written_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (project_id, day)
);

-- Days the rollup has added events to and the writer has not archived since (its work list).
CREATE TABLE archive_pending (
    project_id uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    day        date NOT NULL,
    PRIMARY KEY (project_id, day)
);

-- Files no row names any more (a day written again, invalidated, or its project deleted):
-- deleted by the writer once no report can still be reading them.
CREATE TABLE archive_orphans (
    object      text        PRIMARY KEY,
    orphaned_at timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION pulse_archive_orphan() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO archive_orphans (object) VALUES (OLD.object) ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$;

CREATE TRIGGER archived_days_orphan AFTER DELETE OR UPDATE OF object ON archived_days
    FOR EACH ROW EXECUTE FUNCTION pulse_archive_orphan();

-- Every day already rolled up is pending.
INSERT INTO archive_pending (project_id, day)
SELECT DISTINCT r.project_id, (r.hour AT TIME ZONE 'UTC')::date
FROM event_rollups_hourly r JOIN projects p ON p.id = r.project_id
ON CONFLICT DO NOTHING;
