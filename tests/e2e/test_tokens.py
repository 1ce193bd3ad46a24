"""A person creates an API token from the user menu on a phone, copies it with the button,
uses it, then revokes it after confirming (production mode: the CSP allows no inline script)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from dashboard.models import ApiToken, Membership
from tests.e2e.conftest import sign_in
from tests.factories import MembershipFactory, TeamFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PASSWORD = "correct horse battery staple"  # the factories' password
PHONE = {"width": 390, "height": 844}


def test_create_copy_use_and_revoke_a_token(page: Any, live_server: Any, settings: Any) -> None:
    settings.DEBUG = False
    maya = UserFactory(username="maya")
    team = TeamFactory(name="Payments and Settlements Platform")
    MembershipFactory(user=maya, team=team, role=Membership.Role.MAINTAINER)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    sign_in(page, live_server.url, "maya", PASSWORD)
    page.set_viewport_size(PHONE)
    page.click("form.signout >> text=API tokens")
    page.wait_for_url(f"{live_server.url}/tokens/")
    assert page.is_visible("text=You have no API tokens yet.")

    page.fill("#id_name", "GitHub Actions for the settlement reconciliation service")
    page.check("input[name=scope][value=write]")
    page.select_option("#id_team", label=team.name)
    page.click("text=Create token")
    secret = page.inner_text("#new-token").strip()
    token = ApiToken.objects.get(owner=maya)
    assert secret.startswith(token.prefix)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.click("text=Copy to clipboard")
    page.wait_for_selector("text=Copied.")
    assert page.evaluate("navigator.clipboard.readText()") == secret

    headers = {"Authorization": f"Bearer {secret}"}
    assert Client().get("/api/v1/teams", headers=headers).status_code == 200
    page.goto(f"{live_server.url}/tokens/")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert not page.is_visible("text=Revoke “GitHub")  # behind the confirmation
    page.click("summary:has-text('Revoke…')")
    page.click("button:has-text('Revoke “GitHub')")
    page.wait_for_selector("text=revoked: it no longer works")
    assert page.is_visible(".status-revoked")
    assert Client().get("/api/v1/teams", headers=headers).status_code == 401
