"""Organisation overview: which teams are behind on which parts of the standard."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from dashboard.selectors import overview
from dashboard.selectors.common import table_state
from dashboard.services.permissions import maintained_teams


@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    """Teams ranked by score, the section heat map and the most failed rules."""
    state = table_state(request, overview.TEAM_SORTS, "-score")
    page, rows = overview.teams_table(state)
    if request.htmx:  # type: ignore[attr-defined]
        return render(
            request, "overview.html#teams-table", {"page": page, "rows": rows, "state": state}
        )
    return render(
        request,
        "overview.html",
        {
            "page": page,
            "rows": rows,
            "state": state,
            "summary": overview.summary(),
            "heat": overview.heat_map(),
            "failed_rules": overview.most_failed_rules(),
            "can_register": maintained_teams(request.user).exists(),
        },
    )
