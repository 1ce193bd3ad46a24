"""Governance applied to the engine's verdicts: the one definition of an effective result,
score and level (pure: no queries; `dashboard/selectors/governance.py` reads what is in force).

Governance, in order: a rule still in its grace period (`Rule.effective_from` after the day)
is shown as `upcoming` and left out of the score; a ratchet turns a failing or warning
count-based result into a pass while its finding count is at or below the baseline; a waiver
turns fail/warn/error into `waived`; an attestation turns `manual` into a pass.

"In force", levels and team and organisation scores are defined in `dashboard/domain/scores.py`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from scanners.report import blocks_level, score_outcomes, scores_if_passed
from scanners.results import Severity, Status


@dataclass(frozen=True, slots=True)
class Weighting:
    """What scoring reads of a rule (it quacks like the engine's RuleSpec): the effective
    severity and weight, the organisation's override winning over the bundled value."""

    severity: Severity
    weight: int


class ScoredRule(Protocol):
    """What scoring reads of a rule row (`dashboard.models.Rule`)."""

    pk: int
    rule_id: str
    section: str
    enabled: bool

    @property
    def weighting(self) -> Weighting:
        """The effective severity and weight."""
        ...


WAIVABLE = frozenset({Status.FAIL, Status.WARN, Status.ERROR})
RATCHETABLE = frozenset({Status.FAIL, Status.WARN})
# Shown for a rule in its grace period; never stored, never scored.
UPCOMING = "upcoming"
# Effective statuses that leave nothing to do (initiatives, burn-ups).
MET = frozenset({Status.PASS, Status.NOT_APPLICABLE, Status.WAIVED})
# Statuses that ask for a fix: listed first on result pages, their sections open.
TO_FIX = frozenset({Status.FAIL, Status.WARN, Status.ERROR})
# Out of the default list of results (nothing to fix, nothing scored): a filter shows them.
HIDDEN_BY_DEFAULT = frozenset({Status.NOT_APPLICABLE, Status.MANUAL})
# Most severe first: the order `Severity` declares.
SEVERITY_RANK = {severity.value: rank for rank, severity in enumerate(Severity)}


@dataclass(frozen=True, slots=True)
class EffectiveScore:
    """Score, level and per-section scores after waivers and attestations."""

    score: float | None
    level: str
    sections: dict[str, float | None]
    # Rule ids not met (upcoming ones by their engine verdict), in the order scored.
    open_rules: list[str] = field(default_factory=list)


def attention_order(status: str, weighting: Weighting, position: int) -> tuple[int, int, int, int]:
    """Sort key of a result on result pages: what to fix first (fail, warn, error), by the
    rule's effective severity then its points (most first); the rest in the standard's order."""
    if status in TO_FIX:
        return (0, SEVERITY_RANK[weighting.severity.value], -weighting.weight, position)
    return (1, 0, 0, position)


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


def _scored(
    rows: Iterable[tuple[ScoredRule, str, int]], governance: Governance
) -> tuple[list[tuple[ScoredRule, Weighting, Status]], list[str]]:
    """The scored (rule, weighting, effective status) triples, and the rule ids not met."""
    scored: list[tuple[ScoredRule, Weighting, Status]] = []
    open_rules: list[str] = []
    for rule, status, findings in rows:
        if not rule.enabled:
            continue
        effective = governance.effective(status, rule.pk, findings)
        if effective not in MET:
            open_rules.append(rule.rule_id)
        if rule.pk in governance.upcoming:
            continue
        scored.append((rule, rule.weighting, effective))
    return scored, open_rules


def score_governed(
    rows: Iterable[tuple[ScoredRule, str, int]], governance: Governance
) -> EffectiveScore:
    """Score (rule, engine status, finding count) triples under `governance`, per section too.

    Upcoming rules are left out of every score; `open_rules` still lists them when their
    engine verdict would not meet them, so teams see what is coming. Rules the organisation
    disabled leave both; the others weigh with their effective severity and weight.
    """
    scored, open_rules = _scored(rows, governance)
    by_section: dict[str, list[tuple[Weighting, Status]]] = {}
    pairs: list[tuple[Weighting, Status]] = []
    for rule, weighting, effective in scored:
        pair = (weighting, effective)
        pairs.append(pair)
        by_section.setdefault(rule.section, []).append(pair)
    overall = score_outcomes(pairs)  # type: ignore[arg-type]  # Weighting quacks like RuleSpec
    sections = {
        code: score_outcomes(items).value  # type: ignore[arg-type]
        for code, items in by_section.items()
    }
    return EffectiveScore(overall.value, overall.level.value, sections, open_rules)


def points_if_passed(
    rows: Iterable[tuple[ScoredRule, str, int]], governance: Governance
) -> dict[int, float]:
    """The points the overall score (`score_governed`) would gain, per rule pk, if that rule
    passed: for each scored rule failing or warning under `governance`, the score rescored
    with it passing, minus the score now. Rules not scored (upcoming, disabled, waived, not
    applicable, manual, errored) gain nothing and are left out."""
    scored, _ = _scored(rows, governance)
    pairs = [(weighting, effective) for _, weighting, effective in scored]
    now = score_outcomes(pairs).value  # type: ignore[arg-type]  # Weighting quacks like RuleSpec
    gains: dict[int, float] = {}
    if now is None:
        return gains
    after = scores_if_passed(pairs)  # type: ignore[arg-type]
    for (rule, _, effective), value in zip(scored, after, strict=True):
        if blocks_level(effective) and value is not None and value > now:
            gains[rule.pk] = value - now
    return gains


# Statuses a ratchet counts findings of.
COUNTED = frozenset({"pass", "fail", "warn"})


def count_of(status: str, findings: int) -> int | None:
    """A result's count for ratchets: 0 when it passes, None when it cannot be counted."""
    if status not in COUNTED:
        return None
    return 0 if status == "pass" else findings
