"""The teams index, the waiver and attestation registers, the exports page and the API docs
link: content, filters, empty states, permissions, CSV equal to the page, flat query counts."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dashboard.models import Repository, Rule, Team
from tests.factories import (
    AttestationFactory,
    RepositoryFactory,
    TeamFactory,
    UserFactory,
    WaiverFactory,
)
from tests.orgdata import build_org

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
PAGES = ("/teams/", "/waivers/", "/attestations/", "/exports/")


@pytest.fixture
def member(client: Client, personas: dict[str, Any]) -> Client:
    client.force_login(personas["member"])
    return client


def _rule(rule_id: str) -> Rule:
    return Rule.objects.get(standard__key="python-backend", rule_id=rule_id)


def _csv(response: Any) -> list[dict[str, str]]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


def _rows(html: str) -> list[str]:
    """The register's table rows (tbody), each as its text."""
    body = html[html.index("<tbody>") : html.index("</tbody>")]
    return [
        re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip() for row in body.split("<tr>")[1:]
    ]


@pytest.fixture
def governance(personas: dict[str, Any]) -> dict[str, Any]:
    """Waivers in force (one expiring soon), expired and revoked, over two teams; attestations."""
    now = timezone.now()
    payments, search = personas["team"], TeamFactory(name="Search", slug="search")
    api = RepositoryFactory(team=payments, name="payments-api")
    indexer = RepositoryFactory(team=search, name="indexer")
    maya = personas["maintainer"]
    made = {
        "soon": WaiverFactory(
            repository=api,
            rule=_rule("DEP-002"),
            approved_by=maya,
            reason="Pinned until the vendor ships 2.0",
            expires_at=now + timedelta(days=5),
        ),
        "later": WaiverFactory(
            repository=indexer,
            rule=_rule("LAY-001"),
            reason="Legacy layout, rewrite planned",
            expires_at=now + timedelta(days=90),
        ),
        "expired": WaiverFactory(
            repository=api,
            rule=_rule("LAY-001"),
            reason="Old exception",
            expires_at=now - timedelta(days=3),
        ),
        "revoked": WaiverFactory(
            repository=indexer,
            rule=_rule("DEP-002"),
            reason="Withdrawn exception",
            expires_at=now + timedelta(days=40),
            revoked_at=now - timedelta(hours=1),
        ),
        "attested": AttestationFactory(
            repository=api,
            rule=_rule("DEP-002"),
            attested_by=maya,
            evidence_url="https://wiki.example.com/evidence/payments",
            note="Reviewed by security",
        ),
        "attest_revoked": AttestationFactory(
            repository=indexer,
            rule=_rule("LAY-001"),
            evidence_url="https://wiki.example.com/evidence/indexer",
            revoked_at=now - timedelta(days=1),
        ),
    }
    return made


# ----- teams index ------------------------------------------------------------------------
def test_teams_index_lists_every_team_with_score_level_and_csv(member: Client) -> None:
    teams = build_org(teams=2, repositories=2)
    html = member.get("/teams/").content.decode()
    for team in teams:
        assert f'href="/teams/{team.slug}/"' in html
        assert team.name in html
    assert 'href="/exports/organisation.csv"' in html
    assert "30 days" in html
    # The overview's table, row for row: one partial, one selector.
    overview = member.get("/?sort=name").content.decode()
    index = member.get("/teams/?sort=name").content.decode()

    def table(page: str) -> str:
        return page[page.index('<div id="teams-table">') : page.index("</table>")]

    assert table(index) == table(overview)
    assert "Payments" in table(index)


def test_teams_index_sorts_searches_and_answers_htmx_with_the_table(member: Client) -> None:
    teams = build_org(teams=3, repositories=1)
    first = teams[0]
    html = member.get(f"/teams/?q={first.name}").content.decode()
    assert first.name in html
    assert all(team.name not in html for team in teams[1:])
    fragment = member.get("/teams/?sort=-name", headers=HTMX).content.decode()
    assert fragment.lstrip().startswith('<div id="teams-table">')
    assert "<html" not in fragment
    names = sorted([t.name for t in teams] + ["Payments"], reverse=True)
    positions = [fragment.index(f">{name}</a>") for name in names]
    assert positions == sorted(positions)
    assert 'hx-push-url="true"' in fragment
    nothing = member.get("/teams/?q=no-such-team").content.decode()
    assert "No team matches" in nothing


def test_teams_index_empty_state(client: Client) -> None:
    client.force_login(UserFactory())
    html = client.get("/teams/").content.decode()
    assert "No teams yet" in html
    assert 'id="teams-table"' not in html


# ----- registers --------------------------------------------------------------------------
def test_waiver_register_shows_every_waiver_with_its_status_and_links(
    member: Client, governance: dict[str, Any]
) -> None:
    html = member.get("/waivers/").content.decode()
    rows = _rows(html)
    assert len(rows) == 4
    # In force first, soonest expiry first; then the most recently ended.
    assert rows[0].startswith("Payments payments-api DEP-002")
    assert "maya" in rows[0]
    assert "Pinned until the vendor ships 2.0" in rows[0]
    assert rows[0].endswith("in force")
    assert rows[1].startswith("Search indexer LAY-001")
    assert rows[1].endswith("in force")
    assert rows[2].startswith("Search indexer DEP-002")
    assert rows[2].endswith("revoked")
    assert rows[3].startswith("Payments payments-api LAY-001")
    assert rows[3].endswith("expired")
    soon = governance["soon"]
    assert f'href="/repositories/{soon.repository_id}/"' in html
    assert 'href="/rules/DEP-002/"' in html
    assert soon.expires_at.date().isoformat() in rows[0]
    assert soon.created_at.date().isoformat() in rows[0]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("expiry=in_force", {"soon", "later"}),
        ("expiry=expiring", {"soon"}),
        ("expiry=expired", {"expired"}),
        ("expiry=revoked", {"revoked"}),
        ("team=search", {"later", "revoked"}),
        ("rule=dep-002", {"soon", "revoked"}),
        ("team=payments&rule=LAY-001&expiry=expired", {"expired"}),
        ("expiry=bogus", {"soon", "later", "expired", "revoked"}),
    ],
)
def test_waiver_filters_and_the_csv_agree(
    member: Client, governance: dict[str, Any], query: str, expected: set[str]
) -> None:
    reasons = {name: governance[name].reason for name in expected}
    html = member.get(f"/waivers/?{query}").content.decode()
    rows = _rows(html)
    assert len(rows) == len(expected), rows
    assert all(any(reason in row for row in rows) for reason in reasons.values())
    # The CSV link carries the filters, and the CSV holds the same rows in the same order.
    link = re.search(r'href="(/exports/waivers\.csv[^"]*)"', html)
    assert link
    exported = _csv(member.get(link.group(1).replace("&amp;", "&")))
    assert [row["reason"] for row in exported] == [
        next(r for r in reasons.values() if r in row) for row in rows
    ]
    for row, shown in zip(exported, rows, strict=True):
        assert shown.startswith(f"{row['team']} {row['repository']} {row['rule']}")
        assert shown.endswith(row["status"])
        assert row["expires_at"][:10] in shown


def test_waiver_csv_columns(member: Client, governance: dict[str, Any]) -> None:
    rows = _csv(member.get("/exports/waivers.csv?expiry=expiring"))
    assert rows == [
        {
            "team": "Payments",
            "repository": "payments-api",
            "repository_id": str(governance["soon"].repository_id),
            "rule": "DEP-002",
            "granted_by": "maya",
            "reason": "Pinned until the vendor ships 2.0",
            "granted_at": rows[0]["granted_at"],
            "expires_at": rows[0]["expires_at"],
            "revoked_at": "",
            "status": "in force",
        }
    ]
    assert rows[0]["expires_at"].endswith("Z")


def test_filters_push_the_url_and_htmx_gets_only_the_table(
    member: Client, governance: dict[str, Any]
) -> None:
    page = member.get("/waivers/").content.decode()
    assert 'hx-get="/waivers/"' in page
    assert 'hx-push-url="true"' in page
    assert 'hx-target="#register-table"' in page
    fragment = member.get("/waivers/?expiry=expired", headers=HTMX).content.decode()
    assert fragment.lstrip().startswith('<div id="register-table">')
    assert "<html" not in fragment
    assert "Old exception" in fragment
    assert "Withdrawn exception" not in fragment
    assert 'href="/exports/waivers.csv?expiry=expired"' in fragment
    # Bookmarked: the whole page with the filter chosen.
    bookmarked = member.get("/waivers/?expiry=expired").content.decode()
    assert '<option value="expired" selected>' in bookmarked
    assert "Withdrawn exception" not in bookmarked


def test_attestation_register_and_csv(member: Client, governance: dict[str, Any]) -> None:
    html = member.get("/attestations/").content.decode()
    rows = _rows(html)
    assert len(rows) == 2
    assert rows[0].startswith("Payments payments-api DEP-002")
    assert " maya https://wiki.example.com/evidence/payments" in rows[0]
    assert rows[0].endswith("in force")
    assert rows[1].endswith("revoked")
    assert 'href="https://wiki.example.com/evidence/payments"' in html
    assert "Reviewed by security" in html
    exported = _csv(member.get("/exports/attestations.csv?expiry=revoked"))
    assert [(r["repository"], r["evidence_url"], r["status"]) for r in exported] == [
        ("indexer", "https://wiki.example.com/evidence/indexer", "revoked")
    ]
    assert len(_rows(member.get("/attestations/?team=payments").content.decode())) == 1


def test_registers_empty_states(member: Client) -> None:
    waivers = member.get("/waivers/").content.decode()
    assert "No waiver granted yet" in waivers
    attestations = member.get("/attestations/").content.decode()
    assert "No attestation recorded yet" in attestations
    filtered = member.get("/waivers/?expiry=expired").content.decode()
    assert "No waiver matches these filters." in filtered
    assert _csv(member.get("/exports/waivers.csv")) == []


def test_a_formula_in_a_reason_is_neutralised(member: Client, personas: dict[str, Any]) -> None:
    WaiverFactory(
        repository=RepositoryFactory(team=personas["team"]),
        rule=_rule("DEP-002"),
        reason="=HYPERLINK(1)",
    )
    assert _csv(member.get("/exports/waivers.csv"))[0]["reason"] == "'=HYPERLINK(1)"


@pytest.mark.parametrize("who", ["outsider", "member", "maintainer", "manager", "admin"])
def test_every_signed_in_user_reads_the_registers(
    client: Client, personas: dict[str, Any], governance: dict[str, Any], who: str
) -> None:
    client.force_login(personas[who])
    for url in ("/waivers/", "/attestations/"):
        assert client.get(url).status_code == 200
    assert len(_csv(client.get("/exports/waivers.csv"))) == 4


def test_anonymous_is_sent_to_sign_in(client: Client) -> None:
    urls = (*PAGES, "/exports/waivers.csv", "/exports/attestations.csv")
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/")


# ----- exports page -----------------------------------------------------------------------
def test_exports_page_lists_every_csv(member: Client, personas: dict[str, Any]) -> None:
    html = member.get("/exports/").content.decode()
    for url in (
        "/exports/organisation.csv",
        "/exports/history.csv",
        "/exports/results.csv",
        "/exports/initiatives.csv",
        "/exports/waivers.csv",
        "/exports/attestations.csv",
    ):
        assert url in html, url
    assert '<option value="payments">Payments</option>' in html
    assert '<option value="DEP-002">' in html
    assert "/exports/audit.csv" not in html  # administrators only


def test_exports_page_offers_the_audit_log_to_admins(
    client: Client, personas: dict[str, Any]
) -> None:
    client.force_login(personas["admin"])
    assert "/exports/audit.csv" in client.get("/exports/").content.decode()


def test_team_and_rule_pickers_lead_to_their_csv(member: Client, personas: dict[str, Any]) -> None:
    response = member.get("/exports/?csv=team&team=payments")
    assert response.status_code == 302
    assert response["Location"] == "/exports/teams/payments.csv"
    assert member.get(response["Location"]).status_code == 200
    response = member.get("/exports/?csv=rule&rule=dep-002")
    assert response["Location"] == "/exports/rules/DEP-002.csv"
    assert member.get("/exports/?csv=team&team=nobody").status_code == 404
    assert member.get("/exports/?csv=rule&rule=NOPE-1").status_code == 404
    assert member.get("/exports/?csv=other").status_code == 200  # the page itself


# ----- navigation -------------------------------------------------------------------------
def test_the_navigation_links_the_new_pages(member: Client) -> None:
    html = member.get("/").content.decode()
    nav = html[html.index('<nav aria-label="Main"') : html.index("</nav>")]
    for url in ("/teams/", "/waivers/", "/exports/"):
        assert f'href="{url}"' in nav


@pytest.mark.parametrize("debug", [True, False])
def test_api_docs_are_linked_beside_the_username_for_every_signed_in_user(
    member: Client, settings: Any, debug: bool
) -> None:
    """The server-rendered reference (/api/), DEBUG or not; in the user area, not the main
    navigation. The Swagger page itself stays development only."""
    settings.DEBUG = debug
    html = member.get("/").content.decode()
    user_area = html[html.index('<form class="signout"') : html.index("</form>")]
    nav = html[html.index('<nav aria-label="Main"') : html.index("</nav>")]
    assert '<a href="/api/">API docs</a>' in user_area
    assert 'href="/api/"' not in nav
    assert "/api/v1/docs" not in html
    assert member.get("/api/").status_code == 200
    assert member.get("/api/v1/docs").status_code == (200 if debug else 404)


def test_api_docs_are_not_linked_for_anonymous_visitors(client: Client) -> None:
    html = client.get("/accounts/login/").content.decode()
    assert 'href="/api/"' not in html


def test_the_exports_page_links_the_api_reference(member: Client) -> None:
    html = member.get("/exports/").content.decode()
    assert 'The same data as JSON: <a href="/api/">API reference</a>' in html


# ----- query counts -----------------------------------------------------------------------
def _count(client: Client, url: str, **headers: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, headers=headers)
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
    assert response.status_code == 200, url
    return len(queries)


URLS = (
    ("/teams/", {}),
    ("/teams/?sort=-score&q=e", HTMX),
    ("/waivers/", {}),
    ("/waivers/?expiry=in_force", HTMX),
    ("/attestations/?expiry=in_force", {}),
    ("/exports/", {}),
    ("/api/", {}),
    ("/exports/waivers.csv", {}),
    ("/exports/attestations.csv?expiry=revoked", {}),
)


def _more_governance(count: int) -> None:
    for repository in Repository.objects.all()[:count]:
        WaiverFactory(repository=repository, rule=_rule("LAY-001"))
        AttestationFactory(repository=repository, rule=_rule("DEP-002"))


@pytest.mark.slow
def test_query_counts_do_not_grow_with_the_data(member: Client, personas: dict[str, Any]) -> None:
    build_org(teams=1, repositories=2, days=2)
    _more_governance(2)
    small = [_count(member, url, **headers) for url, headers in URLS]
    build_org(teams=3, repositories=3, days=2, seed=11)
    _more_governance(20)
    TeamFactory.create_batch(3)
    large = [_count(member, url, **headers) for url, headers in URLS]
    assert small == large, list(zip(URLS, small, large, strict=True))
    assert Team.objects.count() > 5


def test_every_form_of_the_exports_page_downloads_as_submitted_empty(
    member: Client, governance: dict[str, Any]
) -> None:
    html = member.get("/exports/").content.decode()
    forms = re.findall(
        r'<form class="filters" method="get" action="([^"]+)">(.*?)</form>', html, re.S
    )
    direct = {action: form for action, form in forms if action.endswith(".csv")}
    assert set(direct) == {
        "/exports/history.csv",
        "/exports/results.csv",
        "/exports/waivers.csv",
        "/exports/attestations.csv",
    }
    for action, form in direct.items():
        names = re.findall(r'<(?:select|input)[^>]* name="([^"]+)"', form)
        values = re.findall(r'<input[^>]* name="([^"]+)" value="([^"]*)"', form)
        query = {name: "" for name in names} | dict(values)
        if action == "/exports/history.csv":
            query["scope"] = "team"  # the first option, as a browser sends it
        response = member.get(action, query)
        assert response.status_code == 200, (action, query)
        assert response["Content-Type"].startswith("text/csv")
    waivers = _csv(member.get("/exports/waivers.csv", {"team": "", "expiry": ""}))
    assert len(waivers) == 4
