"""The weekly digest's pages: /digest/ (turn each digest on or off) and /digest/preview/
(exactly what is sent), their refusals and their query counts."""

from __future__ import annotations

from html import escape
from typing import Any

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from dashboard.models import Delivery, DigestSubscription
from dashboard.services.notify import weekly
from dashboard.services.notify.events import save_team_settings
from dashboard.tasks import deliver_notification
from tests.factories import MembershipFactory, RepositoryFactory
from tests.orgdata import build_org

pytestmark = pytest.mark.django_db


def _as(client: Client, user: Any) -> Client:
    client.force_login(user)
    return client


def _scopes(html: str) -> list[str]:
    table = html[html.index('id="digest-scopes"') :]
    return [part.split('"')[0] for part in table.split('name="scope" value="')[1:]]


def test_the_page_offers_each_role_the_digests_it_may_receive(
    client: Client, personas: dict[str, Any]
) -> None:
    expected = {
        "manager": ["org"],
        "maintainer": ["payments"],
        "admin": ["org", "payments"],
        "member": [],
        "outsider": [],
    }
    for role, scopes in expected.items():
        html = _as(client, personas[role]).get("/digest/").content.decode()
        assert _scopes(html) == scopes, role
        if not scopes:
            assert "there is none for you to turn on" in html


def test_turning_a_digest_on_then_off(client: Client, personas: dict[str, Any]) -> None:
    _as(client, personas["maintainer"])

    response = client.post("/digest/", {"scope": "payments", "enabled": "on"}, follow=True)

    html = response.content.decode()
    assert "The weekly digest of Payments is on." in html
    assert "<td>On</td>" in html
    assert ">Turn off</button>" in html
    assert DigestSubscription.objects.get(user=personas["maintainer"]).enabled

    html = client.post("/digest/", {"scope": "payments"}, follow=True).content.decode()

    assert "The weekly digest of Payments is off." in html
    assert not DigestSubscription.objects.get(user=personas["maintainer"]).enabled


def test_a_maintainer_is_told_only_managers_receive_the_organisation_digest(
    client: Client, personas: dict[str, Any]
) -> None:
    response = _as(client, personas["maintainer"]).post(
        "/digest/", {"scope": "org", "enabled": "on"}
    )

    assert response.status_code == 403
    assert (
        "Only managers may subscribe to the organisation&#x27;s weekly digest."
        in response.content.decode()
    )
    assert not DigestSubscription.objects.exists()


def test_a_bad_subscription_request_is_refused(client: Client, personas: dict[str, Any]) -> None:
    _as(client, personas["manager"])
    assert client.post("/digest/", {"scope": "no-such-team", "enabled": "on"}).status_code == 404
    assert client.post("/digest/", {"enabled": "on"}).status_code == 400
    assert not DigestSubscription.objects.exists()


def _deliver() -> None:
    for pk in Delivery.objects.values_list("pk", flat=True):
        assert deliver_notification(pk) == Delivery.Status.SENT


@pytest.mark.parametrize("of", ["organisation", "team"])
def test_the_preview_shows_exactly_what_is_sent(
    client: Client, personas: dict[str, Any], of: str
) -> None:
    [team] = build_org(teams=1, repositories=3, days=9)  # a week of daily scans
    MembershipFactory(user=personas["maintainer"], team=team, role="maintainer")
    user = personas["manager"] if of == "organisation" else personas["maintainer"]
    scope = "org" if of == "organisation" else team.slug
    _as(client, user).post("/digest/", {"scope": scope, "enabled": "on"})

    html = client.get(f"/digest/preview/?scope={scope}").content.decode()
    assert weekly.send_weekly_digests() == 1
    _deliver()

    [message] = mail.outbox
    [(name, content, _)] = message.attachments
    assert f'<dd id="digest-subject">{escape(message.subject)}</dd>' in html
    assert f'<pre id="digest-body" class="digest-body">{escape(message.body)}</pre>' in html
    size = len(content.encode())
    assert f'<dd id="digest-attachment">{name} ({size} bytes)</dd>' in html
    assert "Moved up:" in message.body  # the scans moved: a week with content
    assert message.subject.startswith("[Yardstick] Weekly digest of ")


def test_the_preview_says_the_teams_slack_channel_gets_it_too(
    client: Client, personas: dict[str, Any]
) -> None:
    _as(client, personas["maintainer"])
    assert "Slack" not in client.get("/digest/preview/?scope=payments").content.decode()
    save_team_settings(
        personas["maintainer"],
        personas["team"],
        emails="",
        slack_url="https://hooks.example.com/services/T/B/x",
    )
    html = client.get("/digest/preview/?scope=payments").content.decode()
    assert "what the team's Slack channel would get" in html


def test_the_preview_is_for_those_who_may_receive_it(
    client: Client, personas: dict[str, Any]
) -> None:
    response = _as(client, personas["member"]).get("/digest/preview/?scope=payments")
    assert response.status_code == 403
    assert "Only Payments&#x27;s maintainers may subscribe" in response.content.decode()
    response = _as(client, personas["maintainer"]).get("/digest/preview/?scope=org")
    assert response.status_code == 403
    assert client.get("/digest/preview/?scope=no-such-team").status_code == 404
    # Without a scope: the first the user may receive (a maintainer: the team's).
    html = client.get("/digest/preview/").content.decode()
    assert "<h1>Preview: Payments</h1>" in html
    response = _as(client, personas["outsider"]).get("/digest/preview/")
    assert response.status_code == 403
    assert "You receive no weekly digest to preview." in response.content.decode()


def _count(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.content[:300]
    return len(queries)


@pytest.mark.slow
def test_the_digest_pages_queries_stay_flat(client: Client, personas: dict[str, Any]) -> None:
    admin = _as(client, personas["admin"])  # sees the organisation's and every team's
    [team] = build_org(teams=1, repositories=2, days=9)
    urls = ("/digest/", "/digest/preview/?scope=org", f"/digest/preview/?scope={team.slug}")
    small = [_count(admin, url) for url in urls]
    build_org(teams=3, repositories=4, days=9, seed=11)
    RepositoryFactory.create_batch(3, team=team)  # onboarded, never scanned
    admin.post("/digest/", {"scope": "org", "enabled": "on"})
    admin.post("/digest/", {"scope": team.slug, "enabled": "on"})
    large = [_count(admin, url) for url in urls]
    assert small == large, (small, large)
