"""SQL for the share-links aggregate. The owner's reads and writes go through the project's
owner; a share session reads its link by id (and its project) only."""

from __future__ import annotations

from uuid import UUID

from pulse.db.connection import connection
from pulse.models.stored import ShareLinkRow

_COLUMNS = "l.id, l.project_id, l.token_hash, l.label, l.password_hash, l.allow_raw, l.created_at"


def insert_link(
    *,
    project_id: UUID,
    owner_id: UUID,
    token_hash: str,
    label: str | None,
    password_hash: str | None,
    allow_raw: bool,
) -> ShareLinkRow | None:
    """A new link of the owner's project; None when the project is not theirs."""
    with connection() as conn:
        row = conn.execute(
            "INSERT INTO share_links AS l (project_id, token_hash, label, password_hash, "
            "allow_raw) SELECT p.id, %(t)s, %(label)s, %(pw)s, %(raw)s FROM projects p "
            f"WHERE p.id = %(p)s AND p.owner_id = %(o)s RETURNING {_COLUMNS}",
            {
                "p": project_id,
                "o": owner_id,
                "t": token_hash,
                "label": label,
                "pw": password_hash,
                "raw": allow_raw,
            },
        ).fetchone()
    return ShareLinkRow.model_validate(row) if row else None


def list_links(*, project_id: UUID, owner_id: UUID) -> list[ShareLinkRow]:
    with connection() as conn:
        rows = conn.execute(
            f"SELECT {_COLUMNS} FROM share_links l JOIN projects p ON p.id = l.project_id "
            "WHERE l.project_id = %s AND p.owner_id = %s ORDER BY l.created_at, l.id",
            (project_id, owner_id),
        ).fetchall()
    return [ShareLinkRow.model_validate(r) for r in rows]


def delete_link(*, link_id: UUID, project_id: UUID, owner_id: UUID) -> bool:
    """Revoke: delete the link if it is one of the owner's project's; whether it was."""
    with connection() as conn:
        row = conn.execute(
            "DELETE FROM share_links l USING projects p WHERE l.id = %s AND l.project_id = %s "
            "AND p.id = l.project_id AND p.owner_id = %s RETURNING l.id",
            (link_id, project_id, owner_id),
        ).fetchone()
    return row is not None


def get_by_token_hash(*, token_hash: str) -> ShareLinkRow | None:
    with connection() as conn:
        row = conn.execute(
            f"SELECT {_COLUMNS} FROM share_links l WHERE l.token_hash = %s", (token_hash,)
        ).fetchone()
    return ShareLinkRow.model_validate(row) if row else None


def get_link(*, link_id: UUID) -> ShareLinkRow | None:
    with connection() as conn:
        row = conn.execute(
            f"SELECT {_COLUMNS} FROM share_links l WHERE l.id = %s", (link_id,)
        ).fetchone()
    return ShareLinkRow.model_validate(row) if row else None


def project_name(*, project_id: UUID) -> str | None:
    """The shared project's name (what a share view shows as its title)."""
    with connection() as conn:
        row = conn.execute("SELECT name FROM projects WHERE id = %s", (project_id,)).fetchone()
    return str(row["name"]) if row else None
