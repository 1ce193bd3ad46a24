"""The registration form starts on the user's own team, or asks them to choose one."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from dashboard.models import Membership, Repository
from tests.browserform import form_values
from tests.factories import MembershipFactory, TeamFactory

pytestmark = pytest.mark.django_db

CLONE_URL = "https://git.example.com/payments/billing.git"


def _selected_team(html: str) -> str | None:
    """The label of the team option the page pre-selects (None: the empty choice)."""
    select = html[html.index('<select name="team"') : html.index("</select>")]
    chosen = re.search(r'<option value="[^"]*" selected>([^<]*)</option>', select)
    return chosen.group(1) if chosen else None


def _submit_as_rendered(client: Client) -> tuple[str, str]:
    """Open the form, fill in only the clone URL, send it; the form's page and the answer."""
    page = client.get("/repositories/new/").content.decode()
    sent = form_values(page)
    sent["clone_url"] = [CLONE_URL]
    return page, client.post("/repositories/new/", sent).content.decode()


def test_a_maintainer_of_one_team_starts_on_it_and_registers_there(
    client: Client, personas: dict[str, object]
) -> None:
    TeamFactory(name="Aardvark", slug="aardvark")
    MembershipFactory(user=personas["maintainer"], team=TeamFactory(name="Accounts"))
    client.force_login(personas["maintainer"])  # type: ignore[arg-type]
    page, _answer = _submit_as_rendered(client)
    assert _selected_team(page) == "Payments"
    assert Repository.objects.get().team == personas["team"]


def test_an_admin_who_belongs_to_one_team_starts_on_it(
    client: Client, personas: dict[str, object]
) -> None:
    TeamFactory(name="Aardvark", slug="aardvark")
    admin = personas["admin"]
    MembershipFactory(user=admin, team=personas["team"], role=Membership.Role.MEMBER)
    client.force_login(admin)  # type: ignore[arg-type]
    assert _selected_team(client.get("/repositories/new/").content.decode()) == "Payments"


@pytest.mark.parametrize("who", ["maintainer of two teams", "admin of no team"])
def test_with_no_team_of_their_own_the_user_must_choose(
    client: Client, personas: dict[str, object], who: str
) -> None:
    user = personas["admin"] if who == "admin of no team" else personas["maintainer"]
    other = TeamFactory(name="Aardvark", slug="aardvark")
    if who == "maintainer of two teams":
        MembershipFactory(user=user, team=other, role=Membership.Role.MAINTAINER)
    client.force_login(user)  # type: ignore[arg-type]
    page, answer = _submit_as_rendered(client)
    assert '<option value="" selected>Choose a team</option>' in page
    assert _selected_team(page) == "Choose a team"
    assert "Choose the team the repository belongs to." in answer
    assert CLONE_URL in answer  # what they typed is kept
    assert not Repository.objects.exists()
