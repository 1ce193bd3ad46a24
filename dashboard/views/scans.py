"""Scan pages: progress that updates in place, then the results."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from dashboard.models import CheckResult, Scan
from dashboard.services.scans.pipeline import queue_position


@login_required
@require_GET
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    """While queued or running the progress partial polls itself; then the results show."""
    scan = get_object_or_404(Scan.objects.select_related("repository__team"), pk=pk)
    context: dict[str, object] = {"scan": scan, "position": queue_position(scan)}
    if scan.status == Scan.Status.SUCCEEDED:
        context["results"] = (
            CheckResult.objects.filter(scan=scan)
            .exclude(status="pass")
            .select_related("rule")
            .order_by("rule__position")
        )
    if request.htmx:  # type: ignore[attr-defined]
        response = render(request, "scan.html#scan-progress", context)
        if scan.is_finished:
            # Reload the whole page once, so the results appear and polling stops.
            response["HX-Refresh"] = "true"
        return response
    return render(request, "scan.html", context)
