"""Waivers and attestations change scores and levels, and stop when they expire."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from dashboard.models import CheckResult, Rule, Scan
from dashboard.selectors.governance import score_scan
from dashboard.services.scoring.scores import refresh_repository_score
from tests.factories import AttestationFactory, RepositoryFactory, ScanFactory, WaiverFactory

pytestmark = pytest.mark.django_db


def _scan_with(statuses: dict[str, str]) -> Scan:
    repository = RepositoryFactory()
    scan = ScanFactory(repository=repository)
    rules = {r.rule_id: r for r in Rule.objects.filter(rule_id__in=statuses)}
    CheckResult.objects.bulk_create(
        CheckResult(scan=scan, rule=rules[rid], status=status) for rid, status in statuses.items()
    )
    repository.latest_scan = scan
    repository.save()
    return scan


# DEP-001 critical (8), DEP-002 major (4), DEP-003 minor (2), VER-005 attest (minor, 2)
BASE = {"DEP-001": "pass", "DEP-002": "fail", "DEP-003": "pass", "VER-005": "manual"}


def test_score_follows_the_catalog_formula() -> None:
    effective = score_scan(_scan_with(BASE))
    assert effective.score == pytest.approx(100 * 10 / 14, abs=0.01)
    assert effective.level == "bronze"
    assert effective.sections["DEP"] == pytest.approx(100 * 10 / 14, abs=0.01)
    assert effective.sections["VER"] is None  # only a manual rule: nothing scorable


def test_active_waiver_lifts_the_failure_out_of_the_score() -> None:
    scan = _scan_with(BASE)
    WaiverFactory(repository=scan.repository, rule=Rule.objects.get(rule_id="DEP-002"))
    effective = score_scan(scan)
    assert effective.score == 100.0
    assert effective.level == "gold"


@pytest.mark.parametrize("field", ["expires_at", "revoked_at"])
def test_expired_or_revoked_waiver_stops_applying_by_itself(field: str) -> None:
    scan = _scan_with(BASE)
    waiver = WaiverFactory(repository=scan.repository, rule=Rule.objects.get(rule_id="DEP-002"))
    setattr(waiver, field, timezone.now() - timedelta(seconds=1))
    waiver.save()
    assert score_scan(scan).level == "bronze"


def test_waiver_of_another_repository_does_not_apply() -> None:
    scan = _scan_with(BASE)
    WaiverFactory(rule=Rule.objects.get(rule_id="DEP-002"))
    assert score_scan(scan).level == "bronze"


def test_waiver_never_turns_a_pass_into_waived() -> None:
    scan = _scan_with({"DEP-001": "pass", "DEP-002": "pass"})
    WaiverFactory(repository=scan.repository, rule=Rule.objects.get(rule_id="DEP-001"))
    assert score_scan(scan).score == 100.0


def test_attestation_turns_manual_into_pass_until_it_expires() -> None:
    scan = _scan_with({"DEP-001": "pass", "VER-005": "manual"})
    rule = Rule.objects.get(rule_id="VER-005")
    before = score_scan(scan)
    attestation = AttestationFactory(repository=scan.repository, rule=rule)
    during = score_scan(scan)
    attestation.expires_at = timezone.now() - timedelta(days=1)
    attestation.save()
    after = score_scan(scan)
    # manual leaves the sum: the score is the same, but an attested rule now counts.
    assert before.score == during.score == after.score == 100.0
    assert during.sections["VER"] == 100.0
    assert before.sections["VER"] is None
    assert after.sections["VER"] is None


def test_refresh_repository_score_writes_the_denormalised_fields() -> None:
    scan = _scan_with(BASE)
    repository = scan.repository
    WaiverFactory(repository=repository, rule=Rule.objects.get(rule_id="DEP-002"))
    refresh_repository_score(repository)
    repository.refresh_from_db()
    assert (repository.score, repository.level) == (100.0, "gold")
