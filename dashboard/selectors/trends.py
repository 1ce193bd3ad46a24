"""Team trends that compare like with like: joining and leaving repositories apart.

A team's daily score is the mean of the repositories it had that day, so onboarding a
repository scoring below the mean looks like a regression. The change over a window is
computed here over the repositories present (active, scored) at both ends of the window;
repositories that joined or left in between are listed with their score instead. A
deactivated repository keeps its daily rows (they are carried forward like any other), so the
day it left is read from the audit log (`repository.changed` with `active`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from statistics import fmean

from django.db.models import Min, Q

from dashboard.models import (
    AuditAction,
    AuditEvent,
    Initiative,
    Repository,
    RepositoryDailyScore,
)


@dataclass(frozen=True, slots=True)
class Moved:
    """A repository that joined (its score at the end) or left (its score at the start)."""

    name: str
    score: float


@dataclass(frozen=True, slots=True)
class TeamTrend:
    """A team's change over a window on the same repositories, and who joined or left."""

    delta: float | None
    joined: tuple[Moved, ...] = ()
    left: tuple[Moved, ...] = ()

    @property
    def note(self) -> str:
        """E.g. "+1 repository joined (api scored 62.0)"; empty when membership held."""
        parts = []
        for sign, moved, verb in (("+", self.joined, "joined"), ("-", self.left, "left")):
            if moved:
                noun = "repository" if len(moved) == 1 else "repositories"
                scores = ", ".join(f"{m.name} scored {m.score:.1f}" for m in moved[:3])
                more = f" and {len(moved) - 3} more" if len(moved) > 3 else ""
                parts.append(f"{sign}{len(moved)} {noun} {verb} ({scores}{more})")
        return "; ".join(parts)


def _ends(values: Mapping[date, float | None]) -> tuple[date, date] | None:
    known = sorted(day for day, value in values.items() if value is not None)
    return (known[0], known[-1]) if len(known) >= 2 else None


def team_trends(history: Mapping[int, Mapping[date, float | None]]) -> dict[int, TeamTrend]:
    """Like-for-like change per team from its daily scores in a window (1 query).

    `history`: team pk -> the team's daily scores in the window. The ends are the first and
    last days with a score; a team with fewer than two such days has no change.
    """
    ends = {team_id: pair for team_id, values in history.items() if (pair := _ends(values))}
    trends: dict[int, TeamTrend] = {team_id: TeamTrend(None) for team_id in history}
    if not ends:
        return trends
    where = Q()
    for team_id, (first, last) in ends.items():
        where |= Q(repository__team_id=team_id, date__in=(first, last))
    start: dict[int, dict[int, Moved]] = {team_id: {} for team_id in ends}
    end: dict[int, dict[int, Moved]] = {team_id: {} for team_id in ends}
    rows = RepositoryDailyScore.objects.filter(where, score__isnull=False)
    found = list(
        rows.values_list(
            "repository__team_id",
            "repository_id",
            "repository__name",
            "repository__active",
            "date",
            "score",
        )
    )
    since = min(first for first, _ in ends.values())
    left = _deactivated_since({row[1] for row in found if not row[3]}, since)
    for team_id, repository_id, name, active, day, score in found:
        first, last = ends[team_id]
        if score is None:  # filtered out above; typed as nullable
            continue
        if active:
            if day == first:
                start[team_id][repository_id] = Moved(name, score)
            if day == last:
                end[team_id][repository_id] = Moved(name, score)
        elif day == first and left.get(repository_id, first) > first:
            start[team_id][repository_id] = Moved(name, score)  # deactivated in the window
    for team_id in ends:
        before, after = start[team_id], end[team_id]
        common = before.keys() & after.keys()
        delta = (
            round(fmean(after[k].score for k in common) - fmean(before[k].score for k in common), 1)
            if common
            else None
        )
        trends[team_id] = TeamTrend(
            delta,
            tuple(sorted((after[k] for k in after.keys() - before.keys()), key=_by_name)),
            tuple(sorted((before[k] for k in before.keys() - after.keys()), key=_by_name)),
        )
    return trends


def _deactivated_since(repository_ids: set[int], since: date) -> dict[int, date]:
    """The day each repository was last deactivated, where that was after `since` (1 query,
    none without inactive repositories)."""
    if not repository_ids:
        return {}
    events = AuditEvent.objects.filter(
        action=AuditAction.REPOSITORY_CHANGED,
        target_type="repository",
        target_id__in=repository_ids,
        created_at__date__gt=since,
    ).order_by("created_at")
    days: dict[int, date] = {}
    for target_id, details, created_at in events.values_list("target_id", "details", "created_at"):
        change = details.get("active") if isinstance(details, dict) else None
        if target_id is not None and isinstance(change, list) and change[-1:] == [False]:
            days[target_id] = created_at.date()
    return days


def _by_name(moved: Moved) -> str:
    return moved.name


def joined_marks(team_id: int, since: date) -> list[tuple[date, str]]:
    """Chart marks for the team's active repositories whose first score came after `since`:
    (day, "+name joined") (1 query)."""
    firsts = (
        Repository.objects.filter(team_id=team_id, active=True)
        .annotate(first=Min("daily_scores__date"))
        .filter(first__gt=since)
        .order_by("first", "name")
        .values_list("first", "name")
    )
    return [(day, f"+{name} joined") for day, name in firsts]


def initiative_marks(
    since: date, *, team_id: int | None = None, repository: Repository | None = None
) -> list[tuple[date, str]]:
    """Chart marks for the target dates, from `since` on, of the initiatives that concern a
    team (it or one of its repositories is in scope), a repository (it or its team is), or,
    with neither, the organisation: (day, "name target") (1 query)."""
    initiatives = Initiative.objects.filter(target_date__gte=since)
    if repository is not None:
        initiatives = initiatives.filter(Q(repositories=repository) | Q(teams=repository.team_id))
    elif team_id is not None:
        initiatives = initiatives.filter(Q(teams=team_id) | Q(repositories__team=team_id))
    found = initiatives.order_by("target_date", "name").values_list("target_date", "name")
    return [(day, f"{name} target") for day, name in dict.fromkeys(found)]
