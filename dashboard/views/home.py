"""The landing page (the organisation overview replaces it with the dashboard pages)."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from scanners import ENGINE_VERSION


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    """Say what Yardstick is and where to go next."""
    return render(request, "home.html", {"engine_version": ENGINE_VERSION})
