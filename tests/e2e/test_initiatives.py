"""A manager creates an initiative in the browser and sees its burn-up from a real scan."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from dashboard.domain.scores import LEVEL_RANK
from dashboard.models import Initiative, Repository, Scan
from dashboard.services.access.permissions import MANAGERS_GROUP
from dashboard.services.scans.pipeline import run_scan
from tests.e2e.conftest import SCREENSHOTS, sign_in
from tests.factories import RepositoryFactory, TeamFactory, UserFactory
from tests.gitrepo import golden_repo

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PASSWORD = "correct horse battery staple"  # the factories' password


def test_create_an_initiative_and_see_its_burn_up(
    page: Any, live_server: Any, tmp_path: Path
) -> None:
    team = TeamFactory(name="Payments", slug="payments")
    source = golden_repo(tmp_path / "ledger")
    repository = RepositoryFactory(team=team, name="ledger", clone_url=str(source))
    scan = Scan.objects.create(repository=repository)
    assert run_scan(scan.pk, "e2e").status == Scan.Status.SUCCEEDED  # the real engine
    repository = Repository.objects.get(pk=repository.pk)
    expected_done = int(LEVEL_RANK[repository.level] >= LEVEL_RANK["bronze"])
    manager = UserFactory(username="manon")
    manager.groups.add(Group.objects.get_or_create(name=MANAGERS_GROUP)[0])

    sign_in(page, live_server.url, "manon", PASSWORD)
    page.click("nav >> text=Initiatives")
    page.click("text=New initiative")
    today = timezone.now().date()
    page.fill("#id_name", "Payments at Bronze")
    # The 124-rule list shows only for a "Meet rules" goal (CSS :has, no script).
    assert page.input_value("#id_goal") == "level"
    assert not page.is_visible("#id_rules")
    assert page.is_visible("#id_target_level")
    page.select_option("#id_goal", "rules")
    assert page.is_visible("#id_rules")
    assert page.is_visible("label[for=id_rules]")
    assert not page.is_visible("#id_target_level")
    page.select_option("#id_goal", "level")
    assert not page.is_visible("#id_rules")
    assert not page.is_visible("label[for=id_rules]")
    page.select_option("#id_target_level", "bronze")
    page.check(f"#id_teams input[value='{team.pk}']")
    page.fill("#id_start_date", (today - timedelta(days=7)).isoformat())
    page.fill("#id_target_date", (today + timedelta(days=21)).isoformat())
    page.click("main button[type=submit]")

    page.wait_for_selector("svg.burnup")
    initiative = Initiative.objects.get()
    assert page.url.endswith(f"/initiatives/{initiative.pk}/")
    assert page.inner_text("#initiative-done") == f"{expected_done} / 1"
    label = page.get_attribute("svg.burnup", "aria-label") or ""
    assert f"{expected_done} of 1 repositories done" in label
    # The done line has a point for each day from the start to today.
    line = page.get_attribute("svg.burnup path.line", "d") or ""
    assert line.count("L") == 7
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "initiative.png"), full_page=False)
