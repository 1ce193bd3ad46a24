"""Every page and partial: full page vs htmx, empty states, query counts that do not grow."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from dashboard.models import Repository, Rule, Scan, Team
from scanners import ENGINE_VERSION
from tests.orgdata import build_org

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


@pytest.fixture
def client_in(client: Client, personas: dict[str, object]) -> Client:
    client.force_login(personas["member"])  # type: ignore[arg-type]
    return client


def _count(client: Client, url: str, **headers: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, headers=headers)
    assert response.status_code == 200, response.content[:500]
    return len(queries)


def _pages() -> list[str]:
    team = Team.objects.exclude(slug="payments").first()
    repository = Repository.objects.exclude(latest_scan=None).first()
    assert team
    assert repository
    scan = repository.latest_scan
    return [
        "/",
        "/?sort=name&q=team",
        "/?changes=30",
        "/?changes=90",
        f"/teams/{team.slug}/",
        "/repositories/",
        f"/repositories/{repository.pk}/",
        "/rules/",
        "/rules/LAY-001/",
        f"/rules/LAY-001/?repos={repository.pk},{repository.pk + 1}",
        f"/scans/{scan.pk}/",  # type: ignore[union-attr]
    ]


def test_pages_need_sign_in(client: Client) -> None:
    for url in ("/", "/repositories/", "/rules/", "/teams/x/", "/repositories/new/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("signed_in", [False, True])
def test_the_footer_names_the_engine_version(
    client: Client, personas: dict[str, object], signed_in: bool
) -> None:
    if signed_in:
        client.force_login(personas["member"])  # type: ignore[arg-type]
    html = client.get("/" if signed_in else "/accounts/login/").content.decode()
    footer = html[html.index('<footer class="footer muted">') :]
    assert f"· engine {ENGINE_VERSION}</footer>" in footer


def test_empty_organisation_tells_what_to_do_next(client_in: Client) -> None:
    html = client_in.get("/").content.decode()
    assert "No repositories yet" in html
    assert "manage.py demo" in html


def test_every_page_renders_with_data(client_in: Client) -> None:
    build_org(teams=2, repositories=2)
    for url in _pages():
        response = client_in.get(url)
        assert response.status_code == 200, url
        assert b"<html" in response.content


@pytest.mark.parametrize(
    ("url", "fragment_id"),
    [
        ("/?sort=-score", "teams-table"),
        ("/repositories/?q=service", "repositories-table"),
        ("/rules/LAY-001/?status=fail", "results-table"),
    ],
)
def test_htmx_requests_get_only_the_table(client_in: Client, url: str, fragment_id: str) -> None:
    build_org(teams=2, repositories=2)
    response = client_in.get(url, headers=HTMX)
    html = response.content.decode()
    assert html.lstrip().startswith(f'<div id="{fragment_id}">')
    assert "<html" not in html


def test_team_table_partial_and_repository_results_partial(client_in: Client) -> None:
    teams = build_org(teams=1, repositories=2)
    html = client_in.get(f"/teams/{teams[0].slug}/?level=gold", headers=HTMX).content.decode()
    assert html.lstrip().startswith('<div id="repositories-table">')
    repository = Repository.objects.filter(team=teams[0]).first()
    assert repository
    html = client_in.get(
        f"/repositories/{repository.pk}/?status=fail&partial=results", headers=HTMX
    ).content.decode()
    assert html.lstrip().startswith('<div id="results">')
    assert "status-pass" not in html
    assert "status-fail" in html


@pytest.mark.slow
def test_query_counts_do_not_grow_with_the_data(client_in: Client) -> None:
    build_org(teams=2, repositories=2, days=3)
    # Keyed by the page's position: the team or repository picked may differ once more exist.
    small = {n: (url, _count(client_in, url)) for n, url in enumerate(_pages())}
    small_htmx = _count(client_in, "/?sort=score", **HTMX)
    build_org(teams=4, repositories=3, days=4, seed=11)
    large = {n: (url, _count(client_in, url)) for n, url in enumerate(_pages())}
    assert {n: count for n, (_, count) in small.items()} == {
        n: count for n, (_, count) in large.items()
    }, (small, large)
    assert _count(client_in, "/?sort=score", **HTMX) == small_htmx


def test_unknown_sort_and_bad_page_fall_back(client_in: Client) -> None:
    build_org(teams=1, repositories=1)
    assert client_in.get("/?sort=password&page=abc").status_code == 200
    assert client_in.get("/?page=999").status_code == 200


def test_rule_page_shows_rationale_standard_text_and_counts(client_in: Client) -> None:
    build_org(teams=1, repositories=2)
    html = client_in.get("/rules/lay-001/").content.decode()
    rule = Rule.objects.get(rule_id="LAY-001", standard__key="python-backend")
    assert rule.rationale in html
    assert "Separation of Concerns" in html
    assert "Route Files" in html  # the text of the standard it enforces
    assert client_in.get("/rules/NOPE-999/").status_code == 404


def test_scan_progress_polls_while_queued_then_refreshes(client_in: Client) -> None:
    build_org(teams=1, repositories=1)
    repository = Repository.objects.first()
    assert repository
    scan = Scan.objects.create(repository=repository)
    queued = client_in.get(f"/scans/{scan.pk}/", headers=HTMX)
    assert 'hx-trigger="every 2s"' in queued.content.decode()
    assert "position 1 in the queue" in queued.content.decode()
    assert "HX-Refresh" not in queued
    Scan.objects.filter(pk=scan.pk).update(status="failed", error="could not clone")
    done = client_in.get(f"/scans/{scan.pk}/", headers=HTMX)
    assert done["HX-Refresh"] == "true"
    assert "every 2s" not in done.content.decode()
    assert "could not clone" in client_in.get(f"/scans/{scan.pk}/").content.decode()


def test_every_table_offers_its_csv_export(client_in: Client) -> None:
    build_org(teams=1, repositories=1)
    team = Team.objects.exclude(slug="payments").get()
    repository = Repository.objects.get()
    expected = {
        "/": "/exports/organisation.csv",
        f"/teams/{team.slug}/": f"/exports/teams/{team.slug}.csv",
        "/repositories/": "/exports/results.csv",
        f"/repositories/{repository.pk}/": f"/exports/results.csv?repository={repository.pk}",
        "/rules/LAY-001/": "/exports/rules/LAY-001.csv",
    }
    for page_url, export_url in expected.items():
        html = client_in.get(page_url).content.decode()
        assert f'href="{export_url}"' in html, page_url
        assert client_in.get(export_url).status_code == 200, export_url


def test_result_filters_push_a_url_that_renders_the_same_results(client_in: Client) -> None:
    build_org(teams=1, repositories=1)
    repository = Repository.objects.get()
    url = f"/repositories/{repository.pk}/"
    page = client_in.get(url).content.decode()
    assert (
        f'href="{url}" hx-get="?partial=results" hx-target="#results" hx-swap="outerHTML" '
        f'hx-push-url="{url}"' in page
    )
    assert 'href="?status=fail" hx-get="?status=fail&amp;partial=results"' in page
    assert 'hx-push-url="?status=fail"' in page

    swapped = client_in.get(f"{url}?status=fail&partial=results", headers=HTMX).content.decode()
    results, _, tabs = swapped.partition('<nav class="tabs" id="result-filters"')
    assert "status-fail" in results
    assert "status-pass" not in results
    # The tabs outside #results follow: swapped out of band with the filter marked active.
    assert tabs.startswith(' aria-label="Filter results" hx-swap-oob="true">')
    assert re.search(r'hx-push-url="\?status=fail" class="active">Failing', tabs)

    bookmarked = client_in.get(f"{url}?status=fail").content.decode()
    assert results.strip() in bookmarked
    assert re.search(r'hx-push-url="\?status=fail" class="active">Failing', bookmarked)
    assert "hx-swap-oob" not in bookmarked
