"""Correlation ids in logs, responses and Celery tasks; security headers; CSRF with htmx."""

from __future__ import annotations

import json
import logging
import re

import pytest
from django.test import Client

from dashboard.celery import _carry_request_id
from dashboard.observability.context import get_request_id, reset_request_id, set_request_id
from dashboard.observability.logging_setup import JsonFormatter, RequestIdFilter

pytestmark = pytest.mark.django_db


def test_request_id_from_header_is_echoed(client: Client) -> None:
    response = client.get("/health", headers={"X-Request-ID": "abc-123"})
    assert response["X-Request-ID"] == "abc-123"


@pytest.mark.parametrize("bad", ["", "has space", "x" * 200, "new\nline", "<script>"])
def test_unsafe_or_missing_request_id_is_replaced(client: Client, bad: str) -> None:
    response = client.get("/health", headers={"X-Request-ID": bad} if bad else {})
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


def test_log_lines_of_a_request_carry_its_id(
    client: Client, caplog: pytest.LogCaptureFixture, settings: object
) -> None:
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # type: ignore[attr-defined]
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {}  # type: ignore[attr-defined]
    caplog.handler.addFilter(RequestIdFilter())
    with caplog.at_level(logging.WARNING, logger="dashboard.services.infra.health"):
        client.get("/health/ready", headers={"X-Request-ID": "trace-42"})
    records = [r for r in caplog.records if r.name == "dashboard.services.infra.health"]
    assert records
    assert all(r.request_id == "trace-42" for r in records)  # type: ignore[attr-defined]
    assert get_request_id() == "-"


def test_a_404_logged_by_django_request_carries_the_request_id(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.handler.addFilter(RequestIdFilter())
    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = client.get("/no-such-page/", headers={"X-Request-ID": "lost-404"})
    assert response.status_code == 404
    records = [r for r in caplog.records if r.name == "django.request"]
    assert [r.levelno for r in records] == [logging.WARNING]
    assert records[0].request_id == "lost-404"  # type: ignore[attr-defined]


def test_json_formatter_has_time_level_logger_function_line_and_request_id() -> None:
    record = logging.LogRecord(
        "yardstick.test", logging.ERROR, __file__, 7, "boom %s", ("x",), None
    )
    record.funcName = "do_it"
    RequestIdFilter().filter(record)
    payload = json.loads(JsonFormatter().format(record))
    assert payload["message"] == "boom x"
    assert payload["level"] == "ERROR"
    assert payload["logger"] == "yardstick.test"
    assert payload["function"] == "do_it"
    assert payload["line"] == 7
    assert payload["request_id"] == "-"
    assert payload["time"].endswith("+00:00")


def test_tasks_published_during_a_request_carry_its_id() -> None:
    token = set_request_id("req-7")
    try:
        headers: dict[str, object] = {}
        _carry_request_id(headers=headers)
    finally:
        reset_request_id(token)
    assert headers == {"request_id": "req-7"}


def test_security_headers_and_strict_csp(client: Client) -> None:
    response = client.get("/accounts/login/")
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_pages_have_no_inline_script(client: Client) -> None:
    html = client.get("/accounts/login/").content.decode()
    for tag in re.findall(r"<script[^>]*>", html):
        assert "src=" in tag


def test_htmx_requests_pass_csrf_with_the_header_from_the_page() -> None:
    client = Client(enforce_csrf_checks=True)
    html = client.get("/accounts/login/").content.decode()
    token = re.search(r'"X-CSRFToken": "([^"]+)"', html)
    assert token is not None
    ok = client.post(
        "/admin/login/",
        {"username": "x", "password": "y"},
        headers={"X-CSRFToken": token.group(1), "HX-Request": "true"},
    )
    refused = Client(enforce_csrf_checks=True).post("/admin/login/", {"username": "x"})
    assert ok.status_code == 200
    assert refused.status_code == 403
