"""A maintainer edits a repository's settings, archives it and restores it from the team
page, in the browser; a bad folder is refused on its field with the input kept."""

from __future__ import annotations

from typing import Any

import pytest

from dashboard.models import AuditAction, AuditEvent, Membership, Repository
from tests.e2e.conftest import sign_in
from tests.factories import MembershipFactory, RepositoryFactory, TeamFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PASSWORD = "correct horse battery staple"  # the factories' password


def test_edit_archive_and_restore_a_repository(page: Any, live_server: Any) -> None:
    team = TeamFactory(name="Payments", slug="payments")
    repository = RepositoryFactory(team=team, name="ledger")
    maya = UserFactory(username="maya")
    MembershipFactory(user=maya, team=team, role=Membership.Role.MAINTAINER)

    sign_in(page, live_server.url, "maya", PASSWORD)
    page.goto(f"{live_server.url}/repositories/{repository.pk}/")
    page.click(".page-actions >> text=Settings")
    page.wait_for_selector("#settings-form")
    assert page.input_value("#id_name") == "ledger"

    page.fill("#id_name", "ledger-api")
    page.fill("#id_project_dir", "../outside")
    page.click("#settings-form button[type=submit]")
    assert "relative path inside the repository" in page.inner_text("#settings-form")
    assert page.input_value("#id_name") == "ledger-api"  # nothing typed is lost

    page.fill("#id_project_dir", "services/api")
    page.click("#settings-form button[type=submit]")
    page.wait_for_selector("text=Saved: name, project folder changed.")
    stored = Repository.objects.get(pk=repository.pk)
    assert (stored.name, stored.project_dir) == ("ledger-api", "services/api")

    page.click("#archive button[type=submit]")
    page.wait_for_selector("#archived-notice")
    assert not Repository.objects.get(pk=repository.pk).active

    page.goto(f"{live_server.url}/teams/payments/")
    assert not page.is_visible("#archived button")  # folded
    page.click("#archived summary")
    assert page.is_visible("#archived >> text=ledger-api (services/api)")
    page.click("#archived button:has-text('Restore')")
    page.wait_for_url(f"{live_server.url}/teams/payments/")
    page.wait_for_selector("text=is restored and counts again")
    assert page.locator("#archived").count() == 0
    assert Repository.objects.get(pk=repository.pk).active
    changed = AuditEvent.objects.filter(action=AuditAction.REPOSITORY_CHANGED).order_by("id")
    assert [set(e.details) for e in changed] == [{"name", "project_dir"}, {"active"}, {"active"}]
