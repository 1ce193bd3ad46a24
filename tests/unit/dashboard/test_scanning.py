"""The scanning pipeline, run in-process against real git repositories."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from dashboard.models import CheckResult, Repository, RepositoryDailyScore, Scan, TeamDailyScore
from dashboard.services.scans import pipeline as scanning
from dashboard.services.scans.locks import repository_lock
from scanners.engine import scan as run_engine
from scanners.standard import default_standard
from tests.factories import RepositoryFactory, TeamFactory
from tests.gitrepo import commit_all, golden_repo, write_files

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _var_dir(settings: object, tmp_path: Path) -> None:
    settings.VAR_DIR = tmp_path / "var"  # type: ignore[attr-defined]


@contextmanager
def held_elsewhere(
    key: int, lock: Callable[[int], AbstractContextManager[bool]] = repository_lock
) -> Iterator[None]:
    """Hold a lock (a repository's by default) from another thread (another DB session), like
    a busy worker."""
    taken, release = threading.Event(), threading.Event()

    def hold() -> None:
        try:
            with lock(key) as acquired:
                assert acquired
                taken.set()
                release.wait(30)
        finally:
            connection.close()

    thread = threading.Thread(target=hold)
    thread.start()
    assert taken.wait(10)
    try:
        yield
    finally:
        release.set()
        thread.join()


def _registered(path: Path) -> Repository:
    return RepositoryFactory(
        team=TeamFactory(), name=path.name, clone_url=str(path), url_key=f"file:{path}"
    )


def test_run_scan_stores_one_result_per_rule_matching_the_engine(tmp_path: Path) -> None:
    source = golden_repo(tmp_path / "golden")
    repository = _registered(source)
    scan = scanning.request_scan(repository, Scan.Trigger.MANUAL, send=False)
    outcome = scanning.run_scan(scan.pk, "test-worker")
    scan.refresh_from_db()
    assert outcome.status == "succeeded"
    assert scan.status == Scan.Status.SUCCEEDED
    assert scan.worker == "test-worker"
    assert scan.attempts == 1
    assert len(scan.commit_sha) == 40
    stored = dict(CheckResult.objects.filter(scan=scan).values_list("rule__rule_id", "status"))
    report = run_engine(source)
    assert stored == {o.spec.id: o.status.value for o in report.outcomes}
    assert len(stored) == len(default_standard().rules)
    repository.refresh_from_db()
    assert repository.latest_scan_id == scan.pk
    assert repository.score == scan.score
    assert RepositoryDailyScore.objects.filter(repository=repository).count() == 1
    assert TeamDailyScore.objects.filter(team=repository.team).count() == 1


def test_same_commit_with_same_engine_is_skipped_and_new_commit_is_scanned(
    tmp_path: Path,
) -> None:
    source = golden_repo(tmp_path / "golden")
    repository = _registered(source)
    first = scanning.request_scan(repository, Scan.Trigger.MANUAL, send=False)
    scanning.run_scan(first.pk, "w")
    second = scanning.request_scan(repository, Scan.Trigger.WEBHOOK, send=False)
    assert scanning.run_scan(second.pk, "w").status == "skipped"
    second.refresh_from_db()
    assert second.skipped_reason.startswith("commit ")
    assert not CheckResult.objects.filter(scan=second).exists()
    write_files(source, {"CHANGELOG.md": "# Changelog\n\n## 1.1\n- more\n"})
    commit_all(source, "docs: changelog")
    third = scanning.request_scan(repository, Scan.Trigger.WEBHOOK, send=False)
    assert scanning.run_scan(third.pk, "w").status == "succeeded"
    repository.refresh_from_db()
    assert repository.latest_scan_id == third.pk


def test_requests_while_one_is_queued_merge_and_the_newest_ref_wins() -> None:
    repository = RepositoryFactory()
    first = scanning.request_scan(repository, Scan.Trigger.WEBHOOK, "main", send=False)
    second = scanning.request_scan(repository, Scan.Trigger.WEBHOOK, "release", send=False)
    assert first.pk == second.pk
    assert Scan.objects.get(pk=first.pk).ref == "release"
    assert Scan.objects.filter(repository=repository).count() == 1


def test_unreachable_repository_fails_with_a_message(tmp_path: Path) -> None:
    repository = _registered(tmp_path / "does-not-exist")
    scan = scanning.request_scan(repository, Scan.Trigger.MANUAL, send=False)
    outcome = scanning.run_scan(scan.pk, "w")
    scan.refresh_from_db()
    assert outcome.status == "failed"
    assert scan.status == Scan.Status.FAILED
    assert scan.error
    assert scan.finished_at is not None


def test_a_commit_over_the_configured_checkout_limit_fails_the_scan_saying_why(
    tmp_path: Path, settings: object
) -> None:
    settings.CHECKOUT_MAX_FILES = 5  # type: ignore[attr-defined]
    repository = _registered(golden_repo(tmp_path / "golden"))
    scan = scanning.request_scan(repository, Scan.Trigger.MANUAL, send=False)
    assert scanning.run_scan(scan.pk, "w").status == "failed"
    scan.refresh_from_db()
    assert scan.error == "the commit has more than 5 files, the limit of a checkout"


@pytest.mark.parametrize("when", ["while the engine runs", "before a fetch error is stored"])
def test_deleting_the_repository_mid_scan_ends_the_task_quietly(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    when: str,
) -> None:
    from dashboard import tasks

    source = golden_repo(tmp_path / "golden")
    repository = _registered(source)
    scan = scanning.request_scan(repository, Scan.Trigger.MANUAL, send=False)

    def delete_repository() -> None:
        Repository.objects.filter(pk=repository.pk).delete()

    if when == "while the engine runs":

        def engine(*args: object, **kwargs: object) -> object:
            delete_repository()
            return run_engine(*args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(scanning, "run_engine", engine)
    else:

        def unreachable(*_args: object, **_kwargs: object) -> None:
            delete_repository()
            raise scanning.RepositoryError("git fetch failed: the host went away")

        monkeypatch.setattr(scanning.Workspace, "resolve", unreachable)
    with caplog.at_level(logging.DEBUG):
        result = tasks.scan_repository(scan.pk)
    assert result["status"] == "gone"
    assert not Scan.objects.filter(pk=scan.pk).exists()
    ours = [r for r in caplog.records if r.name.startswith("dashboard")]
    assert [(r.levelno, r.getMessage()) for r in ours] == [
        (logging.INFO, f"scan {scan.pk} stopped: its repository was deleted during the scan")
    ]
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.WARNING]


def test_missing_ref_fails_with_a_message(tmp_path: Path) -> None:
    repository = _registered(golden_repo(tmp_path / "golden"))
    scan = scanning.request_scan(repository, Scan.Trigger.MANUAL, "no-such-branch", send=False)
    scanning.run_scan(scan.pk, "w")
    scan.refresh_from_db()
    assert scan.status == Scan.Status.FAILED
    assert "no-such-branch" in scan.error


def test_scan_is_deferred_while_another_worker_holds_the_repository(tmp_path: Path) -> None:
    repository = _registered(golden_repo(tmp_path / "golden"))
    scan = scanning.request_scan(repository, Scan.Trigger.MANUAL, send=False)
    with held_elsewhere(repository.pk), pytest.raises(scanning.ScanDeferred):
        scanning.run_scan(scan.pk, "w")
    assert Scan.objects.get(pk=scan.pk).status == Scan.Status.QUEUED


def test_finished_or_deleted_scans_are_left_alone() -> None:
    scan = Scan.objects.create(repository=RepositoryFactory(), status=Scan.Status.SUCCEEDED)
    assert scanning.run_scan(scan.pk, "w").status == "succeeded"
    assert scanning.run_scan(987654, "w").status == "gone"


def test_sweep_requeues_a_running_scan_whose_worker_died(
    django_capture_on_commit_callbacks: object,
) -> None:
    repository = RepositoryFactory()
    long_ago = timezone.now() - timedelta(minutes=10)
    dead = Scan.objects.create(
        repository=repository, status=Scan.Status.RUNNING, started_at=long_ago, attempts=1
    )
    hopeless = Scan.objects.create(
        repository=RepositoryFactory(),
        status=Scan.Status.RUNNING,
        started_at=long_ago,
        attempts=scanning.MAX_ATTEMPTS,
    )
    alive = Scan.objects.create(
        repository=RepositoryFactory(), status=Scan.Status.RUNNING, started_at=long_ago, attempts=1
    )
    with held_elsewhere(alive.repository_id):
        result = scanning.sweep()
    assert result["requeued"] == 1
    assert result["failed"] == 1
    assert Scan.objects.get(pk=dead.pk).status == Scan.Status.QUEUED
    assert Scan.objects.get(pk=hopeless.pk).status == Scan.Status.FAILED
    assert Scan.objects.get(pk=alive.pk).status == Scan.Status.RUNNING


def test_queue_position_counts_older_queued_scans() -> None:
    first = scanning.request_scan(RepositoryFactory(), Scan.Trigger.MANUAL, send=False)
    second = scanning.request_scan(RepositoryFactory(), Scan.Trigger.MANUAL, send=False)
    assert scanning.queue_position(first) == 1
    assert scanning.queue_position(second) == 2
    Scan.objects.filter(pk=first.pk).update(status=Scan.Status.RUNNING)
    first.refresh_from_db()
    assert scanning.queue_position(first) is None
