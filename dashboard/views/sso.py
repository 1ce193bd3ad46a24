"""Single sign-on through django-allauth: who may come in, and what their groups give them.

allauth runs the OAuth 2 / OpenID Connect flows (state, PKCE, token checks); these adapters
add Yardstick's rules at each sign-in: an address at an allowed domain (`SSO_ALLOWED_DOMAINS`),
no silent take-over of a local account with the same address, the group mapping applied
(dashboard/services/access/identity.py), and the landing page. A refusal is a 403 page that
says why; an aborted or failed flow says so too, never allauth's own pages.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialLogin
from django.conf import settings
from django.contrib.auth.models import User
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.csp import CSP

from dashboard.domain.identity import email_domain_allowed
from dashboard.models import Membership
from dashboard.services.access import identity, provider_groups

#: allauth's key in SOCIALACCOUNT_PROVIDERS -> the URL name of its sign-in view.
LOGIN_URL_NAMES = {
    "openid_connect": "openid_connect_login",
    "github": "github_login",
    "gitlab": "gitlab_login",
}
#: The backend that signs SSO users in (axes guards the password form, not this flow).
SSO_BACKEND = "django.contrib.auth.backends.ModelBackend"


def configured_apps(provider: str) -> list[dict[str, Any]]:
    """The configured apps (client id, secret, settings) of one allauth provider."""
    config: dict[str, Any] = settings.SOCIALACCOUNT_PROVIDERS.get(provider, {})
    return list(config.get("APPS", []))


def sign_in_buttons() -> list[dict[str, str]]:
    """One button per configured provider, for the sign-in page: label and form action."""
    buttons = []
    for key in LOGIN_URL_NAMES:
        for app in configured_apps(key):
            if key == "openid_connect":
                url = reverse(LOGIN_URL_NAMES[key], kwargs={"provider_id": app["provider_id"]})
                label = app.get("name") or "single sign-on"
            else:
                url, label = reverse(LOGIN_URL_NAMES[key]), {"github": "GitHub"}.get(key, "GitLab")
            buttons.append({"label": f"Sign in with {label}", "url": url, "id": f"sso-{key}"})
    return buttons


def provider_origins() -> list[str]:
    """Where the sign-in forms send the browser: the configured providers' origins.

    The page's CSP `form-action` must allow them, as browsers apply it to the redirect that
    follows a form's POST. An OpenID Connect provider is assumed to authorise on its issuer's
    origin (Keycloak, Okta, Entra ID and Google all do).
    """
    origins: list[str] = []
    for app in configured_apps("openid_connect"):
        origins.append(_origin(app["settings"]["server_url"]))
    if configured_apps("github"):
        origins.append("https://github.com")
    for app in configured_apps("gitlab"):
        origins.append(_origin(app.get("settings", {}).get("gitlab_url", "https://gitlab.com")))
    return origins


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def allow_provider_forms(response: HttpResponse) -> HttpResponse:
    """Let this page's forms lead to the providers (CSP `form-action`), nothing else."""
    if origins := provider_origins():
        policy: dict[str, Any] = dict(settings.SECURE_CSP)
        policy["form-action"] = [*policy.get("form-action", [CSP.SELF]), *origins]
        response._csp_config = policy  # type: ignore[attr-defined]  # Django's csp_override
    return response


def refuse(request: HttpRequest, title: str, message: str, *, status: int = 403) -> HttpResponse:
    """The page that says why single sign-on let nobody in."""
    return render(
        request,
        "registration/sso_refused.html",
        {"title": title, "message": message, "allowed_domains": settings.SSO_ALLOWED_DOMAINS},
        status=status,
    )


def provider_email(sociallogin: SocialLogin) -> str:
    """The address the provider vouches for: a verified one where it says which are."""
    addresses = sociallogin.email_addresses
    verified = [a.email for a in addresses if a.verified]
    primary = [a.email for a in addresses if a.verified and a.primary]
    if primary or verified:
        return str((primary or verified)[0]).strip().lower()
    if sociallogin.account.provider == "gitlab":
        # GitLab's /user `email` is the account's primary address, confirmed before use.
        return str(sociallogin.user.email or "").strip().lower()
    return ""


class SocialAccountAdapter(DefaultSocialAccountAdapter):  # type: ignore[misc]
    """Yardstick's rules around allauth's social sign-in."""

    def pre_social_login(self, request: HttpRequest, sociallogin: SocialLogin) -> None:
        """Refuse before anyone is signed in or created: domain, take-over, deactivated."""
        provider = sociallogin.account.provider
        email = provider_email(sociallogin)
        allowed = settings.SSO_ALLOWED_DOMAINS
        if allowed and not email_domain_allowed(email, allowed):
            identity.record_refusal(provider, email, "domain not allowed")
            shown = email or "no verified e-mail address"
            raise ImmediateHttpResponse(
                refuse(
                    request,
                    "This address may not sign in",
                    f"The identity provider signed you in as {shown}, but Yardstick only "
                    "accepts addresses at the domains below.",
                )
            )
        user = sociallogin.user
        if sociallogin.is_existing and not user.is_active:
            identity.record_refusal(provider, email, "account deactivated")
            raise ImmediateHttpResponse(
                refuse(request, "This account is deactivated", "Ask an administrator.")
            )
        if not sociallogin.is_existing and email and _local_account_with(email):
            identity.record_refusal(provider, email, "address of an existing account")
            raise ImmediateHttpResponse(
                refuse(
                    request,
                    "An account already uses this address",
                    f"A Yardstick account already has the address {email}. It is not joined "
                    "to a single sign-on identity automatically: sign in with its password, "
                    "or ask an administrator.",
                )
            )

    def is_auto_signup_allowed(self, request: HttpRequest, sociallogin: SocialLogin) -> bool:
        """No sign-up form: the provider's profile is the account (conflicts refused above)."""
        return True

    def save_user(self, request: HttpRequest, sociallogin: SocialLogin, form: Any = None) -> User:
        """Create the account with no usable password, and audit its creation."""
        user: User = super().save_user(request, sociallogin, form)
        identity.record_new_user(user, sociallogin.account.provider, provider_email(sociallogin))
        return user

    def on_authentication_error(
        self,
        request: HttpRequest,
        provider: Any,
        error: Any = None,
        exception: Any = None,
        extra_context: Any = None,
    ) -> None:
        """A cancelled or failed flow: our page, with the way back."""
        cancelled = str(error) == "cancelled"
        raise ImmediateHttpResponse(
            refuse(
                request,
                "Sign-in cancelled" if cancelled else "Sign-in did not complete",
                "You left the identity provider before signing in."
                if cancelled
                else "The identity provider's answer could not be accepted. Try again; if it "
                "keeps failing, tell an administrator.",
                status=200 if cancelled else 400,
            )
        )


class AccountAdapter(DefaultAccountAdapter):  # type: ignore[misc]
    """Where single sign-on lands, and with which backend the session is kept."""

    def login(self, request: HttpRequest, user: User) -> None:
        user.backend = SSO_BACKEND
        super().login(request, user)

    def post_login(self, request: HttpRequest, user: User, **kwargs: Any) -> HttpResponse:
        """Every single sign-on applies the group mapping before the landing page is chosen."""
        sociallogin = (kwargs.get("signal_kwargs") or {}).get("sociallogin")
        if sociallogin is not None:
            apply_mapping(sociallogin, user)
        response: HttpResponse = super().post_login(request, user, **kwargs)
        return response

    def add_message(self, *args: Any, **kwargs: Any) -> None:
        """No "signed in as…" banner: the page itself shows who is signed in."""

    def get_signup_redirect_url(self, request: HttpRequest) -> str:
        """A first sign-in lands where every later one does."""
        return self.get_login_redirect_url(request)

    def get_login_redirect_url(self, request: HttpRequest) -> str:
        """A user of exactly one team lands on its page, everyone else on the overview."""
        user = request.user
        if not isinstance(user, User):
            return reverse("home")
        slugs = list(Membership.objects.filter(user=user).values_list("team__slug", flat=True)[:2])
        return reverse("team", args=[slugs[0]]) if len(slugs) == 1 else reverse("home")


def _local_account_with(email: str) -> bool:
    return User.objects.filter(email__iexact=email).exists()


def apply_mapping(sociallogin: SocialLogin, user: User) -> None:
    """Apply the group mapping to `user` from what the provider says now."""
    groups = provider_groups.groups_of(sociallogin, settings.SSO_GROUPS_CLAIM)
    if groups is None:
        return  # the provider could not say: the user keeps what the mapping gave last time
    identity.apply_groups(
        user, groups, settings.SSO_GROUP_MAPPING, provider=sociallogin.account.provider
    )


def configured(provider: str, view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """allauth's view of `provider`, or 404 while the provider is not configured."""

    def wrapped(request: HttpRequest, **kwargs: Any) -> HttpResponse:
        apps = configured_apps(provider)
        wanted = kwargs.get("provider_id")
        if not apps or (wanted and wanted not in {a.get("provider_id") for a in apps}):
            raise Http404("this sign-in provider is not configured")
        return allow_provider_forms(view(request, **kwargs))

    wrapped.__name__ = f"{provider}_{view.__name__}"
    wrapped.__doc__ = view.__doc__
    return wrapped
