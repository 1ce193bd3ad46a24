"""The audit log for organisation administrators: a filtered, paginated table and its CSV."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from dashboard.http.params import whole_number
from dashboard.models import AuditAction, Team
from dashboard.selectors.audit import AuditFilters, audit_page, audit_rows
from dashboard.services.access.permissions import is_admin
from dashboard.services.reporting.csv_stream import csv_response
from dashboard.services.reporting.export_rows import file_name


def _require_admin(request: HttpRequest) -> None:
    if not is_admin(request.user):
        raise PermissionDenied("only administrators may read the audit log")


def _page_number(request: HttpRequest) -> int:
    return max(1, whole_number(request.GET.get("page", "1")) or 1)


@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    """Sensitive actions, newest first, filtered by action, team and actor or target."""
    _require_admin(request)
    filters = AuditFilters.from_query(request.GET)
    page = audit_page(filters, _page_number(request))
    context = {"page": page, "filters": filters}
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "audit.html#audit-table", context)
    context.update(
        actions=AuditAction.choices,
        teams=Team.objects.order_by("name").values_list("slug", "name"),
    )
    return render(request, "audit.html", context)


@login_required
@require_GET
def export(request: HttpRequest) -> HttpResponseBase:
    """The filtered audit log as CSV."""
    _require_admin(request)
    header, rows = audit_rows(AuditFilters.from_query(request.GET))
    return csv_response(file_name("audit", timezone.now().date()), header, rows)
