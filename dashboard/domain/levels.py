"""Why a level is what it is: what keeps a repository or a team from the next one.

Levels come from `scanners.report` (`LEVEL_BLOCKED_BY`: a failing or warning critical rule
keeps Bronze out, major Silver, minor Gold; nothing scorable gives No level). A team's level
is the lowest level of its scanned active repositories, so the repositories at that level
are what keeps the team from the next. These functions turn that into structured data
(`LevelGap`) and one short sentence for pages (`LevelGap.text`); they run no query.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from scanners.report import LEVEL_BLOCKED_BY, blocks_level, next_level
from scanners.results import Level, Status

SHOWN = 3  # names listed in a sentence; the rest are counted
NOUNS = {Status.FAIL: ("failure", "failures"), Status.WARN: ("warning", "warnings")}


@dataclass(frozen=True, slots=True)
class Blocker:
    """One repository's result keeping a level out: rule, severity, status, first path."""

    rule_id: str
    severity: str
    status: str
    path: str = ""

    def __str__(self) -> str:
        return f"{self.rule_id} in {self.path}" if self.path else self.rule_id


@dataclass(frozen=True, slots=True)
class Member:
    """A team's repository keeping the team's next level out: name, level, score."""

    name: str
    level: str
    score: float | None

    def __str__(self) -> str:
        return f"{self.name} ({label(self.level)})"


@dataclass(frozen=True, slots=True)
class LevelGap:
    """A level, the next one, and what keeps it out.

    `reason`: "top" (Gold), "blocked" (`blockers` or `members` name what), "severity" (only
    the level is known: the severity keeping the next out), "nothing_scorable" (no scored
    result: every rule not applicable, waived, manual, errored or upcoming), "not_scanned"
    (no successful scan: no level yet).
    """

    level: str
    next_level: str | None
    reason: str
    blockers: tuple[Blocker, ...] = ()
    members: tuple[Member, ...] = ()

    @property
    def text(self) -> str:
        """One sentence for a page, e.g. "1 minor warning blocks Gold: STY-004 in app/x.py"."""
        nxt = label(self.next_level or "")
        if self.reason == "top":
            return "Gold: every critical, major and minor rule passes."
        if self.reason == "not_scanned":
            return "No level yet: no successful scan."
        if self.reason == "nothing_scorable":
            return "No level: nothing scorable (every rule not applicable, waived or manual)."
        if self.reason == "severity" or not (self.members or self.blockers):
            severity = LEVEL_BLOCKED_BY[Level(self.next_level or Level.GOLD)].value
            return f"A {severity} rule failing or warning blocks {nxt}."
        if self.members:
            count = len(self.members)
            noun = "repository" if count == 1 else "repositories"
            return f"{count} {noun} below {nxt} block{'s' if count == 1 else ''} {nxt}: " + (
                _listed(self.members)
            )
        severities = {b.severity for b in self.blockers}
        statuses = {b.status for b in self.blockers}
        severity = severities.pop() if len(severities) == 1 else ""
        count = len(self.blockers)
        noun = _noun(statuses, count)
        what = f"{count} {severity} {noun}".replace("  ", " ")
        verb = "blocks" if count == 1 else "block"
        return f"{what} {verb} {nxt}: {_listed(self.blockers)}"


def label(level: str) -> str:
    """A level as pages name it: "Gold", or "No level"."""
    return level.capitalize() if level and level != Level.NONE else "No level"


def _noun(statuses: set[str], count: int) -> str:
    if len(statuses) == 1:
        singular, plural = NOUNS.get(Status(statuses.pop()), ("result", "results"))
    else:
        singular, plural = "failing or warning result", "failing or warning results"
    return singular if count == 1 else plural


def _listed(items: Iterable[object]) -> str:
    shown = list(items)
    text = ", ".join(str(item) for item in shown[:SHOWN])
    return text + (f" and {len(shown) - SHOWN} more" if len(shown) > SHOWN else "")


def explain_results(level: str, score: float | None, results: Iterable[Blocker]) -> LevelGap:
    """Why a repository is at `level`: its scored results with their shown status.

    `results`: the latest scan's results under the governance in force (shown statuses;
    `upcoming` ones are ignored like the score ignores them). Only those keeping the next
    level out are kept, in the order given.
    """
    reached = Level(level or Level.NONE)
    after = next_level(reached)
    if after is None:
        return LevelGap(reached.value, None, "top")
    if score is None:
        return LevelGap(reached.value, after.value, "nothing_scorable")
    wanted = LEVEL_BLOCKED_BY[after]
    blockers = tuple(r for r in results if r.severity == wanted and _blocks(r.status))
    return LevelGap(reached.value, after.value, "blocked", blockers=blockers)


def _blocks(status: str) -> bool:
    try:
        return blocks_level(Status(status))
    except ValueError:  # "upcoming": shown, never scored
        return False


def explain_team(level: str | None, members: Iterable[Member]) -> LevelGap:
    """Why a team is at `level` (the lowest of its scanned active repositories).

    `members`: the team's scanned active repositories; those at the team's level keep the
    next level out. `level` None: no scanned repository yet.
    """
    if level is None:
        return LevelGap(Level.NONE.value, Level.BRONZE.value, "not_scanned")
    reached = Level(level or Level.NONE)
    after = next_level(reached)
    if after is None:
        return LevelGap(reached.value, None, "top")
    below = tuple(m for m in members if Level(m.level or Level.NONE) == reached)
    return LevelGap(reached.value, after.value, "blocked", members=below)


def explain_level(level: str, score: float | None) -> LevelGap:
    """What a level alone says (tables, no results at hand): the severity keeping the next out."""
    reached = Level(level or Level.NONE)
    after = next_level(reached)
    if after is None:
        return LevelGap(reached.value, None, "top")
    if score is None:
        return LevelGap(reached.value, after.value, "nothing_scorable")
    return LevelGap(reached.value, after.value, "severity")
