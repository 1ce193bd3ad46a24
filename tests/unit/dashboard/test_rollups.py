"""Roll-ups kept incrementally equal a from-scratch recomputation over random histories."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from dashboard.models import (
    CheckResult,
    Repository,
    RepositoryDailyScore,
    Rule,
    RuleDailyStats,
    Scan,
    TeamDailyScore,
    Waiver,
)
from dashboard.services.scoring import rollups
from tests.factories import AttestationFactory, RepositoryFactory, TeamFactory

RULES = ("DEP-001", "DEP-002", "DEP-003", "VER-005")
STATUSES = ("pass", "fail", "warn", "not_applicable", "error", "manual")
DAYS = 4
START = date(2026, 3, 2)

scan_event = st.tuples(
    st.just("scan"),
    st.integers(0, DAYS - 1),  # day
    st.integers(0, 23 * 60),  # minute of the day
    st.integers(0, 3),  # repository index
    st.tuples(*(st.sampled_from(STATUSES) for _ in RULES)),
)
waiver_event = st.tuples(
    st.sampled_from(("waiver", "attestation")),
    st.integers(0, DAYS - 1),
    st.integers(0, 23 * 60),
    st.integers(0, 3),
    st.tuples(st.sampled_from(RULES), st.integers(1, 3 * 24 * 60)),  # rule, lifetime (minutes)
)


def _at(day: int, minute: int) -> datetime:
    return timezone.make_aware(
        datetime.combine(START + timedelta(days=day), datetime.min.time()), timezone.UTC
    ) + timedelta(minutes=minute)


def _snapshot(last: date) -> dict[str, Any]:
    return {
        "repos": sorted(
            RepositoryDailyScore.objects.filter(date__lte=last).values_list(
                "repository_id", "date", "score", "level", "scan_id", "section_scores"
            ),
            key=repr,
        ),
        "teams": sorted(
            TeamDailyScore.objects.filter(date__lte=last).values_list(
                "team_id", "date", "score", "repositories", "section_scores"
            ),
            key=repr,
        ),
        "rules": sorted(
            RuleDailyStats.objects.filter(date__lte=last).values_list(
                "rule_id", "team_id", "date", "passed", "failed", "warned", "other"
            ),
            key=repr,
        ),
    }


class RollupPropertyTests(TestCase):
    """Incremental (per scan, per governance change, nightly close) == recompute from scratch."""

    @settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        events=st.lists(st.one_of(scan_event, waiver_event), min_size=1, max_size=14),
        inactive=st.sets(st.integers(0, 3), max_size=2),
    )
    def test_incremental_rollups_equal_recomputation(
        self, events: list[tuple[Any, ...]], inactive: set[int]
    ) -> None:
        teams = [TeamFactory(), TeamFactory()]
        repos: list[Repository] = [
            RepositoryFactory(team=teams[i % 2], active=i not in inactive) for i in range(4)
        ]
        rules = {r.rule_id: r for r in Rule.objects.filter(rule_id__in=RULES)}
        closed = [START]  # the next day the nightly job has to close

        def close_until(today: date) -> None:
            while closed[0] < today:
                day = closed[0]
                rollups.close_day(day, now=rollups.end_of_day(day) + timedelta(minutes=5))
                closed[0] = day + timedelta(days=1)

        for kind, day, minute, index, payload in sorted(events, key=lambda e: (e[1], e[2])):
            at = _at(day, minute)
            repo = repos[index]
            if kind == "scan":
                scan = Scan.objects.create(repository=repo, status=Scan.Status.SUCCEEDED)
                Scan.objects.filter(pk=scan.pk).update(finished_at=at)
                CheckResult.objects.bulk_create(
                    CheckResult(scan=scan, rule=rules[rid], status=status)
                    for rid, status in zip(RULES, payload, strict=True)
                )
            else:
                rule_id, lifetime = payload
                if kind == "waiver":
                    item: Any = Waiver.objects.create(
                        repository=repo,
                        rule=rules[rule_id],
                        reason="r",
                        expires_at=at + timedelta(minutes=lifetime),
                    )
                else:
                    item = AttestationFactory(
                        repository=repo,
                        rule=rules[rule_id],
                        expires_at=at + timedelta(minutes=lifetime),
                    )
                type(item).objects.filter(pk=item.pk).update(created_at=at)
            rollups.record_scan_day(repo, at.date(), now=at)
            # Nightly closes of the days that ended before this event.
            close_until(at.date())
        last = START + timedelta(days=DAYS - 1)
        close_until(last + timedelta(days=1))
        incremental = _snapshot(last)
        rollups.recompute_range(START, last, now=rollups.end_of_day(last) + timedelta(hours=1))
        assert incremental == _snapshot(last)


def test_end_of_day_is_the_next_midnight_utc() -> None:
    assert rollups.end_of_day(date(2026, 1, 31)).isoformat() == "2026-02-01T00:00:00+00:00"
