-- Rollups that stay exact while events keep arriving, and presence sets that give exact unique
-- counts over any range of whole hours without a COUNT(DISTINCT) over the range.

-- A dirty mark's version changes every time the processor touches it, so the rollup job clears
-- only the marks it has read (a mark set again meanwhile survives).
CREATE SEQUENCE rollup_dirty_version;
ALTER TABLE rollup_dirty_hours
    ADD COLUMN version bigint NOT NULL DEFAULT nextval('rollup_dirty_version');

-- The 0001 presence tables were never written; their replacement keys values by a 64-bit hash
-- (hashtextextended: stable across Postgres versions, the one hash partitioning relies on) and
-- keeps, for each (value, hour), the previous hour the value was seen ("prev_hour").
-- Distinct values over the hours [H1, H2] = the rows in [H1, H2] whose prev_hour is NULL or
-- before H1: each value is counted once, at its first hour inside the range.
DROP TABLE presence_hourly;
DROP TABLE presence_daily;

-- kind: 's' sessions, 'u' identified users. event: '' for any event, else one event name.
CREATE TABLE presence_hourly (
    project_id uuid        NOT NULL,
    kind       "char"      NOT NULL CHECK (kind IN ('s', 'u')),
    event      text        NOT NULL,
    hour       timestamptz NOT NULL,
    h          bigint      NOT NULL,
    prev_hour  timestamptz,
    PRIMARY KEY (project_id, kind, event, hour, h)
);
CREATE INDEX presence_hourly_value_idx ON presence_hourly (project_id, kind, event, h, hour);

-- presence_hourly folded: how many values each hour has per prev_hour. Queries read this.
CREATE TABLE presence_counts (
    project_id uuid        NOT NULL,
    kind       "char"      NOT NULL,
    event      text        NOT NULL,
    hour       timestamptz NOT NULL,
    prev_hour  timestamptz,
    n          bigint      NOT NULL
);
CREATE INDEX presence_counts_idx ON presence_counts (project_id, kind, event, hour)
    INCLUDE (prev_hour, n);
