"""Grace periods (upcoming until effective) and ratchets (pass while at or below a baseline),
at their boundaries, agreeing across scores, pages, roll-ups and exports."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.utils import timezone

from dashboard.models import Ratchet, RepositoryDailyScore, Rule, RuleDailyStats
from dashboard.selectors.governance import score_scan
from dashboard.services.governance import ratchets
from dashboard.services.scoring import rollups
from tests.factories import RepositoryFactory, WaiverFactory
from tests.notify import store

pytestmark = pytest.mark.django_db

# DEP-001 critical, DEP-002 major, DEP-003 minor; STY-004 minor and count-based.
BASE = {"DEP-001": "pass", "DEP-002": "pass", "DEP-003": "pass"}


def _at(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=12)


def _effective(rule_id: str, day: date | None) -> None:
    Rule.objects.filter(rule_id=rule_id).update(effective_from=day)


# ----- grace periods ----------------------------------------------------------------------
def test_the_day_before_effective_a_result_is_upcoming_and_not_scored() -> None:
    effective = date(2026, 3, 10)
    _effective("DEP-002", effective)
    scan = store(RepositoryFactory(), {**BASE, "DEP-002": "fail"})
    before = score_scan(scan, at=_at(effective - timedelta(days=1)))
    on = score_scan(scan, at=datetime.combine(effective, datetime.min.time(), tzinfo=UTC))
    assert (before.score, before.level) == (100.0, "gold")
    assert "DEP-002" in before.open_rules  # teams still see what is coming
    assert on.score == pytest.approx(100 * 10 / 14, abs=0.01)
    assert on.level == "bronze"


def test_upcoming_rules_show_on_the_page_and_in_exports_and_count_as_other(
    client: Client, personas: dict[str, Any]
) -> None:
    _effective("DEP-002", timezone.now().date() + timedelta(days=1))
    repository = RepositoryFactory(team=personas["team"])
    store(repository, {**BASE, "DEP-002": "fail"})
    repository.refresh_from_db()
    assert (repository.score, repository.level) == (100.0, "gold")
    client.force_login(personas["member"])
    html = client.get(f"/repositories/{repository.pk}/?status=upcoming").content.decode()
    assert "status-upcoming" in html
    assert "Effective from" in html
    body = b"".join(
        client.get(f"/exports/results.csv?repository={repository.pk}").streaming_content
    )  # type: ignore[attr-defined]
    rows = {r["rule"]: r for r in csv.DictReader(io.StringIO(body.decode()))}
    assert (rows["DEP-002"]["status"], rows["DEP-002"]["engine_status"]) == ("upcoming", "fail")
    stats = RuleDailyStats.objects.get(rule__rule_id="DEP-002", date=timezone.now().date())
    assert (stats.failed, stats.other) == (0, 1)


def test_close_day_recomputes_the_day_a_rule_takes_effect() -> None:
    first = date(2026, 3, 2)
    _effective("DEP-002", first + timedelta(days=1))
    repository = RepositoryFactory()
    scan = store(repository, {**BASE, "DEP-002": "fail"})
    scan.finished_at = _at(first)
    scan.save(update_fields=["finished_at"])
    rollups.recompute_range(first, first)
    assert RepositoryDailyScore.objects.get(date=first).level == "gold"
    rollups.close_day(first, now=rollups.end_of_day(first) + timedelta(minutes=5))
    carried = RepositoryDailyScore.objects.get(date=first + timedelta(days=1))
    assert carried.level == "bronze"
    snapshot = list(
        RepositoryDailyScore.objects.values_list("date", "score", "level", "open_rules")
    )
    rollups.recompute_range(first, first + timedelta(days=1))
    assert sorted(snapshot) == sorted(
        RepositoryDailyScore.objects.values_list("date", "score", "level", "open_rules")
    )


# ----- ratchets ---------------------------------------------------------------------------
def _ratcheted(personas: dict[str, Any], count: int) -> Any:
    repository = RepositoryFactory(team=personas["team"])
    store(repository, {**BASE, "STY-004": "fail"}, sha="1" * 40, findings={"STY-004": count})
    repository.refresh_from_db()
    ratchet = ratchets.freeze(
        personas["maintainer"], repository, Rule.objects.get(rule_id="STY-004")
    )
    assert ratchet.baseline == count
    return repository


def test_exactly_at_the_baseline_passes_one_more_fails(personas: dict[str, Any]) -> None:
    repository = _ratcheted(personas, 5)
    repository.refresh_from_db()
    assert repository.level == "gold"  # frozen: the failure no longer blocks Gold
    at = store(repository, {**BASE, "STY-004": "fail"}, sha="2" * 40, findings={"STY-004": 5})
    assert score_scan(at).level == "gold"
    above = store(repository, {**BASE, "STY-004": "fail"}, sha="3" * 40, findings={"STY-004": 6})
    assert score_scan(above).level == "silver"
    assert Ratchet.objects.get().baseline == 5  # never rises


def test_the_baseline_follows_improvements_down(personas: dict[str, Any]) -> None:
    repository = _ratcheted(personas, 5)
    store(repository, {**BASE, "STY-004": "fail"}, sha="2" * 40, findings={"STY-004": 3})
    assert Ratchet.objects.get().baseline == 3
    back_up = store(repository, {**BASE, "STY-004": "fail"}, sha="3" * 40, findings={"STY-004": 4})
    assert score_scan(back_up).level == "silver"
    store(repository, {**BASE, "STY-004": "pass"}, sha="4" * 40)
    assert Ratchet.objects.get().baseline == 0
    # Freezing again never raises it.
    store(repository, {**BASE, "STY-004": "fail"}, sha="5" * 40, findings={"STY-004": 9})
    repository.refresh_from_db()
    rule = Rule.objects.get(rule_id="STY-004")
    assert ratchets.freeze(personas["maintainer"], repository, rule).baseline == 0


def test_a_ratchet_wins_over_a_waiver_and_shows_on_the_page(
    client: Client, personas: dict[str, Any]
) -> None:
    repository = _ratcheted(personas, 2)
    WaiverFactory(repository=repository, rule=Rule.objects.get(rule_id="STY-004"))
    client.force_login(personas["maintainer"])
    html = client.get(f"/repositories/{repository.pk}/").content.decode()
    assert 'id="ratchets"' in html
    assert "STY-004" in html
    row = RepositoryDailyScore.objects.get(repository=repository, date=timezone.now().date())
    assert "STY-004" not in row.open_rules


def test_only_maintainers_ratchet_and_only_count_based_rules(personas: dict[str, Any]) -> None:
    repository = RepositoryFactory(team=personas["team"])
    store(repository, {**BASE, "STY-004": "fail"}, findings={"STY-004": 2})
    repository.refresh_from_db()
    with pytest.raises(PermissionDenied):
        ratchets.freeze(personas["member"], repository, Rule.objects.get(rule_id="STY-004"))
    with pytest.raises(ratchets.RatchetError, match="not count-based"):
        ratchets.freeze(personas["maintainer"], repository, Rule.objects.get(rule_id="DEP-002"))
    with pytest.raises(ratchets.RatchetError, match="no countable result"):
        ratchets.freeze(personas["maintainer"], repository, Rule.objects.get(rule_id="STY-005"))


def test_ratchet_views_freeze_and_release(client: Client, personas: dict[str, Any]) -> None:
    repository = RepositoryFactory(team=personas["team"])
    store(repository, {**BASE, "STY-004": "fail"}, findings={"STY-004": 2})
    rule = Rule.objects.get(rule_id="STY-004")
    client.force_login(personas["member"])
    url = f"/repositories/{repository.pk}/ratchets/"
    assert client.post(url, {"ratchet-rule": rule.pk}).status_code == 403
    client.force_login(personas["maintainer"])
    assert client.post(url, {"ratchet-rule": rule.pk}).status_code == 302
    ratchet = Ratchet.objects.get()
    assert ratchet.baseline == 2
    client.post(f"/repositories/{repository.pk}/ratchets/{ratchet.pk}/release/")
    assert not Ratchet.objects.exists()
    repository.refresh_from_db()
    assert repository.level == "silver"
