"""The organisation's waiver and attestation registers: filtered, paginated tables and their CSV.

Every signed-in user may read them, like the repository pages that show the same rows. Cached
like the other pages (governance writes retire them) and never past the next instant a row
changes status on its own (`next_change`: a grant taking effect, an expiry, a revocation date,
a waiver entering the "expiring within 30 days" window).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils import timezone
from django.utils.safestring import SafeString
from django.views.decorators.http import require_GET

from dashboard.http.params import whole_number
from dashboard.models import Rule, Team
from dashboard.selectors.registers import (
    EXPIRING_DAYS,
    EXPIRY_CHOICES,
    Kind,
    RegisterFilters,
    next_change,
    register_page,
    register_rows,
)
from dashboard.selectors.waiver_requests import awaiting_decision
from dashboard.services.access.permissions import waiver_approval_teams
from dashboard.services.reporting.csv_stream import csv_response
from dashboard.services.reporting.export_rows import file_name
from dashboard.views import pagecache
from dashboard.views.panels import render_panel

TITLES = {"waivers": "Waivers", "attestations": "Attestations"}
QUERY = ("team", "rule", "expiry", "page")
SCOPES = (pagecache.ALL, pagecache.ORG)


@dataclass(frozen=True, slots=True)
class Rendered:
    """A rendered register and the instant a row's status changes without a write."""

    html: SafeString
    valid_until: datetime | None


def _register(request: HttpRequest, kind: Kind) -> HttpResponse:
    filters = RegisterFilters.from_query(request.GET)
    number = max(1, whole_number(request.GET.get("page", "1")) or 1)
    htmx = bool(request.htmx)  # type: ignore[attr-defined]

    def render_register() -> Rendered:
        context: dict[str, Any] = {
            "kind": kind,
            "title": TITLES[kind],
            "page": register_page(kind, filters, number),
            "filters": filters,
            "expiring_days": EXPIRING_DAYS,
        }
        if not htmx:
            related = "waivers" if kind == "waivers" else "attestations"
            context.update(
                teams=Team.objects.order_by("name").values_list("slug", "name"),
                # Only rules with an entry: a picker of the whole standard finds nothing.
                rules=Rule.objects.filter(**{f"{related}__isnull": False})
                .order_by("rule_id")
                .values_list("rule_id", "title")
                .distinct(),
                expiry_choices=EXPIRY_CHOICES.items(),
            )
        template = "registers.html#register-table" if htmx else "registers.html#body"
        html = render_panel(request, template, context)
        return Rendered(html, next_change(kind, filters))

    spec = pagecache.panel(
        f"register-{kind}{'-table' if htmx else ''}",
        SCOPES,
        render_register,
        query=pagecache.query_part(request.GET, QUERY),
        parts=(pagecache.today_part(),),
    )
    html = pagecache.one(spec).html
    if htmx:
        return HttpResponse(html)
    context: dict[str, Any] = {"body": html, "title": TITLES[kind]}
    if kind == "waivers":  # per user, outside the shared body
        user = cast(User, request.user)
        context["pending"] = awaiting_decision(waiver_approval_teams(user), user.pk).count()
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
    return csv_response(file_name(kind, timezone.now().date()), header, rows)


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
