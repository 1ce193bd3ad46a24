"""CSV exports: parsed back and compared with the database; formula injection; filters."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from dashboard.models import (
    CheckResult,
    Repository,
    RepositoryDailyScore,
    Rule,
    Scan,
    Team,
    TeamDailyScore,
)
from dashboard.selectors.governance import score_scan
from dashboard.services.reporting.csv_stream import cell, csv_lines
from dashboard.services.scoring.rollups import record_scan_day
from dashboard.services.standard.sync import current_standard
from tests.factories import RepositoryFactory, ScanFactory, TeamFactory, UserFactory, WaiverFactory

pytestmark = pytest.mark.django_db

RULES = ("DEP-001", "DEP-002", "FW-001", "STR-001")


@pytest.fixture
def client() -> Client:
    client = Client()
    client.force_login(UserFactory())
    return client


def _rules() -> dict[str, Rule]:
    standard = current_standard()
    return {r.rule_id: r for r in standard.rules.filter(rule_id__in=RULES)}


def _scanned(repository: Repository, statuses: dict[str, str], **scan: Any) -> Scan:
    """A finished scan with results, made the repository's latest like the pipeline does."""
    rules = _rules()
    made = ScanFactory(repository=repository, standard=current_standard(), **scan)
    CheckResult.objects.bulk_create(
        CheckResult(
            scan=made,
            rule=rules[rule_id],
            status=status,
            message=f"{rule_id} says {status}",
            evidence=[{"path": "pyproject.toml", "line": 3, "message": "here"}],
        )
        for rule_id, status in statuses.items()
    )
    effective = score_scan(made)
    made.score, made.level, made.section_scores = (
        effective.score,
        effective.level,
        effective.sections,
    )
    made.save()
    repository.latest_scan, repository.score, repository.level = made, made.score, made.level
    repository.save()
    record_scan_day(repository, made.finished_at.date())
    return made


def _rows(response: Any) -> list[dict[str, str]]:
    assert response.status_code == 200, response.content[:300]
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    text = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.DictReader(io.StringIO(text, newline="")))


@pytest.fixture
def org() -> dict[str, Any]:
    platform = TeamFactory(name="Platform", slug="platform")
    payments = TeamFactory(name="Payments", slug="payments")
    api = RepositoryFactory(team=platform, name="api")
    worker = RepositoryFactory(team=platform, name="worker")
    ledger = RepositoryFactory(team=payments, name="ledger")
    RepositoryFactory(team=payments, name="retired", active=False)
    _scanned(api, {"DEP-001": "fail", "DEP-002": "pass", "FW-001": "pass"})  # older
    scans = {
        "api": _scanned(api, {"DEP-001": "pass", "DEP-002": "pass", "FW-001": "fail"}),
        "worker": _scanned(worker, {"DEP-001": "pass", "DEP-002": "warn", "STR-001": "pass"}),
        "ledger": _scanned(ledger, {"DEP-001": "fail", "FW-001": "pass", "STR-001": "pass"}),
    }
    return {"teams": (platform, payments), "scans": scans}


def test_exports_require_login(org: dict[str, Any]) -> None:
    for url in ("/exports/organisation.csv", "/exports/results.csv", "/exports/history.csv"):
        response = Client().get(url)
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]


def test_organisation_export_matches_the_database(client: Client, org: dict[str, Any]) -> None:
    rows = _rows(client.get("/exports/organisation.csv"))
    assert [r["team"] for r in rows] == ["Payments", "Platform"]
    header = list(rows[0])
    assert header[:6] == ["team", "slug", "repositories", "scanned", "score", "level"]
    assert "DEP" in header
    assert "SEC" in header
    for row in rows:
        team = Team.objects.get(slug=row["slug"])
        active = team.repositories.filter(active=True)
        assert int(row["repositories"]) == active.count()
        scores = [r.score for r in active]
        assert float(row["score"]) == pytest.approx(sum(scores) / len(scores), abs=0.01)
        levels = {r.level for r in active}
        order = ("none", "bronze", "silver", "gold")
        assert row["level"] == min(levels, key=order.index)
        latest = TeamDailyScore.objects.filter(team=team).latest("date")
        for code, value in latest.section_scores.items():
            assert (float(row[code]) if row[code] else None) == pytest.approx(value, abs=0.01)


def test_team_export_lists_its_repositories(client: Client, org: dict[str, Any]) -> None:
    rows = _rows(client.get("/exports/teams/payments.csv"))
    assert [(r["repository"], r["active"]) for r in rows] == [
        ("ledger", "true"),
        ("retired", "false"),
    ]
    ledger = Repository.objects.get(name="ledger")
    assert float(rows[0]["score"]) == pytest.approx(ledger.score, abs=0.01)
    assert rows[0]["level"] == ledger.level
    assert rows[0]["commit"] == ledger.latest_scan.commit_sha
    finished = ledger.latest_scan.finished_at.astimezone(UTC).replace(microsecond=0)
    assert rows[0]["last_scanned_at"] == finished.isoformat().replace("+00:00", "Z")
    assert rows[1]["score"] == rows[1]["last_scanned_at"] == ""
    assert client.get("/exports/teams/nobody.csv").status_code == 404


def test_results_export_holds_the_latest_scan_of_each_active_repository(
    client: Client, org: dict[str, Any]
) -> None:
    rows = _rows(client.get("/exports/results.csv"))
    latest = CheckResult.objects.filter(scan__in=org["scans"].values())
    assert len(rows) == latest.count() == 9
    exported = {(r["repository"], r["rule"]): r for r in rows}
    for result in latest.select_related("scan__repository__team", "rule"):
        row = exported[(result.scan.repository.name, result.rule.rule_id)]
        assert row["team"] == result.scan.repository.team.name
        assert (row["status"], row["engine_status"]) == (result.status, result.status)
        assert (row["severity"], row["section"]) == (result.rule.severity, result.rule.section)
        assert row["message"] == result.message
        assert row["evidence"] == "pyproject.toml:3 here"
        assert row["commit"] == result.scan.commit_sha
    assert [r["team"] for r in rows] == sorted(r["team"] for r in rows)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (
            "team=platform",
            {("api", r) for r in ("DEP-001", "DEP-002", "FW-001")}
            | {("worker", r) for r in ("DEP-001", "DEP-002", "STR-001")},
        ),
        ("rule=fw-001", {("api", "FW-001"), ("ledger", "FW-001")}),
        ("status=fail", {("api", "FW-001"), ("ledger", "DEP-001")}),
        ("section=STR", {("worker", "STR-001"), ("ledger", "STR-001")}),
        ("team=platform&status=warn", {("worker", "DEP-002")}),
    ],
)
def test_results_export_filters(
    client: Client, org: dict[str, Any], query: str, expected: set[tuple[str, str]]
) -> None:
    rows = _rows(client.get(f"/exports/results.csv?{query}"))
    assert {(r["repository"], r["rule"]) for r in rows} == expected


def test_results_export_filters_by_repository_id(client: Client, org: dict[str, Any]) -> None:
    ledger = Repository.objects.get(name="ledger")
    rows = _rows(client.get(f"/exports/results.csv?repository={ledger.pk}"))
    assert {r["repository"] for r in rows} == {"ledger"}
    assert len(rows) == 3


def test_results_export_applies_waivers(client: Client, org: dict[str, Any]) -> None:
    ledger = Repository.objects.get(name="ledger")
    WaiverFactory(repository=ledger, rule=_rules()["DEP-001"])
    rows = _rows(client.get("/exports/results.csv?effective_status=waived"))
    assert [(r["repository"], r["rule"], r["engine_status"]) for r in rows] == [
        ("ledger", "DEP-001", "fail")
    ]
    # `status` is the engine's verdict: a waived failure is still a failing result row,
    # shown with its effective status (as the results API lists it).
    failing = _rows(client.get("/exports/results.csv?status=fail"))
    waived = [r for r in failing if (r["repository"], r["rule"]) == ("ledger", "DEP-001")]
    assert [r["status"] for r in waived] == ["waived"]


@pytest.mark.parametrize(
    "query", ["status=broken", "status=upcoming", "effective_status=broken", "repository=abc"]
)
def test_results_export_refuses_bad_filters(
    client: Client, org: dict[str, Any], query: str
) -> None:
    assert client.get(f"/exports/results.csv?{query}").status_code == 400


def test_rule_export_lists_adoption_per_repository(client: Client, org: dict[str, Any]) -> None:
    rows = _rows(client.get("/exports/rules/dep-001.csv"))
    assert list(rows[0]) == [
        "team",
        "repository",
        "project_dir",
        "status",
        "engine_status",
        "message",
        "scanned_at",
        "commit",
    ]
    assert {(r["repository"], r["status"]) for r in rows} == {
        ("api", "pass"),
        ("worker", "pass"),
        ("ledger", "fail"),
    }
    assert client.get("/exports/rules/XYZ-999.csv").status_code == 404


def test_history_export_by_team_and_repository(client: Client, org: dict[str, Any]) -> None:
    today = timezone.now().date()
    platform = Team.objects.get(slug="platform")
    TeamDailyScore.objects.create(team=platform, date=today - timedelta(days=10), score=40.0)
    TeamDailyScore.objects.create(team=platform, date=today - timedelta(days=100), score=10.0)
    rows = _rows(client.get("/exports/history.csv?scope=team&days=30"))
    assert {(r["date"], r["team"]) for r in rows} == {
        ((today - timedelta(days=10)).isoformat(), "Platform"),
        (today.isoformat(), "Platform"),
        (today.isoformat(), "Payments"),
    }
    assert [r["date"] for r in rows] == sorted(r["date"] for r in rows)
    repos = _rows(client.get("/exports/history.csv?scope=repository&team=payments"))
    stored = RepositoryDailyScore.objects.get(repository__name="ledger", date=today)
    assert [(r["repository"], float(r["score"]), r["level"]) for r in repos] == [
        ("ledger", pytest.approx(stored.score, abs=0.01), stored.level)
    ]


@pytest.mark.parametrize("query", ["scope=planet", "days=0", "days=-3", "days=many"])
def test_history_export_refuses_bad_parameters(client: Client, query: str) -> None:
    assert client.get(f"/exports/history.csv?{query}").status_code == 400


def test_user_data_cannot_become_a_spreadsheet_formula(client: Client) -> None:
    team = TeamFactory(name='=HYPERLINK("http://evil.example","x")', slug="evil")
    repository = RepositoryFactory(team=team, name="@SUM(A1:A9)")
    scan = _scanned(repository, {"DEP-001": "fail"})
    CheckResult.objects.filter(scan=scan).update(message="+cmd|' /C calc'!A0")
    rows = _rows(client.get("/exports/results.csv"))
    assert rows[0]["team"] == '\'=HYPERLINK("http://evil.example","x")'
    assert rows[0]["repository"] == "'@SUM(A1:A9)"
    assert rows[0]["message"] == "'+cmd|' /C calc'!A0"
    organisation = _rows(client.get("/exports/organisation.csv"))
    assert organisation[0]["team"].startswith("'=")


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, ""),
        ("-1", "'-1"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("plain", "plain"),
        (87.5, "87.5"),
        (100.0, "100"),
        (66.666, "66.67"),
        (-2.5, "-2.5"),
        (True, "true"),
        (datetime(2025, 1, 31, 13, 0, 5, 999, tzinfo=UTC), "2025-01-31T13:00:05Z"),
    ],
)
def test_cell_rendering(value: object, text: str) -> None:
    assert cell(value) == text


def test_csv_lines_stream_in_chunks_of_bounded_size() -> None:
    rows = ((n, "x" * 100) for n in range(5000))
    chunks = list(csv_lines(["n", "text"], rows))
    assert len(chunks) > 5
    assert all(len(chunk) < 70 * 1024 for chunk in chunks)
    parsed = list(csv.reader(io.StringIO(b"".join(chunks).decode(), newline="")))
    assert parsed[0] == ["n", "text"]
    assert len(parsed) == 5001
