"""A maintainer opens the team's Members page from the team page, adds someone by e-mail,
makes them a maintainer and removes them, each through htmx without leaving the page; the
identity provider's membership offers no button; the page fits a phone."""

from __future__ import annotations

from typing import Any

import pytest

from dashboard.models import AuditEvent, Membership
from tests.e2e.conftest import sign_in
from tests.factories import MembershipFactory, TeamFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PASSWORD = "correct horse battery staple"  # the factories' password


def test_add_promote_and_remove_a_member(page: Any, live_server: Any) -> None:
    team = TeamFactory(name="Payments", slug="payments")
    maya = UserFactory(username="maya")
    MembershipFactory(team=team, user=maya, role=Membership.Role.MAINTAINER)
    MembershipFactory(
        team=team, user=UserFactory(username="ivy"), source=Membership.Source.IDENTITY_PROVIDER
    )
    UserFactory(username="nina", email="nina@example.com")

    sign_in(page, live_server.url, "maya", PASSWORD)
    page.goto(f"{live_server.url}/teams/payments/")
    page.click("main a:has-text('Members')")
    page.wait_for_url(f"{live_server.url}/teams/payments/members/")
    ivy = page.locator("#members tr", has_text="ivy")
    assert "from identity provider" in ivy.inner_text()
    assert ivy.locator("button").count() == 0

    page.fill("#id_user", "Nina@Example.com")
    page.click("#add-member button[type=submit]")
    page.wait_for_selector("#members-notice >> text=nina added to Payments as a member.")
    assert page.url == f"{live_server.url}/teams/payments/members/"  # swapped in place
    nina = page.locator("#members tr", has_text="nina")

    nina.locator("button:has-text('Make maintainer')").click()
    page.wait_for_selector("#members-notice >> text=nina is now a maintainer.")
    assert Membership.objects.get(user__username="nina").role == "maintainer"

    page.locator("#members tr", has_text="nina").locator("button:has-text('Remove')").click()
    page.wait_for_selector("#members-notice >> text=nina is no longer a member of Payments.")
    assert page.locator("#members tr", has_text="nina").count() == 0
    assert not Membership.objects.filter(user__username="nina").exists()
    actions = list(AuditEvent.objects.order_by("id").values_list("action", flat=True))
    assert actions == ["membership.added", "membership.changed", "membership.removed"]

    page.fill("#id_user", "nobody")  # a refusal shows on the form, the input kept
    page.click("#add-member button[type=submit]")
    page.wait_for_selector("#add-member .field-error >> text=No account has the username")
    assert page.input_value("#id_user") == "nobody"

    page.set_viewport_size({"width": 390, "height": 800})
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width} px wide on a phone"
