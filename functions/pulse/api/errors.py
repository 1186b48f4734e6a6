"""Map exception *types* to HTTP statuses and the one JSON error shape."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from pulse import exceptions as exc
from pulse.observability import logger

STATUS_BY_TYPE: dict[type[exc.PulseError], int] = {
    exc.MalformedRequestError: 400,
    exc.InvalidInputError: 422,
    exc.AuthenticationError: 401,
    exc.PermissionDeniedError: 403,
    exc.NotFoundError: 404,
    exc.ConflictError: 409,
    exc.PayloadTooLargeError: 413,
    exc.RateLimitedError: 429,
    exc.ServiceUnavailableError: 503,
    exc.DataLayerError: 503,
    exc.ConfigurationError: 500,
}

CODE_BY_STATUS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
}


def error_response(
    status: int,
    code: str,
    message: str,
    details: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(
        status_code=status,
        content={"error": {"code": code, "message": message, "details": details or []}},
        headers=headers,
    )


def _status_of(error: exc.PulseError) -> int:
    for cls in type(error).__mro__:
        if cls in STATUS_BY_TYPE:
            return STATUS_BY_TYPE[cls]
    return 500


def validation_details(errors: Any) -> list[dict[str, Any]]:
    details = []
    for err in errors:
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path", "header")]
        message = str(err.get("msg", "invalid value")).removeprefix("Value error, ")
        details.append({"field": ".".join(loc) or "body", "message": message})
    return details


def install(app: FastAPI) -> None:
    @app.exception_handler(exc.PulseError)
    async def _pulse_error(_: Request, error: exc.PulseError) -> JSONResponse:
        status = _status_of(error)
        headers: dict[str, str] = {}
        if isinstance(error, exc.AuthenticationError):
            headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
        if isinstance(error, exc.RateLimitedError):
            headers["Retry-After"] = str(error.retry_after_s)
        if status >= 500:
            logger.exception("request failed", extra={"error_type": type(error).__name__})
            message = (
                "a backing service is unavailable; try again" if status == 503 else "internal error"
            )
            return error_response(status, error.code, message, headers=headers)
        return error_response(status, error.code, error.message, error.details, headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, error: RequestValidationError) -> JSONResponse:
        details = validation_details(error.errors())
        summary = "; ".join(f"{d['field']}: {d['message']}" for d in details)
        return error_response(422, "invalid_input", summary or "invalid request", details)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, error: StarletteHTTPException) -> JSONResponse:
        status = error.status_code
        message = error.detail if isinstance(error.detail, str) else "request failed"
        if status == 404:
            message = "no such route" if message == "Not Found" else message
        return error_response(
            status,
            CODE_BY_STATUS.get(status, "error"),
            message,
            headers=dict(error.headers or {}),
        )

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, error: Exception) -> JSONResponse:
        logger.exception("unhandled error", extra={"error_type": type(error).__name__})
        return error_response(500, "internal_error", "internal error")
