"""Template context shared by every page."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse

from dashboard.demo.marker import demo_present
from scanners import ENGINE_VERSION


def demo_mode(request: HttpRequest) -> dict[str, bool]:
    """`demo_mode`: the database holds demo data (`manage.py demo`), so pages say so."""
    return {"demo_mode": demo_present()}


def engine_version(request: HttpRequest) -> dict[str, str]:
    """`engine_version`: the scanning engine's version, shown in every page's footer."""
    return {"engine_version": ENGINE_VERSION}


def api_docs(request: HttpRequest) -> dict[str, str]:
    """`api_docs_url`: the JSON API's interactive docs, "" where they are not served (they
    exist only while DEBUG is on: dashboard/api/app.py)."""
    return {"api_docs_url": reverse("api:openapi-view") if settings.DEBUG else ""}
