"""gunicorn settings of the production web process.

The Dockerfile, docker-compose.yml and the benchmarks (benchmarks/orgscale) all run
`gunicorn --config gunicorn.conf.py`, so what is measured is what is deployed.

gthread workers: each request in flight gets a thread, and idle keep-alive connections wait in
the worker's poller instead of holding a thread, so browsers that keep connections open (or
slow clients) never block the site, and one request's database and Redis waits overlap
another's Python. Python runs one thread at a time per process, so there is one process per
core: the defaults suit 2 cores (WEB_WORKERS=2, WEB_THREADS=4). See .env.example.

Metrics: each worker counts in its own files under METRICS_DIR (prometheus-client's
multiprocess mode, chosen by PROMETHEUS_MULTIPROC_DIR, set here before any worker imports
prometheus_client), so a scrape of /metrics answered by any worker shows the totals of all.
"""

from __future__ import annotations

import os
import shutil
from typing import Any

from dashboard.config import load_config

_config = load_config()

wsgi_app = "dashboard.wsgi"
bind = _config.WEB_BIND
worker_class = "gthread"
workers = _config.WEB_WORKERS
threads = _config.WEB_THREADS
keepalive = 5  # seconds an idle connection is kept (browsers reuse it for htmx requests)
timeout = 60  # a worker silent this long is restarted
backlog = 2048
accesslog = "-"

METRICS_DIR = _config.metrics_dir
os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(METRICS_DIR)  # inherited by every worker


def on_starting(server: Any) -> None:
    """Start the counts from zero: files of a previous run's workers would be added in."""
    shutil.rmtree(METRICS_DIR, ignore_errors=True)
    METRICS_DIR.mkdir(parents=True, exist_ok=True)


def child_exit(server: Any, worker: Any) -> None:
    """A worker exited: drop its live gauges (its counters stay in the totals)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
