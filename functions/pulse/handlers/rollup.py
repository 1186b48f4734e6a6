"""Lambda "rollup": the EventBridge schedule, or a backfill request."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from pulse.observability import logger
from pulse.rollup.service import handle


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    return handle(event, context.get_remaining_time_in_millis)
