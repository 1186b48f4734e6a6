"""Shared Powertools Logger, Tracer and Metrics, one instance each per process.

The Logger is created at import; the Tracer (which imports the X-Ray SDK and botocore, ~0.4 s)
and Metrics are created on first use, so that a light function such as "ingest" does not pay
for them on its cold start.
"""

from __future__ import annotations

import functools

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
