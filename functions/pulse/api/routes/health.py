"""/api/v1/health: 200 once Postgres and Redis answer."""

from __future__ import annotations

from fastapi import APIRouter

from pulse.cache import get_redis
from pulse.db.connection import connection
from pulse.exceptions import ServiceUnavailableError
from pulse.models.outputs import ErrorOut, HealthOut

router = APIRouter(tags=["health"])


@router.get("/health", responses={503: {"model": ErrorOut}})
def health() -> HealthOut:
    try:
        with connection() as conn:
            conn.execute("SELECT 1 FROM schema_migrations LIMIT 1")
        get_redis().ping()
    except Exception as exc:
        raise ServiceUnavailableError("not ready") from exc
    return HealthOut(status="ok", database="ok", redis="ok")
