-- What a visit is, worked out by the ingest function (pulse.ingest.visit): the browser, OS and
-- device type of the User-Agent, and the ISO 3166-1 alpha-2 code of the country the IP address
-- is registered in (the address itself is never stored). Null where unknown, and for events
-- stored before this migration.
ALTER TABLE events
    ADD COLUMN browser text,
    ADD COLUMN os      text,
    ADD COLUMN device  text,   -- desktop, mobile, tablet, tv, bot (a bot kept by keep_bots)
    ADD COLUMN country text;

-- Bots (crawlers, headless browsers, HTTP libraries) are dropped at ingest unless the project
-- keeps them.
ALTER TABLE projects ADD COLUMN keep_bots boolean NOT NULL DEFAULT false;

-- One row per ingest request whose events were dropped as a bot's: the tally record's id makes
-- a replay of the stream (or a client's resend of the same events) count once.
CREATE TABLE bot_tallies (
    project_id uuid        NOT NULL,
    id         uuid        NOT NULL,
    at         timestamptz NOT NULL,   -- when ingest received the request
    events     integer     NOT NULL CHECK (events > 0),
    PRIMARY KEY (project_id, id)
);
CREATE INDEX bot_tallies_project_at_idx ON bot_tallies (project_id, at) INCLUDE (events);

-- The same counts per project and hour, so that a long range sums a few hundred rows; the
-- tallies answer for the partial hours at a range's edges.
CREATE TABLE bot_counts_hourly (
    project_id uuid        NOT NULL,
    hour       timestamptz NOT NULL,
    events     bigint      NOT NULL,
    PRIMARY KEY (project_id, hour)
);
