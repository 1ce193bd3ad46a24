"""Scan pages: progress that updates in place, then the results."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from dashboard.models import Scan
from dashboard.selectors.repositories import EVERY
from dashboard.selectors.scans import needs_attention
from dashboard.services.scans.pipeline import queue_position


@login_required
@require_GET
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    """While queued or running the progress partial polls itself; then the results show."""
    scan = get_object_or_404(Scan.objects.select_related("repository__team"), pk=pk)
    # Only "every result" is offered; any other value lists the default set.
    status_filter = EVERY if request.GET.get("status") == EVERY else ""
    context: dict[str, object] = {
        "scan": scan,
        "position": queue_position(scan),
        "status_filter": status_filter,
    }
    if scan.status == Scan.Status.SUCCEEDED:
        context["attention"] = needs_attention(scan, status_filter)
    if request.htmx:  # type: ignore[attr-defined]
        response = render(request, "scan.html#scan-progress", context)
        if scan.is_finished:
            # Reload the whole page once, so the results appear and polling stops.
            response["HX-Refresh"] = "true"
        return response
    return render(request, "scan.html", context)
