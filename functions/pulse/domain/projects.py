"""Projects of one owner; another owner's project does not exist for them."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from uuid import UUID

from pulse.data import projects
from pulse.exceptions import NotFoundError
from pulse.ingest import keys
from pulse.models.inputs import ProjectCreateIn, ProjectUpdateIn
from pulse.models.stored import ProjectRow
from pulse.observability import logger
from pulse.processor import live

API_KEY_PREFIX = "proj_"


def new_api_key() -> str:
    return API_KEY_PREFIX + secrets.token_urlsafe(24)


def _found(row: ProjectRow | None) -> ProjectRow:
    if row is None:
        raise NotFoundError("project not found")
    return row


def create(owner_id: UUID, body: ProjectCreateIn) -> ProjectRow:
    return projects.insert_project(
        owner_id=owner_id,
        name=body.name,
        domain=body.domain,
        api_key=new_api_key(),
        keep_bots=bool(body.keep_bots),
    )


def list_for(owner_id: UUID) -> list[ProjectRow]:
    return projects.list_projects(owner_id=owner_id)


def get(owner_id: UUID, project_id: UUID) -> ProjectRow:
    return _found(projects.get_project(project_id=project_id, owner_id=owner_id))


def update(owner_id: UUID, project_id: UUID, body: ProjectUpdateIn) -> ProjectRow:
    changes: dict[str, object] = {}
    if "name" in body.model_fields_set and body.name is not None:
        changes["name"] = body.name
    if "domain" in body.model_fields_set:
        changes["domain"] = body.domain
    if "keep_bots" in body.model_fields_set and body.keep_bots is not None:
        changes["keep_bots"] = body.keep_bots
    row = _found(projects.update_project(project_id=project_id, owner_id=owner_id, **changes))  # type: ignore[arg-type]
    if "domain" in changes or "keep_bots" in changes:
        _refresh(row.api_key)  # ingest reads the project's settings again, now
    return row


def _refresh(api_key: str) -> None:
    try:
        keys.refresh(api_key)
    except Exception:  # Redis down: ingest then reads keys from Postgres, which is already right
        logger.exception("could not refresh the cached API key")


def _invalidate(api_key: str) -> None:
    """Make the ingest path refuse ``api_key`` now, in every warm container."""
    try:
        keys.invalidate([api_key])
    except Exception:  # Redis down: ingest then reads keys from Postgres, which is already right
        logger.exception("could not invalidate the cached API key")


def rotate_key(owner_id: UUID, project_id: UUID) -> ProjectRow:
    old = get(owner_id, project_id)
    row = _found(
        projects.set_api_key(project_id=project_id, owner_id=owner_id, api_key=new_api_key())
    )
    _invalidate(old.api_key)
    return row


def delete(owner_id: UUID, project_id: UUID) -> None:
    """Delete the project and everything kept for it: its rows (in one transaction), its key
    (at once, in every warm container), its live counters and last events in Redis. Events still
    in the stream are not stored (``pulse.data.events``)."""
    row = _found(projects.delete_project(project_id=project_id, owner_id=owner_id))
    _invalidate(row.api_key)
    try:
        live.forget_project(str(project_id), now=datetime.now(UTC))
    except Exception:  # Redis down: the counters expire on their own (two days)
        logger.exception("could not delete the project's live data")
