"""Lambda "processor": Kinesis event source with ReportBatchItemFailures."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from pulse.observability import get_metrics, logger
from pulse.processor.service import process_batch
from pulse.realtime import push

push.warm()  # the @connections client at init, not on the first live event


@get_metrics().log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_batch(event)
