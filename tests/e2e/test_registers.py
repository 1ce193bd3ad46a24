"""A member browses the teams index, the waiver register (a filter changes the URL), the
attestation register and the exports page, and downloads a CSV."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from dashboard.models import Rule
from tests.e2e.conftest import sign_in
from tests.factories import AttestationFactory, UserFactory, WaiverFactory
from tests.orgdata import build_org

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PASSWORD = "correct horse battery staple"  # the factories' password


def _rule(rule_id: str) -> Rule:
    return Rule.objects.get(standard__key="python-backend", rule_id=rule_id)


def test_teams_registers_and_exports(page: Any, live_server: Any) -> None:
    teams = build_org(teams=2, repositories=1, days=2)
    first, second = (team.repositories.get() for team in teams)
    now = timezone.now()
    WaiverFactory(
        repository=first,
        rule=_rule("DEP-002"),
        reason="Vendor pin",
        expires_at=now + timedelta(days=5),
    )
    WaiverFactory(
        repository=second,
        rule=_rule("LAY-001"),
        reason="Old layout",
        expires_at=now - timedelta(days=1),
    )
    AttestationFactory(repository=second, rule=_rule("DEP-002"), note="Checked by hand")
    UserFactory(username="milo")

    sign_in(page, live_server.url, "milo", PASSWORD)
    page.click("nav >> text=Teams")
    page.wait_for_url(f"{live_server.url}/teams/")
    for team in teams:
        assert page.is_visible(f"#teams-table >> text={team.name}")

    page.click("nav >> text=Waivers")
    page.wait_for_url(f"{live_server.url}/waivers/")
    assert page.is_visible("#register-table >> text=Vendor pin")
    assert page.is_visible("#register-table >> text=Old layout")
    page.select_option("select[name=expiry]", "expired")  # htmx swaps the table, pushes the URL
    page.wait_for_url(re.compile(r"/waivers/\?(.*&)?expiry=expired"))
    page.wait_for_selector("#register-table >> text=Vendor pin", state="detached")
    assert page.is_visible("#register-table >> text=Old layout")
    page.click(f"#register-table >> text={second.name}")
    page.wait_for_url(f"{live_server.url}/repositories/{second.pk}/")

    page.goto(f"{live_server.url}/attestations/")
    assert page.is_visible("#register-table >> text=Checked by hand")
    assert page.is_visible("#register-table >> text=in force")

    page.click("nav >> text=Exports")
    page.wait_for_url(f"{live_server.url}/exports/")
    with page.expect_download() as info:
        page.select_option("form:has(input[value=team]) select[name=team]", teams[0].slug)
        page.click("form:has(input[value=team]) button")
    download = info.value
    assert download.suggested_filename.startswith(f"yardstick-team-{teams[0].slug}-")
    text = Path(download.path()).read_text(encoding="utf-8")
    assert text.splitlines()[0].startswith("repository,project_dir,clone_url")
    assert first.name in text

    # At phone width the longer top bar wraps and the pickers shrink: nothing cut off sideways.
    page.set_viewport_size({"width": 390, "height": 844})
    for url in ("/teams/", "/waivers/", "/attestations/", "/exports/"):
        page.goto(f"{live_server.url}{url}")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 1, url
