"""The organisation's waiver and attestation registers: filtered, paginated tables and their CSV.

Every signed-in user may read them, like the repository pages that show the same rows. Not
page-cached: a row's status changes when it expires, without any write.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from dashboard.http.params import whole_number
from dashboard.models import Rule, Team
from dashboard.selectors.registers import (
    EXPIRING_DAYS,
    EXPIRY_CHOICES,
    Kind,
    RegisterFilters,
    register_page,
    register_rows,
)
from dashboard.services.reporting.csv_stream import csv_response

TITLES = {"waivers": "Waivers", "attestations": "Attestations"}


def _register(request: HttpRequest, kind: Kind) -> HttpResponse:
    filters = RegisterFilters.from_query(request.GET)
    number = max(1, whole_number(request.GET.get("page", "1")) or 1)
    context = {
        "kind": kind,
        "title": TITLES[kind],
        "page": register_page(kind, filters, number),
        "filters": filters,
        "expiring_days": EXPIRING_DAYS,
    }
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "registers.html#register-table", context)
    related = "waivers" if kind == "waivers" else "attestations"
    context.update(
        teams=Team.objects.order_by("name").values_list("slug", "name"),
        # Only rules that have an entry: a rule picker of the whole standard finds nothing.
        rules=Rule.objects.filter(**{f"{related}__isnull": False})
        .order_by("rule_id")
        .values_list("rule_id", "title")
        .distinct(),
        expiry_choices=EXPIRY_CHOICES.items(),
    )
    return render(request, "registers.html", context)


@login_required
@require_GET
def waivers(request: HttpRequest) -> HttpResponse:
    """Every waiver of the organisation, filtered by team, rule and expiry."""
    return _register(request, "waivers")


@login_required
@require_GET
def attestations(request: HttpRequest) -> HttpResponse:
    """Every attestation of the organisation, filtered by team, rule and expiry."""
    return _register(request, "attestations")


def _export(request: HttpRequest, kind: Kind) -> HttpResponseBase:
    header, rows = register_rows(kind, RegisterFilters.from_query(request.GET))
    return csv_response(f"yardstick-{kind}-{timezone.now():%Y%m%d}.csv", header, rows)


@login_required
@require_GET
def export_waivers(request: HttpRequest) -> HttpResponseBase:
    """The waiver register as CSV, with the register's filters."""
    return _export(request, "waivers")


@login_required
@require_GET
def export_attestations(request: HttpRequest) -> HttpResponseBase:
    """The attestation register as CSV, with the register's filters."""
    return _export(request, "attestations")
