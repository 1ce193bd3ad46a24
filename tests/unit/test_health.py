"""Health, readiness and metrics endpoints."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client, override_settings

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.django_db


def test_health_is_always_200_with_version_information(client: Client) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body) >= {"version", "commit", "build_time"}


def test_ready_is_200_when_database_and_broker_answer(client: Client) -> None:
    response = client.get("/health/ready")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["failing"] == []
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["broker"]["ok"] is True


def test_ready_is_503_naming_the_broker_when_it_is_unreachable(
    client: Client, settings: object
) -> None:
    # A real connection attempt to a closed loopback port, not a mock.
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # type: ignore[attr-defined]
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {}  # type: ignore[attr-defined]
    response = client.get("/health/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["broker"]
    assert body["checks"]["database"]["ok"] is True


# A cache on a closed loopback port: real connection attempts, refused at once (finding 8).
CACHE_DOWN = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
    }
}


def test_ready_reports_the_cache_when_it_answers(client: Client) -> None:
    body = client.get("/health/ready").json()
    assert body["checks"]["cache"] == {"ok": True, "critical": True, "detail": "ok"}


def test_ready_is_503_naming_the_cache_when_it_is_unreachable(client: Client) -> None:
    with override_settings(CACHES=CACHE_DOWN):  # also drops the open cache connections
        response = client.get("/health/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["cache"]
    assert body["checks"]["cache"]["detail"] == "unreachable"
    assert body["checks"]["database"]["ok"] is True


def test_ready_is_503_naming_the_database_when_it_is_unreachable(tmp_path: Path) -> None:
    script = (
        "import django; django.setup();"
        "from django.test import Client;"
        "r = Client().get('/health/ready');"
        "print(r.status_code); print(r.content.decode())"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "dashboard.settings",
        "DATABASE_URL": "postgresql://postgres@127.0.0.1:1/nowhere",
        "CELERY_BROKER_URL": "filesystem://",
        "VAR_DIR": str(tmp_path),
        "LOG_DIR": str(tmp_path / "logs"),
    }
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    status, body = result.stdout.strip().split("\n", 1)
    assert status == "503", result.stderr
    assert json.loads(body)["failing"] == ["database"]


def test_ready_reports_worker_heartbeat_as_non_critical(client: Client) -> None:
    from dashboard.services.infra.heartbeat import record_heartbeat

    before = client.get("/health/ready").json()["checks"]["worker"]
    record_heartbeat("worker-1")
    after = client.get("/health/ready").json()["checks"]["worker"]
    assert before == {"ok": False, "critical": False, "detail": "no heartbeat yet"}
    assert after["ok"] is True
    assert "worker-1" in after["detail"]


def _counter(text: str, view: str, status: str) -> float:
    for line in text.splitlines():
        if (
            line.startswith("yardstick_http_requests_total{")
            and f'view="{view}"' in line
            and f'status="{status}"' in line
        ):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_metrics_counts_a_request_by_view_method_and_status(client: Client) -> None:
    before = _counter(client.get("/metrics").content.decode(), "health", "200")
    client.get("/health")
    text = client.get("/metrics").content.decode()
    assert _counter(text, "health", "200") == before + 1
    assert 'yardstick_http_request_duration_seconds_bucket{le="0.005",view="health"}' in text
    assert "yardstick_celery_queue_length" in text
    assert "yardstick_db_connections_open" in text


def test_metrics_label_unknown_paths_without_the_raw_path(client: Client) -> None:
    client.get("/no-such-page/raw-path-marker")  # not digits: they occur in timestamps
    text = client.get("/metrics").content.decode()
    assert _counter(text, "unmatched", "404") >= 1
    assert "raw-path-marker" not in text


def test_ready_names_a_cache_that_does_not_keep_values(client: Client) -> None:
    dummy = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    with override_settings(CACHES=dummy):
        response = client.get("/health/ready")
    assert response.status_code == 503
    assert response.json()["checks"]["cache"]["detail"] == "does not keep values"
