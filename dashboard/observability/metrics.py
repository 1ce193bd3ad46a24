"""Prometheus metrics: HTTP traffic, database connections and Celery queue depth.

Under gunicorn (gunicorn.conf.py) every worker process counts in files under
`PROMETHEUS_MULTIPROC_DIR` (prometheus-client's multiprocess mode, chosen when the variable is
set before prometheus_client is imported), and a scrape, whichever worker answers it, sums
them all. Without the variable (runserver, tests) the process's own registry is exposed.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings
from django.db import connections
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)

REGISTRY = CollectorRegistry(auto_describe=True)

HTTP_REQUESTS = Counter(
    "yardstick_http_requests",
    "HTTP requests served, by view, method and status.",
    ["view", "method", "status"],
    registry=REGISTRY,
)
HTTP_LATENCY = Histogram(
    "yardstick_http_request_duration_seconds",
    "Time to serve an HTTP request, by view.",
    ["view"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0),
    registry=REGISTRY,
)
#: Method label values; any other request method (they are the client's text) counts as "other".
STANDARD_METHODS = frozenset(
    {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"}
)
OTHER_METHOD = "other"
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def method_label(method: str | None) -> str:
    """The request method as a label: one of STANDARD_METHODS, else "other"."""
    return method if method in STANDARD_METHODS else OTHER_METHOD


PAGE_CACHE = Counter(
    "yardstick_page_cache",
    "Cached page panels looked up, by panel and result (hit, miss, error).",
    ["panel", "result"],
    registry=REGISTRY,
)

WEBHOOK_REFUSALS = Counter(
    "yardstick_webhook_refusals",
    "Webhook requests refused before their sender was verified, by provider and status "
    "(stored as a delivery at most once a minute per repository, never when unmatched).",
    ["provider", "status"],
    registry=REGISTRY,
)


def queue_depth(queue: str = "celery") -> int | None:
    """Messages waiting in a Celery queue; None when the broker cannot tell."""
    url: str = settings.CELERY_BROKER_URL
    if url.startswith("filesystem://"):
        folder = Path(str(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"]))
        return sum(1 for name in folder.glob(f"*.{queue}.msg"))
    if url.startswith(("redis://", "rediss://")):
        import redis

        client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        try:
            return int(client.llen(queue))
        except redis.RedisError:
            return None
        finally:
            client.close()
    return None


class RuntimeCollector(Collector):
    """Figures read at scrape time: open DB connections and queued tasks."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """Yield gauges; a failing source is skipped, never raised."""
        db = GaugeMetricFamily(
            "yardstick_db_connections_open",
            "Database connections open in this process.",
            labels=["alias"],
        )
        for conn in connections.all(initialized_only=True):
            db.add_metric([conn.alias], 1.0 if conn.connection is not None else 0.0)
        yield db
        depth = GaugeMetricFamily(
            "yardstick_celery_queue_length",
            "Tasks waiting in the Celery queue.",
            labels=["queue"],
        )
        try:
            value = queue_depth()
        except OSError:
            logger.warning("could not read the Celery queue depth", exc_info=True)
            value = None
        if value is not None:
            depth.add_metric(["celery"], float(value))
        yield depth


RUNTIME = RuntimeCollector()
REGISTRY.register(RUNTIME)


def exposition() -> bytes:
    """The text a scrape gets: every worker's counters summed, gauges read now."""
    if not os.environ.get(MULTIPROC_ENV):
        return generate_latest(REGISTRY)
    registry = CollectorRegistry()
    MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    registry.register(RUNTIME)
    return generate_latest(registry)
