"""The visitor's IP, also for a request that came through the stack's CloudFront distribution.

API Gateway's (and a function URL's) ``requestContext.http.sourceIp`` is the address that opened
the connection. For a request forwarded by CloudFront's ``/api/*`` behaviour that is a CloudFront
edge, not the visitor, so every visitor behind one edge would share an ``ip_hash`` and a login
limit. The distribution therefore adds two headers to each origin request there
(``infra/pulse_infra/constructs/hosting.py``):

- ``true-client-ip``: the viewer's address, written by a viewer-request CloudFront Function
  from ``event.viewer.ip``; it replaces whatever a viewer sent under that name;
- ``x-pulse-edge``: an origin custom header whose value is the stack's edge secret (Secrets
  Manager, ``PULSE_EDGE_SECRET_ARN``); CloudFront sets it, a viewer cannot.

``client_ip`` believes ``true-client-ip`` only when ``x-pulse-edge`` carries that secret, so a
direct call to the HTTP API or the function URL cannot choose the IP it is counted under. With
no secret configured (the local runtimes, tests) it is ``sourceIp``, as before. The secret is
never logged.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import threading
import time
from typing import Any

EDGE_SECRET_HEADER = "x-pulse-edge"
CLIENT_IP_HEADER = "true-client-ip"
EDGE_SECRET_ARN_SETTING = "PULSE_EDGE_SECRET_ARN"
# The value itself, for a runtime without Secrets Manager (tests); the ARN wins when both are set.
EDGE_SECRET_SETTING = "PULSE_EDGE_SECRET"

# After a failed read, ask Secrets Manager again no sooner than this (a request never waits on it
# more than once a minute per environment).
RETRY_AFTER_S = 60.0

_secret: list[str] = []
_next_try = [0.0]
_lock = threading.Lock()


def client_ip(event: dict[str, Any], secret: str | None) -> str:
    """The visitor's IP for an API Gateway v2 / function URL ``event``: CloudFront's
    ``true-client-ip`` when the request proves it came through our distribution (``secret``),
    else ``sourceIp`` ("" when the event has none)."""
    source = str(event.get("requestContext", {}).get("http", {}).get("sourceIp") or "")
    if not secret:
        return source
    headers = event.get("headers") or {}
    presented = headers.get(EDGE_SECRET_HEADER)
    if not isinstance(presented, str) or not hmac.compare_digest(
        presented.encode(), secret.encode()
    ):
        return source
    return _address(headers.get(CLIENT_IP_HEADER)) or source


def _address(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def edge_secret() -> str | None:
    """The stack's edge secret, read once per execution environment; ``None`` when none is
    configured, or (until a later call succeeds) when Secrets Manager cannot be reached: the
    request is then counted under ``sourceIp`` rather than refused."""
    if _secret:
        return _secret[0]
    arn = os.environ.get(EDGE_SECRET_ARN_SETTING)
    if not arn:
        return os.environ.get(EDGE_SECRET_SETTING) or None
    if time.monotonic() < _next_try[0]:
        return None
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    quick = Config(connect_timeout=2, read_timeout=2, retries={"max_attempts": 2})
    try:
        client = boto3.client("secretsmanager", config=quick)
        value = client.get_secret_value(SecretId=arn)["SecretString"]
    except (BotoCoreError, ClientError) as error:
        from pulse.observability import logger

        _next_try[0] = time.monotonic() + RETRY_AFTER_S
        logger.warning("edge secret unavailable", extra={"error": type(error).__name__})
        return None
    with _lock:
        if not _secret:
            _secret.append(str(value))
    return _secret[0]


def reset() -> None:
    """Forget the cached secret (tests)."""
    with _lock:
        _secret.clear()
        _next_try[0] = 0.0
