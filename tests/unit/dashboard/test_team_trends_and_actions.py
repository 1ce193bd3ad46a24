"""The team page's data: trend ranges, chart marks and next actions toward the next level."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from dashboard.models import (
    Initiative,
    Repository,
    RepositoryDailyScore,
    Rule,
    Scan,
    Standard,
    StandardRelease,
    Team,
    TeamDailyScore,
)
from dashboard.selectors.common import trend_range
from dashboard.selectors.next_actions import RuleCount, next_actions
from dashboard.selectors.teams import chart_marks, team_summary
from dashboard.services.scans.results import Findings, ResultRow, store_findings
from dashboard.services.scoring import rollups
from tests.factories import RepositoryFactory, TeamFactory, WaiverFactory

pytestmark = pytest.mark.django_db


def _scan(repository: Repository, statuses: dict[str, str]) -> Scan:
    """Store a scan through the pipeline's last step (scores, level, roll-ups)."""
    scan = Scan.objects.create(repository=repository, status=Scan.Status.RUNNING)
    rows = [ResultRow(rule_id, status, "says so", []) for rule_id, status in statuses.items()]
    store_findings(scan, Findings(rows, f"{scan.pk:040x}", "test", {}, {}), 10)
    return scan


def _refresh(team: Team) -> None:
    rollups.refresh_team_day(team.pk, timezone.now().date())


def _rule(rule_id: str) -> Rule:
    return Rule.objects.get(standard__key="python-backend", rule_id=rule_id)


def _title(rule_id: str) -> str:
    return _rule(rule_id).title


@pytest.fixture
def bronze_team() -> Team:
    """alpha and beta at Bronze (majors fail or warn), gamma at Silver (a minor fails)."""
    team = TeamFactory(name="Ledger", slug="ledger")
    alpha = RepositoryFactory(team=team, name="alpha")
    beta = RepositoryFactory(team=team, name="beta")
    gamma = RepositoryFactory(team=team, name="gamma")
    retired = RepositoryFactory(team=team, name="retired")
    _scan(alpha, {"DEP-001": "pass", "DEP-002": "fail", "VER-001": "fail", "DEP-003": "fail"})
    _scan(beta, {"DEP-001": "pass", "DEP-002": "warn", "VER-001": "pass", "DEP-003": "pass"})
    _scan(gamma, {"DEP-001": "pass", "DEP-002": "pass", "VER-001": "pass", "DEP-003": "fail"})
    _scan(retired, {"DEP-001": "pass", "CFG-003": "fail"})
    Repository.objects.filter(pk=retired.pk).update(active=False)
    _refresh(team)
    return team


def _actions(team: Team, now: datetime | None = None):  # type: ignore[no-untyped-def]
    return next_actions(team, team_summary(team).level_gap, now)


def test_next_actions_list_blockers_by_repositories_then_failing_rules(bronze_team: Team) -> None:
    actions = _actions(bronze_team)
    assert team_summary(bronze_team).level == "bronze"
    assert actions.next_level == "silver"
    assert actions.blocking == [
        RuleCount("DEP-002", _title("DEP-002"), "major", 2),  # a failure and a warning
        RuleCount("VER-001", _title("VER-001"), "major", 1),
    ]
    # Failures only (beta's warning is not one), most repositories first; the inactive
    # repository's failing CFG-003 is not the team's any more.
    assert actions.failing == [
        RuleCount("DEP-003", _title("DEP-003"), "minor", 2),
        RuleCount("DEP-002", _title("DEP-002"), "major", 1),
        RuleCount("VER-001", _title("VER-001"), "major", 1),
    ]
    assert actions.expiring == []
    assert not actions.empty


def test_a_waiver_in_force_takes_its_rule_off_and_is_listed_while_it_runs_out(
    bronze_team: Team,
) -> None:
    alpha = Repository.objects.get(name="alpha")
    beta = Repository.objects.get(name="beta")
    now = timezone.now()
    soon = WaiverFactory(
        repository=alpha, rule=_rule("VER-001"), expires_at=now + timedelta(days=9)
    )
    WaiverFactory(repository=beta, rule=_rule("LOG-001"), expires_at=now + timedelta(days=45))
    WaiverFactory(
        repository=beta,
        rule=_rule("DEP-003"),
        expires_at=now + timedelta(days=5),
        revoked_at=now - timedelta(hours=1),
    )
    WaiverFactory(repository=beta, rule=_rule("CFG-002"), expires_at=now - timedelta(days=1))
    rollups.record_scan_day(alpha, now.date())
    actions = _actions(bronze_team)  # now: after the waivers were granted
    assert actions.blocking == [RuleCount("DEP-002", _title("DEP-002"), "major", 2)]
    assert [row.rule_id for row in actions.failing] == ["DEP-003", "DEP-002"]
    assert actions.expiring == [soon]


def test_the_organisations_severity_override_decides_what_blocks(bronze_team: Team) -> None:
    Rule.objects.filter(pk=_rule("VER-001").pk).update(severity_override="minor")
    assert [row.rule_id for row in _actions(bronze_team).blocking] == ["DEP-002"]


def test_a_gold_team_has_no_blocker(db: None) -> None:
    team = TeamFactory(name="Gold team")
    _scan(RepositoryFactory(team=team), {"DEP-001": "pass", "DEP-002": "pass"})
    _refresh(team)
    actions = _actions(team)
    assert team_summary(team).level == "gold"
    assert (actions.next_level, actions.blocking, actions.failing) == (None, [], [])
    assert actions.empty


def test_a_team_never_scanned_has_no_next_actions(db: None) -> None:
    team = TeamFactory(name="New team")
    RepositoryFactory(team=team)
    actions = _actions(team)
    assert actions.next_level is None
    assert actions.empty


def _daily(team: Team, ago: list[int], score: float = 70.0) -> None:
    today = timezone.now().date()
    for days in ago:
        TeamDailyScore.objects.create(team=team, date=today - timedelta(days=days), score=score)


def test_team_summary_covers_the_range_asked(db: None) -> None:
    team = TeamFactory(name="Old team")
    _daily(team, [400, 200, 60, 10, 0])
    today = timezone.now().date()
    for key, days in (("30", 30), ("90", 90), ("365", 365)):
        summary = team_summary(team, trend_range({"range": key}))
        assert len(summary.trend) == days
        assert summary.trend[0].day == today - timedelta(days=days - 1)
        assert summary.trend[-1].day == today
    everything = team_summary(team, trend_range({"range": "all"}))
    assert everything.trend[0].day == today - timedelta(days=400)
    assert [p.value for p in everything.trend if p.value is not None] == [70.0] * 5
    assert len(team_summary(team).trend) == 90  # the default
    assert len(team_summary(team, trend_range({"range": "7"})).trend) == 90  # unknown: default


def test_all_time_without_history_shows_30_days(db: None) -> None:
    team = TeamFactory(name="Empty")
    summary = team_summary(team, trend_range({"range": "all"}))
    assert len(summary.trend) == 30
    assert all(p.value is None for p in summary.trend)


def test_chart_marks_name_standards_initiatives_and_joins_in_the_window(db: None) -> None:
    today = timezone.now().date()
    team = TeamFactory(name="Marked")
    other = TeamFactory(name="Other")
    joined = RepositoryFactory(team=team, name="newcomer")
    RepositoryDailyScore.objects.create(repository=joined, date=today - timedelta(days=3), score=1)
    standard = Standard.objects.get(key="python-backend")
    StandardRelease.objects.create(
        standard=standard,
        version="9.0",
        previous_version="8.0",
        synced_at=timezone.now() - timedelta(days=5),
    )
    StandardRelease.objects.create(
        standard=standard,
        version="0.1",
        previous_version="0.0",
        synced_at=timezone.now() - timedelta(days=200),
    )

    def initiative(name: str, target_ago: int) -> Initiative:
        return Initiative.objects.create(
            name=name,
            goal="level",
            target_level="silver",
            start_date=today - timedelta(days=target_ago + 30),
            target_date=today - timedelta(days=target_ago),
        )

    initiative("Ledger at Silver", 7).teams.add(team)
    initiative("Newcomer at Silver", 2).repositories.add(joined)
    initiative("Someone else's", 4).teams.add(other)
    marks = chart_marks(team.pk, today - timedelta(days=89))
    assert marks == [
        (today - timedelta(days=7), "Ledger at Silver target"),
        (today - timedelta(days=5), "standard 9.0"),
        (today - timedelta(days=3), "+newcomer joined"),
        (today - timedelta(days=2), "Newcomer at Silver target"),
    ]
