"""The overview's "What changed" and "Fix first" panels and its heat map, in a real browser on
the demo data."""

from __future__ import annotations

import re
from io import StringIO
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from django.core.management import call_command

from dashboard.models import Repository
from tests.e2e.conftest import sign_in
from tests.factories import UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PASSWORD = "correct horse battery staple"  # the factories' password


def _panels_loaded(page: Any) -> None:
    """The page is shown at once; htmx then swaps each placeholder for its panel."""
    page.wait_for_selector("#what-changed:not(.loading)")
    page.wait_for_selector("#fix-first:not(.loading)")


def test_what_changed_fix_first_and_a_fix_first_link(
    page: Any, live_server: Any, settings: Any, tmp_path: Path
) -> None:
    settings.VAR_DIR = tmp_path / "var"
    call_command("demo", "--teams", "3", "--repos", "6", stdout=StringIO())
    UserFactory(username="viewer")
    sign_in(page, live_server.url, "viewer", PASSWORD)
    page.set_viewport_size({"width": 1440, "height": 900})

    page.goto(f"{live_server.url}/?changes=90")
    _panels_loaded(page)
    panel = page.locator("#what-changed")
    assert "What changed" in panel.inner_text()
    assert panel.locator("a.current").inner_text() == "90 days"
    # The demo's year of history moves something in 90 days.
    assert "Nothing changed" not in panel.inner_text()
    assert panel.locator(".change-block").count() >= 1

    # Switching the period is a link: bookmarkable, the panel says which period it shows.
    panel.locator("text=7 days").click()
    page.wait_for_url(re.compile(r"changes=7"))
    _panels_loaded(page)
    assert page.locator("#what-changed a.current").inner_text() == "7 days"

    # The heat map fits its card: it scrolls inside it, team names stay in view.
    heat = page.locator("#heat-map .heat-scroll")
    card_right = page.evaluate("document.querySelector('#heat-map').getBoundingClientRect().right")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1440
    assert heat.bounding_box()["x"] + heat.bounding_box()["width"] <= card_right + 1
    sticky = page.evaluate(
        "getComputedStyle(document.querySelector('#heat-map tbody th')).position"
    )
    assert sticky == "sticky"
    assert page.locator("#heat-map .heat-legend li").count() == 6

    # At phone width the new panels wrap: nothing is cut off sideways.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/?changes=90")
    _panels_loaded(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 1
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{live_server.url}/")
    _panels_loaded(page)

    # Fix first: rows ranked, each a link to the rule page filtered to its repositories.
    rows = page.locator("#fix-first tbody tr")
    assert rows.count() >= 1
    link = rows.first.locator("a")
    href = link.get_attribute("href") or ""
    ids = [int(pk) for pk in parse_qs(urlparse(href).query)["repos"][0].split(",")]
    rule_id = link.locator("code").inner_text()
    link.click()
    page.wait_for_url(re.compile(rf"/rules/{rule_id}/\?repos="))
    assert "selected repositor" in page.inner_text("#results-table")
    shown = page.locator("#results-table tbody tr td:first-child a").all_inner_texts()
    names = {repository.name for repository in Repository.objects.filter(pk__in=ids)}
    assert shown
    assert {name.strip() for name in shown} <= names
    assert len(shown) == min(len(ids), 25)
