"""CORS for the ingest endpoint: a project with a domain accepts only that origin and its
subdomains; one without a domain accepts any origin."""

from __future__ import annotations

from urllib.parse import urlsplit

PREFLIGHT_HEADERS = {
    "access-control-allow-methods": "POST, OPTIONS",
    "access-control-allow-headers": "content-type, x-api-key",
    "access-control-max-age": "86400",
}


def origin_allowed(origin: str | None, domain: str | None) -> bool:
    if not origin or not domain:
        return True
    try:
        parts = urlsplit(origin)
        host = (parts.hostname or "").lower()
        port = parts.port  # raises for a port that is not a number from 0 to 65535
    except ValueError:  # "http://[::1" (an unclosed IPv6 bracket), ":99999", ":abc"
        return False
    if not host:
        return False
    candidate = f"{host}:{port}" if port and ":" in domain else host
    return candidate == domain or candidate.endswith("." + domain)


def response_headers(origin: str | None) -> dict[str, str]:
    if not origin:
        return {}
    return {"access-control-allow-origin": origin, "vary": "Origin"}
