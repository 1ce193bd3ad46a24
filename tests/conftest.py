"""Shared fixtures: personas, real Celery workers, service URLs."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
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
    extra: list[subprocess.Popen[bytes]] = field(default_factory=list)


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


def start_worker(
    queue: str, log: Path, var_dir: Path | None = None, *, services: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """Spawn a solo-pool worker consuming `queue`, sharing the test database and broker.

    `services` overrides environment variables (DATABASE_URL, CELERY_BROKER_URL) to point the
    worker at other servers (the fault tests' private ones).
    """
    env = {**os.environ, "DATABASE_URL": database_url_for_tests(), "PYTHONUNBUFFERED": "1"}
    env["CELERY_BROKER_URL"] = settings.CELERY_BROKER_URL
    if var_dir is not None:
        env["VAR_DIR"] = str(var_dir)
    env.update(services or {})
    with log.open("ab") as out:
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
                "-n",
                f"{queue}-{uuid.uuid4().hex[:6]}@%h",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return proc


def wait_ready(proc: subprocess.Popen[bytes], log: Path, count: int = 1) -> None:
    """Wait until the worker log says `ready.` (`count` times, for restarted workers)."""
    deadline = time.monotonic() + 60
    while log.read_text(errors="replace").count("ready.") < count:
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"worker did not start:\n{log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.2)


@pytest.fixture
def celery_worker_process(transactional_db: None, tmp_path: Path) -> Iterator[WorkerHandle]:
    """Start `celery worker` against the test database and the configured broker.

    Tasks this test process sends go to the worker's private queue.
    """
    from dashboard.celery import app

    queue = f"test-{uuid.uuid4().hex[:10]}"
    log = tmp_path / "worker.log"
    proc = start_worker(queue, log)
    wait_ready(proc, log)
    handle = WorkerHandle(queue, proc, log)
    previous_queue = app.conf.task_default_queue
    app.conf.task_default_queue = queue
    yield handle
    app.conf.task_default_queue = previous_queue
    for running in (handle.process, *handle.extra):
        stop_worker(running)


def stop_worker(proc: subprocess.Popen[bytes]) -> None:
    """Ask a worker to stop; kill it if it does not."""
    if proc.poll() is not None:
        return
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


@pytest.fixture(autouse=True)
def _registration_asks_no_host(request: pytest.FixtureRequest, settings: object) -> None:
    """Registration asks the clone URL's host only in tests marked `remote_check` (which use
    local repositories or loopback servers): most tests register made-up URLs
    (`git.example.com`), and tests never reach the internet."""
    if request.node.get_closest_marker("remote_check") is None:
        settings.REGISTRATION_CHECK_REMOTE = False  # type: ignore[attr-defined]


@pytest.fixture
def personas(db: None) -> dict[str, object]:
    """maintainer and member of one team, an outsider, a manager, an admin."""
    from django.contrib.auth.models import Group

    from dashboard.models import Membership
    from dashboard.services.access.permissions import MANAGERS_GROUP
    from tests.factories import MembershipFactory, TeamFactory, UserFactory

    team = TeamFactory(name="Payments", slug="payments")
    maintainer = UserFactory(username="maya")
    member = UserFactory(username="milo")
    outsider = UserFactory(username="otto")
    manager = UserFactory(username="manon")
    manager.groups.add(Group.objects.get_or_create(name=MANAGERS_GROUP)[0])
    admin = UserFactory(username="ada", is_superuser=True, is_staff=True)
    MembershipFactory(user=maintainer, team=team, role=Membership.Role.MAINTAINER)
    MembershipFactory(user=member, team=team, role=Membership.Role.MEMBER)
    return {
        "team": team,
        "maintainer": maintainer,
        "member": member,
        "outsider": outsider,
        "manager": manager,
        "admin": admin,
    }


@pytest.fixture(autouse=True)
def _fresh_page_cache() -> None:
    """Each test starts with no cached page panel: tests share one cache (LocMem per process,
    or the CI's Redis), and a test's database is new while the cache's versions carry on."""
    from dashboard.services.infra import page_versions

    page_versions.changed(everything=True)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: object) -> None:
    """PBKDF2's deliberate slowness buys nothing in tests; MD5 keeps persona set-up fast."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # type: ignore[attr-defined]


#: Names the test resolver knows: this machine only (tests never reach another host).
LOOPBACK_NAMES = {"localhost": ["127.0.0.1", "::1"], "localhost.localdomain": ["127.0.0.1"]}


def loopback_resolver(host: str, port: int) -> list[str]:
    """A resolver that answers loopback names only and fails any other as DNS would."""
    if host in LOOPBACK_NAMES:
        return LOOPBACK_NAMES[host]
    raise socket.gaierror(socket.EAI_NONAME, f"no DNS in tests: {host}")


@pytest.fixture(autouse=True)
def _no_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    """The address policy's default resolver sends no DNS query from a test: a name the
    policy resolves is answered from `LOOPBACK_NAMES` or fails (tests inject the rest)."""
    from scanners import netpolicy

    monkeypatch.setattr(netpolicy, "system_resolver", loopback_resolver)


BWRAP_MISSING = (
    "bubblewrap (bwrap) is not installed: `apt-get install -y bubblewrap` (.ci/run does it)"
)


def pytest_runtest_setup(item: pytest.Item) -> None:
    """A `requires_bwrap` test skips with a reason where bubblewrap is missing; CI must run it."""
    if item.get_closest_marker("requires_bwrap") is None or shutil.which("bwrap") is not None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(BWRAP_MISSING)  # CI installs it: a missing sandbox there is a broken CI
    pytest.skip(BWRAP_MISSING)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """`slow` tests first (the order is otherwise kept): under xdist the workers then finish
    together, instead of one of them starting a minute-long test when the others are done."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker: object) -> Iterator[None]:
    """pytest-django's test database; at the end of the session, what still holds a
    PostgreSQL one is closed before pytest-django drops it: a process a test spawned (a Celery
    worker, a server) may still be closing its connection. Each is named on stderr, so a real
    leak shows."""
    yield
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:  # type: ignore[attr-defined]
        cursor.execute(
            "SELECT pid, application_name, state, pg_terminate_backend(pid) "
            "FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"
        )
        for pid, application, state, _ in cursor.fetchall():
            sys.stderr.write(
                f"test database still held at the end by pid {pid} "
                f"({application or 'no application name'}, {state}): closed\n"
            )
