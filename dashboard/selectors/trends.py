"""Team trends that compare like with like: joining and leaving repositories apart.

A team's daily score is the mean of the repositories it had that day, so onboarding a
repository scoring below the mean looks like a regression. The change over a window is
computed here over the repositories present (active, scored) at both ends of the window;
repositories that joined or left in between are listed with their score instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from statistics import fmean

from django.db.models import Min, Q

from dashboard.models import Repository, RepositoryDailyScore


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
    rows = RepositoryDailyScore.objects.filter(where, repository__active=True, score__isnull=False)
    for team_id, repository_id, name, day, score in rows.values_list(
        "repository__team_id", "repository_id", "repository__name", "date", "score"
    ):
        first, last = ends[team_id]
        if score is None:  # filtered out above; typed as nullable
            continue
        if day == first:
            start[team_id][repository_id] = Moved(name, score)
        if day == last:
            end[team_id][repository_id] = Moved(name, score)
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
