-- Share links: a read-only, revocable link to a project's dashboard (pulse.domain.sharing).
-- Only a SHA-256 hash of the link's token is kept (the token is shown once, when the link is
-- made); the optional password is hashed like account passwords (Argon2id). Revoking a link
-- deletes its row, so every share session made with it stops working at its next request.
CREATE TABLE share_links (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    project_id    uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    token_hash    text NOT NULL UNIQUE CHECK (length(token_hash) = 64),
    label         text CHECK (label IS NULL OR length(label) BETWEEN 1 AND 200),
    password_hash text,
    -- Whether the link also reads the raw data: the events, the users (with their identify
    -- properties) and the sessions list, and their CSV exports.
    allow_raw     boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX share_links_project_idx ON share_links (project_id, created_at);
