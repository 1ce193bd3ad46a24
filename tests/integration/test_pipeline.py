"""The scanning pipeline end to end: registration, a real worker, real git, the broker."""

from __future__ import annotations

import signal
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection

from dashboard.models import CheckResult, Scan
from dashboard.services.repos.registration import register_repository
from dashboard.services.scans import pipeline as scanning
from scanners.engine import scan as run_engine
from tests.conftest import WorkerHandle, start_worker, wait_for, wait_ready
from tests.factories import TeamFactory
from tests.gitrepo import golden_repo, make_repo

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _finished(scan_id: int) -> bool:
    return Scan.objects.get(pk=scan_id).is_finished


def _big_repo(root: Path, modules: int = 2500) -> Path:
    """A repository large enough that scanning it takes a few seconds."""
    body = "\n".join(
        f'def function_{i}(value: int) -> int:\n    """Return a number."""\n'
        f"    return value * {i}\n"
        for i in range(12)
    )
    files = {f"src/services/module_{n}.py": body for n in range(modules)}
    files["pyproject.toml"] = '[project]\nname = "big"\nversion = "1"\n'
    return make_repo(root, files)


def test_registered_repository_is_scanned_by_a_worker(
    celery_worker_process: WorkerHandle, tmp_path: Path
) -> None:
    source = golden_repo(tmp_path / "golden")
    registered = register_repository(TeamFactory(), str(source))
    assert wait_for(lambda: _finished(registered.scan.pk), timeout=120), (
        celery_worker_process.log.read_text()[-3000:]
    )
    scan = Scan.objects.get(pk=registered.scan.pk)
    assert scan.status == Scan.Status.SUCCEEDED, scan.error
    stored = dict(CheckResult.objects.filter(scan=scan).values_list("rule__rule_id", "status"))
    assert stored == {o.spec.id: o.status.value for o in run_engine(source).outcomes}
    assert scan.worker.startswith(celery_worker_process.queue)


def test_simultaneous_requests_for_one_repository_make_one_scan(
    celery_worker_process: WorkerHandle, tmp_path: Path
) -> None:
    source = golden_repo(tmp_path / "golden")
    registered = register_repository(TeamFactory(), str(source))
    repository = registered.repository
    barrier = threading.Barrier(4)
    ids: list[int] = []

    def request() -> None:
        barrier.wait()
        try:
            ids.append(scanning.request_scan(repository, Scan.Trigger.WEBHOOK).pk)
        finally:
            connection.close()

    threads = [threading.Thread(target=request) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wait_for(
        lambda: (
            not Scan.objects.filter(
                repository=repository, status__in=("queued", "running")
            ).exists()
        ),
        timeout=120,
    )
    succeeded = Scan.objects.filter(repository=repository, status=Scan.Status.SUCCEEDED)
    # One real scan; any request that arrived after it started found the commit done.
    assert succeeded.count() == 1
    assert set(Scan.objects.filter(repository=repository).values_list("status", flat=True)) <= {
        "succeeded",
        "skipped",
    }
    assert CheckResult.objects.filter(scan__repository=repository).count() == (
        CheckResult.objects.filter(scan=succeeded.get()).count()
    )
    assert len(ids) == 4


def test_worker_killed_mid_scan_is_recovered_without_duplicates(
    celery_worker_process: WorkerHandle, tmp_path: Path
) -> None:
    source = _big_repo(tmp_path / "big")
    registered = register_repository(TeamFactory(), str(source))
    scan_id = registered.scan.pk
    assert wait_for(lambda: Scan.objects.get(pk=scan_id).status == "running", timeout=60)
    celery_worker_process.process.send_signal(signal.SIGKILL)
    celery_worker_process.process.wait(timeout=10)
    assert Scan.objects.get(pk=scan_id).status == Scan.Status.RUNNING

    replacement = start_worker(celery_worker_process.queue, celery_worker_process.log)
    celery_worker_process.extra.append(replacement)
    wait_ready(replacement, celery_worker_process.log, count=2)
    # The beat sweeper's job, run here with no grace period: the dead worker's lock is free.
    assert scanning.sweep(grace=timedelta(0))["requeued"] == 1
    assert wait_for(lambda: _finished(scan_id), timeout=180), celery_worker_process.log.read_text()[
        -3000:
    ]
    scan = Scan.objects.get(pk=scan_id)
    assert scan.status == Scan.Status.SUCCEEDED, scan.error
    assert scan.attempts == 2
    assert CheckResult.objects.filter(scan=scan).count() == len(
        set(CheckResult.objects.filter(scan=scan).values_list("rule_id", flat=True))
    )


def test_unreachable_repository_fails_and_the_worker_keeps_working(
    celery_worker_process: WorkerHandle, tmp_path: Path
) -> None:
    team = TeamFactory()
    bad = register_repository(team, str(tmp_path / "no-such-repository"))
    good = register_repository(team, str(golden_repo(tmp_path / "fine")))
    assert wait_for(lambda: _finished(bad.scan.pk) and _finished(good.scan.pk), timeout=120)
    failed = Scan.objects.get(pk=bad.scan.pk)
    assert failed.status == Scan.Status.FAILED
    assert failed.error
    assert Scan.objects.get(pk=good.scan.pk).status == Scan.Status.SUCCEEDED
