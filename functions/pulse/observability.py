"""Shared Powertools Logger, Tracer and Metrics, one instance each per process.

The Logger is created at import; the Tracer (which imports the X-Ray SDK and botocore, ~0.4 s)
and Metrics are created on first use, so that a light function such as "ingest" does not pay
for them on its cold start.
"""

from __future__ import annotations

import functools
import traceback
from typing import Any

from aws_lambda_powertools import Logger

SERVICE = "pulse"
NAMESPACE = "Pulse"

logger = Logger(service=SERVICE)


@functools.cache
def get_tracer():  # type: ignore[no-untyped-def]
    from aws_lambda_powertools import Tracer

    return Tracer(service=SERVICE)


@functools.cache
def get_metrics():  # type: ignore[no-untyped-def]
    from aws_lambda_powertools import Metrics

    return Metrics(namespace=NAMESPACE, service=SERVICE)


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
