"""SQL for the projects aggregate. Every read and write is scoped to its owner."""

from __future__ import annotations

from uuid import UUID

from pulse.data.rollups import ROLLUP_TABLES
from pulse.db.connection import connection
from pulse.exceptions import ConflictError
from pulse.models.stored import ProjectRow

_COLUMNS = "id, owner_id, name, api_key, domain, keep_bots, created_at, updated_at"
_UNSET = object()


def insert_project(
    *, owner_id: UUID, name: str, domain: str | None, api_key: str, keep_bots: bool = False
) -> ProjectRow:
    try:
        with connection() as conn:
            row = conn.execute(
                "INSERT INTO projects (owner_id, name, domain, api_key, keep_bots)"
                f" VALUES (%s, %s, %s, %s, %s) RETURNING {_COLUMNS}",
                (owner_id, name, domain, api_key, keep_bots),
            ).fetchone()
    except ConflictError as exc:  # a key collision: 2^-192, but never silent
        raise ConflictError("api key collision; try again") from exc
    assert row is not None
    return ProjectRow.model_validate(row)


def list_projects(*, owner_id: UUID) -> list[ProjectRow]:
    with connection() as conn:
        rows = conn.execute(
            f"SELECT {_COLUMNS} FROM projects WHERE owner_id = %s ORDER BY created_at, id",
            (owner_id,),
        ).fetchall()
    return [ProjectRow.model_validate(r) for r in rows]


def get_project(*, project_id: UUID, owner_id: UUID) -> ProjectRow | None:
    with connection() as conn:
        row = conn.execute(
            f"SELECT {_COLUMNS} FROM projects WHERE id = %s AND owner_id = %s",
            (project_id, owner_id),
        ).fetchone()
    return ProjectRow.model_validate(row) if row else None


def get_project_by_api_key(*, api_key: str) -> ProjectRow | None:
    with connection() as conn:
        row = conn.execute(
            f"SELECT {_COLUMNS} FROM projects WHERE api_key = %s", (api_key,)
        ).fetchone()
    return ProjectRow.model_validate(row) if row else None


def update_project(
    *,
    project_id: UUID,
    owner_id: UUID,
    name: str | None = None,
    domain: str | None | object = _UNSET,
    keep_bots: bool | None = None,
) -> ProjectRow | None:
    """Set the given fields; ``domain=None`` clears the domain, leaving it out keeps it."""
    with connection() as conn:
        row = conn.execute(
            f"UPDATE projects SET name = coalesce(%s, name),"
            f" domain = CASE WHEN %s THEN %s ELSE domain END,"
            f" keep_bots = coalesce(%s, keep_bots), updated_at = now()"
            f" WHERE id = %s AND owner_id = %s RETURNING {_COLUMNS}",
            (
                name,
                domain is not _UNSET,
                None if domain is _UNSET else domain,
                keep_bots,
                project_id,
                owner_id,
            ),
        ).fetchone()
    return ProjectRow.model_validate(row) if row else None


def set_api_key(*, project_id: UUID, owner_id: UUID, api_key: str) -> ProjectRow | None:
    with connection() as conn:
        row = conn.execute(
            f"UPDATE projects SET api_key = %s, updated_at = now()"
            f" WHERE id = %s AND owner_id = %s RETURNING {_COLUMNS}",
            (api_key, project_id, owner_id),
        ).fetchone()
    return ProjectRow.model_validate(row) if row else None


def delete_project(*, project_id: UUID, owner_id: UUID) -> ProjectRow | None:
    """Delete the project and everything recorded for it, in one transaction."""
    with connection() as conn:
        row = conn.execute(
            f"DELETE FROM projects WHERE id = %s AND owner_id = %s RETURNING {_COLUMNS}",
            (project_id, owner_id),
        ).fetchone()
        if row:
            for table in (
                "events",
                "rollup_queue",
                "rollup_dirty_hours",
                *ROLLUP_TABLES,
                "bot_tallies",
                "bot_counts_hourly",
                "share_links",
            ):
                conn.execute(f"DELETE FROM {table} WHERE project_id = %s", (project_id,))
    return ProjectRow.model_validate(row) if row else None
