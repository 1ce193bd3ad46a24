"""Organisation overview: which teams are behind on which parts of the standard."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from dashboard.charts import heat_legend
from dashboard.http.params import whole_number
from dashboard.selectors import overview
from dashboard.selectors.changes import PERIODS, fix_first
from dashboard.selectors.common import TableState, table_state
from dashboard.services.access.permissions import maintained_teams
from dashboard.views import pagecache
from dashboard.views.panels import render_panel

QUERY = ("sort", "q", "page", "changes", "panel")
SCOPES = (pagecache.ALL, pagecache.ORG)


# Panels the overview loads after the page (htmx `?panel=`): they read every scored
# repository's latest results, seconds at organisation scale, so the page never waits on them.
LAZY = {
    "changes": "partials/_what_changed.html",
    "fix-first": "partials/_fix_first.html",
}


@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    """What changed over a period (`?changes=7|30|90`, 7 by default), teams ranked by score,
    the rules to fix first, the most failed rules and the section heat map.

    The body is cached for everyone who may register repositories and, apart, for everyone
    who may not (the empty state says how to register); the htmx table for all. "What
    changed" and "Fix first" arrive as panels of their own (`?panel=changes|fix-first`),
    cached the same way.
    """
    state = table_state(request, overview.TEAM_SORTS, "-score")
    query = pagecache.query_part(request.GET, QUERY)
    day = pagecache.today_part()
    days = _period(request.GET.get("changes", ""))
    if request.htmx:  # type: ignore[attr-defined]
        name = request.GET.get("panel", "")
        if name in LAZY:
            return HttpResponse(pagecache.one(_lazy(request, name, days, day)))
        table = pagecache.one(
            pagecache.panel(
                "overview-teams",
                SCOPES,
                lambda: render_panel(request, "overview.html#teams-table", _table(state)),
                query=query,
                parts=(day,),
            )
        )
        return HttpResponse(table)
    can_register = maintained_teams(request.user).exists()

    def body() -> str:
        context = {
            **_table(state),
            "can_register": can_register,
            "summary": overview.summary(),
            "heat": overview.heat_map(),
            "heat_legend": heat_legend(),
            "failed_rules": overview.most_failed_rules(),
            "changes_days": days,
        }
        return render_panel(request, "overview.html#body", context)

    spec = pagecache.panel(
        "overview", SCOPES, body, query=query, parts=(day, f"register={can_register}")
    )
    return render(request, "overview.html", {"body": pagecache.one(spec)})


def _lazy(request: HttpRequest, name: str, days: int, day: str) -> pagecache.Panel:
    """The "What changed" (for `days`) or "Fix first" panel, cached like the body."""

    def render_lazy() -> str:
        if name == "changes":
            context: dict[str, Any] = {
                "changes": overview.recent_changes(days),
                "periods": PERIODS,
            }
        else:
            context = {"fix_first": fix_first()}
        return render_panel(request, LAZY[name], context)

    period = f"changes={days}" if name == "changes" else ""
    return pagecache.panel(f"overview-{name}", SCOPES, render_lazy, query="", parts=(day, period))


def _table(state: TableState) -> dict[str, Any]:
    page, rows = overview.teams_table(state)
    return {"page": page, "rows": rows, "state": state}


def _period(text: str) -> int:
    """The what-changed period in days: one of `PERIODS`, else the first."""
    days = whole_number(text)
    return days if days in PERIODS else PERIODS[0]
