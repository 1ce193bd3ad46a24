"""Team scorecards."""

from __future__ import annotations

from datetime import date

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from dashboard.models import Team
from dashboard.selectors.common import day_range, table_state
from dashboard.selectors.repositories import standard_marks
from dashboard.selectors.teams import REPOSITORY_SORTS, repositories_table, team_summary
from dashboard.services.permissions import can_manage_team
from scanners.standard import default_standard


def summary_start() -> date:
    """First day of the team's 90-day trend."""
    return day_range(90)[0]


@login_required
@require_GET
def detail(request: HttpRequest, slug: str) -> HttpResponse:
    """A team's repositories with score, level, last scan and trend; its section breakdown."""
    team = get_object_or_404(Team, slug=slug)
    state = table_state(request, REPOSITORY_SORTS, "-score", filters=("level", "active"))
    page, rows = repositories_table(team, state)
    context = {"team": team, "page": page, "rows": rows, "state": state}
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "team.html#repositories-table", context)
    sections = default_standard().sections
    context.update(
        summary=team_summary(team),
        section_titles={code: s.title for code, s in sections.items()},
        section_order=list(sections),
        can_manage=can_manage_team(request.user, team),
        marks=standard_marks(summary_start()),
    )
    return render(request, "team.html", context)
