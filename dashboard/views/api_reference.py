"""The API reference (`/api/`): every operation of the JSON API, rendered on the server from
its OpenAPI document (dashboard/api/reference.py), for every signed-in user.

Not page-cached: its content is built once per process and holds no data, so rendering it
costs no query beyond the session's.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from dashboard.api.reference import reference


@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    """The reference; in development it also links the interactive Swagger page."""
    context = {
        "reference": reference(),
        "openapi_url": reverse("api:openapi-json"),
        "swagger_url": reverse("api:openapi-view") if settings.DEBUG else "",
    }
    return render(request, "api_reference.html", context)
