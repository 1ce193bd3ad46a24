"""Shared fixtures: personas, real Celery workers, service URLs."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class WorkerHandle:
    """A real Celery worker process consuming its own queue."""

    queue: str
    process: subprocess.Popen[bytes]
    log: Path


def database_url_for_tests() -> str:
    """A URL for the test database pytest-django created, for processes we spawn."""
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or ""
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgresql://{user}{password}@{host}{port}/{db['NAME']}"


@pytest.fixture
def celery_worker_process(transactional_db: None, tmp_path: Path) -> Iterator[WorkerHandle]:
    """Start `celery worker` against the test database and the configured broker."""
    queue = f"test-{uuid.uuid4().hex[:10]}"
    log = tmp_path / "worker.log"
    env = {**os.environ, "DATABASE_URL": database_url_for_tests(), "PYTHONUNBUFFERED": "1"}
    env["CELERY_BROKER_URL"] = settings.CELERY_BROKER_URL
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "dashboard",
                "worker",
                "--pool=solo",
                "-Q",
                queue,
                "--without-mingle",
                "--without-gossip",
                "--loglevel=INFO",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    handle = WorkerHandle(queue, proc, log)
    deadline = time.monotonic() + 60
    while "ready." not in log.read_text(errors="replace"):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"worker did not start:\n{log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.2)
    yield handle
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def wait_for(predicate: object, timeout: float = 30.0, interval: float = 0.2) -> bool:
    """Poll `predicate()` until true or the timeout passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(interval)
    return False
