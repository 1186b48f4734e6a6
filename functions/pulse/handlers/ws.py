"""Lambda "ws": the WebSocket API's ``$connect``, ``$disconnect`` and ``$default`` routes."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from pulse.observability import logger
from pulse.realtime import push
from pulse.realtime.service import handle
from pulse.secrets import jwt_secret

jwt_secret()  # refuse a missing or placeholder secret at cold start, not on the first connect
push.warm()  # the @connections client at init, not on the first backfill


@logger.inject_lambda_context(correlation_id_path="requestContext.requestId")
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return handle(event)
