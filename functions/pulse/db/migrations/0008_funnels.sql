-- Saved funnels: a project's named, ordered steps (2 to 6), conversion window and counting unit.
-- The steps are kept as the validated JSON the API took (pulse.models.funnels.FunnelStep), so a
-- step's shape can grow without a migration. A project's funnels go with it (ON DELETE CASCADE).
CREATE TABLE funnels (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    project_id uuid        NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name       text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    steps      jsonb       NOT NULL CHECK (jsonb_typeof(steps) = 'array'
                                           AND jsonb_array_length(steps) BETWEEN 2 AND 6),
    window_s   integer     NOT NULL CHECK (window_s > 0),
    count_by   text        NOT NULL CHECK (count_by IN ('session', 'user')),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX funnels_project_idx ON funnels (project_id, created_at, id);
