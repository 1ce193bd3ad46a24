"""The tokens page: a person's own API tokens listed, created (the secret shown once) and
revoked; and the OpenAPI docs in production (signed in: served; signed out: not)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from dashboard.models import ApiToken, AuditEvent, Membership, Team
from dashboard.services.access import api_tokens
from tests.factories import MembershipFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def alpha() -> Team:
    return TeamFactory(name="Alpha", slug="alpha")


@pytest.fixture
def maya(alpha: Team) -> User:
    user = UserFactory(username="maya")
    MembershipFactory(user=user, team=alpha, role=Membership.Role.MAINTAINER)
    return user


def _signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _form(**overrides: Any) -> dict[str, Any]:
    return {"name": "CI", "scope": "read", "team": "", "days": 90} | overrides


def test_a_new_user_sees_the_empty_state_and_the_defaults(maya: User) -> None:
    page = _signed_in(maya).get("/tokens/").content.decode()
    assert "You have no API tokens yet." in page
    assert 'name="days" value="90"' in page
    assert "All teams" in page
    assert 'href="/tokens/"' in page  # the user menu links the page


def test_the_page_lists_own_tokens_only_with_their_state(
    maya: User, alpha: Team, django_assert_max_num_queries: Any
) -> None:
    live = api_tokens.issue(alpha, "deploys", write=True, owner=maya)
    expired = api_tokens.issue(None, "old script", owner=maya, days=1).token
    ApiToken.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(days=2))
    revoked = api_tokens.issue(None, "leaked", owner=maya).token
    api_tokens.revoke(revoked, actor=maya)
    ApiToken.objects.filter(pk=live.token.pk).update(
        last_used_at=timezone.now(), last_used_ip="192.0.2.10"
    )
    api_tokens.issue(None, "someone else's", owner=UserFactory())
    client = _signed_in(maya)
    # The session and its user, the tokens with their teams, the team chooser (the teams and
    # which of them the user maintains).
    with django_assert_max_num_queries(5):
        response = client.get("/tokens/")
    page = response.content.decode()
    for text in ("deploys", "old script", "leaked", "Alpha", "all teams", "from 192.0.2.10"):
        assert text in page, text
    assert "someone else" not in page
    assert page.count('class="status status-in-force">Active') == 1
    assert page.count('class="status status-expired">Expired') == 1
    assert page.count('class="status status-revoked">Revoked') == 1
    assert page.count("Revoke…") == 2  # nothing to revoke on a revoked token
    assert live.plaintext not in page
    assert live.token.token_hash not in page


def test_the_list_costs_the_same_for_many_tokens(
    maya: User, alpha: Team, django_assert_max_num_queries: Any
) -> None:
    for n in range(25):
        api_tokens.issue(alpha if n % 2 else None, f"token {n}", owner=maya)
    for n in range(30):
        TeamFactory(name=f"Team {n:02}")
    client = _signed_in(maya)
    with django_assert_max_num_queries(5):
        assert client.get("/tokens/").status_code == 200


def test_the_team_chooser_puts_the_teams_you_maintain_first(maya: User, alpha: Team) -> None:
    beta = TeamFactory(name="Beta")
    page = _signed_in(maya).get("/tokens/").content.decode()
    mine = page.index('<optgroup label="Teams you maintain">')
    others = page.index('<optgroup label="Other teams (read tokens only)">')
    assert mine < page.index(f'value="{alpha.pk}"') < others < page.index(f'value="{beta.pk}"')
    outsider = _signed_in(UserFactory()).get("/tokens/").content.decode()
    assert "Teams you maintain" not in outsider
    assert f'value="{alpha.pk}"' in outsider


def test_creating_shows_the_secret_once(maya: User, alpha: Team) -> None:
    client = _signed_in(maya)
    response = client.post("/tokens/", _form(name="GitHub Actions", scope="write", team=alpha.pk))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    token = ApiToken.objects.get(owner=maya)
    assert (token.name, token.scope, token.team) == ("GitHub Actions", "write", alpha)
    page = response.content.decode()
    shown = page.split('id="new-token">')[1].split("<")[0]
    assert shown.startswith(token.prefix)
    assert token.token_hash == api_tokens.hash_token(shown)
    assert 'data-copy="new-token"' in page
    assert "/static/js/copy.js" in page
    assert 'name="name"' in page
    assert 'value="GitHub Actions"' not in page
    assert AuditEvent.objects.filter(action="token.created", actor=maya).count() == 1
    assert shown not in client.get("/tokens/").content.decode()  # never again


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"days": 366}, "Ensure this value is less than or equal to 365."),
        ({"days": 0}, "Ensure this value is greater than or equal to 1."),
        ({"days": "soon"}, "Enter a whole number."),
        ({"name": "  "}, "This field is required."),
        ({"scope": "admin"}, "Select a valid choice."),
        ({"team": 99999}, "Select a valid choice."),
    ],
)
def test_bad_input_is_explained_on_the_form_and_kept(
    maya: User, overrides: dict[str, Any], error: str
) -> None:
    response = _signed_in(maya).post("/tokens/", _form(**({"name": "keep me"} | overrides)))
    assert response.status_code == 200
    page = response.content.decode()
    assert error in page
    assert 'class="field-error" role="alert"' in page
    if overrides.get("name") is None:
        assert 'value="keep me"' in page
    assert not ApiToken.objects.exists()


def test_a_write_token_for_a_team_not_maintained_is_refused_on_the_team_field(
    alpha: Team,
) -> None:
    milo = UserFactory(username="milo")
    MembershipFactory(user=milo, team=alpha, role=Membership.Role.MEMBER)
    client = _signed_in(milo)
    response = client.post("/tokens/", _form(scope="write", team=alpha.pk))
    page = response.content.decode()
    assert "you may not write to Alpha: choose a team you maintain" in page
    assert not ApiToken.objects.exists()
    every = client.post("/tokens/", _form(scope="write")).content.decode()
    assert "you maintain no team: a write token could change nothing" in every
    assert client.post("/tokens/", _form(team=alpha.pk)).status_code == 200  # read: fine
    assert ApiToken.objects.filter(owner=milo, scope="read", team=alpha).exists()


def test_revoking_asks_first_then_revokes_and_audits(maya: User) -> None:
    issued = api_tokens.issue(None, "scripts", owner=maya)
    client = _signed_in(maya)
    page = client.get("/tokens/").content.decode()
    assert '<details class="confirm"><summary>Revoke…</summary>' in page
    assert f'action="/tokens/{issued.token.pk}/revoke/"' in page
    response = client.post(f"/tokens/{issued.token.pk}/revoke/", follow=True)
    assert response.redirect_chain == [("/tokens/", 302)]
    assert "revoked: it no longer works" in response.content.decode()
    issued.token.refresh_from_db()
    assert issued.token.revoked_at is not None
    assert AuditEvent.objects.get(action="token.revoked").actor == maya
    gone = Client().get("/api/v1/teams", headers={"Authorization": f"Bearer {issued.plaintext}"})
    assert gone.status_code == 401


def test_nobody_revokes_anothers_token(maya: User, alpha: Team) -> None:
    legacy = api_tokens.issue(alpha, "team ci").token  # a team token: managed in the admin
    own = api_tokens.issue(None, "maya's", owner=maya).token
    admin = _signed_in(UserFactory(is_superuser=True, is_staff=True))
    for token in (own, legacy):
        assert admin.post(f"/tokens/{token.pk}/revoke/").status_code == 404
    assert _signed_in(maya).post(f"/tokens/{legacy.pk}/revoke/").status_code == 404
    assert _signed_in(maya).get(f"/tokens/{own.pk}/revoke/").status_code == 405
    assert not ApiToken.objects.filter(revoked_at__isnull=False).exists()
    assert not AuditEvent.objects.filter(action="token.revoked").exists()


def test_signed_out_visitors_are_sent_to_sign_in() -> None:
    for response in (Client().get("/tokens/"), Client().post("/tokens/", _form())):
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
    assert not ApiToken.objects.exists()


# ----- the OpenAPI docs in production --------------------------------------------------------
def test_the_api_docs_are_served_signed_in_and_not_signed_out_in_production(
    maya: User, settings: Any
) -> None:
    """DEBUG off, as in production: the reference page and the OpenAPI document answer a
    signed-in user; signed out, the page redirects to sign-in, the document is refused (401,
    the API's own answer to a caller without credentials) and the Swagger page is not found."""
    settings.DEBUG = False
    signed_in = _signed_in(maya)
    page = signed_in.get("/api/")
    assert page.status_code == 200
    assert 'href="/api/v1/openapi.json"' in page.content.decode()
    document = signed_in.get("/api/v1/openapi.json")
    assert document.status_code == 200
    assert "/api/v1/repositories" in document.json()["paths"]
    assert signed_in.get("/api/v1/docs").status_code == 404

    anonymous = Client()
    redirected = anonymous.get("/api/")
    assert redirected.status_code == 302
    assert redirected["Location"] == "/accounts/login/?next=/api/"
    refused = anonymous.get("/api/v1/openapi.json")
    assert refused.status_code == 401
    assert "paths" not in refused.json()
    assert anonymous.get("/api/v1/docs").status_code == 404


def test_the_openapi_document_tells_an_expired_token_why(maya: User, settings: Any) -> None:
    settings.DEBUG = False
    issued = api_tokens.issue(None, "scripts", owner=maya, days=1)
    ApiToken.objects.filter(pk=issued.token.pk).update(expires_at=timezone.now())
    response = Client().get(
        "/api/v1/openapi.json", headers={"Authorization": f"Bearer {issued.plaintext}"}
    )
    assert response.status_code == 401
    assert response.json()["message"].startswith("token expired on ")
    assert response.json()["details"]["reason"] == "expired"
