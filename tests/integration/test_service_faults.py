"""Faults of the services under a real worker: PostgreSQL restarted mid-scan, Redis restarted.

Each test runs against its OWN PostgreSQL cluster and redis-server (tests/private_services.py),
never the shared ones: the test process's default database connection, its Celery producer,
its cache and the worker it spawns all point at the private servers for the test's duration.

After each fault: no scan request is lost (it completes, by retry or by the sweeper), no scan
is half-written (a scan has every rule's result or none, and a finished status), and
`/health/ready` answers 503 naming the broken service during the fault and 200 after.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url
import pytest
import redis
from django.db import DatabaseError, connection, connections
from django.db.utils import load_backend
from django.test import Client

from dashboard.models import CheckResult, Scan
from dashboard.services.access import secrets
from dashboard.services.repos.registration import register_repository
from dashboard.services.scans import pipeline as scanning
from dashboard.services.standard.sync import current_standard
from tests.conftest import ROOT, start_worker, stop_worker, wait_for, wait_ready
from tests.factories import TeamFactory
from tests.gitrepo import commit_all, golden_repo, make_repo, write_files
from tests.private_services import PrivatePostgres, PrivateRedis, free_port, missing_binaries
from tests.webhooks import body_of, payload, signed_headers

_MISSING = missing_binaries()
if _MISSING is not None and os.environ.get("CI"):
    # CI must run these (.ci/run's machine has the servers); a laptop may skip them.
    raise RuntimeError(f"the service-fault tests cannot run in CI: {_MISSING}")
pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.timeout(120),
    pytest.mark.skipif(_MISSING is not None, reason=_MISSING or ""),
]

TEMPLATE = "yardstick_template"


@pytest.fixture(scope="module")
def cluster() -> Iterator[PrivatePostgres]:
    """One private cluster per module, with a migrated template database (cloned per test)."""
    server = PrivatePostgres().init()
    try:
        server.execute(f"CREATE DATABASE {TEMPLATE}")
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
            cwd=ROOT,
            env={
                **os.environ,
                "DATABASE_URL": server.url(TEMPLATE),
                "CELERY_BROKER_URL": "memory://",
            },
            check=True,
            capture_output=True,
            timeout=120,
        )
        yield server
    finally:
        server.destroy()


@dataclass
class Stack:
    """The private services of one test, and the worker consuming its queue."""

    pg: PrivatePostgres
    redis: PrivateRedis
    database: str
    queue: str
    log: Path
    web_log: Path
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    web: subprocess.Popen[bytes] | None = None
    base: str = ""

    def services(self) -> dict[str, str]:
        """Environment pointing a process at the private servers."""
        return {"DATABASE_URL": self.pg.url(self.database), "CELERY_BROKER_URL": self.redis.url()}

    def start_worker(self) -> subprocess.Popen[bytes]:
        """A worker on the private database and broker; waits until it is ready."""
        proc = start_worker(self.queue, self.log, services=self.services())
        self.workers.append(proc)
        wait_ready(proc, self.log, count=len(self.workers))
        return proc

    def start_web(self) -> None:
        """The dashboard as production serves it (gunicorn), on the private servers."""
        port = free_port()
        with self.web_log.open("ab") as out:
            self.web = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "dashboard.wsgi",
                    "--bind",
                    f"127.0.0.1:{port}",
                    "--workers",
                    "1",
                    "--timeout",
                    "30",
                    "--no-control-socket",  # the default path is shared by every gunicorn
                ],
                cwd=ROOT,
                env={**os.environ, **self.services(), "PYTHONUNBUFFERED": "1"},
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.base = f"http://127.0.0.1:{port}"

        def answers() -> bool:
            assert self.web is not None
            assert self.web.poll() is None, self.web_log.read_text(errors="replace")[-3000:]
            try:
                return self.get("/health")[0] == 200
            except OSError:
                return False

        assert wait_for(answers, timeout=30), self.web_log.read_text(errors="replace")[-3000:]

    def get(self, path: str) -> tuple[int, dict[str, Any]]:
        """GET a JSON page of the dashboard: (status, body)."""
        try:
            with urllib.request.urlopen(f"{self.base}{path}", timeout=15) as response:  # noqa: S310
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    def ready(self) -> tuple[int, dict[str, Any]]:
        """`/health/ready` of the running dashboard."""
        return self.get("/health/ready")

    def queued_scans(self) -> set[int]:
        """Scan ids of the `scan_repository` messages waiting in Redis for the test's queue."""
        client = redis.Redis(port=self.redis.port, socket_timeout=5)
        try:
            messages = client.lrange(self.queue, 0, -1)
        finally:
            client.close()
        ids = set()
        for raw in messages:
            message = json.loads(raw)
            if message["headers"]["task"] == "dashboard.scan_repository":
                args, _kwargs, _embed = json.loads(base64.b64decode(message["body"]))
                ids.add(int(args[0]))
        return ids

    def tail(self) -> str:
        """The end of the workers' log, for failure messages."""
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""


def _point_celery_at(
    broker: str, options: dict[str, object], queue: str, monkeypatch: pytest.MonkeyPatch
) -> dict[str, Any]:
    """Send this process's tasks to `broker`/`queue`; return the previous configuration."""
    from dashboard.celery import app

    previous = {
        key: app.conf[key]
        for key in ("broker_url", "broker_transport_options", "task_default_queue")
    }
    _drop_producer_pools(app)
    # Celery reads CELERY_BROKER_URL from the environment before its configuration.
    monkeypatch.setenv("CELERY_BROKER_URL", broker)
    app.conf.update(broker_url=broker, broker_transport_options=options, task_default_queue=queue)
    assert app.connection_for_write().as_uri().endswith(f":{broker.split(':')[-1]}")
    return previous


def _drop_producer_pools(app: Any) -> None:
    # The producer pool is bound to the broker it was created for: drop it so the next
    # send connects to the configured broker (what Celery itself does after a fork).
    if app._pool is not None:
        app._pool.force_close_all()
    app._pool = None
    app.amqp._producer_pool = None


@contextlib.contextmanager
def _default_database(url: str) -> Iterator[None]:
    """Point the `default` connection of this process at `url` (any backend before)."""
    settings_dict = dj_database_url.parse(url, conn_max_age=60)
    settings_dict["CONN_HEALTH_CHECKS"] = True
    configured = connections.configure_settings({"default": settings_dict})["default"]
    previous = connections["default"]
    previous.close()
    replacement = load_backend(configured["ENGINE"]).DatabaseWrapper(configured, "default")
    connections["default"] = replacement
    try:
        yield
    finally:
        with contextlib.suppress(DatabaseError):
            replacement.close()
        connections["default"] = previous


@pytest.fixture
def stack(
    cluster: PrivatePostgres,
    request: pytest.FixtureRequest,
    django_db_blocker: Any,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> Iterator[Stack]:
    """A database cloned from the template, a private Redis, this process pointed at both."""
    appendonly = bool(getattr(request, "param", False))
    database = f"faults_{uuid.uuid4().hex[:10]}"
    cluster.execute(f"CREATE DATABASE {database} TEMPLATE {TEMPLATE}")
    broker = PrivateRedis(appendonly=appendonly)
    broker.start()
    handle = Stack(
        cluster,
        broker,
        database,
        f"faults-{uuid.uuid4().hex[:8]}",
        tmp_path / "worker.log",
        tmp_path / "web.log",
    )
    options = {"visibility_timeout": settings.SCAN_TIME_LIMIT_S * 2}
    settings.CELERY_BROKER_URL = broker.url()
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = options
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": broker.url(),
            "KEY_PREFIX": "yardstick",
        }
    }
    previous = _point_celery_at(broker.url(), options, handle.queue, monkeypatch)
    try:
        with django_db_blocker.unblock(), _default_database(cluster.url(database)):
            yield handle
    finally:
        from dashboard.celery import app

        for proc in [*handle.workers, *([handle.web] if handle.web else [])]:
            stop_worker(proc)
        _drop_producer_pools(app)
        app.conf.update(previous)
        broker.destroy()
        if not cluster.running():
            cluster.start()
        cluster.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")


def _tolerant(predicate: Callable[[], bool]) -> Callable[[], bool]:
    """`predicate`, but False (and a fresh connection next time) while the database is away."""

    def guarded() -> bool:
        try:
            return predicate()
        except DatabaseError:
            with contextlib.suppress(DatabaseError):
                connection.close()
            return False

    return guarded


def _big_repo(root: Path, modules: int = 2500) -> Path:
    """A repository large enough that scanning it takes a few seconds."""
    body = "\n".join(
        f'def function_{i}(value: int) -> int:\n    """Return a number."""\n'
        f"    return value * {i}\n"
        for i in range(12)
    )
    files: dict[str, str | bytes | None] = {
        f"src/services/module_{n}.py": body for n in range(modules)
    }
    files["pyproject.toml"] = '[project]\nname = "big"\nversion = "1"\n'
    return make_repo(root, files)


class WholeScans:
    """Watches scans: each observation must show every rule's result or none."""

    def __init__(self, rules: int) -> None:
        self.rules = rules
        self.seen: set[int] = set()

    def check(self, *scan_ids: int) -> None:
        counts = dict.fromkeys(scan_ids, 0)
        rows = CheckResult.objects.filter(scan_id__in=scan_ids).values_list("scan_id", flat=True)
        for scan_id in rows:
            counts[scan_id] += 1
        for scan_id, count in counts.items():
            assert count in (0, self.rules), f"scan {scan_id} half-written: {count}/{self.rules}"
            self.seen.add(count)

    def finished(self, *scan_ids: int) -> Callable[[], bool]:
        def done() -> bool:
            self.check(*scan_ids)
            states = Scan.objects.filter(pk__in=scan_ids).values_list("status", flat=True)
            return all(state in ("succeeded", "failed", "skipped") for state in states)

        return _tolerant(done)


def _assert_succeeded_whole(scan_id: int, rules: int) -> Scan:
    scan = Scan.objects.get(pk=scan_id)
    assert scan.status == Scan.Status.SUCCEEDED, scan.error
    assert scan.error == ""
    assert scan.finished_at is not None
    assert CheckResult.objects.filter(scan=scan).count() == rules
    return scan


# ----- PostgreSQL ---------------------------------------------------------------------------
def test_postgres_restarted_during_a_scan_is_retried_to_a_whole_result(
    stack: Stack, tmp_path: Path
) -> None:
    worker = stack.start_worker()
    stack.start_web()
    rules = current_standard().rules.count()
    watch = WholeScans(rules)
    registered = register_repository(TeamFactory(), str(_big_repo(tmp_path / "big")))
    scan_id = registered.scan.pk
    assert wait_for(lambda: Scan.objects.get(pk=scan_id).status == "running", timeout=60), (
        stack.tail()
    )
    assert stack.ready()[0] == 200

    stack.pg.stop("fast")  # every client disconnected, as in a restart or failover
    status, body = stack.ready()
    assert status == 503, body
    assert body["failing"] == ["database"]
    assert body["checks"]["broker"]["ok"] is True
    time.sleep(0.5)
    stack.pg.start()

    status, body = stack.ready()
    assert (status, body["failing"]) == (200, []), body
    assert wait_for(watch.finished(scan_id), timeout=90), stack.tail()
    scan = _assert_succeeded_whole(scan_id, rules)
    # The fault hit the scan: its first attempt died with the connection and the task was
    # retried (the worker process itself survived and reconnected).
    assert scan.attempts >= 2, stack.tail()
    assert "OperationalError" in stack.tail() or "InterfaceError" in stack.tail()
    assert worker.poll() is None
    assert watch.seen <= {0, rules}


# ----- Redis --------------------------------------------------------------------------------
def _push(source: Path, registered: Any) -> tuple[int, dict[str, Any], str]:
    """Deliver a signed GitHub push of a new commit of `source`; (status, body, sha)."""
    write_files(source, {"NOTES.md": "A commit pushed while the broker was down.\n"})
    pushed = commit_all(source, "docs: notes")
    data = payload("github-push")
    data["after"] = pushed
    data["repository"].update(clone_url=str(source), ssh_url=str(source), html_url=str(source))
    body = body_of(data)
    secret = secrets.decrypt(registered.repository.webhook_secret_encrypted)
    assert secret is not None
    response = Client(REMOTE_ADDR="10.99.0.7").post(
        "/webhooks/github/",
        data=body,
        content_type="application/json",
        headers=signed_headers("github", body, secret),
    )
    return response.status_code, response.json(), pushed


def test_redis_restarted_without_persistence_the_sweeper_resends_what_was_lost(
    stack: Stack, tmp_path: Path
) -> None:
    worker = stack.start_worker()
    stack.start_web()
    rules = current_standard().rules.count()
    watch = WholeScans(rules)
    team = TeamFactory()
    busy = register_repository(team, str(_big_repo(tmp_path / "big")))
    assert wait_for(lambda: Scan.objects.get(pk=busy.scan.pk).status == "running", timeout=60)
    pushed_source = golden_repo(tmp_path / "pushed")
    waiting = [
        register_repository(team, str(pushed_source)),
        register_repository(team, str(golden_repo(tmp_path / "other"))),
    ]
    # The worker takes one task at a time: these wait in Redis behind the busy scan.
    assert stack.queued_scans() == {r.scan.pk for r in waiting}

    stack.redis.stop()  # no AOF, no RDB: every queued message is gone
    status, body = stack.ready()
    assert status == 503, body
    assert body["failing"] == ["broker", "cache"]  # the cache is the same Redis here
    assert body["checks"]["database"]["ok"] is True
    # Requests during the outage are recorded, not refused: a new repository and a push.
    during = register_repository(team, str(golden_repo(tmp_path / "during")))
    assert Scan.objects.get(pk=during.scan.pk).status == Scan.Status.QUEUED
    code, answer, pushed = _push(pushed_source, waiting[0])
    assert code == 202, answer
    assert answer["scan_id"] == waiting[0].scan.pk  # merged into the queued scan
    stack.redis.start()

    assert stack.ready()[0] == 200
    assert stack.queued_scans() == set()  # lost with the restart
    assert wait_for(watch.finished(busy.scan.pk), timeout=60), stack.tail()
    lost = [r.scan.pk for r in waiting] + [during.scan.pk]
    assert set(Scan.objects.filter(pk__in=lost).values_list("status", flat=True)) == {"queued"}

    # The beat sweeper's job (every 2 minutes), run now and with no waiting period.
    assert scanning.sweep(grace=timedelta(seconds=30), stale=timedelta(0))["resent"] == 3
    assert wait_for(watch.finished(*lost), timeout=90), stack.tail()
    _assert_succeeded_whole(busy.scan.pk, rules)
    for scan_id in lost:
        assert _assert_succeeded_whole(scan_id, rules).attempts == 1
    assert Scan.objects.get(pk=waiting[0].scan.pk).commit_sha == pushed
    assert Scan.objects.count() == 4  # nothing duplicated either
    assert worker.poll() is None


@pytest.mark.parametrize("stack", [True], indirect=True, ids=["appendonly"])
def test_redis_restarted_with_its_append_only_file_keeps_the_queued_tasks(
    stack: Stack, tmp_path: Path
) -> None:
    stack.start_web()
    rules = current_standard().rules.count()
    watch = WholeScans(rules)
    team = TeamFactory()
    queued = [
        register_repository(team, str(golden_repo(tmp_path / "first"))),
        register_repository(team, str(golden_repo(tmp_path / "second"))),
    ]
    ids = [r.scan.pk for r in queued]
    assert stack.queued_scans() == set(ids)  # no worker yet: both wait in Redis

    stack.redis.stop()
    status, body = stack.ready()
    # The web process's cache is the broker's Redis (no CACHE_URL): both are down.
    assert (status, body["failing"]) == (503, ["broker", "cache"]), body
    stack.redis.start()
    assert stack.ready()[0] == 200
    assert stack.queued_scans() == set(ids)  # replayed from the append-only file

    stack.start_worker()
    assert wait_for(watch.finished(*ids), timeout=90), stack.tail()
    for scan_id in ids:
        assert _assert_succeeded_whole(scan_id, rules).attempts == 1
