"""The overview's "What changed", "Fix first" and heat map, and the rule page's filter by
repository ids that "Fix first" links to."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dashboard.models import Repository, RepositoryDailyScore, Rule, TeamDailyScore
from dashboard.selectors.changes import fix_first
from dashboard.views.rules import MAX_IDS, repository_ids
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


LAZY = re.compile(
    r'<section [^>]*id="([\w-]+)" hx-get="([^"]+)" hx-trigger="load"[^>]*>.*?</section>', re.S
)


def _overview(client: Client, url: str) -> str:
    """The overview as a browser shows it: the page, then each panel it loads (htmx)."""
    html = client.get(url).content.decode()
    for match in list(LAZY.finditer(html)):
        response = client.get(match.group(2).replace("&amp;", "&"), headers=HTMX)
        assert response.status_code == 200
        html = html.replace(match.group(0), response.content.decode())
    return html


def _panel(html: str) -> str:
    start = html.index('id="what-changed"')
    return html[start : html.index("</section>", start)]


def test_the_overview_shows_what_changed_and_fix_first(client_in: Client) -> None:
    build_org(teams=2, repositories=3, days=10)  # first scans 9 days ago: present throughout

    html = _overview(client_in, "/?changes=7")

    panel = _panel(html)
    assert "What changed" in panel
    assert 'class="current">7 days</a>' in panel
    # Random daily results: the repositories' scores moved within the period.
    assert "Biggest movers" in panel
    first = fix_first()[0]
    assert f'href="{first.url.replace(",", "%2C")}"' in html
    assert "Fix first" in html


def test_nothing_changed_is_said_plainly(client_in: Client) -> None:
    build_org(teams=1, repositories=2, days=1)
    latest = TeamDailyScore.objects.latest("date").date
    # The same day's rows a week earlier: nothing moved, nobody joined.
    for row in RepositoryDailyScore.objects.filter(date=latest):
        row.pk, row.date = None, latest - timedelta(days=7)
        row.save()
    Repository.objects.update(created_at=timezone.now() - timedelta(days=60))

    html = _overview(client_in, "/")

    assert "Nothing changed in the last 7 days." in _panel(html)


def test_onboarding_is_listed_apart(client_in: Client) -> None:
    build_org(teams=1, repositories=2, days=2)

    panel = _panel(_overview(client_in, "/?changes=30"))

    # Every repository's first roll-up is within the 30 days: onboarding, not a regression.
    assert "2 onboarded:" in panel
    assert "Biggest movers" not in panel
    assert "Levels" not in panel


@pytest.mark.parametrize("value", ["", "abc", "8", "-7", "٣٠"])
def test_an_unknown_period_falls_back_to_seven_days(client_in: Client, value: str) -> None:
    build_org(teams=1, repositories=1, days=1)
    html = _overview(client_in, f"/?changes={value}")
    assert 'class="current">7 days</a>' in _panel(html)


def test_the_period_is_part_of_the_cache_key(client_in: Client) -> None:
    build_org(teams=1, repositories=1, days=1)
    week = _panel(_overview(client_in, "/?changes=7"))
    quarter = _panel(_overview(client_in, "/?changes=90"))
    assert 'class="current">7 days</a>' in week
    assert 'class="current">90 days</a>' in quarter
    assert _panel(_overview(client_in, "/?changes=7")) == week  # from the cache


def test_the_heat_map_scrolls_with_sticky_team_names_and_a_legend(client_in: Client) -> None:
    build_org(teams=2, repositories=1, days=1)
    html = _overview(client_in, "/")
    heat = html[html.index('id="heat-map"') :]
    assert 'class="heat-scroll"' in heat
    assert len(re.findall(r'<th class="sticky-col" scope="row">', heat)) == 2
    legend = heat[heat.index('class="heat-legend"') : heat.index("</ul>")]
    classes = re.findall(r'class="swatch (heat-[\w-]+)"', legend)
    assert classes == ["heat-5", "heat-4", "heat-3", "heat-2", "heat-1", "heat-none"]
    assert "90 and above" in legend


def test_fix_first_empty_state(client_in: Client) -> None:
    build_org(teams=1, repositories=1, days=1)
    Rule.objects.update(enabled=False)  # nothing scored: nothing to fix
    html = _overview(client_in, "/")
    assert "No failing or warning rule to fix" in html


def _costs(client: Client, days: int) -> tuple[int, int, int]:
    return (
        _count(client, f"/?changes={days}"),
        _count(client, f"/?panel=changes&changes={days}", **HTMX),
        _count(client, "/?panel=fix-first", **HTMX),
    )


@pytest.mark.slow
def test_overview_queries_stay_flat_with_the_panels(client_in: Client) -> None:
    build_org(teams=2, repositories=2, days=3)
    small = [_costs(client_in, days) for days in (7, 30, 90)]
    build_org(teams=4, repositories=3, days=4, seed=11)
    large = [_costs(client_in, days) for days in (30, 90, 7)]
    assert sorted(small) == sorted(large), (small, large)
    # Every period costs the same; "Fix first" has no period: later requests hit its cache.
    assert len({(page, changes) for page, changes, _ in small}) == 1


def test_the_page_does_not_wait_for_its_costly_panels(client_in: Client) -> None:
    build_org(teams=1, repositories=2, days=3)
    html = client_in.get("/?changes=30&sort=name").content.decode()
    # Placeholders that htmx fills once the page is shown; the period travels with them.
    assert 'hx-get="/?panel=changes&amp;changes=30" hx-trigger="load"' in html
    assert 'hx-get="/?panel=fix-first" hx-trigger="load"' in html
    assert "Biggest movers" not in html
    panel = client_in.get("/?panel=changes&changes=30", headers=HTMX).content.decode()
    assert panel.lstrip().startswith('<section class="card what-changed" id="what-changed"')
    # Its period links lead to the whole page, not to the bare panel.
    assert 'href="?changes=90#what-changed"' in panel
    # Without htmx, `panel` is ignored: the whole page.
    assert "<html" in client_in.get("/?panel=fix-first").content.decode()


# The rule page's filter by repository ids ------------------------------------------------


def test_repository_ids_are_read_leniently() -> None:
    assert repository_ids(None) is None
    assert repository_ids("") == []
    assert repository_ids("3, 1,x,3,,²,-2,1") == [3, 1]
    assert len(repository_ids(",".join(str(n) for n in range(MAX_IDS + 50))) or []) == MAX_IDS


def test_the_rule_page_filters_results_to_repository_ids(client_in: Client) -> None:
    build_org(teams=2, repositories=2, days=1)
    first, second, *others = Repository.objects.order_by("pk")

    html = client_in.get(f"/rules/LAY-001/?repos={first.pk},{second.pk}").content.decode()
    table = html[html.index('<div id="results-table">') :]

    assert "Showing 2 selected repositories" in table
    assert first.name in table
    assert second.name in table
    assert all(f">{other.name}<" not in table for other in others)
    # The filter form keeps the filter, so searching or filtering by status stays within it.
    assert f'name="repos" value="{first.pk},{second.pk}"' in html
    partial = client_in.get(
        f"/rules/LAY-001/?repos={first.pk}&sort=-repository", headers=HTMX
    ).content.decode()
    assert partial.lstrip().startswith('<div id="results-table">')
    assert "Showing 1 selected repository" in partial
    assert f">{second.name}<" not in partial


def test_the_rule_page_without_a_valid_id_shows_no_repository(client_in: Client) -> None:
    build_org(teams=1, repositories=2, days=1)
    html = client_in.get("/rules/LAY-001/?repos=abc").content.decode()
    assert "Showing 0 selected repositories" in html
    assert "No repository matches." in html
    unfiltered = client_in.get("/rules/LAY-001/").content.decode()
    assert "selected repositor" not in unfiltered


@pytest.mark.slow
def test_the_filtered_rule_page_queries_stay_flat(client_in: Client) -> None:
    build_org(teams=1, repositories=2, days=1)
    ids = ",".join(str(pk) for pk in Repository.objects.values_list("pk", flat=True))
    small = _count(client_in, f"/rules/LAY-001/?repos={ids}")
    build_org(teams=3, repositories=4, days=1, seed=5)
    ids = ",".join(str(pk) for pk in Repository.objects.values_list("pk", flat=True))
    assert _count(client_in, f"/rules/LAY-001/?repos={ids}") == small
