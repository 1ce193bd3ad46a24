"""Single sign-on around allauth: the sign-in page's buttons, who is refused and why, where
a sign-in lands, and password reset by e-mail for local accounts.

The whole flow against a real provider is tests/e2e/test_single_sign_on.py; here the rules
are checked one by one, with allauth's own objects.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.models import SocialAccount, SocialLogin
from django.contrib.auth.models import User
from django.core import mail
from django.test import Client, RequestFactory

from dashboard.config import ConfigError, load_config, sso_providers
from dashboard.models import AuditAction, AuditEvent, Membership
from dashboard.views.signin import RESET_LIMIT
from dashboard.views.sso import AccountAdapter, SocialAccountAdapter, provider_email
from tests.factories import MembershipFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

SSO = {
    "SSO_OIDC_ISSUER": "https://id.acme.example/realms/acme",
    "SSO_OIDC_CLIENT_ID": "yardstick",
    "SSO_OIDC_CLIENT_SECRET": "s3",
    "SSO_OIDC_NAME": "Acme SSO",
    "SSO_GITHUB_CLIENT_ID": "gh",
    "SSO_GITHUB_CLIENT_SECRET": "gh-s",
    "SSO_GITLAB_URL": "https://git.acme.example",
    "SSO_GITLAB_CLIENT_ID": "gl",
    "SSO_GITLAB_CLIENT_SECRET": "gl-s",
}


@pytest.fixture
def configured(settings: Any) -> Any:
    settings.SOCIALACCOUNT_PROVIDERS = sso_providers(load_config(**SSO))
    settings.SSO_ALLOWED_DOMAINS = ["acme.example"]
    return settings


# ----- configuration -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"SSO_OIDC_CLIENT_ID": "x"}, "SSO_OIDC_CLIENT_ID and SSO_OIDC_CLIENT_SECRET go together"),
        ({"SSO_GITHUB_CLIENT_SECRET": "x"}, "SSO_GITHUB_CLIENT_ID and SSO_GITHUB_CLIENT_SECRET"),
        (
            {"SSO_OIDC_CLIENT_ID": "x", "SSO_OIDC_CLIENT_SECRET": "y"},
            "SSO_OIDC_ISSUER is required",
        ),
        ({"SSO_OIDC_ISSUER": "http://id.acme.example"}, "SSO_OIDC_ISSUER must be an https://"),
        (
            {"SSO_OIDC_ISSUER": "http://id.acme.example", "SSO_OIDC_ALLOW_HTTP": "true"},
            "SSO_OIDC_ISSUER must be an https://",  # loopback only, even when allowed
        ),
        ({"SSO_OIDC_ISSUER": "http://127.0.0.1:9000/o"}, "SSO_OIDC_ISSUER must be an https://"),
        ({"SSO_GITLAB_URL": "gitlab.acme.example"}, "SSO_GITLAB_URL must be an https://"),
    ],
)
def test_sso_settings_are_checked_at_start_up(env: dict[str, str], says: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(says)):
        load_config(**env)


def test_only_configured_providers_are_offered_and_loopback_http_needs_the_switch() -> None:
    assert sso_providers(load_config()) == {}
    providers = sso_providers(load_config(**SSO))
    assert set(providers) == {"openid_connect", "github", "gitlab"}
    loopback = load_config(
        SSO_OIDC_ISSUER="http://127.0.0.1:9000/o",
        SSO_OIDC_ALLOW_HTTP=True,
        SSO_OIDC_CLIENT_ID="a",
        SSO_OIDC_CLIENT_SECRET="b",
        SSO_ALLOWED_DOMAINS=" Acme.example , @other.example",
    )
    assert set(sso_providers(loopback)) == {"openid_connect"}
    assert loopback.SSO_ALLOWED_DOMAINS == ["acme.example", "other.example"]


# ----- the sign-in page --------------------------------------------------------------------
def test_without_sso_the_sign_in_page_has_no_provider_buttons(
    django_assert_max_num_queries: Any,
) -> None:
    with django_assert_max_num_queries(0):
        response = Client().get("/accounts/login/")
    assert response.status_code == 200
    assert b"Sign in with" not in response.content
    assert b"Forgot your password?" in response.content
    assert "form-action 'self';" in response["Content-Security-Policy"]


def test_the_sign_in_page_offers_each_configured_provider(configured: Any) -> None:
    response = Client().get("/accounts/login/")
    text = response.content.decode()
    assert 'action="/accounts/sso/oidc/oidc/login/"' in text
    assert "Sign in with Acme SSO" in text
    assert 'action="/accounts/sso/github/login/"' in text
    assert 'action="/accounts/sso/gitlab/login/"' in text
    # A form's POST leads to the provider: the page's policy allows those origins, no other.
    policy = response["Content-Security-Policy"]
    form_action = re.search(r"form-action ([^;]+)", policy)
    assert form_action
    assert form_action.group(1).split() == [
        "'self'",
        "https://id.acme.example",
        "https://github.com",
        "https://git.acme.example",
    ]


def test_an_unconfigured_provider_or_oidc_id_is_not_found(configured: Any, settings: Any) -> None:
    client = Client()
    assert client.get("/accounts/sso/oidc/other/login/").status_code == 404
    settings.SOCIALACCOUNT_PROVIDERS = {}
    assert client.get("/accounts/sso/github/login/").status_code == 404
    assert client.post("/accounts/sso/oidc/oidc/login/callback/").status_code == 404


def test_a_provider_link_followed_by_get_asks_before_leaving(configured: Any) -> None:
    response = Client().get("/accounts/sso/github/login/")
    assert response.status_code == 200
    assert b"You will be sent to GitHub" in response.content
    assert "https://github.com" in response["Content-Security-Policy"]


# ----- who is refused ----------------------------------------------------------------------
def _sociallogin(email: str, *, verified: bool = True, user: User | None = None) -> SocialLogin:
    account = SocialAccount(provider="oidc", uid="1", extra_data={})
    return SocialLogin(
        user=user or User(username="nina", email=email),
        account=account,
        email_addresses=[EmailAddress(email=email, verified=verified, primary=True)],
    )


def _refusal(sociallogin: SocialLogin) -> Any:
    request = RequestFactory().get("/accounts/sso/oidc/oidc/login/callback/")
    with pytest.raises(ImmediateHttpResponse) as refused:
        SocialAccountAdapter(request).pre_social_login(request, sociallogin)
    return refused.value.response


def test_an_address_outside_the_allowed_domains_is_refused_saying_which_are_allowed(
    configured: Any,
) -> None:
    response = _refusal(_sociallogin("eve@elsewhere.example"))
    assert response.status_code == 403
    text = response.content.decode()
    assert "This address may not sign in" in text
    assert "eve@elsewhere.example" in text
    assert "@acme.example" in text
    event = AuditEvent.objects.get(action=AuditAction.SSO_REFUSED)
    assert event.details == {
        "email": "eve@elsewhere.example",
        "provider": "oidc",
        "reason": "domain not allowed",
    }


def test_an_unverified_address_does_not_pass_the_domain_check(configured: Any) -> None:
    assert provider_email(_sociallogin("nina@acme.example", verified=False)) == ""
    response = _refusal(_sociallogin("nina@acme.example", verified=False))
    assert "no verified e-mail address" in response.content.decode()


def test_a_new_identity_never_takes_over_a_local_account_with_its_address(
    configured: Any,
) -> None:
    UserFactory(username="nina-local", email="Nina@acme.example")
    response = _refusal(_sociallogin("nina@acme.example"))
    assert response.status_code == 403
    assert "An account already uses this address" in response.content.decode()


def test_a_deactivated_account_is_refused(configured: Any) -> None:
    user = UserFactory(username="nina", email="nina@acme.example", is_active=False)
    response = _refusal(_sociallogin("nina@acme.example", user=user))
    assert "This account is deactivated" in response.content.decode()


def test_an_allowed_new_identity_passes(configured: Any) -> None:
    request = RequestFactory().get("/")
    SocialAccountAdapter(request).pre_social_login(request, _sociallogin("nina@acme.example"))
    assert not AuditEvent.objects.exists()


def test_a_cancelled_or_failed_flow_gets_our_page(configured: Any) -> None:
    request = RequestFactory().get("/")
    adapter = SocialAccountAdapter(request)
    with pytest.raises(ImmediateHttpResponse) as cancelled:
        adapter.on_authentication_error(request, None, error="cancelled")
    assert b"Sign-in cancelled" in cancelled.value.response.content
    with pytest.raises(ImmediateHttpResponse) as failed:
        adapter.on_authentication_error(request, None, error="unknown")
    assert failed.value.response.status_code == 400
    assert b"Sign-in did not complete" in failed.value.response.content


# ----- where a sign-in lands ---------------------------------------------------------------
@pytest.mark.parametrize(("teams", "lands"), [(0, "/"), (1, "/teams/t0/"), (2, "/")])
def test_a_user_of_exactly_one_team_lands_on_its_page(teams: int, lands: str) -> None:
    user = UserFactory()
    for n in range(teams):
        MembershipFactory(user=user, team=TeamFactory(slug=f"t{n}"), role=Membership.Role.MEMBER)
    request = RequestFactory().get("/")
    request.user = user
    assert AccountAdapter(request).get_login_redirect_url(request) == lands
    assert AccountAdapter(request).get_signup_redirect_url(request) == lands


# ----- password reset by e-mail (local accounts) -------------------------------------------
def _address(name: str) -> str:
    """A new address per test run: reset e-mails are counted per address in the cache, which
    may outlive a run (a file cache, Redis)."""
    return f"{name}-{uuid.uuid4().hex[:12]}@acme.example"


def test_a_local_account_resets_its_password_by_email(
    django_assert_max_num_queries: Any,
) -> None:
    ann = _address("ann")
    UserFactory(username="ann", email=ann)
    client = Client()
    with django_assert_max_num_queries(0):
        assert client.get("/accounts/password/reset/").status_code == 200
    sent = client.post("/accounts/password/reset/", {"email": ann})
    assert sent["Location"] == "/accounts/password/reset/sent/"
    [message] = mail.outbox
    assert message.to == [ann]
    link = re.search(r"http://testserver(/accounts/password/reset/\S+/)", message.body)
    assert link
    form = client.get(link.group(1), follow=True)
    assert b"Choose a new password" in form.content
    url = form.redirect_chain[-1][0]
    mismatch = client.post(url, {"new_password1": "a long new phrase 1", "new_password2": "x"})
    assert b"field-error" in mismatch.content  # said on the form, nothing saved
    done = client.post(
        url, {"new_password1": "a long new phrase 1", "new_password2": "a long new phrase 1"}
    )
    assert done["Location"] == "/accounts/password/reset/complete/"
    signed_in = Client().post(
        "/accounts/login/", {"username": "ann", "password": "a long new phrase 1"}
    )
    assert signed_in.status_code == 302
    again = client.get(link.group(1), follow=True)
    assert b"has been used already or has expired" in again.content


def test_no_reset_mail_for_sso_accounts_or_unknown_addresses() -> None:
    nina = _address("nina")
    sso_user = UserFactory(username="nina", email=nina)
    sso_user.set_unusable_password()
    sso_user.save()
    client = Client()
    for address in (nina, _address("nobody")):
        response = client.post("/accounts/password/reset/", {"email": address})
        assert response["Location"] == "/accounts/password/reset/sent/"  # the same answer
    assert mail.outbox == []


def test_reset_mails_for_one_address_are_limited_and_the_form_keeps_it() -> None:
    ann = _address("ann")
    UserFactory(username="ann", email=ann)
    limit, _window = RESET_LIMIT
    client = Client()
    answers = [
        client.post("/accounts/password/reset/", {"email": ann.upper()}).status_code
        for _ in range(limit)
    ]
    assert answers == [302] * limit
    refused = client.post("/accounts/password/reset/", {"email": f"{ann} "})
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 3600
    text = refused.content.decode()
    assert "Too many reset e-mails were asked for this address" in text
    assert f'value="{ann}' in text  # nothing lost
    assert len(mail.outbox) == limit
    other = client.post("/accounts/password/reset/", {"email": _address("bob")})
    assert other.status_code == 302  # other addresses are unaffected
