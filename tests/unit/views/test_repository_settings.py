"""The repository settings page, archive and restore from the team page, transfers on the
team pages, and the registration form's remote check."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from dashboard.models import Membership, Repository, RepositoryTransfer
from dashboard.services.repos import transfers
from tests.factories import MembershipFactory, RepositoryFactory, TeamFactory, UserFactory
from tests.unit.dashboard.test_repository_lifecycle import scored

pytestmark = pytest.mark.django_db


@pytest.fixture
def ledger(personas: dict[str, Any]) -> dict[str, Any]:
    """Ledger, another team, with its maintainer Lena and its member Leo."""
    team = TeamFactory(name="Ledger", slug="ledger")
    lena, leo = UserFactory(username="lena"), UserFactory(username="leo")
    MembershipFactory(user=lena, team=team, role=Membership.Role.MAINTAINER)
    MembershipFactory(user=leo, team=team, role=Membership.Role.MEMBER)
    return {"team": team, "lena": lena, "leo": leo}


def _html(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def _queries(client: Client, url: str) -> int:
    client.get(url)  # warm the page cache
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_settings_page_shows_the_stored_values(
    client: Client, personas: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    repository = RepositoryFactory(team=personas["team"], name="ledger", project_dir="api")
    client.force_login(personas["maintainer"])
    with django_assert_max_num_queries(7):
        html = _html(client, f"/repositories/{repository.pk}/settings/")
    assert 'value="ledger"' in html
    assert 'value="api"' in html
    assert "Archive this repository" in html
    assert "Hand it to another team" in html


def test_an_edit_is_saved_and_said(client: Client, personas: dict[str, Any]) -> None:
    repository = RepositoryFactory(team=personas["team"], name="old")
    client.force_login(personas["maintainer"])
    url = f"/repositories/{repository.pk}/settings/"
    response = client.post(url, {"name": "new", "default_branch": "main", "project_dir": ""})
    assert response.status_code == 302
    assert "Saved: name changed." in _html(client, response["Location"])
    assert Repository.objects.get(pk=repository.pk).name == "new"


def test_a_bad_edit_says_why_on_its_field_and_keeps_the_input(
    client: Client, personas: dict[str, Any]
) -> None:
    first = RepositoryFactory(team=personas["team"], name="mono-a", project_dir="services/a")
    second = RepositoryFactory(team=personas["team"], name="mono-b", url_key=first.url_key)
    client.force_login(personas["maintainer"])
    response = client.post(
        f"/repositories/{second.pk}/settings/",
        {"name": "renamed", "default_branch": "main", "project_dir": "services/a"},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "already registered as &#x27;mono-a&#x27; by team &#x27;Payments&#x27;" in html
    assert 'value="renamed"' in html  # nothing typed is lost
    assert Repository.objects.get(pk=second.pk).name == "mono-b"


def test_archive_then_restore_from_the_team_page(client: Client, personas: dict[str, Any]) -> None:
    repository = scored(personas["team"], name="ledger-api")
    client.force_login(personas["maintainer"])
    response = client.post(f"/repositories/{repository.pk}/archive/")
    assert response.status_code == 302
    assert "is archived" in _html(client, response["Location"])
    assert 'id="archived-notice"' in _html(client, f"/repositories/{repository.pk}/")
    team_page = _html(client, "/teams/payments/")
    archived = team_page.split('id="archived"', 1)[1]
    assert "Archived (1)" in archived
    assert "ledger-api" in archived
    assert "Restore</button>" in archived
    response = client.post(f"/repositories/{repository.pk}/restore/", {"back": "team"})
    assert response["Location"] == "/teams/payments/"
    page = _html(client, "/teams/payments/")
    assert 'id="archived"' not in page
    assert "is restored and counts again" in page
    assert Repository.objects.get(pk=repository.pk).active


def test_members_see_the_archived_list_without_restore(
    client: Client, personas: dict[str, Any]
) -> None:
    RepositoryFactory(team=personas["team"], name="old-api", active=False)
    client.force_login(personas["member"])
    archived = _html(client, "/teams/payments/").split('id="archived"', 1)[1]
    assert "old-api" in archived
    assert "Restore" not in archived


def test_the_team_page_costs_the_same_queries_with_archived_rows_and_transfers(
    client: Client, personas: dict[str, Any], ledger: dict[str, Any]
) -> None:
    client.force_login(ledger["lena"])
    offered = scored(personas["team"])
    transfers.transfer_or_propose(personas["maintainer"], offered, ledger["team"])
    RepositoryFactory(team=ledger["team"], active=False)
    one = _queries(client, "/teams/ledger/")
    for _ in range(3):
        RepositoryFactory(team=ledger["team"], active=False)
        transfers.transfer_or_propose(
            personas["maintainer"], scored(personas["team"]), ledger["team"]
        )
    assert _queries(client, "/teams/ledger/") == one
    assert one <= 8, one  # session, user, team, permissions, archived, transfers


def test_a_proposal_waits_on_the_receiving_team_page_until_accepted(
    client: Client, personas: dict[str, Any], ledger: dict[str, Any]
) -> None:
    repository = scored(personas["team"], name="ledger-api")
    client.force_login(personas["maintainer"])
    response = client.post(
        f"/repositories/{repository.pk}/transfer/", {"to_team": ledger["team"].pk}
    )
    assert response.status_code == 302
    settings_page = _html(client, response["Location"])
    assert "Transfer proposed" in settings_page
    assert "Cancel the transfer" in settings_page
    assert "ledger-api" in _html(client, "/teams/payments/")  # warm the old team's cache
    client.force_login(ledger["leo"])  # a member of Ledger: no answer to give
    assert 'id="transfers"' not in _html(client, "/teams/ledger/")
    client.force_login(ledger["lena"])
    waiting = _html(client, "/teams/ledger/").split('id="transfers"', 1)[1]
    assert "ledger-api" in waiting
    assert "offered by <strong>Payments</strong> (maya)" in waiting
    proposal = RepositoryTransfer.objects.get()
    response = client.post(f"/transfers/{proposal.pk}/accept/")
    assert response["Location"] == "/teams/ledger/"
    page = _html(client, "/teams/ledger/")
    assert "transfer accepted, it is yours now" in page
    assert 'id="transfers"' not in page
    assert f'href="/repositories/{repository.pk}/"' in page  # in Ledger's table now
    # The old team's cached page no longer lists it.
    assert f'href="/repositories/{repository.pk}/"' not in _html(client, "/teams/payments/")


def test_a_decided_transfer_answered_again_says_so(
    client: Client, personas: dict[str, Any], ledger: dict[str, Any]
) -> None:
    proposal = transfers.transfer_or_propose(
        personas["maintainer"], scored(personas["team"], name="ledger-api"), ledger["team"]
    )
    assert proposal is not None
    transfers.decline(ledger["lena"], proposal)
    client.force_login(ledger["lena"])
    response = client.post(f"/transfers/{proposal.pk}/accept/", follow=True)
    assert "ledger-api: this transfer was declined already." in response.content.decode()


def test_a_transfer_without_a_team_is_refused_on_the_form(
    client: Client, personas: dict[str, Any]
) -> None:
    repository = RepositoryFactory(team=personas["team"])
    client.force_login(personas["maintainer"])
    response = client.post(f"/repositories/{repository.pk}/transfer/", {"to_team": ""})
    assert response.status_code == 400
    assert "Choose the team the repository goes to." in response.content.decode()
    assert not RepositoryTransfer.objects.exists()


@pytest.mark.remote_check
def test_the_register_form_says_why_the_host_refused_and_keeps_the_url(
    client: Client, personas: dict[str, Any], tmp_path: Path
) -> None:
    missing = tmp_path / "no-such-repository"
    client.force_login(personas["maintainer"])
    response = client.post(
        "/repositories/new/",
        {"team": personas["team"].pk, "clone_url": str(missing), "default_branch": "main"},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "The repository was not found: repository not found, or not accessible" in html
    assert f'value="{missing}"' in html
    assert not Repository.objects.exists()


def test_the_proposing_team_sees_its_offer_and_cancels_it(
    client: Client, personas: dict[str, Any], ledger: dict[str, Any]
) -> None:
    repository = scored(personas["team"], name="ledger-api")
    proposal = transfers.transfer_or_propose(personas["maintainer"], repository, ledger["team"])
    assert proposal is not None
    client.force_login(personas["maintainer"])
    waiting = _html(client, "/teams/payments/").split('id="transfers"', 1)[1]
    assert "offered to <strong>Ledger</strong>, waiting for its maintainers" in waiting
    assert "Accept" not in waiting  # the receiving side answers, not the proposing one
    response = client.post(f"/transfers/{proposal.pk}/cancel/")
    assert response["Location"] == "/teams/payments/"
    assert "ledger-api: transfer cancelled." in _html(client, "/teams/payments/")
    assert RepositoryTransfer.objects.get().status == RepositoryTransfer.Status.CANCELLED


def test_the_receiving_team_declines_and_keeps_nothing(
    client: Client, personas: dict[str, Any], ledger: dict[str, Any]
) -> None:
    repository = scored(personas["team"], name="ledger-api")
    proposal = transfers.transfer_or_propose(personas["maintainer"], repository, ledger["team"])
    assert proposal is not None
    client.force_login(ledger["lena"])
    response = client.post(f"/transfers/{proposal.pk}/decline/", follow=True)
    html = response.content.decode()
    assert "ledger-api: transfer declined." in html
    assert 'id="transfers"' not in html
    assert Repository.objects.get(pk=repository.pk).team == personas["team"]
