"""Lambda "migrate": applies the schema migrations (invoked by the deploy, and on demand)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from pulse.db.connection import database_url
from pulse.db.migrate import apply_migrations
from pulse.observability import logger


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return {"applied": apply_migrations(database_url())}
