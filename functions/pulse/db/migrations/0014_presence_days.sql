-- presence_counts regrouped, so that a unique count over a long range reads a row per day and
-- prev-day instead of a row per hour and prev-hour (pulse.data.analytics.presence_sums).
--
-- A presence row at hour h with prev_hour p says: the value was seen at h, and before that last
-- at p. The distinct values of [a, b) are the rows of [a, b) with p NULL or before a. Split
-- [a, b) into the hours before its first UTC midnight d1, its whole UTC days [d1, dk) and the
-- hours from its last midnight dk. The edge hours are read from presence_counts. The whole days'
-- rows with p before d0 (the UTC midnight at or before a) are read from presence_days; those
-- with p in [d0, a) from presence_next, the same links counted from their earlier end: how many
-- rows of hour p were next seen on each later day.
--
-- Both are sums of presence_counts, kept by the rollup from the same changes in the same
-- transaction (tests/integration/test_rollup_increments.py holds them to brute force).
CREATE TABLE presence_days (
    project_id uuid        NOT NULL,
    kind       "char"      NOT NULL,
    event      text        NOT NULL,
    day        timestamptz NOT NULL,   -- the UTC midnight of the rows' hour
    prev_day   timestamptz,            -- the UTC midnight of their prev_hour; NULL: first seen
    n          bigint      NOT NULL
);
CREATE UNIQUE INDEX presence_days_key ON presence_days (project_id, event, day, kind, prev_day)
    INCLUDE (n) NULLS NOT DISTINCT;

CREATE TABLE presence_next (
    project_id uuid        NOT NULL,
    kind       "char"      NOT NULL,
    event      text        NOT NULL,
    hour       timestamptz NOT NULL,   -- the prev_hour of the rows counted
    next_day   timestamptz NOT NULL,   -- the UTC midnight of their own hour
    n          bigint      NOT NULL,
    PRIMARY KEY (project_id, event, hour, kind, next_day) INCLUDE (n)
);

INSERT INTO presence_days (project_id, kind, event, day, prev_day, n)
SELECT project_id, kind, event, date_trunc('day', hour, 'UTC'), date_trunc('day', prev_hour, 'UTC'),
       sum(n)
FROM presence_counts GROUP BY 1, 2, 3, 4, 5 HAVING sum(n) <> 0;

INSERT INTO presence_next (project_id, kind, event, hour, next_day, n)
SELECT project_id, kind, event, prev_hour, date_trunc('day', hour, 'UTC'), sum(n)
FROM presence_counts WHERE prev_hour IS NOT NULL GROUP BY 1, 2, 3, 4, 5 HAVING sum(n) <> 0;

ALTER TABLE presence_days SET (autovacuum_vacuum_scale_factor = 0.01,
                               autovacuum_vacuum_insert_scale_factor = 0.01);
ALTER TABLE presence_next SET (autovacuum_vacuum_scale_factor = 0.01,
                               autovacuum_vacuum_insert_scale_factor = 0.01);
