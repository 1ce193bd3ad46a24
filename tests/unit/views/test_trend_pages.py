"""Trend ranges on the team and repository pages, next actions, shared sparkline scales."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dashboard.models import (
    Repository,
    RepositoryDailyScore,
    Rule,
    Scan,
    Standard,
    StandardRelease,
    Team,
    TeamDailyScore,
)
from dashboard.services.infra import page_versions
from dashboard.services.scans.results import Findings, ResultRow, store_findings
from dashboard.services.scoring import rollups
from tests.factories import RepositoryFactory, TeamFactory, WaiverFactory
from tests.orgdata import build_org

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
SPAN = re.compile(r'<svg class="chart"[^>]*data-first="([\d-]+)" data-last="([\d-]+)"')
SPARK_AXIS = re.compile(r'<svg class="spark"[^>]*aria-label="trend, latest \d+; axis ([^"]+)"')


@pytest.fixture
def client_in(client: Client, personas: dict[str, object]) -> Client:
    client.force_login(personas["member"])  # type: ignore[arg-type]
    return client


def _html(client: Client, url: str, **headers: str) -> str:
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.content[:300]
    return response.content.decode()


def _count(client: Client, url: str, **headers: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        _html(client, url, **headers)
    return len(queries)


def _span(html: str) -> tuple[str, str]:
    found = SPAN.search(html)
    assert found, html[:2000]
    return found.group(1), found.group(2)


def _ago(days: int) -> str:
    return (timezone.now().date() - timedelta(days=days)).isoformat()


@pytest.fixture
def old_team() -> Team:
    """A team with a year and a half of history (a roll-up row 500 days ago)."""
    (team,) = build_org(teams=1, repositories=2, days=3)
    TeamDailyScore.objects.create(team=team, date=timezone.now().date() - timedelta(days=500))
    return team


def test_team_range_switch_changes_the_charts_span(client_in: Client, old_team: Team) -> None:
    url = f"/teams/{old_team.slug}/"
    assert _span(_html(client_in, url)) == (_ago(89), _ago(0))  # 90 days by default
    # Each range in turn, then back: the range is part of the cached body's key.
    for query, first in (("30", 29), ("365", 364), ("all", 500), ("30", 29), ("bogus", 89)):
        html = _html(client_in, f"{url}?range={query}")
        assert _span(html) == (_ago(first), _ago(0)), query
    html = _html(client_in, f"{url}?range=365&sort=name")
    assert "Score over a year" in html
    assert '<a href="?range=365&amp;sort=name#trend" class="active" aria-current="true">' in html
    assert '<a href="?range=30&amp;sort=name#trend">30 days</a>' in html


def test_the_team_table_keeps_the_range_in_its_links(client_in: Client, old_team: Team) -> None:
    html = _html(client_in, f"/teams/{old_team.slug}/?range=30&sort=name", **HTMX)
    assert "range=30" in html
    assert '<svg class="chart"' not in html  # the table alone


def test_repository_range_switch_and_a_single_day_is_a_dot(client_in: Client) -> None:
    repository = RepositoryFactory(team=TeamFactory(name="Solo"))
    scan = Scan.objects.create(repository=repository, status=Scan.Status.RUNNING)
    store_findings(
        scan, Findings([ResultRow("DEP-001", "pass", "ok", [])], "a" * 40, "t", {}, {}), 1
    )
    html = _html(client_in, f"/repositories/{repository.pk}/")
    history = html[html.index('id="history"') :]
    assert _span(history) == (_ago(29), _ago(0))  # at least 30 days around the one day
    assert history.count('<circle class="dot"') == 1
    assert '<a href="?range=365#history" class="active" aria-current="true">' in history
    # Any range starts at the first day with data, and shows 30 days at least.
    assert _span(_html(client_in, f"/repositories/{repository.pk}/?range=90")) == (
        _ago(29),
        _ago(0),
    )
    RepositoryDailyScore.objects.create(
        repository=repository, date=timezone.now().date() - timedelta(days=400), score=50
    )
    page_versions.changed(repository_id=repository.pk)  # as every roll-up writer does
    for query, first in (("90", 89), ("365", 364), ("all", 400), ("", 364)):
        html = _html(client_in, f"/repositories/{repository.pk}/?range={query}")
        assert _span(html) == (_ago(first), _ago(0)), query


def test_team_page_lists_next_actions(client_in: Client) -> None:
    team = TeamFactory(name="Ledger", slug="ledger")
    for name, major in (("alpha", "fail"), ("beta", "warn"), ("gamma", "pass")):
        repository = RepositoryFactory(team=team, name=name)
        scan = Scan.objects.create(repository=repository, status=Scan.Status.RUNNING)
        rows = [ResultRow("DEP-001", "pass", "ok", []), ResultRow("DEP-002", major, "x", [])]
        store_findings(scan, Findings(rows, f"{scan.pk:040x}", "t", {}, {}), 1)
    rollups.refresh_team_day(team.pk, timezone.now().date())
    html = _html(client_in, "/teams/ledger/")
    panel = html[html.index('id="next-actions"') :]
    panel = panel[: panel.index("</section>")]
    assert "Blocking Silver" in panel
    blocking, failing, expiring = panel.split("<h3>")[1:]
    assert re.search(r"<code>DEP-002</code>.*?<td class=\"num\">2</td>", blocking, re.DOTALL)
    assert re.search(r"<code>DEP-002</code>.*?<td class=\"num\">1</td>", failing, re.DOTALL)
    assert "None." in expiring


def test_a_waiver_leaves_the_cached_next_actions_when_it_expires(client_in: Client) -> None:
    team = TeamFactory(name="Short", slug="short")
    repository = RepositoryFactory(team=team, name="brief")
    rule = Rule.objects.get(standard__key="python-backend", rule_id="DEP-002")
    WaiverFactory(
        repository=repository, rule=rule, expires_at=timezone.now() + timedelta(seconds=2)
    )
    WaiverFactory(repository=repository, rule=rule, expires_at=timezone.now() + timedelta(days=60))

    def panel() -> str:
        html = _html(client_in, "/teams/short/")
        return html[html.index('id="next-actions"') :].split("</section>")[0]

    assert panel().count("<code>DEP-002</code> in") == 1  # the 60-day one is not listed
    time.sleep(2.2)  # no write happens: only the expiry
    assert "<code>DEP-002</code> in" not in panel()


def test_team_page_without_scans_says_next_actions_come_later(client_in: Client) -> None:
    RepositoryFactory(team=TeamFactory(name="Fresh", slug="fresh"))
    html = _html(client_in, "/teams/fresh/")
    assert "Next actions appear after the team&#x27;s first scans." in html or (
        "Next actions appear after the team's first scans." in html
    )


def test_sparklines_of_a_table_share_one_scale(client_in: Client) -> None:
    teams = build_org(teams=3, repositories=2, days=4)
    for html in (_html(client_in, "/"), _html(client_in, f"/teams/{teams[0].slug}/")):
        axes = SPARK_AXIS.findall(html)
        assert len(axes) >= 2
        assert len(set(axes)) == 1, axes


def test_sparklines_mark_a_new_standard_version(client_in: Client) -> None:
    teams = build_org(teams=2, repositories=2, days=4)
    StandardRelease.objects.create(
        standard=Standard.objects.get(key="python-backend"),
        version="9.0",
        previous_version="8.0",
        synced_at=timezone.now() - timedelta(days=2),
    )
    page_versions.changed(everything=True)  # as the standard's sync does
    for html in (_html(client_in, "/"), _html(client_in, f"/teams/{teams[0].slug}/")):
        sparks = re.findall(r'<svg class="spark".*?</svg>', html)
        assert len(sparks) >= 2
        assert all("<title>standard 9.0</title>" in spark for spark in sparks)


@pytest.mark.slow
def test_trend_query_counts_do_not_grow_with_the_data(client_in: Client) -> None:
    def pages() -> list[str]:
        team = Team.objects.exclude(slug="payments").order_by("pk").first()
        repository = Repository.objects.exclude(latest_scan=None).order_by("pk").first()
        assert team
        assert repository
        return [
            f"/teams/{team.slug}/?range=all",
            f"/teams/{team.slug}/?range=30&sort=name",
            f"/repositories/{repository.pk}/?range=all",
            f"/repositories/{repository.pk}/?range=30",
        ]

    build_org(teams=2, repositories=2, days=3)
    small = [_count(client_in, url) for url in pages()]
    small_table = _count(client_in, f"{pages()[0]}&sort=score", **HTMX)
    build_org(teams=4, repositories=3, days=6, seed=11)
    TeamDailyScore.objects.create(
        team=Team.objects.exclude(slug="payments").order_by("pk").first(),
        date=timezone.now().date() - timedelta(days=700),
    )
    assert [_count(client_in, url) for url in pages()] == small
    assert _count(client_in, f"{pages()[0]}&sort=score", **HTMX) == small_table
