"""Scores as people see them: the engine's verdicts with governance applied.

Governance, in order: a rule still in its grace period (`Rule.effective_from` after the day)
is shown as `upcoming` and left out of the score; a ratchet turns a failing or warning
count-based result into a pass while its finding count is at or below the baseline; a waiver
turns fail/warn/error into `waived`; an attestation turns `manual` into a pass.

This is the one definition of a repository's effective result, score and level; "in force",
levels and team and organisation scores are defined in `dashboard/domain/scores.py`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from dashboard.models import Attestation, CheckResult, Ratchet, Repository, Rule, Scan, Waiver
from dashboard.models.standards import Weighting
from scanners.report import score_outcomes
from scanners.results import Status

WAIVABLE = frozenset({Status.FAIL, Status.WARN, Status.ERROR})
RATCHETABLE = frozenset({Status.FAIL, Status.WARN})
# Shown for a rule in its grace period; never stored, never scored.
UPCOMING = "upcoming"
# Effective statuses that leave nothing to do (initiatives, burn-ups).
MET = frozenset({Status.PASS, Status.NOT_APPLICABLE, Status.WAIVED})


@dataclass(frozen=True, slots=True)
class EffectiveScore:
    """Score, level and per-section scores after waivers and attestations."""

    score: float | None
    level: str
    sections: dict[str, float | None]
    # Rule ids not met (upcoming ones by their engine verdict), in the order scored.
    open_rules: list[str] = field(default_factory=list)


def active_waiver_rule_ids(repository_id: int, at: datetime | None = None) -> set[int]:
    """Rule pks with a waiver in force for the repository at `at` (now by default)."""
    return set(
        Waiver.objects.in_force(at)
        .filter(repository_id=repository_id)
        .values_list("rule_id", flat=True)
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


def effective_status(
    status: str,
    rule_pk: int,
    waived: set[int],
    attested: set[int],
    *,
    findings: int = 0,
    baselines: Mapping[int, int] | None = None,
) -> Status:
    """A result's status once ratchets, waivers and attestations apply (grace periods aside)."""
    engine = Status(status)
    if engine is Status.MANUAL and rule_pk in attested:
        return Status.PASS
    if baselines and engine in RATCHETABLE and findings <= baselines.get(rule_pk, -1):
        return Status.PASS
    if engine in WAIVABLE and rule_pk in waived:
        return Status.WAIVED
    return engine


@dataclass(frozen=True, slots=True)
class Governance:
    """Everything that turns one repository's engine verdicts into shown statuses, at an instant."""

    waived: set[int]
    attested: set[int]
    baselines: Mapping[int, int] = field(default_factory=dict)
    upcoming: frozenset[int] = frozenset()

    def effective(self, status: str, rule_pk: int, findings: int = 0) -> Status:
        """The status with ratchets, waivers and attestations, ignoring grace periods."""
        return effective_status(
            status,
            rule_pk,
            self.waived,
            self.attested,
            findings=findings,
            baselines=self.baselines,
        )

    def shown(self, status: str, rule_pk: int, findings: int = 0) -> str:
        """The status people see: `upcoming` during a grace period, else the effective one."""
        if rule_pk in self.upcoming:
            return UPCOMING
        return self.effective(status, rule_pk, findings).value


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


def score_governed(rows: Iterable[tuple[Rule, str, int]], governance: Governance) -> EffectiveScore:
    """Score (rule, engine status, finding count) triples under `governance`, per section too.

    Upcoming rules are left out of every score; `open_rules` still lists them when their
    engine verdict would not meet them, so teams see what is coming. Rules the organisation
    disabled leave both; the others weigh with their effective severity and weight.
    """
    by_section: dict[str, list[tuple[Weighting, Status]]] = {}
    pairs: list[tuple[Weighting, Status]] = []
    open_rules: list[str] = []
    for rule, status, findings in rows:
        if not rule.enabled:
            continue
        effective = governance.effective(status, rule.pk, findings)
        if effective not in MET:
            open_rules.append(rule.rule_id)
        if rule.pk in governance.upcoming:
            continue
        pair = (rule.weighting, effective)
        pairs.append(pair)
        by_section.setdefault(rule.section, []).append(pair)
    overall = score_outcomes(pairs)  # type: ignore[arg-type]  # Weighting quacks like RuleSpec
    sections = {
        code: score_outcomes(items).value  # type: ignore[arg-type]
        for code, items in by_section.items()
    }
    return EffectiveScore(overall.value, overall.level.value, sections, open_rules)


def score_results(
    rows: Iterable[tuple[Rule, str]], waived: set[int], attested: set[int]
) -> EffectiveScore:
    """Score (rule, engine status) pairs with waivers and attestations only."""
    return score_governed(
        ((rule, status, 0) for rule, status in rows), Governance(waived, attested)
    )


def score_scan(scan: Scan, at: datetime | None = None) -> EffectiveScore:
    """Effective score of a finished scan, with the governance in force at `at`."""
    results = CheckResult.objects.filter(scan=scan).select_related("rule")
    return score_governed(
        ((r.rule, r.status, r.findings) for r in results),
        governance_for(scan.repository_id, at),
    )


def refresh_repository_score(repository: Repository) -> Repository:
    """Recompute the denormalised score and level from the latest scan and governance now.

    Everything is read from the database, never from the object passed in: a caller holding
    it from before a newer scan was stored would otherwise score the older scan (the demo's
    Silver 99.5 against a Gold 100 latest scan). The repository row is locked while scoring,
    so a scan stored meanwhile cannot be overwritten, and only score and level are written
    (an `update()`). The object passed in gets the fresh values and is returned.
    """
    with transaction.atomic():
        row = (
            Repository.objects.select_for_update()
            .filter(pk=repository.pk)
            .values_list("latest_scan_id", "level")
            .first()
        )
        if row is None:  # deleted meanwhile: nothing to store
            return repository
        latest_scan_id, before = row
        scan = Scan.objects.filter(pk=latest_scan_id).first() if latest_scan_id else None
        score, level = None, ""
        if scan is not None:
            effective = score_scan(scan)
            score, level = effective.score, effective.level
        Repository.objects.filter(pk=repository.pk).update(score=score, level=level)
    repository.latest_scan_id = scan.pk if scan is not None else None
    repository.score, repository.level = score, level
    if scan is not None:
        from dashboard.services.notify.events import after_level_refreshed

        after_level_refreshed(repository.pk, before, level)
    return repository
