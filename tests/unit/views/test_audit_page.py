"""The audit log page and its CSV: administrators only, filters, htmx, flat query counts."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.db import transaction
from django.test import Client

from dashboard.models import AuditEvent, Team
from dashboard.services.access import audit
from tests.factories import TeamFactory

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def _events(count: int, team: Team, action: str = "token.created", actor: str = "ci-bot") -> None:
    with transaction.atomic():
        for n in range(count):
            audit.record(
                AuditEvent.Action(action),
                actor=actor,
                target_label=f"target {n}",
                team=team,
                details={"n": n},
            )


@pytest.fixture
def admin_client(client: Client, personas: dict[str, Any]) -> Client:
    client.force_login(personas["admin"])
    return client


@pytest.mark.parametrize("who", ["member", "maintainer", "outsider", "manager"])
def test_only_admins_see_the_audit_log(client: Client, personas: dict[str, Any], who: str) -> None:
    _events(1, personas["team"])
    client.force_login(personas[who])
    for url in ("/audit/", "/exports/audit.csv"):
        response = client.get(url)
        assert response.status_code == 403, url
        assert b"ci-bot" not in response.content
    assert "/audit/" not in client.get("/").content.decode()  # no link in the nav either


def test_anonymous_is_sent_to_sign_in(client: Client) -> None:
    for url in ("/audit/", "/exports/audit.csv"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


def test_admin_sees_events_newest_first_and_the_nav_link(
    admin_client: Client, personas: dict[str, Any]
) -> None:
    _events(3, personas["team"])
    html = admin_client.get("/audit/").content.decode()
    assert html.index("target 2") < html.index("target 1") < html.index("target 0")
    assert "API token created" in html
    assert 'href="/audit/"' in admin_client.get("/").content.decode()


def test_filters_by_action_team_and_text(admin_client: Client, personas: dict[str, Any]) -> None:
    other = TeamFactory(name="Search", slug="search")
    _events(2, personas["team"], "waiver.granted", actor="maya")
    _events(1, other, "token.revoked", actor="ada")
    html = admin_client.get("/audit/?action=token.revoked").content.decode()
    assert "API token revoked" in html
    assert "Waiver granted</td>" not in html
    html = admin_client.get("/audit/?team=payments").content.decode()
    assert html.count("<tr>") - 1 == 2  # header row + two events
    html = admin_client.get("/audit/?q=ADA").content.decode()
    assert html.count("<tr>") - 1 == 1
    html = admin_client.get("/audit/?action=no.such&team=nobody").content.decode()
    assert "No event matches these filters." in html


def test_htmx_gets_only_the_table_and_pagination_works(
    admin_client: Client, personas: dict[str, Any]
) -> None:
    _events(60, personas["team"])
    response = admin_client.get("/audit/?page=2", headers=HTMX)
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="audit-table">')
    assert "<html" not in html
    assert "Page 2 of 2" in html
    assert html.count("<tr>") - 1 == 10
    assert admin_client.get("/audit/?page=zzz").status_code == 200


def test_query_counts_do_not_grow_with_the_log(
    admin_client: Client,
    personas: dict[str, Any],
    django_assert_num_queries: Any,
) -> None:
    _events(3, personas["team"])
    # session, user, count, page of events (teams joined), teams for the filter
    with django_assert_num_queries(5):
        assert admin_client.get("/audit/").status_code == 200
    with django_assert_num_queries(4):
        assert admin_client.get("/audit/", headers=HTMX).status_code == 200
    for n in range(5):
        _events(30, TeamFactory(), "repository.registered", actor=f"user{n}")
    with django_assert_num_queries(5):
        assert admin_client.get("/audit/?page=2").status_code == 200
    with django_assert_num_queries(4):
        assert admin_client.get("/audit/?page=3", headers=HTMX).status_code == 200


def test_csv_export_follows_the_filters_and_neutralises_formulas(
    admin_client: Client, personas: dict[str, Any]
) -> None:
    _events(2, personas["team"], "waiver.granted", actor="=HYPERLINK(evil)")
    _events(1, personas["team"], "token.created")
    response = admin_client.get("/exports/audit.csv?action=waiver.granted")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "yardstick-audit-" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == [
        "when",
        "actor",
        "action",
        "target_type",
        "target_id",
        "target",
        "team",
        "details",
        "source_ip",
        "request_id",
    ]
    assert len(rows) == 3
    assert {row[1] for row in rows[1:]} == {"'=HYPERLINK(evil)"}
    assert {row[2] for row in rows[1:]} == {"waiver.granted"}
    assert rows[1][6] == "payments"
    assert rows[1][7] == '{"n":1}'
