"""A team's Members page (/teams/<slug>/members/): the list for everyone signed in, the forms
for its maintainers, managers and admins, htmx and plain-HTML answers, refusals, query counts."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from dashboard.models import AuditEvent, Membership
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/teams/payments/members/"
HTMX = {"HX-Request": "true"}


def _as(client: Client, user: Any) -> Client:
    client.force_login(user)
    return client


def _pk(personas: dict[str, Any], role: str) -> int:
    return Membership.objects.get(team=personas["team"], user=personas[role]).pk


def _section(html: str) -> str:
    return html[html.index('<div id="members">') :]


def test_everyone_signed_in_sees_members_with_role_and_source(
    client: Client, personas: dict[str, Any]
) -> None:
    ivy = UserFactory(username="ivy", first_name="Ivy", last_name="Ito")
    MembershipFactory(team=personas["team"], user=ivy, source=Membership.Source.IDENTITY_PROVIDER)
    html = _as(client, personas["outsider"]).get(URL).content.decode()
    rows = _section(html)
    assert rows.index("maya") < rows.index("ivy") < rows.index("milo")  # maintainers first
    assert "Ivy Ito" in rows
    assert rows.count("from identity provider") == 1
    assert rows.count("added by hand") == 2
    assert "<form" not in rows  # no forms for those who may not use them
    assert "The team's maintainers, managers and admins add and remove members here." in rows


def test_the_team_page_links_to_its_members(client: Client, personas: dict[str, Any]) -> None:
    html = _as(client, personas["member"]).get("/teams/payments/").content.decode()
    assert 'href="/teams/payments/members/"' in html


@pytest.mark.parametrize("role", ["maintainer", "manager", "admin"])
def test_managers_of_members_get_the_forms_but_not_on_protected_rows(
    client: Client, personas: dict[str, Any], role: str
) -> None:
    ivy = UserFactory(username="ivy")
    mapped = MembershipFactory(
        team=personas["team"], user=ivy, source=Membership.Source.IDENTITY_PROVIDER
    )
    html = _section(_as(client, personas[role]).get(URL).content.decode())
    assert 'id="add-member"' in html
    milo = _pk(personas, "member")
    assert f'action="/teams/payments/members/{milo}/role/"' in html
    assert f'action="/teams/payments/members/{milo}/remove/"' in html
    assert f"/members/{mapped.pk}/" not in html  # the identity provider's row: no form
    assert f"/members/{_pk(personas, 'maintainer')}/" not in html  # the only maintainer
    assert "the only maintainer</span>" in html


def test_an_empty_team_says_so(client: Client, personas: dict[str, Any]) -> None:
    Membership.objects.all().delete()
    html = _as(client, personas["admin"]).get(URL).content.decode()
    assert "Nobody belongs to Payments yet. Add someone by username or e-mail address." in html
    html = _as(client, personas["outsider"]).get(URL).content.decode()
    assert "Nobody belongs to Payments yet.</p>" in html
    assert "The team's maintainers, managers and admins add and remove members here." in html


def test_the_page_costs_the_same_queries_however_many_members(
    client: Client, personas: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    _as(client, personas["maintainer"])
    client.get(URL)  # session and user loaded once, as on any page
    # session, user, team, "is a maintainer?", the members with their users
    with django_assert_max_num_queries(5) as few:
        assert client.get(URL).status_code == 200
    for n in range(30):
        MembershipFactory(team=personas["team"], user=UserFactory(username=f"extra{n}"))
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(URL)
    assert response.content.decode().count('<tr id="member-') == 32


def test_add_change_and_remove_with_plain_forms(client: Client, personas: dict[str, Any]) -> None:
    UserFactory(username="nina", email="nina@example.com")
    _as(client, personas["maintainer"])

    added = client.post(URL, {"user": "NINA@example.com", "role": "member"}, follow=True)
    assert added.redirect_chain == [(URL, 302)]
    assert "nina added to Payments as a member." in added.content.decode()
    nina = Membership.objects.get(user__username="nina")

    promoted = client.post(f"{URL}{nina.pk}/role/", {"role": "maintainer"}, follow=True)
    assert "nina is now a maintainer." in promoted.content.decode()
    removed = client.post(f"{URL}{nina.pk}/remove/", follow=True)
    assert "nina is no longer a member of Payments." in removed.content.decode()
    assert not Membership.objects.filter(pk=nina.pk).exists()
    actions = list(AuditEvent.objects.order_by("id").values_list("action", flat=True))
    assert actions == ["membership.added", "membership.changed", "membership.removed"]


def test_htmx_posts_answer_the_fresh_section(
    client: Client, personas: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    UserFactory(username="nina")
    _as(client, personas["maintainer"])
    client.get(URL)
    with django_assert_max_num_queries(14):
        response = client.post(URL, {"user": "nina", "role": "maintainer"}, headers=HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="members">')
    assert "<html" not in html
    assert "nina added to Payments as a maintainer." in html
    assert 'name="user"' in html
    assert 'value="nina"' not in html  # a fresh form
    # With two maintainers, maya's own row now offers the forms.
    assert f"/members/{_pk(personas, 'maintainer')}/role/" in html


@pytest.mark.parametrize(
    ("typed", "error"),
    [
        ("", "Type a username or an e-mail address."),
        ("nobody", "No account has the username or e-mail address “nobody”."),
        ("milo", "milo is already a member of Payments."),
    ],
)
def test_bad_additions_show_the_error_and_keep_the_input(
    client: Client, personas: dict[str, Any], typed: str, error: str
) -> None:
    _as(client, personas["maintainer"])
    before = list(Membership.objects.values_list("pk", "role"))
    plain = client.post(URL, {"user": typed, "role": "maintainer"})
    assert plain.status_code == 400
    html = plain.content.decode()
    assert f'<div class="field-error" role="alert">{error}</div>' in html
    if typed:
        assert f'value="{typed}"' in html  # nothing lost
    assert '<option value="maintainer" selected>' in html  # the chosen role kept
    htmx = client.post(URL, {"user": typed, "role": "maintainer"}, headers=HTMX)
    assert htmx.status_code == 200  # htmx swaps only 2xx: the refusal shows in the section
    assert error in htmx.content.decode()
    assert list(Membership.objects.values_list("pk", "role")) == before
    assert not AuditEvent.objects.exists()


def test_the_last_maintainer_is_kept_with_a_clear_error(
    client: Client, personas: dict[str, Any]
) -> None:
    _as(client, personas["maintainer"])
    maya = _pk(personas, "maintainer")
    for url, data in ((f"{URL}{maya}/role/", {"role": "member"}), (f"{URL}{maya}/remove/", {})):
        response = client.post(url, data)
        assert response.status_code == 400
        assert "maya is the team&#x27;s only maintainer" in response.content.decode()
        htmx = client.post(url, data, headers=HTMX)
        assert htmx.status_code == 200
        assert 'id="members-error"' in htmx.content.decode()
    assert Membership.objects.get(pk=maya).role == "maintainer"


def test_identity_provider_memberships_are_refused_with_403(
    client: Client, personas: dict[str, Any]
) -> None:
    milo = _pk(personas, "member")
    Membership.objects.filter(pk=milo).update(source=Membership.Source.IDENTITY_PROVIDER)
    _as(client, personas["admin"])
    for url, data in ((f"{URL}{milo}/role/", {"role": "maintainer"}), (f"{URL}{milo}/remove/", {})):
        response = client.post(url, data)
        assert response.status_code == 403
        assert "comes from the identity provider" in response.content.decode()
    assert Membership.objects.get(pk=milo).role == "member"
    assert not AuditEvent.objects.exists()


def test_a_bad_role_is_a_400(client: Client, personas: dict[str, Any]) -> None:
    _as(client, personas["maintainer"])
    response = client.post(f"{URL}{_pk(personas, 'member')}/role/", {"role": "owner"})
    assert response.status_code == 400
    assert "Choose a role: member or maintainer." in response.content.decode()


def test_another_teams_membership_is_not_found_through_this_team(
    client: Client, personas: dict[str, Any]
) -> None:
    other = MembershipFactory(team__slug="ledger", team__name="Ledger")
    MembershipFactory(team=other.team, role="maintainer", user=personas["maintainer"])
    _as(client, personas["maintainer"])
    assert client.post(f"{URL}{other.pk}/remove/").status_code == 404
    assert client.post(f"{URL}999999/remove/").status_code == 404
    assert client.get("/teams/nope/members/").status_code == 404
    assert Membership.objects.filter(pk=other.pk).exists()


def test_members_and_outsiders_are_refused_before_anything_is_read(
    client: Client, personas: dict[str, Any]
) -> None:
    for role in ("member", "outsider"):
        _as(client, personas[role])
        assert client.post(URL, {"user": "otto"}).status_code == 403
        assert client.post(f"{URL}{_pk(personas, 'member')}/remove/").status_code == 403
        assert client.post(f"{URL}999999/remove/").status_code == 403  # no probing of ids
    assert Membership.objects.count() == 2
