"""Template context shared by every page."""

from __future__ import annotations

from django.http import HttpRequest

from dashboard.demo.marker import demo_present


def demo_mode(request: HttpRequest) -> dict[str, bool]:
    """`demo_mode`: the database holds demo data (`manage.py demo`), so pages say so."""
    return {"demo_mode": demo_present()}
