"""Lambda "ingest": POST /api/v1/events/ingest (and its CORS preflight).

Light on purpose: no FastAPI, no pydantic-settings; boto3, redis and psycopg load on first use.
"""

from __future__ import annotations

from typing import Any

from pulse import cache
from pulse.ingest.config import IngestSettings
from pulse.ingest.service import handle
from pulse.observability import get_metrics, logger

settings = IngestSettings.from_env()
cache.configure(url=settings.redis_url, key_prefix=settings.redis_key_prefix)


@get_metrics().log_metrics
@logger.inject_lambda_context(correlation_id_path="requestContext.requestId")
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return handle(event, settings)
