"""Personal API tokens: scope, expiry, revocation, the owner's rights at the moment of use,
the audit log, and what the API answers a token that no longer works."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction
from django.test import Client
from django.utils import timezone

from dashboard.models import ApiToken, AuditEvent, Membership, Repository, Team
from dashboard.services.access import api_tokens
from dashboard.services.access.api_tokens import TokenError
from tests.factories import MembershipFactory, RepositoryFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> dict[str, Any]:
    """Maya maintains Alpha and Beta; Milo is a member of Alpha; Otto maintains nothing."""
    alpha = TeamFactory(name="Alpha", slug="alpha")
    beta = TeamFactory(name="Beta", slug="beta")
    maya, milo, otto = (UserFactory(username=n) for n in ("maya", "milo", "otto"))
    for team in (alpha, beta):
        MembershipFactory(user=maya, team=team, role=Membership.Role.MAINTAINER)
    MembershipFactory(user=milo, team=alpha, role=Membership.Role.MEMBER)
    return {"alpha": alpha, "beta": beta, "maya": maya, "milo": milo, "otto": otto}


def _client(plaintext: str, address: str = "10.0.0.7") -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {plaintext}", REMOTE_ADDR=address)


def _scan(client: Client, repository: Repository) -> Any:
    return client.post(
        f"/api/v1/repositories/{repository.pk}/scans", {}, content_type="application/json"
    )


# ----- issuing: scope and expiry ------------------------------------------------------------
def test_a_new_token_expires_after_90_days_unless_told_otherwise(world: dict[str, Any]) -> None:
    before = timezone.now()
    issued = api_tokens.issue(None, "scripts", owner=world["milo"])
    token = issued.token
    assert token.expires_at is not None
    assert before + timedelta(days=90) <= token.expires_at <= timezone.now() + timedelta(days=90)
    assert (token.owner, token.team, token.scope) == (world["milo"], None, "read")
    assert issued.plaintext.startswith("ys_")
    assert issued.plaintext.startswith(token.prefix)
    assert token.token_hash == api_tokens.hash_token(issued.plaintext) != issued.plaintext
    year = api_tokens.issue(None, "long", owner=world["milo"], days=365).token
    assert year.expires_at is not None
    assert year.expires_at - year.created_at == pytest.approx(
        timedelta(days=365), abs=timedelta(minutes=1)
    )


@pytest.mark.parametrize("days", [0, -5, 366, 10_000])
def test_a_token_lives_one_day_to_one_year(world: dict[str, Any], days: int) -> None:
    with pytest.raises(TokenError, match="1 to 365 days") as refused:
        api_tokens.issue(None, "scripts", owner=world["milo"], days=days)
    assert refused.value.field == "days"
    assert not ApiToken.objects.exists()
    assert not AuditEvent.objects.exists()


def test_a_token_needs_a_name(world: dict[str, Any]) -> None:
    with pytest.raises(TokenError, match="needs a name") as refused:
        api_tokens.issue(None, "   ", owner=world["milo"])
    assert refused.value.field == "name"


def test_a_write_token_is_tied_only_to_a_team_its_owner_maintains(world: dict[str, Any]) -> None:
    with pytest.raises(TokenError, match="may not write to Alpha") as refused:
        api_tokens.issue(world["alpha"], "ci", write=True, owner=world["milo"])
    assert refused.value.field == "team"
    # Reading is organisation-wide: any team will do for a read token.
    assert (
        api_tokens.issue(world["beta"], "reader", owner=world["milo"]).token.team == world["beta"]
    )
    assert api_tokens.issue(world["beta"], "ci", write=True, owner=world["maya"]).token.can_write


def test_a_write_token_for_all_teams_needs_a_team_to_write_to(world: dict[str, Any]) -> None:
    with pytest.raises(TokenError, match="maintain no team") as refused:
        api_tokens.issue(None, "ci", write=True, owner=world["otto"])
    assert refused.value.field == "scope"
    assert not ApiToken.objects.exists()


def test_a_token_has_an_owner_or_a_team(world: dict[str, Any]) -> None:
    with pytest.raises(TokenError, match="needs a team"):
        api_tokens.issue(None, "nobody's")
    with pytest.raises(IntegrityError), transaction.atomic():
        ApiToken.objects.create(name="x", token_hash="0" * 64, prefix="ys_x")


def test_status_says_active_expired_or_revoked(world: dict[str, Any]) -> None:
    token = api_tokens.issue(None, "scripts", owner=world["milo"], days=1).token
    assert token.status() == ApiToken.Status.ACTIVE
    assert token.status(timezone.now() + timedelta(days=2)) == ApiToken.Status.EXPIRED
    api_tokens.revoke(token, actor=world["milo"])
    assert token.status() == token.status(timezone.now() + timedelta(days=2)) == "revoked"
    legacy = api_tokens.issue(world["alpha"], "legacy").token
    legacy.expires_at = None
    assert legacy.status(timezone.now() + timedelta(days=3650)) == ApiToken.Status.ACTIVE


# ----- the audit log ------------------------------------------------------------------------
def test_creation_and_revocation_are_audited_without_the_secret(world: dict[str, Any]) -> None:
    issued = api_tokens.issue(world["alpha"], "deploys", write=True, owner=world["maya"], days=30)
    api_tokens.revoke(issued.token, actor=world["maya"])
    api_tokens.revoke(issued.token, actor=world["maya"])  # already revoked: no second event
    created = AuditEvent.objects.get(action="token.created")
    revoked = AuditEvent.objects.get(action="token.revoked")
    assert (created.actor, created.team, revoked.actor) == (
        world["maya"],
        world["alpha"],
        world["maya"],
    )
    assert created.details["owner"] == "maya"
    assert created.details["team"] == "alpha"
    assert created.details["scope"] == "write"
    assert created.details["expires_at"] == issued.token.expires_at.isoformat()  # type: ignore[union-attr]
    assert api_tokens.issue(None, "all", owner=world["maya"]).token.team is None
    assert (
        AuditEvent.objects.filter(action="token.created").order_by("pk").last().details["team"]
        == "all"
    )  # type: ignore[union-attr]
    dump = str(list(AuditEvent.objects.values()))
    assert issued.plaintext not in dump
    assert issued.token.token_hash not in dump


def test_a_write_by_a_personal_token_is_the_owners_in_the_audit_log(world: dict[str, Any]) -> None:
    issued = api_tokens.issue(None, "ci", write=True, owner=world["maya"])
    response = _client(issued.plaintext).post(
        "/api/v1/repositories",
        {"team": "beta", "clone_url": "https://git.example.com/beta/svc.git"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    event = AuditEvent.objects.get(action="repository.registered")
    assert event.actor == world["maya"]
    assert event.actor_label == f"API token {issued.token.prefix}… “ci”"


# ----- the API: refusals that say why -------------------------------------------------------
def test_an_expired_token_is_refused_saying_when_and_where_to_get_another(
    world: dict[str, Any], settings: Any
) -> None:
    settings.SITE_URL = "https://yardstick.example.com"
    issued = api_tokens.issue(None, "scripts", owner=world["milo"], days=1)
    ApiToken.objects.filter(pk=issued.token.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    day = (timezone.now() - timedelta(seconds=1)).date().isoformat()
    response = _client(issued.plaintext).get("/api/v1/teams")
    assert response.status_code == 401
    assert response.json() == {
        "code": "unauthenticated",
        "message": f"token expired on {day}; create a new one at "
        "https://yardstick.example.com/tokens/",
        "details": {"reason": "expired", "on": day},
    }
    issued.token.refresh_from_db()
    assert issued.token.last_used_at is None  # a refused call is no use


def test_a_revoked_token_is_refused_saying_so(world: dict[str, Any]) -> None:
    issued = api_tokens.issue(world["alpha"], "ci", write=True, owner=world["maya"])
    api_tokens.revoke(issued.token, actor=world["maya"])
    response = _scan(_client(issued.plaintext), RepositoryFactory(team=world["alpha"]))
    assert response.status_code == 401
    body = response.json()
    assert body["message"].startswith(f"token revoked on {timezone.now().date().isoformat()};")
    assert body["message"].endswith("create a new one at /tokens/")
    assert body["details"]["reason"] == "revoked"


def test_an_unknown_token_gets_the_plain_refusal(world: dict[str, Any]) -> None:
    response = _client("ys_never-issued").get("/api/v1/teams")
    assert response.status_code == 401
    assert response.json()["message"] == "send `Authorization: Bearer <token>` or sign in"


def test_a_legacy_token_without_expiry_keeps_working(world: dict[str, Any]) -> None:
    issued = api_tokens.issue(world["alpha"], "old ci", write=True)
    ApiToken.objects.filter(pk=issued.token.pk).update(expires_at=None)
    repository = RepositoryFactory(team=world["alpha"])
    assert _scan(_client(issued.plaintext), repository).status_code == 202
    assert (
        _scan(_client(issued.plaintext), RepositoryFactory(team=world["beta"])).status_code == 403
    )


def test_a_read_token_cannot_write(world: dict[str, Any]) -> None:
    issued = api_tokens.issue(world["alpha"], "reader", owner=world["maya"])
    client = _client(issued.plaintext)
    assert client.get("/api/v1/repositories").status_code == 200
    response = _scan(client, RepositoryFactory(team=world["alpha"]))
    assert (response.status_code, response.json()["message"]) == (403, "this token is read-only")


def test_a_team_write_token_cannot_write_to_another_team_its_owner_maintains(
    world: dict[str, Any],
) -> None:
    client = _client(
        api_tokens.issue(world["alpha"], "ci", write=True, owner=world["maya"]).plaintext
    )
    assert _scan(client, RepositoryFactory(team=world["alpha"])).status_code == 202
    refused = _scan(client, RepositoryFactory(team=world["beta"]))
    assert refused.status_code == 403
    assert refused.json()["message"] == "this token belongs to another team than beta"


def test_an_all_teams_write_token_writes_where_its_owner_maintains(world: dict[str, Any]) -> None:
    gamma = TeamFactory(slug="gamma")
    client = _client(api_tokens.issue(None, "ci", write=True, owner=world["maya"]).plaintext)
    assert _scan(client, RepositoryFactory(team=world["alpha"])).status_code == 202
    assert _scan(client, RepositoryFactory(team=world["beta"])).status_code == 202
    refused = _scan(client, RepositoryFactory(team=gamma))
    assert refused.status_code == 403
    assert refused.json()["message"] == "the token's owner does not maintain gamma"


def test_a_token_loses_what_its_owner_loses(world: dict[str, Any]) -> None:
    """Removed from Alpha's maintainers, Maya's Alpha token can no longer write there (it
    still reads); deactivated, all her tokens are refused."""
    client = _client(
        api_tokens.issue(world["alpha"], "ci", write=True, owner=world["maya"]).plaintext
    )
    repository = RepositoryFactory(team=world["alpha"])
    Membership.objects.filter(user=world["maya"], team=world["alpha"]).update(role="member")
    refused = _scan(client, repository)
    assert refused.status_code == 403
    assert refused.json()["message"] == "the token's owner does not maintain alpha"
    assert client.get("/api/v1/teams").status_code == 200
    world["maya"].is_active = False
    world["maya"].save()
    gone = client.get("/api/v1/teams")
    assert gone.status_code == 401
    assert gone.json()["details"]["reason"] == "owner_inactive"


# ----- last use ------------------------------------------------------------------------------
def test_last_use_time_and_address_are_recorded_at_most_once_a_minute(
    world: dict[str, Any],
) -> None:
    issued = api_tokens.issue(None, "scripts", owner=world["milo"])
    assert _client(issued.plaintext, "10.1.2.3").get("/api/v1/teams").status_code == 200
    issued.token.refresh_from_db()
    first = issued.token.last_used_at
    assert first is not None
    assert issued.token.last_used_ip == "10.1.2.3"
    assert _client(issued.plaintext, "10.9.9.9").get("/api/v1/teams").status_code == 200
    issued.token.refresh_from_db()
    assert (issued.token.last_used_at, issued.token.last_used_ip) == (first, "10.1.2.3")
    ApiToken.objects.filter(pk=issued.token.pk).update(
        last_used_at=timezone.now() - api_tokens.TOUCH_INTERVAL - timedelta(seconds=1)
    )
    assert _client(issued.plaintext, "2001:db8::1").get("/api/v1/teams").status_code == 200
    issued.token.refresh_from_db()
    assert issued.token.last_used_ip == "2001:db8::1"
    assert issued.token.last_used_at is not None
    assert issued.token.last_used_at > first


# ----- the command ---------------------------------------------------------------------------
def test_the_command_issues_expiring_team_tokens(world: dict[str, Any], capsys: Any) -> None:
    call_command("create_api_token", "alpha", "deploys", "--write", "--days", "30")
    plaintext = capsys.readouterr().out.strip()
    token = ApiToken.objects.get(token_hash=api_tokens.hash_token(plaintext))
    assert (token.owner, token.team, token.scope) == (None, world["alpha"], "write")
    assert token.expires_at is not None
    assert token.expires_at - token.created_at == pytest.approx(
        timedelta(days=30), abs=timedelta(minutes=1)
    )
    with pytest.raises(CommandError, match="1 to 365 days"):
        call_command("create_api_token", "alpha", "deploys", "--days", "400")


def test_a_team_deleted_takes_its_tokens(world: dict[str, Any]) -> None:
    api_tokens.issue(world["beta"], "ci", write=True, owner=world["maya"])
    Team.objects.filter(pk=world["beta"].pk).delete()
    assert not ApiToken.objects.exists()
