"""The outcome of a scan: results per rule, score, level and per-section scores."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from scanners.discovery import Discovery
from scanners.results import Evidence, Level, RuleResult, Severity, Status
from scanners.standard import RuleSpec, Standard

REPORT_SCHEMA_VERSION = "1.1"


@dataclass(slots=True)
class RuleOutcome:
    """One rule's result with the standard's metadata, as reports show it."""

    spec: RuleSpec
    result: RuleResult
    duration_ms: float = 0.0

    @property
    def status(self) -> Status:
        """Shortcut to the result's status."""
        return self.result.status


@dataclass(frozen=True, slots=True)
class Score:
    """A score out of 100 (None when nothing was scorable) and the level reached."""

    value: float | None
    level: Level


def score_outcomes(outcomes: Iterable[tuple[RuleSpec, Status]]) -> Score:
    """Catalog scoring: 100 x sum(weight x credit) / sum(weight) over scorable rules.

    Waived, not-applicable, manual and error results leave the sum. Levels: Bronze when every
    critical rule passes, Silver adds every major, Gold every minor. A non-passing result
    that leaves the sum (error, manual) does not block a level; `fail` and `warn` do.
    """
    scored = [(spec, status) for spec, status in outcomes if status.credit is not None]
    value = score_value(*_credit_sums(scored), bool(scored))
    blocking = {spec.severity for spec, status in scored if blocks_level(status)}
    return Score(value, Level.NONE if value is None else level_reached(blocking))


def _credit_sums(outcomes: Iterable[tuple[RuleSpec, Status]]) -> tuple[float, float]:
    """The credit-weighted points earned and the total weight of the scorable outcomes."""
    total = earned = 0.0
    for spec, status in outcomes:
        credit = status.credit
        if credit is not None:
            total += spec.weight
            earned += spec.weight * credit
    return earned, total


def score_value(earned: float, total: float, seen: bool) -> float | None:
    """The score of `earned` credit-weighted points out of `total` weight (`seen`: anything
    was scorable): the one formula `score_outcomes` and `scores_if_passed` share."""
    return round(100.0 * earned / total, 2) if total else (100.0 if seen else None)


def scores_if_passed(outcomes: Sequence[tuple[RuleSpec, Status]]) -> list[float | None]:
    """For each outcome, the score `score_outcomes` would give were it passing instead (None
    for outcomes that leave the sum). The score is a weighted mean, so a result passing adds
    its weight times the credit it lacked to the points earned and keeps the total weight:
    one pass over the outcomes instead of rescoring them once per rule."""
    earned, total = _credit_sums(outcomes)
    return [
        None
        if status.credit is None
        else score_value(earned + spec.weight * (1.0 - status.credit), total, True)
        for spec, status in outcomes
    ]


# Each level above None and the severity whose non-passing scored result (fail or warn) keeps
# a repository below it; the one definition scores and level explanations both read.
LEVEL_BLOCKED_BY: dict[Level, Severity] = {
    Level.BRONZE: Severity.CRITICAL,
    Level.SILVER: Severity.MAJOR,
    Level.GOLD: Severity.MINOR,
}
LEVEL_ORDER = (Level.NONE, Level.BRONZE, Level.SILVER, Level.GOLD)


def level_reached(blocking: Iterable[Severity]) -> Level:
    """The highest level none of the `blocking` severities (of fail/warn results) keeps out."""
    present = set(blocking)
    reached = Level.NONE
    for level in LEVEL_ORDER[1:]:
        if LEVEL_BLOCKED_BY[level] in present:
            break
        reached = level
    return reached


def blocking_severities(level: Level) -> frozenset[Severity]:
    """Severities whose fail or warn keeps a repository below `level` (that level's and under)."""
    upto = LEVEL_ORDER[1 : LEVEL_ORDER.index(level) + 1]
    return frozenset(LEVEL_BLOCKED_BY[each] for each in upto)


def next_level(level: Level) -> Level | None:
    """The level after `level` (None at the top)."""
    index = LEVEL_ORDER.index(level)
    return LEVEL_ORDER[index + 1] if index + 1 < len(LEVEL_ORDER) else None


def blocks_level(status: Status) -> bool:
    """Whether a result with this (effective) status keeps its severity's level out."""
    return status.credit is not None and status is not Status.PASS


@dataclass(slots=True)
class Report:
    """Everything one scan found, independent of how it is rendered."""

    standard: Standard
    outcomes: list[RuleOutcome]
    repository: str
    commit: str | None
    project_dir: str
    engine_version: str
    tool_versions: dict[str, str] = field(default_factory=dict)
    notes: list[Evidence] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    #: The checkout's Python projects and why `project_dir` was judged; None: not recorded.
    discovery: Discovery | None = None
    #: (path, line) -> stripped text of each finding's line, read by the scan for the
    #: fingerprints (`scanners.fingerprints`); empty for reports built by hand.
    line_texts: dict[tuple[str, int], str] = field(default_factory=dict)

    @property
    def score(self) -> Score:
        """Overall score and level."""
        return score_outcomes((o.spec, o.status) for o in self.outcomes)

    def section_scores(self) -> dict[str, Score]:
        """Score per section code, in the standard's order."""
        out: dict[str, Score] = {}
        for code in self.standard.sections:
            out[code] = score_outcomes(
                (o.spec, o.status) for o in self.outcomes if o.spec.section == code
            )
        return out

    def counts(self) -> dict[str, int]:
        """How many results per status."""
        out = {status.value: 0 for status in Status}
        for outcome in self.outcomes:
            out[outcome.status.value] += 1
        return out

    def outcome(self, rule_id: str) -> RuleOutcome | None:
        """The outcome of one rule, if it ran."""
        return next((o for o in self.outcomes if o.spec.id == rule_id), None)
