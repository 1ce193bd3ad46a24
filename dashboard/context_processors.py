"""Template context shared by every page."""

from __future__ import annotations

from django.http import HttpRequest

from dashboard.demo.marker import demo_present
from scanners import ENGINE_VERSION


def demo_mode(request: HttpRequest) -> dict[str, bool]:
    """`demo_mode`: the database holds demo data (`manage.py demo`), so pages say so."""
    return {"demo_mode": demo_present()}


def engine_version(request: HttpRequest) -> dict[str, str]:
    """`engine_version`: the scanning engine's version, shown in every page's footer."""
    return {"engine_version": ENGINE_VERSION}
