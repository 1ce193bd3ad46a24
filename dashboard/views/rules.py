"""Rule pages: what a rule checks, who passes it, adoption over time."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from dashboard.http.params import whole_number
from dashboard.models import Rule
from dashboard.selectors.changes import REPOSITORY_IDS
from dashboard.selectors.common import TableState, table_state
from dashboard.selectors.rules import RESULT_SORTS, adoption, results_table, status_counts
from dashboard.services.standard.sync import current_standard
from dashboard.views import pagecache
from dashboard.views.panels import render_panel
from scanners.rules import registry
from scanners.standard import default_standard

QUERY = ("sort", "q", "page", "status", REPOSITORY_IDS)
MAX_IDS = 1000  # repositories a bookmarkable filter may name


@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    """Every rule of the standard, by section."""
    rules = Rule.objects.filter(standard=current_standard(), retired=False).order_by("position")
    return render(request, "rules.html", {"rules": rules, "standard": default_standard()})


@login_required
@require_GET
def detail(request: HttpRequest, rule_id: str) -> HttpResponse:
    """One rule: rationale, standard text, repositories passing/failing, adoption trend.

    `?repos=1,2,3` narrows the results to those repositories (bookmarkable; the overview's
    "Fix first" links); ids that are not whole numbers are ignored.

    Cached for everyone (nothing on it depends on the viewer); an unknown rule is a 404 and
    never cached.
    """
    rule_id = rule_id.upper()
    state = table_state(request, RESULT_SORTS, "status", filters=("status",))
    ids = repository_ids(request.GET.get(REPOSITORY_IDS))
    query = pagecache.query_part(request.GET, QUERY)
    scopes, parts = (pagecache.ALL, pagecache.ORG), (rule_id, pagecache.today_part())
    if request.htmx:  # type: ignore[attr-defined]
        table = pagecache.panel(
            "rule-results",
            scopes,
            lambda: render_panel(request, "rule.html#results-table", _table(rule_id, state, ids)),
            query=query,
            parts=parts,
        )
        return HttpResponse(pagecache.one(table))

    def body() -> str:
        context = _table(rule_id, state, ids)
        rule = context["rule"]
        context.update(
            counts=status_counts(rule),
            adoption=adoption(rule),
            standard_text=default_standard().section_text(rule.heading),
            heuristic=getattr(registry().get(rule.rule_id), "heuristic", ""),
        )
        return render_panel(request, "rule.html#body", context)

    spec = pagecache.panel("rule", scopes, body, query=query, parts=parts)
    return render(request, "rule.html", {"rule_id": rule_id, "body": pagecache.one(spec)})


def repository_ids(text: str | None) -> list[int] | None:
    """The `repos` filter: comma-separated repository ids, in order, without repeats (at most
    `MAX_IDS`); None without the parameter."""
    if text is None:
        return None
    ids = (whole_number(part.strip()) for part in text.split(",")[:MAX_IDS])
    return list(dict.fromkeys(pk for pk in ids if pk is not None))


def _table(rule_id: str, state: TableState, ids: list[int] | None) -> dict[str, Any]:
    rule = get_object_or_404(Rule, standard=current_standard(), rule_id=rule_id)
    page = results_table(rule, state, ids)
    return {"rule": rule, "page": page, "state": state, "repository_ids": ids}
