"""CSV exports: each view names a file and hands rows to the one streaming helper; the exports
page lists them all."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from dashboard.http.params import whole_number
from dashboard.models import Rule, Team
from dashboard.selectors.registers import EXPIRY_CHOICES
from dashboard.selectors.results import SHOWN_STATUSES
from dashboard.services.access.permissions import is_admin
from dashboard.services.reporting import export_rows
from dashboard.services.reporting.csv_stream import csv_response
from dashboard.services.standard.sync import current_standard
from dashboard.views import pagecache
from dashboard.views.panels import render_panel


@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponseBase:
    """Every CSV Yardstick offers, what it holds and its parameters.

    The team and rule pickers submit here (`?csv=team&team=<slug>`, `?csv=rule&rule=<id>`)
    and are sent on to that team's or rule's CSV, so the forms need no script.
    """
    wanted = request.GET.get("csv", "")
    if wanted == "team":
        found = get_object_or_404(Team, slug=request.GET.get("team", "")[:120])
        return redirect("export-team", slug=found.slug)
    if wanted == "rule":
        rule_id = request.GET.get("rule", "").strip().upper()[:40]
        found_rule = get_object_or_404(Rule, standard=current_standard(), rule_id=rule_id)
        return redirect("export-rule", rule_id=found_rule.rule_id)
    return _page(request)


def _page(request: HttpRequest) -> HttpResponse:
    show_audit = is_admin(request.user)

    def body() -> str:
        context = {
            "teams": Team.objects.order_by("name").values_list("slug", "name"),
            "rules": Rule.objects.filter(standard=current_standard(), retired=False)
            .order_by("position")
            .values_list("rule_id", "title"),
            "expiry_choices": EXPIRY_CHOICES.items(),
            "statuses": sorted(SHOWN_STATUSES),
            "max_days": export_rows.MAX_DAYS,
            "show_audit": show_audit,
        }
        return render_panel(request, "exports.html#body", context)

    # Teams and rules change the pickers: their writes retire every panel (ALL).
    spec = pagecache.panel(
        "exports", (pagecache.ALL,), body, query="", parts=(f"audit={show_audit}",)
    )
    return render(request, "exports.html", {"body": pagecache.one(spec)})


def _name(what: str) -> str:
    return export_rows.file_name(what, timezone.now().date())


@login_required
@require_GET
def organisation(request: HttpRequest) -> HttpResponseBase:
    """Every team's scorecard."""
    header, rows = export_rows.organisation()
    return csv_response(_name("organisation"), header, rows)


@login_required
@require_GET
def team(request: HttpRequest, slug: str) -> HttpResponseBase:
    """One team's repositories."""
    found = get_object_or_404(Team, slug=slug)
    header, rows = export_rows.team(found)
    return csv_response(_name(f"team-{found.slug}"), header, rows)


@login_required
@require_GET
def results(request: HttpRequest) -> HttpResponseBase:
    """Latest results, with the results page's filters (team, repository, rule, status, section)."""
    try:
        filters = export_rows.ResultFilters.from_query(request.GET)
    except export_rows.ExportError as exc:
        return HttpResponseBadRequest(str(exc))
    header, rows = export_rows.results(filters)
    return csv_response(_name("results"), header, rows)


@login_required
@require_GET
def history(request: HttpRequest) -> HttpResponseBase:
    """Daily scores: `scope=team|repository`, `team=<slug>`, `days=N`."""
    scope = request.GET.get("scope", "team")
    days = whole_number(request.GET.get("days", "90"))
    try:
        if days is None:
            raise export_rows.ExportError("days must be a whole number")
        header, rows = export_rows.history(scope, request.GET.get("team", ""), days)
    except export_rows.ExportError as exc:
        return HttpResponseBadRequest(str(exc))
    return csv_response(_name(f"history-{scope}"), header, rows)


@login_required
@require_GET
def rule(request: HttpRequest, rule_id: str) -> HttpResponseBase:
    """Which repositories pass one rule."""
    found = get_object_or_404(Rule, standard=current_standard(), rule_id=rule_id.upper())
    header, rows = export_rows.rule_adoption(found)
    return csv_response(_name(f"rule-{found.rule_id}"), header, rows)
