"""The rule contract: one small class per rule, registered by id."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, ClassVar

from scanners.results import Evidence, RuleResult, Status

if TYPE_CHECKING:
    from scanners.context import RepoContext


class Rule:
    """Base class of every rule: set `id`, write a one-line docstring and `evaluate`.

    Titles, severities and rationale live in the standard file, not here, so that an
    organisation can reword or reweigh a rule without touching code.
    """

    id: ClassVar[str] = ""
    #: Heuristic notes shown by `yardstick explain` (how the rule decides).
    heuristic: ClassVar[str] = ""

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Judge one checkout. Must not raise for bad input in the repository."""
        raise NotImplementedError  # pragma: no cover - abstract

    # Small constructors so rules read as sentences.
    @staticmethod
    def passed(message: str = "ok", evidence: Iterable[Evidence] = ()) -> RuleResult:
        """A passing result."""
        return RuleResult(Status.PASS, message, list(evidence))

    @staticmethod
    def failed(message: str, evidence: Iterable[Evidence] = ()) -> RuleResult:
        """A failing result; give evidence a person can act on."""
        return RuleResult(Status.FAIL, message, list(evidence))

    @staticmethod
    def warned(message: str, evidence: Iterable[Evidence] = ()) -> RuleResult:
        """A partial result (half credit); used where a rule is a heuristic."""
        return RuleResult(Status.WARN, message, list(evidence))

    @staticmethod
    def not_applicable(message: str) -> RuleResult:
        """The rule has nothing to judge in this checkout."""
        return RuleResult(Status.NOT_APPLICABLE, message, [])


class AttestRule(Rule):
    """A rule no file can show: it stays `manual` until a maintainer attests it."""

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Always manual in the engine; the dashboard applies attestations."""
        return RuleResult(
            Status.MANUAL, "Cannot be seen in a repository: a maintainer attests it.", []
        )
