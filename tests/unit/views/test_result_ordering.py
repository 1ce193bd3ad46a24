"""Repository and scan pages: what to fix first, passing sections folded, n/a and manual
out of the default list, a counter, a sticky summary; query counts that stay flat."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from dashboard.models import Repository, Rule
from tests.factories import RepositoryFactory
from tests.scoredata import maintainer, rules, store_scan

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}

# FW comes before CFG in the standard; SEC-004 before SEC-007.
STATUSES = {
    "DEP-001": "pass",  # critical, passing: its section folds
    "DEP-004": "pass",
    "FW-004": "fail",  # minor
    "CFG-001": "fail",  # critical, in a later section: listed first all the same
    "SEC-004": "fail",  # minor, 2 points
    "SEC-007": "fail",  # minor, 5 points (override below): above SEC-004
    "LOG-001": "warn",  # major
    "STY-002": "not_applicable",
    "ENV-002": "manual",
}


@pytest.fixture
def repository() -> Repository:
    repository = RepositoryFactory(name="ledger")
    rules()  # the current standard's rules exist
    Rule.objects.filter(rule_id="SEC-007").update(weight_override=5)
    store_scan(repository, STATUSES)
    return Repository.objects.get(pk=repository.pk)


@pytest.fixture
def client_in(client: Client, personas: dict[str, object]) -> Client:
    client.force_login(personas["member"])  # type: ignore[arg-type]
    return client


def _ids(html: str) -> list[str]:
    """Rule ids in the order the page lists results."""
    return re.findall(r'<tr class="result result-[a-z_]+">.*?<code>([A-Z]+-\d+)</code>', html, re.S)


def _results(html: str) -> str:
    return html[html.index('<div id="results">') :]


def test_failures_come_first_by_severity_then_points(
    client_in: Client, repository: Repository
) -> None:
    html = _results(client_in.get(f"/repositories/{repository.pk}/").content.decode())
    ids = _ids(html)
    # Critical above major above minor whatever the section; a minor tie broken by points.
    # Sections follow their first result: SEC (SEC-007, 5 points) before FW (2 points).
    assert ids[:5] == ["CFG-001", "LOG-001", "SEC-007", "SEC-004", "FW-004"]
    assert ids[5:] == ["DEP-001", "DEP-004"]  # passing rules after, in the standard's order
    sections = re.findall(r'id="section-([A-Z]+)"', html)
    assert sections == ["CFG", "LOG", "SEC", "FW", "DEP"]


def test_passing_sections_are_folded_and_failing_ones_open(
    client_in: Client, repository: Repository
) -> None:
    html = client_in.get(f"/repositories/{repository.pk}/").content.decode()
    flags = dict(
        (code, flag)
        for flag, code in re.findall(
            r'<details class="section" (open)? ?id="section-([A-Z]+)"', html
        )
    )
    assert flags == {"CFG": "open", "LOG": "open", "SEC": "open", "FW": "open", "DEP": ""}


def test_not_applicable_and_manual_are_out_of_the_default_list(
    client_in: Client, repository: Repository
) -> None:
    url = f"/repositories/{repository.pk}/"
    default = _results(client_in.get(url).content.decode())
    assert "STY-002" not in default
    assert "ENV-002" not in default
    assert "Showing 7 of 9 results" in default
    assert "1 not applicable and 1 manual hidden" in default
    assert 'href="?status=all" hx-get="?status=all&amp;partial=results"' in default

    every = client_in.get(f"{url}?status=all").content.decode()
    assert {"STY-002", "ENV-002"} <= set(_ids(_results(every)))
    assert "Showing 9 of 9 results" in every
    assert "hidden" not in _results(every)
    assert re.search(r'hx-push-url="\?status=all" class="active">Everything', every)

    not_applicable = client_in.get(f"{url}?status=not_applicable&partial=results", headers=HTMX)
    assert _ids(not_applicable.content.decode()) == ["STY-002"]
    manual = client_in.get(f"{url}?status=manual").content.decode()
    assert _ids(_results(manual)) == ["ENV-002"]


def test_the_counter_follows_the_filter(client_in: Client, repository: Repository) -> None:
    url = f"/repositories/{repository.pk}/"
    failing = client_in.get(f"{url}?status=fail&partial=results", headers=HTMX).content.decode()
    assert "Showing 4 of 9 results" in failing
    assert "hidden" not in failing  # a status filter hides nothing behind a link
    waived = client_in.get(f"{url}?status=waived").content.decode()
    assert "Showing 0 of 9 results" in waived
    assert "No result with this status." in waived


def test_the_sticky_summary_holds_score_level_and_counts(
    client_in: Client, repository: Repository
) -> None:
    html = client_in.get(f"/repositories/{repository.pk}/?status=warn").content.decode()
    summary = html[html.index('<div class="sticky-summary"') :]
    summary = summary[: summary.index("</div>")]
    assert re.search(r"<strong>4</strong> <span class=\"muted\">failing", summary)
    assert re.search(r"<strong>1</strong> <span class=\"muted\">warning<", summary)  # one: singular
    assert re.search(r"<strong>2</strong> <span class=\"muted\">passing", summary)
    assert "of 9 results" in summary  # whatever the filter
    assert f"level-{repository.level}" in summary


def test_a_repository_never_scanned_has_no_summary_nor_counter(client_in: Client) -> None:
    repository = RepositoryFactory()
    html = client_in.get(f"/repositories/{repository.pk}/").content.decode()
    assert "Not scanned yet" in html
    assert "sticky-summary" not in html
    assert "Showing" not in html


def test_scan_now_sits_with_the_other_actions(client: Client, repository: Repository) -> None:
    client.force_login(maintainer(repository.team))
    html = client.get(f"/repositories/{repository.pk}/").content.decode()
    head = html[html.index('<div class="page-head">') : html.index('<div class="sticky-summary"')]
    actions = head[head.index('<div class="page-actions">') :]
    assert "Scan now" in actions
    assert "Force rescan" in actions
    assert "deep scan" in actions


def test_the_scan_page_lists_what_to_fix_first(client_in: Client, repository: Repository) -> None:
    url = f"/scans/{repository.latest_scan_id}/"
    html = client_in.get(url).content.decode()
    # One flat list: the minor tie at 2 points falls back to the standard's order.
    assert _ids(html) == ["CFG-001", "LOG-001", "SEC-007", "FW-004", "SEC-004"]
    assert "Show 1 not applicable and 1 manual" in html
    assert 'class="sticky-summary"' in html
    every = client_in.get(f"{url}?status=all").content.decode()
    assert _ids(every)[5:] == ["STY-002", "ENV-002"]  # after the failures, standard order
    assert "Hide n/a and manual" in every


def test_a_scan_with_nothing_to_fix_says_so(client_in: Client) -> None:
    repository = RepositoryFactory()
    rules()
    scan = store_scan(repository, {"DEP-001": "pass", "STY-002": "not_applicable"})
    html = client_in.get(f"/scans/{scan.pk}/").content.decode()
    assert "Nothing to fix." in html
    assert "Show 1 not applicable and 0 manual" in html


def _count(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("query", ["", "?status=all", "?status=fail"])
def test_query_counts_stay_flat_with_more_results(client_in: Client, query: str) -> None:
    rules()
    small, large = RepositoryFactory(), RepositoryFactory()
    store_scan(small, {"DEP-001": "fail", "STY-002": "not_applicable"})
    store_scan(large, STATUSES)
    for page in ("/repositories/{}/", "/scans/{}/"):
        counts = []
        for repository in (small, large):
            repository.refresh_from_db()
            pk = repository.pk if "repositories" in page else repository.latest_scan_id
            counts.append(_count(client_in, page.format(pk) + query))
        assert counts[0] == counts[1], (page, counts)


def test_the_organisation_s_severity_orders_the_results(
    client_in: Client, repository: Repository
) -> None:
    Rule.objects.filter(rule_id="FW-004").update(severity_override="critical", weight_override=9)
    html = client_in.get(f"/scans/{repository.latest_scan_id}/").content.decode()
    assert _ids(html)[:2] == ["FW-004", "CFG-001"]  # both critical: 9 points before 8
