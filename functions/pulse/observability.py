"""Shared Powertools Logger, Tracer and Metrics, one instance each per process.

The Logger is created at import; the Tracer (which imports the X-Ray SDK and botocore, ~0.4 s)
and Metrics are created on first use, so that a light function such as "ingest" does not pay
for them on its cold start.
"""

from __future__ import annotations

import functools
import traceback
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

if TYPE_CHECKING:
    from aws_lambda_powertools import Metrics

SERVICE = "pulse"
NAMESPACE = "Pulse"
# Custom metrics (CloudWatch, embedded metric format; the infrastructure's dashboard and alarms
# read these names, infra/pulse_infra/names.py).
EVENTS_ACCEPTED = "EventsAccepted"  # ingest: events put on the stream
EVENTS_REJECTED = "EventsRejected"  # ingest: events refused (invalid, over limits)
BOT_EVENTS_FILTERED = "BotEventsFiltered"  # ingest: a bot's events dropped (counted, not kept)
EVENTS_WRITTEN = "EventsWritten"  # processor: rows written to Postgres
BATCH_DURATION = "BatchDuration"  # processor: milliseconds per stream batch

logger = Logger(service=SERVICE)


@functools.cache
def get_tracer():  # type: ignore[no-untyped-def]
    from aws_lambda_powertools import Tracer

    return Tracer(service=SERVICE)


@functools.cache
def get_metrics() -> Metrics:
    import warnings

    from aws_lambda_powertools import Metrics

    # An invocation with nothing to count (a preflight, a refused key) is normal here.
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    return Metrics(namespace=NAMESPACE, service=SERVICE)


def count(name: str, value: float, *, unit: str = "Count") -> None:
    """Add to a custom metric of this invocation (published when the handler returns, by
    ``get_metrics().log_metrics``)."""
    get_metrics().add_metric(name=name, unit=unit, value=value)


def failure_fields(error: BaseException) -> dict[str, Any]:
    """What a log line may say about an error that data flowed through: the types in its chain,
    the database's SQLSTATE and where it was raised, never a message. A driver's message can
    quote the data (Postgres ends a failed ``COPY`` with the line it was reading), and event
    properties are the customers' visitors' data."""
    chain: list[str] = []
    sqlstate = None
    at: list[str] = []
    seen: BaseException | None = error
    while seen is not None and len(chain) < 5:
        chain.append(type(seen).__name__)
        sqlstate = sqlstate or getattr(seen, "sqlstate", None)
        if not at and seen.__traceback__ is not None:
            at = [
                f"{frame.filename.rsplit('/', 1)[-1]}:{frame.lineno} {frame.name}"
                for frame in traceback.extract_tb(seen.__traceback__)[-4:]
            ]
        seen = seen.__cause__ or seen.__context__
    return {"error_types": chain, "sqlstate": sqlstate, "raised_at": at}
