"""Lambda "api": the FastAPI app behind API Gateway (HTTP API, payload format 2.0)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from mangum import Mangum

from pulse.api.app import create_app
from pulse.observability import logger
from pulse.secrets import jwt_secret

jwt_secret()  # refuse a missing or placeholder secret at cold start, not on the first login
_asgi = Mangum(create_app(), lifespan="off", api_gateway_base_path="/")


@logger.inject_lambda_context(correlation_id_path="requestContext.requestId")
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return _asgi(event, context)  # type: ignore[arg-type]
