"""Rule pages: what a rule checks, who passes it, adoption over time."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from dashboard.models import Rule
from dashboard.selectors.common import table_state
from dashboard.selectors.rules import RESULT_SORTS, adoption, results_table, status_counts
from dashboard.services.standards import current_standard
from scanners.rules import registry
from scanners.standard import default_standard


@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    """Every rule of the standard, by section."""
    rules = Rule.objects.filter(standard=current_standard(), retired=False).order_by("position")
    return render(request, "rules.html", {"rules": rules, "standard": default_standard()})


@login_required
@require_GET
def detail(request: HttpRequest, rule_id: str) -> HttpResponse:
    """One rule: rationale, standard text, repositories passing/failing, adoption trend."""
    rule = get_object_or_404(Rule, standard=current_standard(), rule_id=rule_id.upper())
    state = table_state(request, RESULT_SORTS, "status", filters=("status",))
    page = results_table(rule, state)
    context = {"rule": rule, "page": page, "state": state}
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "rule.html#results-table", context)
    rule_cls = registry().get(rule.rule_id)
    context.update(
        counts=status_counts(rule),
        adoption=adoption(rule),
        standard_text=default_standard().section_text(rule.heading),
        heuristic=getattr(rule_cls, "heuristic", ""),
    )
    return render(request, "rule.html", context)
