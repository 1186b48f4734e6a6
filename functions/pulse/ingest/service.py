"""The ingest request, from an API Gateway HTTP API event to a response dict."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime
from typing import Any

from pulse import edge, observability
from pulse import exceptions as exc
from pulse.ingest import cors, enrichment, keys, publisher, visit
from pulse.ingest.config import IngestSettings
from pulse.ingest.validation import ValidEvent, parse_body
from pulse.observability import logger

_TALLY_NAMESPACE = uuid.UUID("6f1c2a44-5b0e-4f3c-9d7e-2b8a1c0e9f51")

STATUS = {
    exc.MalformedRequestError: 400,
    exc.InvalidInputError: 422,
    exc.AuthenticationError: 401,
    exc.PermissionDeniedError: 403,
    exc.PayloadTooLargeError: 413,
    exc.RateLimitedError: 429,
    exc.ServiceUnavailableError: 503,
    exc.DataLayerError: 503,
}


def _response(status: int, body: dict[str, Any] | None, headers: dict[str, str]) -> dict[str, Any]:
    headers["x-content-type-options"] = "nosniff"
    out: dict[str, Any] = {"statusCode": status, "headers": headers}
    if body is not None:
        headers["content-type"] = "application/json"
        out["body"] = json.dumps(body, separators=(",", ":"))
    return out


def _error(
    error: exc.PulseError, headers: dict[str, str], status: int | None = None
) -> dict[str, Any]:
    status = status or next((s for t, s in STATUS.items() if isinstance(error, t)), 500)
    if isinstance(error, exc.RateLimitedError):
        headers["retry-after"] = str(error.retry_after_s)
    if status == 503:
        headers["retry-after"] = "1"
    body = {"error": {"code": error.code, "message": error.message, "details": error.details}}
    return _response(status, body, headers)


def _raw_body(event: dict[str, Any]) -> bytes:
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        return base64.b64decode(body)
    return body.encode() if isinstance(body, str) else bytes(body)


def _drop_bot_events(
    project_id: str, events: list[ValidEvent], now: datetime, settings: IngestSettings
) -> int:
    """Count a bot's events instead of keeping them: one tally record through the stream, so
    that a 202 still means what it says (the count is kept), with no database call here. Its id
    comes from the events' uuids, so a resend of the same events counts once."""
    tally_id = uuid.uuid5(_TALLY_NAMESPACE, project_id + "".join(ev.id for ev in events))
    record = publisher.tally_record(
        project_id=project_id,
        tally_id=str(tally_id),
        received_at=now.isoformat(),
        events=len(events),
    )
    publisher.put_all(settings.events_stream, [record], attempts=settings.put_attempts)
    observability.count(observability.BOT_EVENTS_FILTERED, len(events))
    return len(events)


def handle(event: dict[str, Any], settings: IngestSettings) -> dict[str, Any]:
    headers_in = event.get("headers") or {}
    origin = headers_in.get("origin")
    headers = cors.response_headers(origin)
    method = event.get("requestContext", {}).get("http", {}).get("method", "POST")
    if method == "OPTIONS":
        return _response(204, None, {**headers, **cors.PREFLIGHT_HEADERS})
    now = datetime.now(UTC)
    try:
        batch = parse_body(_raw_body(event), now=now)
        api_key = headers_in.get("x-api-key") or batch.api_key
        if not api_key:
            raise exc.AuthenticationError("missing API key (X-API-Key header or api_key field)")
        project = keys.resolve(
            api_key,
            limit_per_minute=settings.rate_limit_per_minute,
            cache_ttl_s=settings.api_key_cache_ttl_s,
        )
        if not cors.origin_allowed(origin, project.domain):
            raise exc.PermissionDeniedError(f"origin {origin} is not allowed for this project")
        if batch.rejected:
            observability.count(observability.EVENTS_REJECTED, len(batch.rejected))
        if not batch.events:
            return _response(
                422,
                {
                    "error": {
                        "code": "invalid_input",
                        "message": "no event in the batch is valid",
                        "details": batch.rejected,
                    }
                },
                headers,
            )
        user_agent = enrichment.user_agent(headers_in.get("user-agent"))
        agent = visit.of_user_agent(user_agent)
        if agent.bot and not project.keep_bots:
            filtered = _drop_bot_events(project.project_id, batch.events, now, settings)
            return _response(
                202, {"accepted": 0, "filtered": filtered, "rejected": batch.rejected}, headers
            )
        # The IP address is read here, for the country and the hash, and goes no further: the
        # visitor's own behind our CloudFront (edge.client_ip), else the connection's.
        ip = edge.client_ip(event, edge.edge_secret())
        envelope = {
            "project_id": project.project_id,
            "received_at": now.isoformat(),
            "check": batch.check_duplicates,
            # The User-Agent itself goes no further than the IP address: what reports need of
            # it (browser, OS, device type) is below, and it feeds the hash (docs/security.md).
            "ip_hash": enrichment.ip_hash(
                salt=enrichment.daily_salt(now),
                project_id=project.project_id,
                ip=ip,
                user_agent=user_agent,
            ),
            "browser": agent.browser,
            "os": agent.os,
            "device": agent.device,
            "country": visit.country(ip),
        }
        events = [
            {
                "id": ev.id,
                "event": ev.event,
                "properties": ev.properties,
                "distinct_id": ev.distinct_id,
                "session_id": ev.session_id,
                "page_url": ev.page_url,
                "referrer": ev.referrer,
                "timestamp": ev.timestamp.isoformat(),
            }
            for ev in batch.events
        ]
        records = publisher.build_records(
            project_id=project.project_id, envelope=envelope, events=events
        )
        publisher.put_all(settings.events_stream, records, attempts=settings.put_attempts)
        observability.count(observability.EVENTS_ACCEPTED, len(events))
    except exc.PulseError as error:
        if isinstance(error, exc.ServiceUnavailableError | exc.DataLayerError):
            logger.warning("ingest unavailable", extra={"error": error.message})
        return _error(error, headers)
    return _response(202, {"accepted": len(events), "rejected": batch.rejected}, headers)
