"""Team scorecards and the index of every team."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from dashboard.models import Team
from dashboard.selectors import overview
from dashboard.selectors.common import RANGES, TableState, table_state, trend_range
from dashboard.selectors.next_actions import next_actions
from dashboard.selectors.teams import (
    REPOSITORY_SORTS,
    chart_marks,
    repositories_table,
    team_summary,
)
from dashboard.selectors.transfers import archived_repositories, team_transfers
from dashboard.services.access.permissions import can_manage_team, can_receive_repository
from dashboard.views import pagecache
from dashboard.views.panels import render_panel, with_current_ages
from scanners.standard import default_standard

QUERY = ("sort", "q", "page", "level", "active", "range")
INDEX_QUERY = ("sort", "q", "page")
INDEX_SCOPES = (pagecache.ALL, pagecache.ORG)


@dataclass(frozen=True, slots=True)
class Body:
    """The rendered body, and until when it holds (the first listed waiver expiring)."""

    html: str
    valid_until: datetime | None


@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    """Every team with score, level, repositories and 30-day change: the overview's team
    table (`overview.teams_table`, its template partial too), cached like the overview's."""
    state = table_state(request, overview.TEAM_SORTS, "name")
    query = pagecache.query_part(request.GET, INDEX_QUERY)
    day = pagecache.today_part()
    if request.htmx:  # type: ignore[attr-defined]
        table = pagecache.panel(
            "teams-table",
            INDEX_SCOPES,
            lambda: render_panel(request, "overview.html#teams-table", _teams(state)),
            query=query,
            parts=(day,),
        )
        return HttpResponse(pagecache.one(table))
    body = pagecache.panel(
        "teams",
        INDEX_SCOPES,
        lambda: render_panel(request, "teams.html#body", _teams(state)),
        query=query,
        parts=(day,),
    )
    return render(request, "teams.html", {"body": pagecache.one(body)})


def _teams(state: TableState) -> dict[str, Any]:
    page, rows = overview.teams_table(state)
    return {"page": page, "rows": rows, "state": state}


@login_required
@require_GET
def detail(request: HttpRequest, slug: str) -> HttpResponse:
    """A team's repositories with score, level, last scan and trend; its section breakdown.

    Cached per team, and apart for its maintainers (the page offers them actions).
    """
    team = get_object_or_404(Team, slug=slug)
    state = table_state(request, REPOSITORY_SORTS, "-score", filters=("level", "active"))
    scopes = (pagecache.ALL, pagecache.team(team.pk))
    query = pagecache.query_part(request.GET, QUERY)
    day = pagecache.today_part()
    if request.htmx:  # type: ignore[attr-defined]
        table = pagecache.panel(
            "team-repositories",
            scopes,
            lambda: render_panel(request, "team.html#repositories-table", _table(team, state)),
            query=query,
            parts=(day,),
        )
        return HttpResponse(with_current_ages(pagecache.one(table)))
    can_manage = can_manage_team(request.user, team)
    span = trend_range(request.GET)

    def body() -> Body:
        sections = default_standard().sections
        summary = team_summary(team, span)
        start = summary.trend[0].day
        context = {
            **_table(team, state),
            "summary": summary,
            "span": span,
            "ranges": RANGES,
            "section_titles": {code: s.title for code, s in sections.items()},
            "section_order": list(sections),
            "can_manage": can_manage,
            "marks": chart_marks(team.pk, start),
            "actions": (actions := next_actions(team, summary.level_gap)),
        }
        return Body(render_panel(request, "team.html#body", context), actions.valid_until)

    # "body": the value is a Body (a str before next actions), so no older entry is read back.
    parts = (day, f"manage={can_manage}", "body")
    spec = pagecache.panel("team", scopes, body, query=query, parts=parts)
    body_html = with_current_ages(pagecache.one(spec).html)
    return render(request, "team.html", {"team": team, "body": body_html, **_live(request, team)})


def _live(request: HttpRequest, team: Team) -> dict[str, Any]:
    """What the cached body cannot hold (forms with the user's CSRF token): the archived
    repositories, with Restore for those who may, and the team's pending transfers for its
    maintainers (2-3 queries)."""
    may_act = can_receive_repository(request.user, team)  # its maintainers, managers, admins
    return {
        "archived": archived_repositories(team),
        "transfers": team_transfers(team) if may_act else None,
        "may_act": may_act,
    }


def _table(team: Team, state: TableState) -> dict[str, Any]:
    page, rows = repositories_table(team, state)
    return {"team": team, "page": page, "rows": rows, "state": state}
