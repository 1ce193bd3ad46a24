"""What governance is in force for a repository at an instant, and scans scored under it."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from dashboard.domain.governance import EffectiveScore, Governance, score_governed
from dashboard.domain.scores import in_force
from dashboard.models import Attestation, CheckResult, Ratchet, Rule, Scan, Team, Waiver


def active_waiver_rule_ids(repository_id: int, at: datetime | None = None) -> set[int]:
    """Rule pks with a waiver in force for the repository at `at` (now by default)."""
    return set(
        Waiver.objects.in_force(at)
        .filter(repository_id=repository_id)
        .values_list("rule_id", flat=True)
    )


#: "Expiring soon": the window the registers' filter, the team page's next actions and the
#: weekly digest all mean.
EXPIRING_SOON_DAYS = 30


def waivers_expiring(
    within: timedelta, team: Team | None = None, at: datetime | None = None
) -> QuerySet[Waiver]:
    """Waivers in force at `at` (now by default) that expire within `within` of it, soonest
    first, on active repositories (of `team`); with their repository, team and rule (1 query)."""
    return _expiring(Waiver.objects.all(), within, team, at)


def attestations_expiring(
    within: timedelta, team: Team | None = None, at: datetime | None = None
) -> QuerySet[Attestation]:
    """Attestations in force at `at` that expire within `within` of it, as `waivers_expiring`."""
    return _expiring(Attestation.objects.all(), within, team, at)


def _expiring[M: (Waiver, Attestation)](
    items: QuerySet[M], within: timedelta, team: Team | None, at: datetime | None
) -> QuerySet[M]:
    at = at or timezone.now()
    items = items.filter(in_force(at), expires_at__lte=at + within, repository__active=True)
    if team is not None:
        items = items.filter(repository__team=team)
    return items.select_related("repository__team", "rule").order_by(
        "expires_at", "repository__name", "pk"
    )


def active_attestation_rule_ids(repository_id: int, at: datetime | None = None) -> set[int]:
    """Rule pks with an attestation in force for the repository at `at`."""
    return set(
        Attestation.objects.in_force(at)
        .filter(repository_id=repository_id)
        .values_list("rule_id", flat=True)
    )


def active_ratchets(repository_id: int, at: datetime | None = None) -> dict[int, int]:
    """Baseline per rule pk of the repository's ratchets set before `at`."""
    return dict(
        Ratchet.objects.in_force(at)
        .filter(repository_id=repository_id)
        .values_list("rule_id", "baseline")
    )


def upcoming_rule_ids(at: datetime | None = None) -> frozenset[int]:
    """Rule pks still in their grace period on the (UTC) day of `at`."""
    day = (at or timezone.now()).date()
    return frozenset(Rule.objects.filter(effective_from__gt=day).values_list("pk", flat=True))


def governance_for(
    repository_id: int, at: datetime | None = None, upcoming: frozenset[int] | None = None
) -> Governance:
    """The governance in force for a repository at `at` (now by default): 3-4 queries."""
    at = at or timezone.now()
    return Governance(
        active_waiver_rule_ids(repository_id, at),
        active_attestation_rule_ids(repository_id, at),
        active_ratchets(repository_id, at),
        upcoming_rule_ids(at) if upcoming is None else upcoming,
    )


def score_scan(scan: Scan, at: datetime | None = None) -> EffectiveScore:
    """Effective score of a finished scan, with the governance in force at `at`."""
    results = CheckResult.objects.filter(scan=scan).select_related("rule")
    return score_governed(
        ((r.rule, r.status, r.findings) for r in results),
        governance_for(scan.repository_id, at),
    )
