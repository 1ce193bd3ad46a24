"""Value types every rule and report shares: statuses, severities, evidence, results."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Status(StrEnum):
    """Outcome of one rule on one checkout."""

    PASS = "pass"  # noqa: S105 - a status name, not a password  # nosec B105
    FAIL = "fail"
    WARN = "warn"
    NOT_APPLICABLE = "not_applicable"
    ERROR = "error"
    WAIVED = "waived"
    MANUAL = "manual"

    @property
    def credit(self) -> float | None:
        """Score credit of the status, or None when the rule leaves the score's sum."""
        return {Status.PASS: 1.0, Status.WARN: 0.5, Status.FAIL: 0.0}.get(self)


class Severity(StrEnum):
    """How much a rule weighs in the score."""

    CRITICAL = "critical"
    MAJOR = "major"
    MINOR = "minor"
    INFO = "info"

    @property
    def weight(self) -> int:
        """Catalog weights: critical 8, major 4, minor 2, info 0."""
        return {"critical": 8, "major": 4, "minor": 2, "info": 0}[self.value]


class Level(StrEnum):
    """Adoption levels, each including the one below."""

    NONE = "none"
    BRONZE = "bronze"
    SILVER = "silver"
    GOLD = "gold"


@dataclass(frozen=True, slots=True)
class Evidence:
    """Where a result comes from: a path relative to the repository root, an optional line."""

    path: str | None = None
    line: int | None = None
    message: str = ""

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return {"path": self.path, "line": self.line, "message": self.message}


@dataclass(slots=True)
class RuleResult:
    """What `Rule.evaluate` returns: a status, one actionable line, and evidence."""

    status: Status
    message: str
    evidence: list[Evidence] = field(default_factory=list)
