"""Middleware: correlation ids on every request, and request metrics."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from dashboard.http.clientip import client_ip
from dashboard.observability.context import (
    accept_or_generate,
    reset_client_address,
    reset_request_id,
    set_client_address,
    set_request_id,
)
from dashboard.observability.metrics import HTTP_LATENCY, HTTP_REQUESTS, method_label

REQUEST_ID_HEADER = "X-Request-ID"

Handler = Callable[[HttpRequest], HttpResponse]


class RequestIdMiddleware:
    """Take `X-Request-ID` (or generate one), log with it, and echo it in the response.

    It also binds the source address for the request, so services can record it (audit log).
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        """Bind the id for the duration of the request."""
        request_id = accept_or_generate(request.headers.get(REQUEST_ID_HEADER))
        request.request_id = request_id  # type: ignore[attr-defined]
        token = set_request_id(request_id)
        address = set_client_address(client_ip(request))
        try:
            response = self.get_response(request)
        finally:
            reset_client_address(address)
            reset_request_id(token)
        response[REQUEST_ID_HEADER] = request_id
        return response


class MetricsMiddleware:
    """Count requests by view name, method and status, and time them."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        """Measure one request with bounded labels: the URL's name (never the raw path) and
        a standard method or "other" (never the client's text)."""
        started = time.perf_counter()
        response = self.get_response(request)
        match = request.resolver_match
        view = match.view_name if match and match.view_name else "unmatched"
        HTTP_REQUESTS.labels(view, method_label(request.method), str(response.status_code)).inc()
        HTTP_LATENCY.labels(view).observe(time.perf_counter() - started)
        return response
