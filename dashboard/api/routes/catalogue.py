"""Read-only: teams and the rules of the standard."""

from __future__ import annotations

from typing import Any

from django.db.models import Avg, Count, Min, Q, QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema

from dashboard.api.pagination import paginate
from dashboard.api.schemas import ErrorOut, PageQuery, RuleOut, RulePage, TeamOut, TeamPage
from dashboard.models import Rule, Team
from dashboard.services.export_rows import LEVELS, level_rank
from dashboard.services.standards import current_standard

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
    active = Q(repositories__active=True)
    return Team.objects.annotate(
        repository_count=Count("repositories", filter=active),
        mean_score=Avg("repositories__score", filter=active),
        level_rank=Min(
            level_rank("repositories__level"),
            filter=active & Q(repositories__latest_scan__isnull=False),
        ),
    ).order_by("name")


def team_out(team: Any) -> dict[str, Any]:
    """A team row (annotated by `_teams`) as TeamOut."""
    return {
        "id": team.pk,
        "name": team.name,
        "slug": team.slug,
        "repositories": team.repository_count,
        "score": None if team.mean_score is None else round(team.mean_score, 2),
        "level": LEVELS[team.level_rank] if team.level_rank is not None else "",
    }


@router.get("/teams", response=TeamPage)
def list_teams(
    request: HttpRequest, page: Query[PageQuery], filters: Query[TeamFilters]
) -> dict[str, Any]:
    """Teams with their score (mean of active repositories) and level (the lowest reached)."""
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
