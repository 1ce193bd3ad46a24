"""Initiative progress and burn-up equal a brute-force recomputation from raw scans; managers
create and close initiatives."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from dashboard.domain.scores import LEVEL_RANK
from dashboard.models import CheckResult, Initiative, Repository, Rule, Scan
from dashboard.selectors.initiatives import burn_up, progress_many
from dashboard.services.governance import initiatives
from dashboard.services.scoring import rollups
from scanners.report import score_outcomes
from scanners.results import Status
from scanners.standard import default_standard
from tests.factories import RepositoryFactory, TeamFactory

RULES = ("DEP-001", "DEP-002", "DEP-003", "VER-005")
STATUSES = ("pass", "fail", "warn", "not_applicable", "manual")
DAYS = 5
MET = {"pass", "not_applicable"}

scan_event = st.tuples(
    st.integers(0, DAYS - 1),  # day
    st.integers(0, 23 * 60),  # minute of the day
    st.integers(0, 3),  # repository
    st.tuples(*(st.sampled_from(STATUSES) for _ in RULES)),
)
goal = st.one_of(
    st.tuples(st.just("level"), st.sampled_from(("bronze", "silver", "gold"))),
    st.tuples(st.just("rules"), st.sets(st.sampled_from(RULES), min_size=1).map(sorted)),
)


def _brute(
    scans: list[tuple[datetime, int, tuple[str, ...], int]],
    day: date,
    repository: int,
    target: Any,
) -> bool:
    """Straight from the raw events: the latest scan by the end of `day`, judged afresh."""
    end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    mine = [s for s in scans if s[1] == repository and s[0] < end]
    if not mine:
        return False
    # The latest finished wins; at the same instant, the one recorded last (as roll-ups do).
    statuses = dict(zip(RULES, max(mine, key=lambda s: (s[0], s[3]))[2], strict=True))
    kind, value = target
    if kind == "rules":
        return all(statuses[rule_id] in MET for rule_id in value)
    specs = default_standard().rules
    level = score_outcomes((specs[r], Status(s)) for r, s in statuses.items()).level.value
    return LEVEL_RANK[level] >= LEVEL_RANK[value]


class BurnUpPropertyTests(TestCase):
    """Progress now and every burn-up point equal a brute-force count over raw scans."""

    @settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        events=st.lists(scan_event, max_size=12),
        target=goal,
        scoped_teams=st.sets(st.integers(0, 1), max_size=2),
        scoped_repos=st.sets(st.integers(0, 3), max_size=2),
        inactive=st.sets(st.integers(0, 3), max_size=1),
        start_offset=st.integers(0, DAYS - 1),
    )
    def test_burn_up_equals_brute_force(
        self,
        events: list[tuple[Any, ...]],
        target: Any,
        scoped_teams: set[int],
        scoped_repos: set[int],
        inactive: set[int],
        start_offset: int,
    ) -> None:
        today = timezone.now().date()
        first = today - timedelta(days=DAYS)  # events end yesterday: none in the future
        teams = [TeamFactory(), TeamFactory()]
        repos: list[Repository] = [
            RepositoryFactory(team=teams[i % 2], active=i not in inactive) for i in range(4)
        ]
        rules = {r.rule_id: r for r in Rule.objects.filter(rule_id__in=RULES)}
        raw = []
        for day, minute, index, statuses in events:
            at = datetime.combine(first + timedelta(days=day), datetime.min.time(), tzinfo=UTC)
            at += timedelta(minutes=minute)
            scan = Scan.objects.create(repository=repos[index], status=Scan.Status.SUCCEEDED)
            Scan.objects.filter(pk=scan.pk).update(finished_at=at)
            CheckResult.objects.bulk_create(
                CheckResult(scan=scan, rule=rules[r], status=s)
                for r, s in zip(RULES, statuses, strict=True)
            )
            raw.append((at, index, statuses, scan.pk))
        rollups.recompute_range(first, today)

        start = first + timedelta(days=start_offset)
        initiative = Initiative.objects.create(
            name="goal",
            goal=target[0],
            target_level=target[1] if target[0] == "level" else "",
            start_date=start,
            target_date=today + timedelta(days=3),
        )
        if target[0] == "rules":
            initiative.rules.set(rules[r] for r in target[1])
        initiative.teams.set(teams[i] for i in scoped_teams)
        initiative.repositories.set(repos[i] for i in scoped_repos)

        scope = sorted(
            i
            for i in range(4)
            if i not in inactive and (i % 2 in scoped_teams or i in scoped_repos)
        )
        progress = progress_many([initiative], today)[initiative.pk]
        assert progress.total == len(scope)
        assert progress.done == sum(_brute(raw, today, i, target) for i in scope)
        done_ids = {r.repository_id for r in progress.repositories if r.done}
        assert done_ids == {repos[i].pk for i in scope if _brute(raw, today, i, target)}

        chart = burn_up(progress, today)
        assert chart.days[0] == start
        assert chart.days[-1] == initiative.target_date
        assert chart.total == len(scope)
        for day, done in zip(chart.days, chart.done, strict=True):
            if day > today:
                assert done is None
            else:
                assert done == sum(_brute(raw, day, i, target) for i in scope), day
        assert chart.ideal[-1] == len(scope)


pytestmark = pytest.mark.django_db


def _goal(**changes: Any) -> initiatives.Goal:
    today = timezone.now().date()
    values: dict[str, Any] = {
        "name": "Payments at Silver",
        "goal": "level",
        "target_level": "silver",
        "start_date": today,
        "target_date": today + timedelta(days=60),
        "teams": (TeamFactory(),),
    }
    values.update(changes)
    return initiatives.Goal(**values)


def test_managers_create_and_close_initiatives(personas: dict[str, Any]) -> None:
    created = initiatives.create_initiative(personas["manager"], _goal())
    assert created.owner == personas["manager"]
    assert created.is_open
    initiatives.close_initiative(personas["admin"], created)
    closed_at = Initiative.objects.get().closed_at
    assert closed_at is not None
    initiatives.close_initiative(personas["admin"], created)
    assert Initiative.objects.get().closed_at == closed_at


@pytest.mark.parametrize("persona", ["maintainer", "member", "outsider"])
def test_others_may_not_run_initiatives(personas: dict[str, Any], persona: str) -> None:
    with pytest.raises(PermissionDenied):
        initiatives.create_initiative(personas[persona], _goal())


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": " "}, "name"),
        ({"target_date": date(2000, 1, 1)}, "target_date"),
        ({"target_level": ""}, "target_level"),
        ({"goal": "rules", "rules": ()}, "rules"),
        ({"teams": (), "repositories": ()}, "teams"),
    ],
)
def test_invalid_initiatives_name_the_field(
    personas: dict[str, Any], changes: dict[str, Any], field: str
) -> None:
    with pytest.raises(initiatives.InitiativeError) as caught:
        initiatives.create_initiative(personas["manager"], _goal(**changes))
    assert caught.value.field == field
    assert not Initiative.objects.exists()
