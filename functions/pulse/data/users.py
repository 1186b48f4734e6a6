"""SQL for the users aggregate."""

from __future__ import annotations

from uuid import UUID

from pulse.db.connection import connection
from pulse.exceptions import ConflictError
from pulse.models.stored import UserRow

_COLUMNS = "id, email, password_hash, created_at, updated_at"


def insert_user(*, email: str, password_hash: str) -> UserRow:
    try:
        with connection() as conn:
            row = conn.execute(
                f"INSERT INTO users (email, password_hash) VALUES (%s, %s) RETURNING {_COLUMNS}",
                (email, password_hash),
            ).fetchone()
    except ConflictError as exc:
        raise ConflictError("an account with this email already exists") from exc
    assert row is not None
    return UserRow.model_validate(row)


def get_user_by_email(*, email: str) -> UserRow | None:
    with connection() as conn:
        row = conn.execute(
            f"SELECT {_COLUMNS} FROM users WHERE lower(email) = lower(%s)", (email,)
        ).fetchone()
    return UserRow.model_validate(row) if row else None


def get_user(*, user_id: UUID) -> UserRow | None:
    with connection() as conn:
        row = conn.execute(f"SELECT {_COLUMNS} FROM users WHERE id = %s", (user_id,)).fetchone()
    return UserRow.model_validate(row) if row else None


def update_password_hash(*, user_id: UUID, password_hash: str) -> None:
    with connection() as conn:
        conn.execute(
            "UPDATE users SET password_hash = %s, updated_at = now() WHERE id = %s",
            (password_hash, user_id),
        )
