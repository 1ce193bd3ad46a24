"""Per-worker resources under pytest-xdist (a plugin: `-p tests.xdist_workers` in addopts).

`uv run pytest` runs the suite in several processes (`-n auto`); whatever one process owned
must belong to one worker. This plugin runs before pytest-django sets Django up, so the
settings, and every process a test spawns (real Celery workers, quickstart, gunicorn), read
the worker's own values from the environment:

- the test database: pytest-django suffixes its name (`test_<db>_gw0`, `test_<db>_gw1`…; the
  SQLite one is a file per process anyway);
- `VAR_DIR` becomes `<VAR_DIR>/xdist/<worker>`: the filesystem broker's folders, the file
  cache, file locks, mirrors, scratch folders and the development secret;
- Redis: worker `gwN` uses the broker's database number + N (`redis://…/8` gives gw0 db 8,
  gw1 db 9…), and so does the cache (the broker's Redis, or `CACHE_URL`'s database + N). A
  run on W workers needs databases base…base+W-1.

Serially (`-n0`, or without xdist) nothing changes.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

import pytest

XDIST_FOLDER = "xdist"


def worker_index(worker: str) -> int:
    """`gw3` -> 3."""
    return int(worker.removeprefix("gw"))


def shifted_redis_url(url: str, offset: int) -> str:
    """A redis:// URL whose database number is moved up by `offset` (no number: db 0)."""
    parts = urlsplit(url)
    if parts.scheme not in {"redis", "rediss"}:
        return url
    path = parts.path.strip("/")
    base = int(path) if path.isdigit() else 0
    if path and not path.isdigit():
        raise pytest.UsageError(f"cannot give xdist workers their own Redis database: {url}")
    return urlunsplit(parts._replace(path=f"/{base + offset}"))


def worker_environment(worker: str) -> dict[str, str]:
    """The environment variables that give xdist worker `worker` its own resources."""
    from dashboard.config import load_config  # Django-free; reads the environment and .env

    config = load_config()
    index = worker_index(worker)
    env = {"VAR_DIR": str(config.VAR_DIR / XDIST_FOLDER / worker)}
    if config.CELERY_BROKER_URL:
        env["CELERY_BROKER_URL"] = shifted_redis_url(config.CELERY_BROKER_URL, index)
    if config.CACHE_URL and urlsplit(config.CACHE_URL).scheme in {"redis", "rediss"}:
        env["CACHE_URL"] = shifted_redis_url(config.CACHE_URL, index)
    return env


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests() -> None:
    """Before pytest-django imports the settings: this worker's VAR_DIR and Redis dbs."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return
    os.environ.update(worker_environment(worker))
