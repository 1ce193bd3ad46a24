"""What keeps pages fast at organisation scale: latest results only, flat query counts."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from dashboard.models import CheckResult, Repository, Rule, Team
from dashboard.selectors.rules import latest_results, status_counts
from tests.orgdata import build_org

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


@pytest.fixture
def client_in(client: Client, personas: dict[str, object]) -> Client:
    client.force_login(personas["member"])  # type: ignore[arg-type]
    return client


def _count(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, headers=HTMX)
    assert response.status_code == 200, response.content[:500]
    return len(queries)


def _partials() -> list[str]:
    team = Team.objects.exclude(slug="payments").order_by("pk").first()
    repository = Repository.objects.exclude(latest_scan=None).order_by("pk").first()
    assert team
    assert repository
    return [
        f"/teams/{team.slug}/?sort=name",
        "/repositories/?sort=-scanned",
        f"/repositories/{repository.pk}/?status=fail&partial=results",
        "/rules/LAY-001/?sort=team",
        "/rules/LAY-001/?status=fail&sort=-repository",
    ]


def test_a_rule_reads_only_the_latest_scan_of_active_repositories() -> None:
    build_org(teams=1, repositories=3, days=3)
    rule = Rule.objects.get(rule_id="LAY-001", standard__key="python-backend")
    first, second, gone = Repository.objects.order_by("pk")
    Repository.objects.filter(pk=gone.pk).update(active=False)

    scans = set(latest_results(rule).values_list("scan_id", flat=True))

    assert scans == {first.latest_scan_id, second.latest_scan_id}
    assert CheckResult.objects.filter(rule=rule).count() == 9  # 3 scans of 3 repositories
    assert sum(status_counts(rule).values()) == 2


def test_a_never_scanned_repository_adds_no_result() -> None:
    build_org(teams=1, repositories=1, days=1)
    rule = Rule.objects.get(rule_id="LAY-001", standard__key="python-backend")
    Repository.objects.create(
        team=Team.objects.exclude(slug="payments").get(),
        name="fresh",
        clone_url="https://git.example.com/org/fresh.git",
        url_key="git.example.com/org/fresh",
    )
    assert latest_results(rule).count() == 1


def test_partial_query_counts_do_not_grow_with_the_data(client_in: Client) -> None:
    build_org(teams=2, repositories=2, days=3)
    small = {url: _count(client_in, url) for url in _partials()}
    build_org(teams=4, repositories=3, days=4, seed=11)
    large = {url: _count(client_in, url) for url in _partials()}
    assert small == large


def test_tables_still_show_the_latest_scan_time(client_in: Client) -> None:
    teams = build_org(teams=1, repositories=2, days=1)
    html = client_in.get(f"/teams/{teams[0].slug}/?sort=name", headers=HTMX).content.decode()
    assert html.count("<time datetime=") == 2
    assert " ago</time>" in html
