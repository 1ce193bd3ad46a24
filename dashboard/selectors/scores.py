"""Team and organisation scores as every page, export, API operation and badge reads them.

The definitions (means, levels, rounding, who counts) are in `dashboard/domain/scores.py`.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Avg, Count, Min, Q

from dashboard.domain.scores import (
    LEVELS,
    NOT_SCANNED,
    OrganisationScore,
    TeamScore,
    level_of_rank,
    level_rank,
    round_score,
    scored,
    team_score_of,
    with_team_scores,
)
from dashboard.models import Repository, Team


def team_scores(team_ids: Iterable[int] | None = None) -> dict[int, TeamScore]:
    """Figures of the given teams (all by default), by team pk (1 query)."""
    teams = Team.objects.all()
    if team_ids is not None:
        teams = teams.filter(pk__in=list(team_ids))
    return {team.pk: team_score_of(team) for team in with_team_scores(teams)}


def organisation_score() -> OrganisationScore:
    """The organisation's figures over its scored repositories (1 query)."""
    mine = scored()
    figures = Repository.objects.filter(active=True).aggregate(
        repositories=Count("pk"),
        scanned=Count("pk", filter=mine),
        score=Avg("score", filter=mine),
        rank=Min(level_rank(), filter=mine),
        **{name: Count("pk", filter=mine & Q(level=name)) for name in LEVELS[1:]},
    )
    levels = {name: figures[name] for name in reversed(LEVELS[1:])}
    levels["none"] = figures["scanned"] - sum(levels.values())
    levels[NOT_SCANNED] = figures["repositories"] - figures["scanned"]
    return OrganisationScore(
        figures["repositories"],
        figures["scanned"],
        round_score(figures["score"]),
        level_of_rank(figures["rank"]),
        levels,
    )
