"""CI uploads cannot rewrite history: a report names a commit on the tracked branch, the server
scans that commit itself (CI's static results are ignored, its measured ones kept), an older
commit never replaces a newer one, every upload is audited, and coverage arriving after the
commit was scanned re-judges TST-006, the score and the roll-ups."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from dashboard.models import (
    AuditAction,
    AuditEvent,
    CheckResult,
    Repository,
    RepositoryDailyScore,
    Scan,
    Team,
)
from dashboard.services.access import api_tokens
from dashboard.services.scans import pipeline as scanning
from scanners.engine import scan as run_engine
from scanners.formats import render_json
from tests.factories import TeamFactory, UserFactory
from tests.gitrepo import commit_all, git, golden_repo, make_repo, write_files
from tests.unit.scanners.test_deep import fixture_files

pytestmark = pytest.mark.django_db

TEST_RUN = "TST-008"
MEASURED = {"TST-006", "TST-008", "STY-009"}


@pytest.fixture(autouse=True)
def _local_mirrors(settings: Any, tmp_path: Path) -> None:
    settings.VAR_DIR = tmp_path / "var"
    settings.ALLOW_LOCAL_REPOSITORIES = True


@pytest.fixture
def team() -> Team:
    return TeamFactory(slug="platform")


@pytest.fixture
def writer(team: Team) -> Client:
    issued = api_tokens.issue(team, "ci-pipeline", write=True)
    return Client(HTTP_AUTHORIZATION=f"Bearer {issued.plaintext}")


def _registered(team: Team, path: Path) -> Repository:
    from tests.factories import RepositoryFactory

    return RepositoryFactory(team=team, clone_url=str(path), url_key=f"file:{path}")


def _report(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(render_json(run_engine(path)))
    return document


def _doctored(document: dict[str, Any], commit: str | None = None) -> dict[str, Any]:
    """Every static result a pass, the score 100 and Gold; TST-008 claims a green test run
    (the other measured rules stay as CI found them: not applicable)."""
    doctored = json.loads(json.dumps(document))
    for result in doctored["results"]:
        if result["rule_id"] == TEST_RUN:
            result.update(status="pass", message="42 tests passed", evidence=[])
        elif result["rule_id"] not in MEASURED:
            result.update(status="pass", message="all good", evidence=[])
    doctored.update(score=100.0, level="gold")
    if commit is not None:
        doctored["commit"] = commit
    return doctored


def _post(client: Client, repository: Repository, document: dict[str, Any]) -> Any:
    return client.post(
        f"/api/v1/repositories/{repository.pk}/reports",
        data=json.dumps(document).encode(),
        content_type="application/json",
    )


def _run(scan_id: int) -> Scan:
    assert scanning.run_scan(scan_id, "w").status == Scan.Status.SUCCEEDED
    return Scan.objects.get(pk=scan_id)


def _server_scan(repository: Repository) -> Scan:
    return _run(scanning.request_scan(repository, Scan.Trigger.MANUAL, send=False).pk)


def _statuses(scan: Scan) -> dict[str, str]:
    return dict(CheckResult.objects.filter(scan=scan).values_list("rule__rule_id", "status"))


# ----- history cannot be rewritten -----------------------------------------------------------
def test_an_upload_for_an_older_commit_never_replaces_the_newer_scan(
    writer: Client, team: Team, tmp_path: Path
) -> None:
    source = golden_repo(tmp_path / "svc")
    older = git(source, "rev-parse", "HEAD").strip()
    older_report = _report(source)
    write_files(source, {"README.md": None})
    commit_all(source, "docs: drop the readme")
    repository = _registered(team, source)
    newest = _server_scan(repository)
    assert newest.score is not None
    assert newest.score < 100

    response = _post(writer, repository, _doctored(older_report, older))
    assert response.status_code == 202, response.content
    history = _run(response.json()["id"])

    repository.refresh_from_db()
    assert repository.latest_scan_id == newest.pk
    assert (repository.score, repository.level) == (newest.score, newest.level)
    assert (history.commit_sha, history.history_only) == (older, True)
    today = RepositoryDailyScore.objects.get(repository=repository, date=timezone.now().date())
    assert today.score == newest.score
    api = writer.get(f"/api/v1/repositories/{repository.pk}").json()
    assert (api["latest_scan_id"], api["score"]) == (newest.pk, newest.score)


def test_an_upload_for_the_newest_commit_becomes_the_latest(
    writer: Client, team: Team, tmp_path: Path
) -> None:
    source = golden_repo(tmp_path / "svc", {"README.md": None})
    repository = _registered(team, source)
    first = _server_scan(repository)
    write_files(source, {"README.md": "# svc\n"})
    commit_all(source, "docs: readme")
    response = _post(writer, repository, _report(source))
    newer = _run(response.json()["id"])
    repository.refresh_from_db()
    assert repository.latest_scan_id == newer.pk != first.pk
    assert newer.history_only is False


@pytest.mark.parametrize("where", ["unknown", "other-branch"])
def test_a_commit_not_on_the_tracked_branch_is_refused_and_nothing_stored(
    writer: Client, team: Team, tmp_path: Path, where: str
) -> None:
    source = golden_repo(tmp_path / "svc")
    document = _report(source)
    if where == "unknown":
        document["commit"] = "ab" * 20
    else:
        git(source, "checkout", "-q", "-b", "feature")
        document["commit"] = commit_all(source, "feat: unmerged")
        git(source, "checkout", "-q", "main")
    repository = _registered(team, source)
    response = _post(writer, repository, document)
    assert response.status_code == 422, response.content
    assert response.json()["code"] == "unknown_commit"
    assert document["commit"] in response.json()["message"]
    assert "main" in response.json()["message"]
    assert not Scan.objects.exists()


def test_an_unreachable_repository_is_503_and_nothing_stored(
    writer: Client, team: Team, tmp_path: Path
) -> None:
    source = golden_repo(tmp_path / "svc")
    document = _report(source)
    repository = _registered(team, tmp_path / "gone")  # no repository there
    response = _post(writer, repository, document)
    assert response.status_code == 503, response.content
    assert response.json()["code"] == "repository_unavailable"
    assert "try again later" in response.json()["message"]
    assert not Scan.objects.exists()


# ----- the server's static results win; CI's measured ones are kept -------------------------
def test_a_doctored_static_result_is_ignored_while_its_measured_result_is_used(
    writer: Client, team: Team, tmp_path: Path
) -> None:
    source = golden_repo(tmp_path / "svc", {"README.md": None})
    honest = _report(source)
    failing = {r["rule_id"] for r in honest["results"] if r["status"] == "fail"}
    assert failing, "the fixture must fail a static rule"
    repository = _registered(team, source)

    scan = _run(_post(writer, repository, _doctored(honest)).json()["id"])

    statuses = _statuses(scan)
    assert {rule: statuses[rule] for rule in failing} == dict.fromkeys(failing, "fail")
    assert statuses[TEST_RUN] == "pass"  # measured: CI ran the tests, the server cannot
    assert scan.reported_rules == [TEST_RUN]
    message = CheckResult.objects.get(scan=scan, rule__rule_id=TEST_RUN).message
    assert message == "42 tests passed"
    assert scan.score is not None
    assert scan.score < 100


def test_reported_by_ci_shows_on_the_scan_page_and_in_the_api(
    writer: Client, client: Client, team: Team, tmp_path: Path
) -> None:
    source = golden_repo(tmp_path / "svc")
    repository = _registered(team, source)
    uploaded = _run(_post(writer, repository, _doctored(_report(source))).json()["id"])
    commit_all(source, "chore: a newer commit")
    scanned = _server_scan(repository)
    client.force_login(UserFactory())
    assert "reported by CI" in client.get(f"/scans/{uploaded.pk}/").content.decode()
    assert "scanned by Yardstick" in client.get(f"/scans/{scanned.pk}/").content.decode()
    by_api = writer.get(f"/api/v1/scans/{uploaded.pk}").json()
    assert (by_api["source"], by_api["reported_by"]) == ("ci", "reported by CI")
    assert by_api["reported_rules"] == [TEST_RUN]
    server = writer.get(f"/api/v1/scans/{scanned.pk}").json()
    assert (server["source"], server["reported_by"]) == ("yardstick", "scanned by Yardstick")
    exported = client.get(f"/exports/results.csv?repository={repository.pk}&rule={TEST_RUN}")
    lines = b"".join(exported.streaming_content).decode().splitlines()  # type: ignore[attr-defined]
    assert lines[0].endswith(",reported_by")
    assert lines[1].endswith(",scanned by Yardstick")  # the latest scan is the server's


# ----- audit -------------------------------------------------------------------------------
def test_every_upload_is_audited_with_actor_commit_and_outcome(
    writer: Client, team: Team, tmp_path: Path
) -> None:
    source = golden_repo(tmp_path / "svc")
    repository = _registered(team, source)
    document = _report(source)
    accepted = _post(writer, repository, document).json()["id"]
    _post(writer, repository, {**document, "commit": "cd" * 20})
    coverage = writer.post(
        f"/api/v1/repositories/{repository.pk}/coverage?commit={document['commit']}",
        data=b'<coverage><packages><package><classes><class filename="a.py"><lines>'
        b'<line number="1" hits="1"/></lines></class></classes></package></packages></coverage>',
        content_type="application/xml",
    )
    assert coverage.status_code == 201
    events = list(AuditEvent.objects.filter(action__startswith="upload.").order_by("id"))
    assert [e.action for e in events] == [
        AuditAction.REPORT_UPLOADED,
        AuditAction.REPORT_UPLOADED,
        AuditAction.COVERAGE_UPLOADED,
    ]
    for event in events:
        assert "ci-pipeline" in event.actor_label
        assert (event.target_type, event.target_id, event.team_id) == (
            "repository",
            repository.pk,
            team.pk,
        )
    assert events[0].details["outcome"] == "accepted"
    assert events[0].details["scan"] == accepted
    assert events[0].details["commit"] == document["commit"]
    refused = {"commit": "cd" * 20, "outcome": "refused", "code": "unknown_commit"}
    assert events[1].details == refused
    assert events[2].details["outcome"] == "accepted"


# ----- late measurements -----------------------------------------------------------------------
def test_late_coverage_rejudges_tst006_the_score_and_the_rollups(
    writer: Client, team: Team, tmp_path: Path, django_capture_on_commit_callbacks: Any
) -> None:
    from dashboard.services.scans import measurements

    source = make_repo(tmp_path / "shop", fixture_files())
    repository = _registered(team, source)
    scan = _server_scan(repository)
    assert _statuses(scan)["TST-006"] == "not_applicable"
    yesterday = timezone.now().date() - timedelta(days=1)
    Scan.objects.filter(pk=scan.pk).update(finished_at=timezone.now() - timedelta(days=1))
    from dashboard.services.scoring.rollups import recompute_range

    recompute_range(yesterday, timezone.now().date())
    before = scan.score

    coverage = (
        b'<coverage><packages><package name="p"><classes>'
        b'<class filename="shop/services/pricing.py"><lines>'
        + b"".join(b'<line number="%d" hits="%d"/>' % (n, n <= 9) for n in range(1, 11))
        + b'</lines></class><class filename="shop/repositories/store.py"><lines>'
        + b"".join(b'<line number="%d" hits="%d"/>' % (n, n <= 7) for n in range(1, 11))
        + b"</lines></class></classes></package></packages></coverage>"
    )
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = writer.post(
            f"/api/v1/repositories/{repository.pk}/coverage?commit={scan.commit_sha}",
            data=coverage,
            content_type="application/xml",
        )
    assert response.status_code == 201, response.content
    queued = [c.args for c in callbacks if getattr(c, "func", None) is measurements._send]
    assert queued == [(scan.pk,)]

    assert measurements.rejudge_coverage(scan.pk) == "done"

    scan.refresh_from_db()
    result = CheckResult.objects.get(scan=scan, rule__rule_id="TST-006")
    assert (result.status, result.message) == (
        "fail",
        "services 90.0%, repositories 70.0% (need 80% each)",
    )
    assert scan.score != before
    repository.refresh_from_db()
    assert (repository.score, repository.level) == (scan.score, scan.level)
    rows = RepositoryDailyScore.objects.filter(repository=repository).order_by("date")
    assert [(r.date, r.score) for r in rows] == [
        (yesterday, scan.score),
        (timezone.now().date(), scan.score),
    ]


def test_late_coverage_for_an_unscanned_commit_queues_nothing(
    writer: Client, team: Team, tmp_path: Path, django_capture_on_commit_callbacks: Any
) -> None:
    from dashboard.services.scans import measurements

    repository = _registered(team, golden_repo(tmp_path / "svc"))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        writer.post(
            f"/api/v1/repositories/{repository.pk}/coverage?commit={'ef' * 20}",
            data=b'<coverage><packages><package><classes><class filename="a.py"><lines>'
            b'<line number="1" hits="1"/></lines></class></classes></package></packages>'
            b"</coverage>",
            content_type="application/xml",
        )
    assert not [c for c in callbacks if getattr(c, "func", None) is measurements._send]
    assert measurements.rejudge_coverage(10**6) == "gone"


def test_a_late_test_run_rejudges_the_scan_of_its_commit(
    writer: Client, team: Team, tmp_path: Path
) -> None:
    source = golden_repo(tmp_path / "svc", {"README.md": None})
    repository = _registered(team, source)
    scanned = _server_scan(repository)
    assert _statuses(scanned)[TEST_RUN] == "not_applicable"
    before = scanned.score

    upload = Scan.objects.get(pk=_post(writer, repository, _doctored(_report(source))).json()["id"])
    outcome = scanning.run_scan(upload.pk, "w")

    assert outcome.status == Scan.Status.SKIPPED
    assert f"merged into scan {scanned.pk}: {TEST_RUN}" in outcome.detail
    scanned.refresh_from_db()
    assert _statuses(scanned)[TEST_RUN] == "pass"
    assert "fail" in _statuses(scanned).values()  # the doctored static results stay ignored
    assert scanned.reported_rules == [TEST_RUN]
    assert scanned.score != before
    repository.refresh_from_db()
    assert (repository.latest_scan_id, repository.score) == (scanned.pk, scanned.score)
    today = RepositoryDailyScore.objects.get(repository=repository, date=timezone.now().date())
    assert today.score == scanned.score


def test_a_scan_request_never_merges_into_a_queued_upload(
    writer: Client, team: Team, tmp_path: Path
) -> None:
    source = golden_repo(tmp_path / "svc")
    repository = _registered(team, source)
    document = _report(source)
    upload = _post(writer, repository, document).json()["id"]
    requested = scanning.request_scan(repository, Scan.Trigger.MANUAL, ref="main", send=False)
    assert requested.pk != upload
    assert Scan.objects.get(pk=upload).ref == document["commit"]
