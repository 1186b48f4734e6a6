"""The one place that names what can go wrong; the HTTP edge maps these *types* to statuses."""

from __future__ import annotations

from typing import Any


class PulseError(Exception):
    """Base of every error the platform raises on purpose."""

    code = "error"

    def __init__(self, message: str, *, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []


class NotFoundError(PulseError):
    code = "not_found"


class ConflictError(PulseError):
    code = "conflict"


class InvalidInputError(PulseError):
    code = "invalid_input"


class MalformedRequestError(InvalidInputError):
    """The request cannot even be read (e.g. a body that is not JSON)."""

    code = "bad_request"


class AuthenticationError(PulseError):
    """Missing, malformed, expired, revoked or tampered credentials."""

    code = "unauthorized"


class PermissionDeniedError(PulseError):
    code = "forbidden"


class RateLimitedError(PulseError):
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = max(1, int(retry_after_s))


class PayloadTooLargeError(PulseError):
    code = "payload_too_large"


class ServiceUnavailableError(PulseError):
    code = "unavailable"


class DataLayerError(PulseError):
    """A database or cache driver failed; the original error is chained."""

    code = "data_error"


class RefusedDataError(DataLayerError):
    """The database refused what was written (a value a column cannot hold, a broken
    constraint, a row over a size limit): the same rows fail the same way every time, unlike a
    lost connection or a timeout."""

    code = "refused_data"


class ConfigurationError(PulseError):
    code = "configuration"
