"""Scores as people see them: the engine's verdicts with waivers and attestations applied."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q
from django.utils import timezone

from dashboard.models import Attestation, CheckResult, Repository, Rule, Scan, Waiver
from scanners.report import score_outcomes
from scanners.results import Status

WAIVABLE = frozenset({Status.FAIL, Status.WARN, Status.ERROR})


@dataclass(frozen=True, slots=True)
class EffectiveScore:
    """Score, level and per-section scores after waivers and attestations."""

    score: float | None
    level: str
    sections: dict[str, float | None]


def active_waiver_rule_ids(repository_id: int, at: datetime | None = None) -> set[int]:
    """Rule pks with a waiver in force for the repository at `at` (now by default)."""
    at = at or timezone.now()
    return set(
        Waiver.objects.filter(repository_id=repository_id, expires_at__gt=at, created_at__lte=at)
        .filter(Q(revoked_at__isnull=True) | Q(revoked_at__gt=at))
        .values_list("rule_id", flat=True)
    )


def active_attestation_rule_ids(repository_id: int, at: datetime | None = None) -> set[int]:
    """Rule pks with an attestation in force for the repository at `at`."""
    at = at or timezone.now()
    return set(
        Attestation.objects.filter(
            repository_id=repository_id, expires_at__gt=at, created_at__lte=at
        )
        .filter(Q(revoked_at__isnull=True) | Q(revoked_at__gt=at))
        .values_list("rule_id", flat=True)
    )


def effective_status(status: str, rule_pk: int, waived: set[int], attested: set[int]) -> Status:
    """A result's status once governance is applied."""
    engine = Status(status)
    if engine is Status.MANUAL and rule_pk in attested:
        return Status.PASS
    if engine in WAIVABLE and rule_pk in waived:
        return Status.WAIVED
    return engine


def score_results(
    rows: Iterable[tuple[Rule, str]], waived: set[int], attested: set[int]
) -> EffectiveScore:
    """Score (rule, engine status) pairs with the catalog's formula, per section too."""
    by_section: dict[str, list[tuple[Rule, Status]]] = {}
    pairs: list[tuple[Rule, Status]] = []
    for rule, status in rows:
        pair = (rule, effective_status(status, rule.pk, waived, attested))
        pairs.append(pair)
        by_section.setdefault(rule.section, []).append(pair)
    overall = score_outcomes(pairs)  # type: ignore[arg-type]  # Rule quacks like RuleSpec
    sections = {
        code: score_outcomes(items).value  # type: ignore[arg-type]
        for code, items in by_section.items()
    }
    return EffectiveScore(overall.value, overall.level.value, sections)


def score_scan(scan: Scan, at: datetime | None = None) -> EffectiveScore:
    """Effective score of a finished scan, with the governance in force at `at`."""
    results = CheckResult.objects.filter(scan=scan).select_related("rule")
    return score_results(
        ((r.rule, r.status) for r in results),
        active_waiver_rule_ids(scan.repository_id, at),
        active_attestation_rule_ids(scan.repository_id, at),
    )


def refresh_repository_score(repository: Repository) -> Repository:
    """Recompute the denormalised score and level from the latest scan and governance now."""
    scan = repository.latest_scan
    if scan is None:
        repository.score, repository.level = None, ""
    else:
        effective = score_scan(scan)
        repository.score, repository.level = effective.score, effective.level
    repository.save(update_fields=["score", "level"])
    return repository
