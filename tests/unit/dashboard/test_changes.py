"""What changed over a period and which fixes gain most (dashboard/selectors/changes.py)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dashboard.domain.governance import Governance, points_if_passed, score_governed
from dashboard.models import (
    CheckResult,
    Repository,
    RepositoryDailyScore,
    Rule,
    Scan,
    Team,
    TeamDailyScore,
)
from dashboard.selectors.changes import fix_first, what_changed
from tests.factories import RepositoryFactory, ScanFactory, TeamFactory, WaiverFactory
from tests.orgdata import build_org

pytestmark = pytest.mark.django_db

END = date(2026, 11, 30)
START = END - timedelta(days=7)


def _day(repository: Repository, day: date, score: float | None, level: str, *open_rules: str):
    return RepositoryDailyScore.objects.create(
        repository=repository, date=day, score=score, level=level, open_rules=list(open_rules)
    )


def _team_day(team: Team, day: date, score: float) -> None:
    TeamDailyScore.objects.create(team=team, date=day, score=score, repositories=2)


@pytest.fixture
def org() -> dict[str, object]:
    """Two teams: api gains a level, web loses one, worker moves up, new joins, broken fails."""
    payments, search = TeamFactory(name="Payments"), TeamFactory(name="Search")
    api = RepositoryFactory(team=payments, name="api")
    web = RepositoryFactory(team=payments, name="web")
    worker = RepositoryFactory(team=search, name="worker")
    new = RepositoryFactory(team=search, name="new")
    broken = RepositoryFactory(team=search, name="broken")
    Repository.objects.filter(pk__in=(api.pk, web.pk, worker.pk, broken.pk)).update(
        created_at=timezone.now() - timedelta(days=400)
    )
    _day(api, START, 60.0, "bronze", "LAY-001")
    _day(api, END, 80.0, "silver", "LAY-001", "STY-001")
    _day(web, START, 90.0, "gold")
    _day(web, END, 70.0, "bronze", "STY-001", "DOC-001")
    _day(worker, START, 50.0, "none", "DOC-001")
    _day(worker, END, 55.0, "none", "DOC-001")
    _day(new, END, 20.0, "none", "LAY-001", "STY-001", "DOC-001")  # onboarded: no start row
    failed = ScanFactory(repository=broken, status=Scan.Status.FAILED, finished_at=None)
    Scan.objects.filter(pk=failed.pk).update(queued_at=timezone.make_aware(_noon(END)))
    _team_day(payments, START, 75.0)
    _team_day(payments, END, 75.0)
    _team_day(search, START, 50.0)
    _team_day(search, END, 37.5)  # new joined at 20: the mean fell, like for like it rose
    return {"payments": payments, "search": search, "api": api, "web": web, "worker": worker,
            "new": new, "broken": broken}  # fmt: skip


def _noon(day: date):
    from datetime import datetime, time

    return datetime.combine(day, time(12))


def test_levels_movers_and_new_failures_among_the_repositories_present_throughout(
    org: dict[str, Repository],
) -> None:
    changes = what_changed(START, END)

    assert [(c.repository.name, c.before, c.after) for c in changes.levels_gained] == [
        ("api", "bronze", "silver")
    ]
    assert [(c.repository.name, c.before, c.after) for c in changes.levels_lost] == [
        ("web", "gold", "bronze")
    ]
    assert [(m.name, m.before, m.after, m.delta) for m in changes.movers_up] == [
        ("api", 60.0, 80.0, 20.0),
        ("worker", 50.0, 55.0, 5.0),
    ]
    assert [(m.name, m.delta) for m in changes.movers_down] == [("web", -20.0)]
    failures = {f.rule_id: [r.name for r in f.repositories] for f in changes.new_failures}
    assert failures == {"STY-001": ["api", "web"], "DOC-001": ["web"]}
    assert changes.new_failures[0].rule_id == "STY-001"  # most repositories first
    assert changes.new_failures[0].title == Rule.objects.filter(rule_id="STY-001").first().title
    assert not changes.empty


def test_onboarding_and_scan_failures_are_kept_apart_from_regressions(
    org: dict[str, Repository],
) -> None:
    changes = what_changed(START, END)

    assert [r.name for r in changes.onboarded] == ["new"]
    assert [r.name for r in changes.failing_to_scan] == ["broken"]
    everywhere = [c.repository.name for c in changes.levels_gained + changes.levels_lost]
    everywhere += [m.name for m in changes.movers_up + changes.movers_down]
    everywhere += [r.name for f in changes.new_failures for r in f.repositories]
    assert "new" not in everywhere
    assert "broken" not in everywhere


def test_team_movers_compare_like_with_like(org: dict[str, object]) -> None:
    changes = what_changed(START, END)

    # Search's daily mean fell (50 -> 37.5) because "new" joined at 20; worker rose by 5.
    assert [(m.name, m.before, m.after, m.delta) for m in changes.team_movers_up] == [
        ("Search", 50.0, 37.5, 5.0)
    ]
    assert "new scored 20.0" in changes.team_movers_up[0].note
    assert changes.team_movers_down == ()  # Payments: 75 -> 75 on the same repositories


def test_a_team_scope_keeps_to_the_team_and_lists_no_team_movers(org: dict[str, Team]) -> None:
    changes = what_changed(START, END, org["payments"])

    assert [m.name for m in changes.movers_up + changes.movers_down] == ["api", "web"]
    assert changes.onboarded == ()
    assert changes.failing_to_scan == ()
    assert changes.team_movers_up == changes.team_movers_down == ()
    assert changes.team_id == org["payments"].pk


def test_a_deactivated_repository_is_left_out(org: dict[str, Repository]) -> None:
    Repository.objects.filter(pk=org["web"].pk).update(active=False)

    changes = what_changed(START, END)

    assert changes.levels_lost == ()
    assert [m.name for m in changes.movers_down] == []


def test_a_failure_before_the_period_is_not_a_change(org: dict[str, Repository]) -> None:
    Scan.objects.filter(repository=org["broken"]).update(
        queued_at=timezone.make_aware(_noon(START - timedelta(days=3)))
    )

    assert what_changed(START, END).failing_to_scan == ()


def test_nothing_changed_is_empty() -> None:
    repository = RepositoryFactory(created_at=timezone.now())
    Repository.objects.filter(pk=repository.pk).update(
        created_at=timezone.now() - timedelta(days=400)
    )
    _day(repository, START, 70.0, "silver", "DOC-001")
    _day(repository, END, 70.0, "silver", "DOC-001")

    changes = what_changed(START, END)

    assert changes.empty
    assert not changes.regressions
    assert changes.days == 7
    assert what_changed(START, END, repository.team).empty


def test_no_data_at_all_is_empty() -> None:
    assert what_changed(START, END).empty


def test_what_changed_queries_stay_flat_with_the_data() -> None:
    build_org(teams=1, repositories=2, days=3)
    end = timezone.now().date()
    with CaptureQueriesContext(connection) as small:
        what_changed(end - timedelta(days=2), end)
    build_org(teams=3, repositories=4, days=3, seed=9)
    with CaptureQueriesContext(connection) as large:
        changes = what_changed(end - timedelta(days=2), end)
    assert changes.movers_up or changes.movers_down  # random results: somebody moved
    assert len(large) == len(small)


# Fix first ---------------------------------------------------------------------------------


def _rule(rule_id: str) -> Rule:
    return Rule.objects.get(standard__key="python-backend", rule_id=rule_id)


def _scanned(team: Team, name: str, statuses: dict[str, str]) -> Repository:
    repository = RepositoryFactory(team=team, name=name)
    scan = ScanFactory(repository=repository)
    CheckResult.objects.bulk_create(
        CheckResult(scan=scan, rule=_rule(rule_id), status=status)
        for rule_id, status in statuses.items()
    )
    Repository.objects.filter(pk=repository.pk).update(latest_scan=scan)
    repository.refresh_from_db()
    return repository


def _weights(*rule_ids: str) -> list[int]:
    return [_rule(rule_id).weighting.weight for rule_id in rule_ids]


def test_fix_first_ranks_by_points_times_repositories() -> None:
    team = TeamFactory()
    a, b, c = "LAY-001", "STY-001", "DOC-001"
    wa, wb, wc = _weights(a, b, c)
    one = _scanned(team, "one", {a: "fail", b: "pass", c: "warn"})
    two = _scanned(team, "two", {a: "fail", b: "pass", c: "pass"})
    total = wa + wb + wc

    ranked = fix_first()

    assert [f.rule_id for f in ranked] == [a, c]
    first, second = ranked
    assert first.repository_ids == (one.pk, two.pk)
    assert first.repositories == 2
    # Passing a failed rule earns its whole weight: 100 * wa / total in each repository.
    assert first.points == pytest.approx(100 * wa / total, abs=0.02)
    # Ranked by the total gain: points each x repositories.
    assert first.score == pytest.approx(2 * 100 * wa / total, abs=0.02)
    # A warning already earns half its weight.
    assert second.repository_ids == (one.pk,)
    assert second.points == pytest.approx(100 * 0.5 * wc / total, abs=0.02)
    assert first.url == f"/rules/{a}/?repos={one.pk}%2C{two.pk}"
    assert second.severity == _rule(c).weighting.severity.value


def test_fix_first_leaves_waived_rules_out_and_keeps_to_a_team() -> None:
    team, other = TeamFactory(), TeamFactory()
    a, b = "LAY-001", "STY-001"
    one = _scanned(team, "one", {a: "fail", b: "pass"})
    two = _scanned(team, "two", {a: "fail", b: "fail"})
    three = _scanned(other, "three", {a: "pass", b: "fail"})
    WaiverFactory(repository=two, rule=_rule(a))

    everywhere = {f.rule_id: f.repository_ids for f in fix_first()}
    mine = {f.rule_id: f.repository_ids for f in fix_first(team)}

    assert everywhere == {a: (one.pk,), b: (two.pk, three.pk)}
    assert mine == {a: (one.pk,), b: (two.pk,)}
    assert len(fix_first(limit=1)) == 1


def test_fix_first_is_empty_without_scans_or_failures() -> None:
    assert fix_first() == []
    _scanned(TeamFactory(), "clean", {"LAY-001": "pass", "STY-001": "not_applicable"})
    assert fix_first() == []


def test_fix_first_queries_stay_flat_with_the_data() -> None:
    build_org(teams=1, repositories=2, days=1)
    with CaptureQueriesContext(connection) as small:
        assert fix_first()
    build_org(teams=3, repositories=4, days=1, seed=9)
    with CaptureQueriesContext(connection) as large:
        fix_first()
    assert len(large) == len(small)


def test_points_if_passed_leaves_unscored_rules_out() -> None:
    a, b, c, d = (_rule(rule_id) for rule_id in ("LAY-001", "STY-001", "DOC-001", "FW-001"))
    wa, wb = a.weighting.weight, b.weighting.weight
    rows = [(a, "fail", 0), (b, "pass", 0), (c, "fail", 0), (d, "warn", 0)]
    # c is upcoming (not scored yet), d is waived: only a can gain.
    governance = Governance(waived={d.pk}, attested=set(), upcoming=frozenset({c.pk}))

    gains = points_if_passed(rows, governance)

    assert set(gains) == {a.pk}
    assert gains[a.pk] == pytest.approx(100 * wa / (wa + wb), abs=0.01)
    assert score_governed(rows, governance).score == pytest.approx(100 * wb / (wa + wb), abs=0.01)
    assert points_if_passed([(b, "pass", 0)], governance) == {}
    assert points_if_passed([(c, "fail", 0)], governance) == {}  # nothing scored: no score
