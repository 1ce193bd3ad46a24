"""/metrics (finding 12): bounded labels, and the totals of every gunicorn worker process.

The method label used to be the client's text (10,000 random methods, 10,000 series), and
each gunicorn worker exposed only its own counters, so successive scrapes went 15 -> 7 -> 16.
"""

from __future__ import annotations

import os
import random
import re
import string
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.test import Client

from tests.private_services import free_port
from tests.unit.test_health import _counter

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.django_db

SERIES = re.compile(r"^(yardstick_http_requests_total\{[^}]*\})", re.MULTILINE)
# The methods of RFC 9110 (and PATCH): every other method's label is "other".
STANDARD = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"}
METHOD = re.compile(r'method="([^"]*)"')


def _series(client: Client) -> set[str]:
    return set(SERIES.findall(client.get("/metrics").content.decode()))


def _random_method(rng: random.Random) -> str:
    return "".join(rng.choices(string.ascii_uppercase, k=rng.randint(3, 12)))


def test_method_label_is_a_standard_method_or_other() -> None:
    from dashboard.observability.metrics import method_label

    assert method_label("GET") == "GET"
    assert method_label("PROPFIND") == "other"
    assert method_label("get") == "other"  # methods are case-sensitive
    assert method_label(None) == "other"


def test_a_thousand_random_methods_add_no_series_beyond_a_fixed_set(client: Client) -> None:
    rng = random.Random(12)  # noqa: S311 - reproducible test data, not a secret
    paths = ("/health", "/no-such-page/", "/accounts/login/")
    for path in paths:  # the "other" series of each path exist from here on
        client.generic(_random_method(rng), path)
    client.get("/metrics")  # the scrape's own series
    before = _series(client)
    for n in range(1000):
        client.generic(_random_method(rng), paths[n % len(paths)])
    after = _series(client)
    assert after == before
    assert {m for s in after for m in METHOD.findall(s)} <= STANDARD | {"other"}


def test_view_label_is_a_resolved_url_name_or_unmatched(client: Client) -> None:
    client.get("/repositories/not-a-number/")
    client.get("/teams/no-such-team/")
    views = {
        re.search(r'view="([^"]*)"', s).group(1)  # type: ignore[union-attr]
        for s in _series(client)
    }
    assert "unmatched" in views
    assert not [v for v in views if "/" in v]  # never a path


# ----- several processes ------------------------------------------------------------------
def _env(tmp_path: Path, metrics: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "dashboard.settings",
        "PROMETHEUS_MULTIPROC_DIR": str(metrics),
        "CELERY_BROKER_URL": "filesystem://",
        "VAR_DIR": str(tmp_path / "var"),
        "LOG_DIR": str(tmp_path / "logs"),
        "PYTHONUNBUFFERED": "1",
    }


def _django(script: str, env: dict[str, str]) -> str:
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup()\n{script}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


@pytest.mark.slow
def test_a_scrape_sums_the_requests_of_every_process(tmp_path: Path) -> None:
    metrics = tmp_path / "metrics"
    metrics.mkdir()
    env = _env(tmp_path, metrics)
    serve = "from django.test import Client\nc = Client()\nfor _ in range({n}): c.get('/health')"
    _django(serve.format(n=3), env)
    _django(serve.format(n=4), env)
    text = _django(
        "from django.test import Client\nprint(Client().get('/metrics').content.decode())", env
    )
    assert _counter(text, "health", "200") == 7
    assert "yardstick_db_connections_open" in text  # gauges: read at scrape time
    assert "yardstick_celery_queue_length" in text


def _get(url: str, timeout: float = 60) -> str:
    request = urllib.request.Request(url, headers={"Connection": "close"})  # noqa: S310
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - loopback
        return str(response.read().decode())


@pytest.mark.slow
def test_gunicorn_workers_share_their_counts_and_start_from_zero(tmp_path: Path) -> None:
    metrics = tmp_path / "metrics"
    metrics.mkdir()
    env = _env(tmp_path, metrics)
    # A previous run's worker counted 1000 requests: gunicorn must not add them in.
    _django(
        "from dashboard.observability.metrics import HTTP_REQUESTS\n"
        "HTTP_REQUESTS.labels('health', 'GET', '200').inc(1000)",
        env,
    )
    assert list(metrics.glob("counter_*.db"))
    port = free_port()
    env.update(WEB_BIND=f"127.0.0.1:{port}", WEB_WORKERS="2", WEB_THREADS="2")
    env["METRICS_DIR"] = str(metrics)
    log = (tmp_path / "web.log").open("wb")
    web = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "--no-control-socket"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        # Workers import Django on their first request: slow on a loaded 2-core machine.
        deadline = time.monotonic() + 180
        while True:
            assert web.poll() is None, (tmp_path / "web.log").read_text()[-3000:]
            try:
                # Not /health: a request that timed out here may still be counted later.
                _get(f"{base}/metrics", timeout=10)
                break
            except OSError:  # refused, reset, or a worker still booting (TimeoutError)
                assert time.monotonic() < deadline, (tmp_path / "web.log").read_text()[-3000:]
                time.sleep(0.2)
        served = 0
        # New connections until both workers have served (each keeps its own counter file).
        while len(list(metrics.glob("counter_*.db"))) < 2 or served < 20:
            _get(f"{base}/health")
            served += 1
            assert served < 1000, "one worker never served a request"
        scrapes = [_counter(_get(f"{base}/metrics"), "health", "200") for _ in range(8)]
        assert scrapes == [served] * 8
    finally:
        web.terminate()
        web.wait(timeout=30)
        log.close()
