"""Coverage and deep scans in the pipeline: stored coverage feeds TST-006; the opt-in deep scan
runs on its own queue, replaces the report rules' results, re-scores and records its cost."""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test import Client

from dashboard import tasks
from dashboard.celery import app
from dashboard.models import CheckResult, CoverageReport, Repository, Scan
from dashboard.services.scans import deep as deep_scans
from dashboard.services.scans import pipeline as scanning
from dashboard.services.scans.locks import deep_scan_lock
from scanners.workspace import Workspace
from tests.factories import RepositoryFactory, TeamFactory
from tests.gitrepo import make_repo
from tests.unit.dashboard.test_scanning import held_elsewhere
from tests.unit.scanners.test_deep import fixture_files, machine_index_networks

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _var_dir(settings: object, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """VAR_DIR in a folder the sandbox uid can reach (pytest's tmp_path is private); the
    package index reachable wherever this machine's DNS puts it."""
    monkeypatch.setenv("DEEP_SCAN_INDEX_NETWORKS", machine_index_networks())
    folder = Path(tempfile.mkdtemp(prefix="yardstick-deep-dash-"))
    folder.chmod(0o755)
    settings.VAR_DIR = folder / "var"  # type: ignore[attr-defined]
    settings.ALLOW_LOCAL_REPOSITORIES = True  # type: ignore[attr-defined]
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def _registered(path: Path, deep: bool = False) -> Repository:
    return RepositoryFactory(
        team=TeamFactory(),
        name=path.name,
        clone_url=str(path),
        url_key=f"file:{path}",
        deep_scan=deep,
    )


def _results(scan: Scan) -> dict[str, tuple[str, str]]:
    rows = CheckResult.objects.filter(scan=scan, rule__rule_id__in=deep_scans.DEEP_RULES)
    return {r.rule.rule_id: (r.status, r.message) for r in rows.select_related("rule")}


def _static_scan(repository: Repository, capture: object) -> Scan:
    scan = scanning.request_scan(repository, Scan.Trigger.MANUAL, send=False)
    with capture(execute=False) as callbacks:  # type: ignore[operator]
        assert scanning.run_scan(scan.pk, "w").status == "succeeded"
    scan.refresh_from_db()
    sends = [c for c in callbacks if getattr(c, "func", None) is deep_scans._send]
    scan.sent = len(sends)  # type: ignore[attr-defined]
    return scan


def test_uploaded_coverage_for_the_commit_feeds_tst006(
    tmp_path: Path, django_capture_on_commit_callbacks: object
) -> None:
    source = make_repo(tmp_path / "shop", fixture_files())
    repository = _registered(source)
    sha = scanning.Workspace(scanning.workspace_policy()).resolve(str(source), "main")[0]
    CoverageReport.objects.create(
        repository=repository,
        commit_sha=sha,
        files={"shop/services/pricing.py": [9, 10], "shop/repositories/store.py": [7, 10]},
    )
    scan = _static_scan(repository, django_capture_on_commit_callbacks)
    results = _results(scan)
    assert results["TST-006"] == ("fail", "services 90.0%, repositories 70.0% (need 80% each)")
    assert results["TST-008"][0] == "not_applicable"
    assert scan.deep_status == ""  # not enabled: nothing queued
    assert scan.sent == 0  # type: ignore[attr-defined]


def test_deep_scans_route_to_their_own_queue() -> None:
    route = app.amqp.router.route({}, "dashboard.deep_scan")
    assert route["queue"].name == "deep"
    assert app.amqp.router.route({}, "dashboard.scan_repository")["queue"].name != "deep"


@pytest.mark.slow
@pytest.mark.requires_bwrap
def test_an_enabled_deep_scan_replaces_report_results_and_records_its_cost(
    tmp_path: Path, django_capture_on_commit_callbacks: object
) -> None:
    repository = _registered(make_repo(tmp_path / "shop", fixture_files()), deep=True)
    scan = _static_scan(repository, django_capture_on_commit_callbacks)
    assert scan.deep_status == "queued"
    assert scan.sent == 1  # type: ignore[attr-defined]
    static_score = scan.score
    assert _results(scan)["TST-008"][0] == "not_applicable"

    assert deep_scans.run_deep_scan(scan.pk) == "done"
    scan.refresh_from_db()
    results = _results(scan)
    assert results["TST-006"] == ("fail", "services 66.7%, repositories 64.3% (need 80% each)")
    assert results["TST-008"] == ("fail", "1 of 3 tests failed")
    assert results["STY-009"][0] == "fail"
    assert scan.deep_status == "done"
    assert (scan.deep_duration_ms or 0) > 0
    assert (scan.deep_peak_memory_kb or 0) > 10_000
    assert "pytest: exit 1" in scan.deep_detail
    assert scan.score != static_score  # three failing rules now count
    repository.refresh_from_db()
    assert repository.score == scan.score
    stored = CoverageReport.objects.get(repository=repository, source="deep")
    assert stored.files["shop/services/pricing.py"] == [6, 9]
    assert deep_scans.run_deep_scan(scan.pk) == "not queued"  # a redelivery is a no-op


def test_a_deep_scan_that_cannot_run_is_recorded_as_failed(
    tmp_path: Path, django_capture_on_commit_callbacks: object
) -> None:
    source = make_repo(tmp_path / "shop", fixture_files())
    repository = _registered(source, deep=True)
    scan = _static_scan(repository, django_capture_on_commit_callbacks)
    shutil.rmtree(source)  # gone before the deep scan: its commit cannot be checked out
    shutil.rmtree(Path(str(repository.clone_url)), ignore_errors=True)
    shutil.rmtree(scanning.workspace_policy().cache_dir, ignore_errors=True)
    assert deep_scans.run_deep_scan(scan.pk) == "failed"
    scan.refresh_from_db()
    assert scan.deep_status == "failed"
    assert scan.deep_detail
    assert _results(scan)["TST-006"][0] == "not_applicable"  # static results untouched


@pytest.mark.slow
@pytest.mark.requires_bwrap
def test_deleting_the_repository_during_its_deep_scan_ends_quietly(
    tmp_path: Path,
    django_capture_on_commit_callbacks: object,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    repository = _registered(make_repo(tmp_path / "shop", fixture_files()), deep=True)
    scan = _static_scan(repository, django_capture_on_commit_callbacks)
    real_engine = deep_scans.run_engine

    def engine(*args: object, **kwargs: object) -> object:
        Repository.objects.filter(pk=repository.pk).delete()
        return real_engine(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(deep_scans, "run_engine", engine)
    with caplog.at_level(logging.DEBUG):
        assert tasks.deep_scan(scan.pk) == {"scan_id": scan.pk, "status": "gone"}
    ours = [r for r in caplog.records if r.name.startswith("dashboard")]
    assert [(r.levelno, r.getMessage()) for r in ours] == [
        (logging.INFO, f"deep scan of scan {scan.pk} stopped: its repository was deleted")
    ]
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.WARNING]


def test_a_redelivered_deep_scan_still_running_elsewhere_is_not_run_twice(
    tmp_path: Path, django_capture_on_commit_callbacks: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    repository = _registered(make_repo(tmp_path / "shop", fixture_files()), deep=True)
    scan = _static_scan(repository, django_capture_on_commit_callbacks)
    Scan.objects.filter(pk=scan.pk).update(deep_status="running")  # the first delivery's run

    def second_run(*_args: object, **_kwargs: object) -> None:
        pytest.fail("a second worker checked the deep scan out while the first one runs it")

    monkeypatch.setattr(Workspace, "checkout", second_run)
    with held_elsewhere(scan.pk, deep_scan_lock):
        assert deep_scans.run_deep_scan(scan.pk) == "running elsewhere"
    scan.refresh_from_db()
    assert scan.deep_status == "running"


def test_a_deep_scan_left_running_by_a_dead_worker_is_claimed_again(
    tmp_path: Path, django_capture_on_commit_callbacks: object
) -> None:
    source = make_repo(tmp_path / "shop", fixture_files())
    repository = _registered(source, deep=True)
    scan = _static_scan(repository, django_capture_on_commit_callbacks)
    # The worker died mid-run: `running`, and its lock died with it.
    Scan.objects.filter(pk=scan.pk).update(deep_status="running")
    shutil.rmtree(source)
    shutil.rmtree(scanning.workspace_policy().cache_dir, ignore_errors=True)
    assert deep_scans.run_deep_scan(scan.pk) == "failed"  # claimed, ran, recorded
    scan.refresh_from_db()
    assert scan.deep_status == "failed"


def test_maintainers_toggle_the_deep_scan_and_see_its_cost(
    client: Client, personas: dict[str, object]
) -> None:
    repository = RepositoryFactory(team=personas["team"])
    url = f"/repositories/{repository.pk}/deep-scan/"
    client.force_login(personas["member"])  # type: ignore[arg-type]
    assert client.post(url, {"enabled": "1"}).status_code == 403
    client.force_login(personas["maintainer"])  # type: ignore[arg-type]
    assert "Enable deep scan" in client.get(f"/repositories/{repository.pk}/").content.decode()
    assert client.post(url, {"enabled": "1"}).status_code == 302
    repository.refresh_from_db()
    assert repository.deep_scan is True
    scan = Scan.objects.create(
        repository=repository,
        status=Scan.Status.SUCCEEDED,
        commit_sha="a" * 40,
        deep_status="done",
        deep_duration_ms=4321,
        deep_peak_memory_kb=200 * 1024,
    )
    repository.latest_scan = scan
    repository.save()
    page = client.get(f"/repositories/{repository.pk}/").content.decode()
    assert "Disable deep scan" in page
    assert "4321 ms · 200 MiB" in page
    assert "4321 ms · 200 MiB" in client.get(f"/scans/{scan.pk}/").content.decode()
    client.post(url, {"enabled": "0"})
    repository.refresh_from_db()
    assert repository.deep_scan is False
