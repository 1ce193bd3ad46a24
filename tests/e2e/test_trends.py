"""Trend charts in the browser: the range switch changes the span; a lone day is a dot."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from dashboard.models import Membership, Scan, TeamDailyScore
from dashboard.services.scans.results import Findings, ResultRow, store_findings
from tests.e2e.conftest import sign_in
from tests.factories import MembershipFactory, RepositoryFactory, TeamFactory, UserFactory
from tests.orgdata import build_org

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PASSWORD = "correct horse battery staple"  # the factories' password


def _ago(days: int) -> str:
    return (timezone.now().date() - timedelta(days=days)).isoformat()


def test_the_range_switch_changes_the_team_charts_span(page: Any, live_server: Any) -> None:
    (team,) = build_org(teams=1, repositories=2, days=3)
    for days, score in ((300, 55.0), (100, 60.0), (20, 70.0)):
        TeamDailyScore.objects.create(
            team=team, date=timezone.now().date() - timedelta(days=days), score=score
        )
    UserFactory(username="milo")
    sign_in(page, live_server.url, "milo", PASSWORD)
    page.goto(f"{live_server.url}/teams/{team.slug}/")

    def span() -> tuple[str, str]:
        label = page.get_attribute("#trend svg.chart", "aria-label") or ""
        dates = page.locator("#trend svg.chart text.date").all_text_contents()
        assert f"from {dates[0]} to {dates[-1]}" in label
        return dates[0], dates[-1]

    assert span() == (_ago(89), _ago(0))
    assert page.inner_text("#trend .segmented a.active") == "90 days"
    page.click("#trend .segmented >> text=365 days")
    page.wait_for_url("**/?range=365#trend")
    assert span() == (_ago(364), _ago(0))
    assert page.inner_text("#trend h2") == "Score over a year"
    page.click("#trend .segmented >> text=All time")
    page.wait_for_url("**/?range=all#trend")
    assert span() == (_ago(300), _ago(0))
    # The axis follows the data and says what it spans: ticks bracket it, not always 0-100.
    ticks = [float(t) for t in page.locator("#trend svg.chart text.value").all_text_contents()]
    spans = page.locator("#trend svg.chart text.range").text_content() or ""
    low, high = (float(n) for n in spans.removeprefix("scores ").split("\u2013"))
    assert low <= 55.0 <= 70.0 <= high
    assert ticks[0] <= low
    assert ticks[-1] >= high
    assert ticks != [0.0, 25.0, 50.0, 75.0, 100.0]
    page.go_back()
    page.wait_for_url("**/?range=365#trend")
    assert span() == (_ago(364), _ago(0))


def test_a_repository_with_one_day_of_scans_shows_a_dot(page: Any, live_server: Any) -> None:
    team = TeamFactory(name="Solo", slug="solo")
    repository = RepositoryFactory(team=team, name="lonely")
    scan = Scan.objects.create(repository=repository, status=Scan.Status.RUNNING)
    rows = [ResultRow("DEP-001", "pass", "ok", []), ResultRow("DEP-002", "fail", "no", [])]
    store_findings(scan, Findings(rows, "b" * 40, "e2e", {}, {}), 1)
    member = UserFactory(username="milo")
    MembershipFactory(user=member, team=team, role=Membership.Role.MEMBER)
    sign_in(page, live_server.url, "milo", PASSWORD)

    page.goto(f"{live_server.url}/repositories/{repository.pk}/")
    assert page.locator("#history svg.chart circle.dot").count() == 1
    assert page.locator("#history svg.chart path.line").count() == 0
    page.goto(f"{live_server.url}/teams/solo/")
    assert page.locator("#trend svg.chart circle.dot").count() == 1
    assert page.locator("#repositories-table svg.spark circle.dot").count() == 1
