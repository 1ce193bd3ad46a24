"""Single sign-on in a real browser against a real OpenID Connect provider on loopback.

The provider (django-oauth-toolkit, tests/oidc_provider/) runs in its own process; Yardstick
is pointed at it through the same settings an installation uses (SSO_OIDC_*, a mapping, the
allowed domains), and the browser goes through its sign-in form, the authorisation
redirect and the callback, with ID tokens signed by a key made for this run.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User

from dashboard.config import load_config, sso_providers
from dashboard.domain.identity import parse_mapping
from dashboard.models import AuditAction, AuditEvent, Membership
from tests.factories import MembershipFactory, TeamFactory

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CLIENT_ID = "yardstick-e2e"
CLIENT_SECRET = "e2e-client-secret-not-used-anywhere-else"  # the test client's
PASSWORD = "provider password 42"  # test users of the test provider
MAPPING = {
    "payments-devs": "payments:member",
    "payments-leads": "payments:maintainer",
    "eng-managers": "manager",
}


@pytest.fixture
def sso(oidc_provider: Any, live_server: Any, settings: Any) -> Any:
    """Yardstick configured for the test provider, as an installation's environment would."""
    callback = f"{live_server.url}/accounts/sso/oidc/oidc/login/callback/"
    oidc_provider.register_client(CLIENT_ID, CLIENT_SECRET, callback)
    config = load_config(
        SSO_OIDC_ISSUER=oidc_provider.issuer,
        SSO_OIDC_CLIENT_ID=CLIENT_ID,
        SSO_OIDC_CLIENT_SECRET=CLIENT_SECRET,
        SSO_OIDC_NAME="Acme SSO",
        SSO_OIDC_ALLOW_HTTP=True,  # the test provider speaks http on 127.0.0.1
        SSO_ALLOWED_DOMAINS="acme.example",
        SSO_GROUP_MAPPING=json.dumps(MAPPING),
    )
    settings.SOCIALACCOUNT_PROVIDERS = sso_providers(config)
    settings.SSO_ALLOWED_DOMAINS = config.SSO_ALLOWED_DOMAINS
    settings.SSO_GROUP_MAPPING = parse_mapping(config.SSO_GROUP_MAPPING)
    return oidc_provider


def _sign_in_through_provider(page: Any, base_url: str, username: str, *, prompted: bool) -> None:
    """Yardstick's button, then (the first time) the provider's own form."""
    page.goto(f"{base_url}/accounts/login/")
    page.click("#sso-openid_connect")
    if prompted:
        page.wait_for_selector("#provider-sign-in")
        page.fill("#id_username", username)
        page.fill("#id_password", PASSWORD)
        page.click("#provider-sign-in")


def _sign_out(page: Any, base_url: str) -> None:
    page.click("form.signout button")
    page.wait_for_url(f"{base_url}/accounts/login/")


def test_a_new_user_whose_group_maps_to_a_team_lands_on_it_as_maintainer(
    page: Any, live_server: Any, sso: Any
) -> None:
    TeamFactory(name="Payments", slug="payments")
    sso.set_user("nina", password=PASSWORD, email="nina@acme.example", groups=["payments-leads"])

    _sign_in_through_provider(page, live_server.url, "nina", prompted=True)
    page.wait_for_url(f"{live_server.url}/teams/payments/")
    assert "Payments" in page.inner_text("h1")
    user = User.objects.get(email="nina@acme.example")
    assert not user.has_usable_password()  # no password to guess on the local form
    membership = Membership.objects.get(user=user)
    assert (membership.team.slug, membership.role, membership.source) == (
        "payments",
        Membership.Role.MAINTAINER,
        Membership.Source.IDENTITY_PROVIDER,
    )
    actions = set(AuditEvent.objects.filter(target_label__contains=user.username).values_list(
        "action", flat=True
    ))  # fmt: skip
    assert {AuditAction.SSO_USER_CREATED, AuditAction.MEMBERSHIP_ADDED} <= actions


@pytest.fixture
def refused_page(browser: Any) -> Iterator[Any]:
    """A page whose only console error may be the refusal's own 403 (Chromium logs it)."""
    context = browser.new_context(viewport={"width": 390, "height": 800})  # a phone
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert [e for e in errors if "status of 403" not in e] == [], errors


def test_a_user_from_a_disallowed_domain_is_refused_with_a_clear_page(
    refused_page: Any, live_server: Any, sso: Any
) -> None:
    page = refused_page
    sso.set_user("eve", password=PASSWORD, email="eve@elsewhere.example", groups=["payments-leads"])

    with page.expect_response(lambda r: "/login/callback/" in r.url) as answer:
        _sign_in_through_provider(page, live_server.url, "eve", prompted=True)

    assert answer.value.status == 403
    text = page.inner_text("#sso-refused")
    assert "This address may not sign in" in text
    assert "eve@elsewhere.example" in text
    assert "@acme.example" in text
    assert not User.objects.filter(email="eve@elsewhere.example").exists()
    assert page.locator("form.signout").count() == 0  # nobody is signed in
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390  # the refusal reads on a phone
    refusal = AuditEvent.objects.get(action=AuditAction.SSO_REFUSED)
    assert refusal.details["reason"] == "domain not allowed"


def test_group_changes_at_the_provider_change_the_role_at_the_next_sign_in(
    page: Any, live_server: Any, sso: Any
) -> None:
    payments = TeamFactory(name="Payments", slug="payments")
    search = TeamFactory(name="Search", slug="search")
    sso.set_user("omar", password=PASSWORD, email="omar@acme.example", groups=["payments-devs"])

    _sign_in_through_provider(page, live_server.url, "omar", prompted=True)
    page.wait_for_url(f"{live_server.url}/teams/payments/")
    user = User.objects.get(email="omar@acme.example")
    assert Membership.objects.get(user=user, team=payments).role == Membership.Role.MEMBER
    # A person adds Omar to Search by hand: the mapping never touches that membership.
    MembershipFactory(user=user, team=search, role=Membership.Role.MAINTAINER)
    _sign_out(page, live_server.url)

    sso.set_user("omar", password=PASSWORD, email="omar@acme.example", groups=["payments-leads"])
    _sign_in_through_provider(page, live_server.url, "omar", prompted=False)  # provider session
    page.wait_for_url(f"{live_server.url}/")  # two teams now: the overview
    assert Membership.objects.get(user=user, team=payments).role == Membership.Role.MAINTAINER
    _sign_out(page, live_server.url)

    sso.set_user("omar", password=PASSWORD, email="omar@acme.example", groups=["eng-managers"])
    _sign_in_through_provider(page, live_server.url, "omar", prompted=False)
    page.wait_for_url(f"{live_server.url}/teams/search/")  # Search alone is left
    assert not Membership.objects.filter(user=user, team=payments).exists()
    manual = Membership.objects.get(user=user, team=search)
    assert (manual.role, manual.source) == (Membership.Role.MAINTAINER, Membership.Source.MANUAL)
    assert user.groups.filter(name="managers").exists()
