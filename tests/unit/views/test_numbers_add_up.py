"""Numbers that add up: like-for-like trends, unscored repositories apart, levels explained."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from dashboard.models import Repository, RepositoryDailyScore, Scan, Team
from dashboard.selectors import overview, teams
from dashboard.selectors.common import TableState
from dashboard.services.scans.results import Findings, ResultRow, store_findings
from dashboard.services.scoring import rollups
from tests.factories import RepositoryFactory, TeamFactory

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
# One critical, one major, one minor rule: fail the critical for No level, the major for
# Bronze, warn the minor for Silver, pass all three for Gold.
CRITICAL, MAJOR, MINOR = "DEP-001", "DEP-002", "DEP-003"
GOLD = {CRITICAL: "pass", MAJOR: "pass", MINOR: "pass"}
SILVER = {CRITICAL: "pass", MAJOR: "pass", MINOR: "warn"}
BRONZE = {CRITICAL: "pass", MAJOR: "fail", MINOR: "pass"}
NONE = {CRITICAL: "fail", MAJOR: "pass", MINOR: "pass"}


@pytest.fixture
def client_in(client: Client, personas: dict[str, object]) -> Client:
    client.force_login(personas["member"])  # type: ignore[arg-type]
    return client


def _scan(repository: Repository, statuses: dict[str, str], days_ago: int = 0) -> Scan:
    """Store a scan through the real pipeline's last step, then date it `days_ago`."""
    scan = Scan.objects.create(repository=repository, status=Scan.Status.RUNNING)
    rows = [
        ResultRow(rule_id, status, f"{rule_id} says so", [{"path": "app/x.py", "line": 3}])
        for rule_id, status in statuses.items()
    ]
    store_findings(scan, Findings(rows, f"{scan.pk:040x}", "test", {}, {}), 10)
    finished = timezone.now() - timedelta(days=days_ago, minutes=5)
    Scan.objects.filter(pk=scan.pk).update(finished_at=finished)
    return scan


def _rebuild(days: int = 40) -> None:
    today = timezone.now().date()
    rollups.recompute_range(today - timedelta(days=days), today)


def _team_row(team: Team) -> overview.TeamRow:
    _, rows = overview.teams_table(TableState("name", q=team.name))
    (row,) = rows
    return row


def _text(html: bytes) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html.decode()))


def test_onboarding_a_lower_scoring_repository_is_not_a_drop(client_in: Client) -> None:
    team = TeamFactory(name="Ledger", slug="ledger")
    steady = RepositoryFactory(team=team, name="ledger-api")
    _scan(steady, GOLD, days_ago=20)
    _scan(steady, GOLD, days_ago=0)
    joined = RepositoryFactory(team=team, name="ledger-batch")
    _scan(joined, BRONZE, days_ago=0)
    _rebuild()

    row = _team_row(team)
    summary = teams.team_summary(team)

    assert row.delta == 0.0  # not the mean's fall from 100 to the new mean
    assert summary.delta == 0.0
    assert "+1 repository joined (ledger-batch scored" in row.trend_note
    assert "+1 repository joined (ledger-batch scored" in summary.trend_note
    page = _text(client_in.get("/").content)
    assert "+1 repository joined (ledger-batch scored" in page
    team_page = _text(client_in.get("/teams/ledger/").content)
    assert "+1 repository joined (ledger-batch scored" in team_page
    assert "±0 in 90 days" in team_page
    assert "+ledger-batch joined" in team_page  # marked on the chart, the day it joined


def test_a_repository_leaving_is_shown_apart_too() -> None:
    team = TeamFactory(name="Vault", slug="vault")
    steady = RepositoryFactory(team=team, name="vault-api")
    _scan(steady, SILVER, days_ago=20)
    _scan(steady, SILVER, days_ago=0)
    gone = RepositoryFactory(team=team, name="vault-old")
    _scan(gone, NONE, days_ago=20)
    _rebuild()
    # Its scans removed today: no row at the end of the window, one at its start.
    RepositoryDailyScore.objects.filter(repository=gone, date=timezone.now().date()).delete()

    row = _team_row(team)

    assert row.delta == 0.0
    assert "-1 repository left (vault-old scored" in row.trend_note


def test_a_repository_deactivated_in_the_window_is_listed_as_left(
    personas: dict[str, object],
) -> None:
    """Its daily rows are carried forward like any other: the audit log says when it left."""
    from dashboard.services.repos.registration import update_repository

    team = TeamFactory(name="Quarry", slug="quarry")
    steady = RepositoryFactory(team=team, name="quarry-api")
    _scan(steady, SILVER, days_ago=20)
    _scan(steady, SILVER, days_ago=0)
    gone = RepositoryFactory(team=team, name="quarry-old")
    _scan(gone, NONE, days_ago=20)
    long_gone = RepositoryFactory(team=team, name="quarry-ancient", active=False)
    _scan(long_gone, NONE, days_ago=20)  # inactive, with no deactivation in the window
    _rebuild()
    gone.active = False
    update_repository(personas["admin"], gone)  # type: ignore[arg-type]

    row = _team_row(team)

    assert row.delta == 0.0
    assert "-1 repository left (quarry-old scored" in row.trend_note
    assert "quarry-ancient" not in row.trend_note


def test_a_repository_whose_first_scan_failed_is_failing_to_scan_not_scored(
    client_in: Client,
) -> None:
    team = TeamFactory(name="Orbit", slug="orbit")
    _scan(RepositoryFactory(team=team, name="orbit-api"), GOLD)
    broken = RepositoryFactory(team=team, name="orbit-broken")
    Scan.objects.create(
        repository=broken, status=Scan.Status.FAILED, finished_at=timezone.now(), error="boom"
    )
    waiting = RepositoryFactory(team=team, name="orbit-new")
    Scan.objects.create(repository=waiting, status=Scan.Status.QUEUED)
    _rebuild(2)

    summary = teams.team_summary(team)
    row = _team_row(team)

    assert summary.score == 100.0
    assert summary.repositories == 1  # scored ones only
    assert (summary.unscored.not_scanned, summary.unscored.failing) == (1, 1)
    assert row.figures.scanned == 1
    assert (row.unscored.not_scanned, row.unscored.failing) == (1, 1)
    team_page = _text(client_in.get("/teams/orbit/").content)
    assert "1 failing to scan" in team_page
    assert "1 not scanned yet" in team_page
    table = _text(client_in.get("/teams/orbit/?sort=name", headers=HTMX).content)
    assert re.search(r"orbit-broken — failing to scan", table), table
    assert re.search(r"orbit-new — not scanned yet", table), table
    assert "1 failing to scan" in _text(client_in.get("/").content)


def test_a_failed_rescan_keeps_a_scored_repository_scored() -> None:
    team = TeamFactory(name="Comet", slug="comet")
    repository = RepositoryFactory(team=team, name="comet-api")
    _scan(repository, SILVER)
    Scan.objects.create(
        repository=repository, status=Scan.Status.FAILED, finished_at=timezone.now()
    )

    summary = teams.team_summary(team)

    assert summary.repositories == 1
    assert summary.unscored.total == 0


def test_overview_level_counts_add_up_to_the_repositories_shown(client_in: Client) -> None:
    team = TeamFactory(name="Mixed", slug="mixed")
    for name, statuses in (("g", GOLD), ("s", SILVER), ("b", BRONZE), ("n", NONE)):
        _scan(RepositoryFactory(team=team, name=f"mixed-{name}"), statuses)
    RepositoryFactory(team=team, name="mixed-fresh")
    broken = RepositoryFactory(team=team, name="mixed-broken")
    Scan.objects.create(repository=broken, status=Scan.Status.FAILED, finished_at=timezone.now())
    RepositoryFactory(team=team, name="mixed-off", active=False)

    figures = overview.summary()

    parts = ("gold", "silver", "bronze", "none", "not_scanned", "failing")
    assert [figures[k] for k in parts] == [1, 1, 1, 1, 1, 1]
    assert sum(figures[k] for k in parts) == figures["repositories"] == 6
    page = _text(client_in.get("/").content)
    for words in ("1 at Gold", "1 at Silver", "1 at Bronze", "1 at no level"):
        assert words in page, words
    assert "1 not scanned yet" in page
    assert "1 failing to scan" in page
    mixed = teams.team_summary(team)
    assert sum(mixed.levels.values()) + mixed.unscored.total == 6
    assert mixed.levels["none"] == mixed.repositories - 3 == 1


def test_level_filters_match_the_counts(client_in: Client) -> None:
    team = TeamFactory(name="Filters", slug="filters")
    _scan(RepositoryFactory(team=team, name="filters-none"), NONE)
    _scan(RepositoryFactory(team=team, name="filters-gold"), GOLD)
    RepositoryFactory(team=team, name="filters-fresh")
    broken = RepositoryFactory(team=team, name="filters-broken")
    Scan.objects.create(repository=broken, status=Scan.Status.FAILED, finished_at=timezone.now())

    def names(level: str) -> list[str]:
        _, rows = teams.repositories_table(team, TableState("name", filters={"level": level}))
        return [row.repository.name for row in rows]

    assert names("none") == ["filters-none"]  # scanned, no level: not the unscanned ones
    assert names("not_scanned") == ["filters-fresh"]
    assert names("failing") == ["filters-broken"]
    assert names("gold") == ["filters-gold"]
    html = client_in.get("/teams/filters/?level=failing", headers=HTMX).content.decode()
    assert "filters-broken" in html
    assert "filters-fresh" not in html


def test_the_repository_page_says_what_blocks_the_next_level(client_in: Client) -> None:
    repository = RepositoryFactory(name="blocked-api")
    _scan(repository, SILVER)

    html = _text(client_in.get(f"/repositories/{repository.pk}/").content)

    assert "1 minor warning blocks Gold: DEP-003 in app/x.py" in html


def test_no_level_always_comes_with_its_reason(client_in: Client) -> None:
    team = TeamFactory(name="Nolevel", slug="nolevel")
    good = RepositoryFactory(team=team, name="nolevel-good")
    _scan(good, GOLD)
    bad = RepositoryFactory(team=team, name="nolevel-bad")
    _scan(bad, NONE)
    _rebuild(2)

    repository_page = _text(client_in.get(f"/repositories/{bad.pk}/").content)
    overview_page = _text(client_in.get("/").content)
    team_page = _text(client_in.get("/teams/nolevel/").content)

    assert "1 critical failure blocks Bronze: DEP-001 in app/x.py" in repository_page
    reason = "1 repository below Bronze blocks Bronze: nolevel-bad (No level)"
    assert reason in overview_page
    assert reason in team_page
    row = _team_row(team)
    assert row.level == "none"
    assert row.level_gap.text == reason


def test_a_silver_team_names_the_repositories_below_gold() -> None:
    team = TeamFactory(name="Twoup", slug="twoup")
    for name in ("one", "two"):
        _scan(RepositoryFactory(team=team, name=f"twoup-{name}"), SILVER)
    _scan(RepositoryFactory(team=team, name="twoup-gold"), GOLD)

    gap = _team_row(team).level_gap

    assert gap.text == (
        "2 repositories below Gold block Gold: twoup-one (Silver), twoup-two (Silver)"
    )
