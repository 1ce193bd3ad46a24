"""One error body for every API failure: {"code", "message", "details"}."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.core.exceptions import RequestDataTooBig
from django.db import DataError
from django.http import Http404, HttpRequest, HttpResponse
from ninja.errors import AuthenticationError, HttpError, ValidationError

from scanners.strict_json import JSONInputError

if TYPE_CHECKING:
    from ninja import NinjaAPI

logger = logging.getLogger(__name__)

_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
}


class ApiError(Exception):
    """Stop an API call with a status, a stable code, a message and optional details."""

    def __init__(self, status: int, code: str, message: str, details: object = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details


def body(code: str, message: str, details: object = None) -> dict[str, object]:
    """The error body."""
    return {"code": code, "message": message, "details": details}


def _field(loc: Sequence[object]) -> str:
    """`("body", "payload", "clone_url")` -> `clone_url`; `("query", "page")` -> `page`."""
    parts = [str(p) for p in loc]
    if parts[:1] == ["body"]:
        parts = parts[2:] or parts[1:]
    elif parts[:1] and parts[0] in {"query", "path", "header", "cookie"}:
        parts = parts[1:]
    return ".".join(parts)


def refused_json(exc: JSONInputError) -> tuple[int, dict[str, object]]:
    """Not JSON at all: a 400. Well-formed JSON holding what no field may hold (NaN, a key
    twice, deep nesting, NUL, a lone surrogate): a 422 naming the field."""
    if exc.malformed:
        return 400, body("bad_request", f"the body is not JSON: {exc.message}")
    details = [{"field": exc.pointer.lstrip("/").replace("/", "."), "message": exc.message}]
    return 422, body("validation_error", exc.message, details)


def http_error(exc: HttpError) -> tuple[int, dict[str, object]]:
    """The status and body of ninja's HttpError (which wraps the body parser's refusal)."""
    if isinstance(exc.__cause__, JSONInputError):
        return refused_json(exc.__cause__)
    message = str(exc)
    if isinstance(exc, AuthenticationError):
        message = "send `Authorization: Bearer <token>` or sign in"
    return exc.status_code, body(_CODES.get(exc.status_code, "error"), message)


def install(api: NinjaAPI) -> None:
    """Register the handlers that give every error the same shape."""

    def on_api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
        return api.create_response(
            request, body(exc.code, exc.message, exc.details), status=exc.status
        )

    def on_validation(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        details = [
            {"field": _field(error.get("loc", ())), "message": error.get("msg", "")}
            for error in exc.errors
        ]
        return api.create_response(
            request, body("validation_error", "the request is not valid", details), status=422
        )

    def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        status, answer = http_error(exc)
        return api.create_response(request, answer, status=status)

    def on_404(request: HttpRequest, exc: Http404) -> HttpResponse:
        return api.create_response(request, body("not_found", str(exc) or "not found"), status=404)

    def on_too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
        return api.create_response(
            request, body("too_large", "the request body is too large"), status=413
        )

    def on_data_error(request: HttpRequest, exc: Exception) -> HttpResponse:
        # A value the database cannot hold or compare: NUL in PostgreSQL text, an integer
        # beyond bigint (SQLite raises OverflowError). The caller sent it: a 422, not a 500.
        logger.warning(
            "API input refused by the database on %s %s: %s",
            request.method,
            request.path,
            type(exc).__name__,
        )
        return api.create_response(
            request,
            body(
                "validation_error",
                "a value cannot be used: a NUL character or a number out of range",
            ),
            status=422,
        )

    def on_unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
        logger.exception("API error on %s %s", request.method, request.path)
        return api.create_response(
            request, body("internal_error", "an unexpected error occurred"), status=500
        )

    handlers: list[tuple[type[Exception], Any]] = [
        (ApiError, on_api_error),
        (ValidationError, on_validation),
        (HttpError, on_http_error),
        (Http404, on_404),
        (RequestDataTooBig, on_too_big),
        (DataError, on_data_error),
        (OverflowError, on_data_error),
        (Exception, on_unexpected),
    ]
    for exc_class, handler in handlers:
        # ninja's hints say a handler may get the class; it always gets the instance.
        api.add_exception_handler(exc_class, handler)
