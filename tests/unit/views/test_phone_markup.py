"""The markup the phone layout's CSS relies on: the menu toggle, the chart's minor ticks."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from django.test import Client

from dashboard.charts import Point, line_chart

pytestmark = pytest.mark.django_db


def test_the_menu_toggle_comes_before_the_main_navigation(
    client: Client, personas: dict[str, object]
) -> None:
    client.force_login(personas["member"])  # type: ignore[arg-type]
    html = client.get("/").content.decode()
    toggle = html.index('<input type="checkbox" id="menu-toggle" class="menu-toggle"')
    label = html.index('<label for="menu-toggle" class="menu-button">Menu</label>')
    nav = html.index('<nav aria-label="Main" id="main-nav">')
    # `.menu-toggle:checked + .menu-button` and `.menu-toggle:checked ~ nav` need this order.
    assert toggle < label < nav
    assert "<script>" not in html  # CSS only: the CSP allows no inline script


def test_signed_out_pages_have_no_menu(client: Client) -> None:
    html = client.get("/accounts/login/").content.decode()
    assert "menu-toggle" not in html
    assert 'aria-label="Main"' not in html


def test_the_score_chart_marks_the_ticks_a_phone_hides() -> None:
    start = date(2026, 1, 1)
    svg = str(line_chart([Point(start + timedelta(days=i), 60.0 + i) for i in range(11)]))
    ticks = re.findall(r'<text class="(tick value[^"]*)"[^>]*text-anchor="end">(\d+)</text>', svg)
    assert len(ticks) >= 4, svg
    minor = ["minor" in css for css, _ in ticks]
    # The ends stay on a phone; every other label between them is hidden there.
    assert minor == [0 < n < len(ticks) - 1 and n % 2 == 1 for n in range(len(ticks))]
    assert any(minor)
    assert re.search(r"viewBox=\"0 0 720 \d+\"", svg)  # scales to its box: CSS sets width 100%
