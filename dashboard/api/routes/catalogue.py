"""Read-only: teams and the rules of the standard."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema

from dashboard.api.pagination import paginate
from dashboard.api.schemas import ErrorOut, PageQuery, RuleOut, RulePage, TeamOut, TeamPage
from dashboard.domain.scores import team_score_of, with_team_scores
from dashboard.models import Rule, Team
from dashboard.services.standard.sync import current_standard

router = Router(tags=["catalogue"])


class TeamFilters(Schema):
    """Search teams by name."""

    search: str = Field("", max_length=120)


class RuleFilters(Schema):
    """Filter rules by section, severity, evaluation or words of the title."""

    section: str = Field("", max_length=8)
    severity: str = Field("", max_length=8)
    evaluation: str = Field("", max_length=8)
    search: str = Field("", max_length=120)
    retired: bool | None = None


def _teams() -> QuerySet[Team]:
    return with_team_scores(Team.objects.all()).order_by("name")


def team_out(team: Any) -> dict[str, Any]:
    """A team row (annotated by `_teams`) as TeamOut (dashboard/domain/scores.py)."""
    figures = team_score_of(team)
    return {
        "id": team.pk,
        "name": team.name,
        "slug": team.slug,
        "repositories": figures.repositories,
        "score": figures.score,
        "level": figures.level,
    }


@router.get("/teams", response=TeamPage)
def list_teams(
    request: HttpRequest, page: Query[PageQuery], filters: Query[TeamFilters]
) -> dict[str, Any]:
    """Teams with their score (mean of scored repositories) and level (the lowest reached)."""
    queryset = _teams()
    if filters.search:
        queryset = queryset.filter(name__icontains=filters.search)
    return paginate(queryset, page, lambda teams: [team_out(t) for t in teams])


@router.get("/teams/{slug}", response={200: TeamOut, 404: ErrorOut})
def get_team(request: HttpRequest, slug: str) -> dict[str, Any]:
    """One team's scorecard line."""
    return team_out(get_object_or_404(_teams(), slug=slug))


@router.get("/rules", response=RulePage)
def list_rules(
    request: HttpRequest, page: Query[PageQuery], filters: Query[RuleFilters]
) -> dict[str, Any]:
    """The rules of the standard, in its order."""
    queryset = Rule.objects.filter(standard=current_standard()).order_by("position")
    for field in ("section", "severity", "evaluation"):
        value = getattr(filters, field)
        if value:
            queryset = queryset.filter(**{field: value.upper() if field == "section" else value})
    if filters.search:
        queryset = queryset.filter(title__icontains=filters.search)
    if filters.retired is not None:
        queryset = queryset.filter(retired=filters.retired)
    return paginate(queryset, page, list)


@router.get("/rules/{rule_id}", response={200: RuleOut, 404: ErrorOut})
def get_rule(request: HttpRequest, rule_id: str) -> Rule:
    """One rule, with its rationale and remediation."""
    return get_object_or_404(Rule, standard=current_standard(), rule_id=rule_id.upper())
