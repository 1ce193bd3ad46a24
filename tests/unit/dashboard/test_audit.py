"""The audit log: every sensitive action leaves one event, in its own transaction, without
secrets; the Django admin shows it read-only."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from django.utils import timezone

from dashboard.models import (
    ApiToken,
    Attestation,
    AuditEvent,
    CheckResult,
    Membership,
    Ratchet,
    Repository,
    Rule,
    TeamNotificationSettings,
    Waiver,
    WaiverRequest,
)
from dashboard.services.access import accounts, api_tokens, audit, secrets
from dashboard.services.access.permissions import MANAGERS_GROUP
from dashboard.services.governance import ratchets, waiver_requests
from dashboard.services.governance import waivers as governance
from dashboard.services.repos.registration import delete_repository, register_repository
from dashboard.services.scans import deep as deep_scans
from dashboard.services.scoring.scores import refresh_repository_score
from tests.factories import RepositoryFactory, ScanFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

ADDRESS = "203.0.113.9"
SLACK_URL = "https://hooks.example.com/services/T000/B000/very-secret-path"


def _scanned(team: Any) -> Repository:
    """A repository whose latest scan fails DEP-002 (waivable), has VER-005 manual
    (attestable) and STY-004 failing with 3 findings (ratchetable)."""
    repository = RepositoryFactory(team=team)
    scan = ScanFactory(repository=repository)
    rules = {
        r.rule_id: r for r in Rule.objects.filter(rule_id__in=["DEP-002", "VER-005", "STY-004"])
    }
    CheckResult.objects.bulk_create(
        [
            CheckResult(scan=scan, rule=rules["DEP-002"], status="fail", message="poetry.lock"),
            CheckResult(scan=scan, rule=rules["VER-005"], status="manual"),
            CheckResult(scan=scan, rule=rules["STY-004"], status="fail", findings=3),
        ]
    )
    repository.latest_scan = scan
    repository.save()
    return refresh_repository_score(repository)


def _waived(personas: dict[str, Any]) -> tuple[Repository, Waiver]:
    """`_scanned` with DEP-002 waived by a manager for five days (maintainers request)."""
    repository = _scanned(personas["team"])
    waiver = governance.grant_waiver(
        personas["manager"],
        repository,
        Rule.objects.get(rule_id="DEP-002"),
        "a reason long enough",
        timezone.now() + timedelta(days=5),
    )
    return repository, waiver


def _login(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


def _dump() -> str:
    """Every stored audit event, every column, as one string to search."""
    return json.dumps(list(AuditEvent.objects.values()), default=str)


def _only(action: str) -> AuditEvent:
    return AuditEvent.objects.get(action=action)


# ----- what each service records ----------------------------------------------------------
def test_waiver_granted_from_the_page_names_actor_team_address_and_request(
    client: Client, personas: dict[str, Any]
) -> None:
    repository = _scanned(personas["team"])
    client = _login(client, personas["manager"])  # maintainers request one (issue 22)
    expiry = (timezone.now() + timedelta(days=30)).date()
    response = client.post(
        f"/repositories/{repository.pk}/waivers/",
        {
            "rule": Rule.objects.get(rule_id="DEP-002").pk,
            "reason": "Migrating off Poetry next sprint",
            "expires_on": expiry.isoformat(),
        },
        headers={"X-Request-ID": "req-waiver-1"},
        REMOTE_ADDR=ADDRESS,
    )
    assert response.status_code == 302
    waiver = Waiver.objects.get()
    event = _only("waiver.granted")
    assert event.actor == personas["manager"]
    assert event.actor_label == "manon"
    assert (event.target_type, event.target_id) == ("waiver", waiver.pk)
    assert event.target_label == f"{repository.name} · DEP-002"
    assert event.team == personas["team"]
    assert event.source_ip == ADDRESS
    assert event.request_id == "req-waiver-1"
    assert event.details["rule"] == "DEP-002"
    assert event.details["reason"] == "Migrating off Poetry next sprint"
    assert event.details["expires_at"].startswith(expiry.isoformat())


def test_waiver_revoked_once_even_when_revoked_twice(
    client: Client, personas: dict[str, Any]
) -> None:
    repository, waiver = _waived(personas)
    client = _login(client, personas["admin"])
    for _ in range(2):
        response = client.post(f"/repositories/{repository.pk}/waivers/{waiver.pk}/revoke/")
        assert response.status_code == 302
    event = _only("waiver.revoked")
    assert event.actor == personas["admin"]
    assert event.target_id == waiver.pk
    assert AuditEvent.objects.count() == 2  # granted, revoked


def test_attestation_recorded_and_revoked(client: Client, personas: dict[str, Any]) -> None:
    repository = _scanned(personas["team"])
    client = _login(client, personas["maintainer"])
    client.post(
        f"/repositories/{repository.pk}/attestations/",
        {
            "att-rule": Rule.objects.get(rule_id="VER-005").pk,
            "att-evidence_url": "https://wiki.example.com/reviews",
            "att-days": 30,
        },
    )
    attestation = Attestation.objects.get()
    recorded = _only("attestation.recorded")
    assert recorded.details["evidence_url"] == "https://wiki.example.com/reviews"
    assert recorded.target_id == attestation.pk

    response = client.post(f"/repositories/{repository.pk}/attestations/{attestation.pk}/revoke/")
    assert response.status_code == 302
    attestation.refresh_from_db()
    assert attestation.revoked_at is not None
    repository.refresh_from_db()
    assert repository.score is not None
    assert _only("attestation.revoked").actor == personas["maintainer"]


def test_attestation_revocation_is_for_the_teams_maintainers_only(
    client: Client, personas: dict[str, Any]
) -> None:
    repository = _scanned(personas["team"])
    attestation = governance.attest(
        personas["maintainer"],
        repository,
        Rule.objects.get(rule_id="VER-005"),
        "https://x.example/e",
    )
    for who in ("member", "outsider", "manager"):
        response = _login(Client(), personas[who]).post(
            f"/repositories/{repository.pk}/attestations/{attestation.pk}/revoke/"
        )
        assert response.status_code == 403, who
    attestation.refresh_from_db()
    assert attestation.revoked_at is None
    assert not AuditEvent.objects.filter(action="attestation.revoked").exists()


def test_ratchet_set_and_released(personas: dict[str, Any]) -> None:
    repository = _scanned(personas["team"])
    ratchet = ratchets.freeze(
        personas["maintainer"], repository, Rule.objects.get(rule_id="STY-004")
    )
    ratchets.release(personas["maintainer"], ratchet)
    assert _only("ratchet.set").details == {"rule": "STY-004", "baseline": 3}
    assert _only("ratchet.released").target_label == f"{repository.name} · STY-004"


def test_token_created_and_revoked_never_store_the_token(personas: dict[str, Any]) -> None:
    issued = api_tokens.issue(personas["team"], "CI", write=True, created_by=personas["admin"])
    api_tokens.revoke(issued.token, actor=personas["admin"])
    api_tokens.revoke(issued.token, actor=personas["admin"])  # already revoked: no second event
    created = _only("token.created")
    assert created.actor == personas["admin"]
    assert created.details == {
        "name": "CI",
        "scope": "write",
        "prefix": issued.token.prefix,
        "owner": None,
        "team": personas["team"].slug,
        "expires_at": issued.token.expires_at.isoformat(),  # type: ignore[union-attr]
    }
    assert _only("token.revoked").team == personas["team"]
    dump = _dump()
    assert issued.plaintext not in dump
    assert issued.token.token_hash not in dump


def test_token_from_the_command_is_attributed_to_the_command(
    personas: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    call_command("create_api_token", "payments", "deploys")
    plaintext = capsys.readouterr().out.strip()
    event = _only("token.created")
    assert event.actor is None
    assert event.actor_label == "manage.py create_api_token"
    assert plaintext.startswith("ys_")
    assert plaintext not in _dump()


def test_repository_registered_by_form_and_by_api_token_without_the_secret(
    client: Client, personas: dict[str, Any], settings: Any
) -> None:
    settings.ALLOW_LOCAL_REPOSITORIES = False
    client = _login(client, personas["maintainer"])
    response = client.post(
        "/repositories/new/",
        {
            "team": personas["team"].pk,
            "clone_url": "https://user:hunter2@git.example.com/pay/ledger.git",
            "default_branch": "main",
        },
    )
    assert response.status_code == 200
    ledger = Repository.objects.get(name="ledger")
    issued = api_tokens.issue(personas["team"], "ci", write=True)
    api = Client().post(
        "/api/v1/repositories",
        {"team": "payments", "clone_url": "https://git.example.com/pay/billing.git"},
        content_type="application/json",
        headers={"Authorization": f"Bearer {issued.plaintext}"},
    )
    assert api.status_code == 201, api.content
    by_form, by_token = AuditEvent.objects.filter(action="repository.registered").order_by("id")
    assert (by_form.actor, by_form.target_id) == (personas["maintainer"], ledger.pk)
    assert by_form.details["clone_url"] == "https://user:***@git.example.com/pay/ledger.git"
    assert by_token.actor is None
    assert by_token.actor_label == f"API token {issued.token.prefix}… “ci”"
    dump = _dump()
    for repository in Repository.objects.all():
        secret = secrets.decrypt(repository.webhook_secret_encrypted)
        assert secret
        assert secret not in dump
        assert repository.webhook_secret_encrypted not in dump
    assert api.json()["webhook_secret"] not in dump
    assert issued.plaintext not in dump
    assert "hunter2" not in dump


def test_repository_deleted_in_the_admin_is_recorded(
    client: Client, personas: dict[str, Any]
) -> None:
    repository = _scanned(personas["team"])
    client = _login(client, personas["admin"])
    response = client.post(f"/admin/dashboard/repository/{repository.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Repository.objects.exists()
    event = _only("repository.deleted")
    assert (event.actor, event.target_id, event.target_label) == (
        personas["admin"],
        repository.pk,
        repository.name,
    )
    assert event.details["scans"] == 1
    assert event.team == personas["team"]


def test_repository_deletion_in_bulk_records_each_and_needs_an_admin(
    client: Client, personas: dict[str, Any]
) -> None:
    first, second = _scanned(personas["team"]), _scanned(personas["team"])
    with pytest.raises(PermissionDenied):
        delete_repository(personas["maintainer"], first)
    assert Repository.objects.count() == 2
    client = _login(client, personas["admin"])
    response = client.post(
        "/admin/dashboard/repository/",
        {"action": "delete_selected", "_selected_action": [first.pk, second.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert not Repository.objects.exists()
    deleted = AuditEvent.objects.filter(action="repository.deleted")
    assert sorted(deleted.values_list("target_id", flat=True)) == sorted([first.pk, second.pk])


def test_deep_scan_switch_is_recorded_only_when_it_changes(personas: dict[str, Any]) -> None:
    repository = RepositoryFactory(team=personas["team"])
    deep_scans.set_enabled(personas["maintainer"], repository, True)
    deep_scans.set_enabled(personas["maintainer"], repository, True)
    with pytest.raises(PermissionDenied):
        deep_scans.set_enabled(personas["member"], repository, False)
    assert _only("repository.deep_scan").details == {"enabled": True}
    repository.refresh_from_db()
    assert repository.deep_scan is True


def test_notification_settings_never_store_the_slack_url(
    client: Client, personas: dict[str, Any]
) -> None:
    client = _login(client, personas["maintainer"])
    url = f"/teams/{personas['team'].slug}/notifications/"
    client.post(url, {"email_recipients": "a@example.com", "slack_webhook_url": SLACK_URL})
    client.post(url, {"email_recipients": "a@example.com", "remove_slack": "on"})
    assert TeamNotificationSettings.objects.get().slack_webhook_encrypted == ""
    events = list(AuditEvent.objects.filter(action="notifications.changed").order_by("id"))
    assert [e.details["slack"] for e in events] == ["set", "removed"]
    assert "very-secret-path" not in _dump()


def test_memberships_changed_in_the_admin_are_recorded(
    client: Client, personas: dict[str, Any]
) -> None:
    newcomer = UserFactory(username="nina")
    client = _login(client, personas["admin"])
    team = personas["team"]
    add = client.post(
        "/admin/dashboard/membership/add/",
        {"user": newcomer.pk, "team": team.pk, "role": "member"},
    )
    assert add.status_code == 302, add.content[:2000]
    membership = Membership.objects.get(user=newcomer)
    change = client.post(
        f"/admin/dashboard/membership/{membership.pk}/change/",
        {"user": newcomer.pk, "team": team.pk, "role": "maintainer"},
    )
    assert change.status_code == 302
    delete = client.post(f"/admin/dashboard/membership/{membership.pk}/delete/", {"post": "yes"})
    assert delete.status_code == 302
    assert not Membership.objects.filter(user=newcomer).exists()
    added, changed, removed = AuditEvent.objects.order_by("id")
    assert (added.action, added.details) == ("membership.added", {"role": "member", "user": "nina"})
    assert changed.action == "membership.changed"
    assert changed.details["changed"] == {"role": ["member", "maintainer"]}
    assert (removed.action, removed.target_label) == ("membership.removed", "nina in Payments")
    assert {e.team for e in (added, changed, removed)} == {team}


def test_unchanged_membership_save_records_nothing(personas: dict[str, Any]) -> None:
    membership = Membership.objects.get(user=personas["member"])
    before = {"user": membership.user_id, "team": membership.team_id, "role": membership.role}
    accounts.save_membership(personas["admin"], membership, before)
    assert not AuditEvent.objects.exists()
    with pytest.raises(PermissionDenied):
        accounts.save_membership(personas["maintainer"], membership, before)


def test_privileges_granted_in_the_admin_are_recorded(
    client: Client, personas: dict[str, Any]
) -> None:
    Group.objects.get_or_create(name=MANAGERS_GROUP)
    target = personas["outsider"]
    client = _login(client, personas["admin"])
    response = client.post(
        f"/admin/auth/user/{target.pk}/change/",
        {
            "username": target.username,
            "email": target.email,
            "is_active": "on",
            "is_staff": "on",
            "groups": [Group.objects.get(name=MANAGERS_GROUP).pk],
            "last_login_0": "",
            "last_login_1": "",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
        },
    )
    assert response.status_code == 302, response.content[:3000]
    event = _only("user.roles")
    assert event.actor == personas["admin"]
    assert event.target_label == target.username
    assert event.details["changed"] == {
        "is_staff": [False, True],
        "groups": [[], [MANAGERS_GROUP]],
    }
    target.refresh_from_db()
    assert target.password not in _dump()


# ----- one transaction with the action ----------------------------------------------------
def test_an_action_that_fails_after_its_event_leaves_neither(
    personas: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    repository = _scanned(personas["team"])
    ratchet = ratchets.freeze(
        personas["maintainer"], repository, Rule.objects.get(rule_id="STY-004")
    )

    def broken_refresh(_: Repository) -> None:
        raise RuntimeError("refresh failed")

    monkeypatch.setattr(ratchets, "_refresh", broken_refresh)
    pk = ratchet.pk
    with pytest.raises(RuntimeError, match="refresh failed"):
        ratchets.release(personas["maintainer"], ratchet)  # event written, then the failure
    assert Ratchet.objects.filter(pk=pk).exists()
    assert not AuditEvent.objects.filter(action="ratchet.released").exists()
    assert AuditEvent.objects.filter(action="ratchet.set").count() == 1


def test_an_event_that_cannot_be_written_undoes_the_action(
    personas: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    repository = _scanned(personas["team"])

    def broken_record(*args: object, **kwargs: object) -> None:
        raise audit.AuditError("disk full")

    monkeypatch.setattr(audit, "record", broken_record)
    for act in (governance.grant_waiver, waiver_requests.request_waiver):
        with pytest.raises(audit.AuditError):
            act(
                personas["manager" if act is governance.grant_waiver else "maintainer"],
                repository,
                Rule.objects.get(rule_id="DEP-002"),
                "a reason long enough",
                timezone.now() + timedelta(days=3),
            )
    assert not WaiverRequest.objects.exists()
    with pytest.raises(audit.AuditError):
        api_tokens.issue(personas["team"], "ci")
    with pytest.raises(audit.AuditError):
        register_repository(personas["team"], "https://git.example.com/pay/new.git")
    assert not Waiver.objects.exists()
    assert not ApiToken.objects.exists()
    assert not Repository.objects.filter(name="new").exists()


@pytest.mark.django_db(transaction=True)
def test_record_refuses_to_write_outside_a_transaction() -> None:
    with pytest.raises(audit.AuditError, match="inside the transaction"):
        audit.record(AuditEvent.Action.TOKEN_CREATED, actor=None)
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize(
    "name", ["webhook_secret", "token", "plaintext", "password", "api_key", "Authorization"]
)
def test_details_with_a_secret_name_are_refused(name: str) -> None:
    with pytest.raises(audit.AuditError, match="may hold a secret"):
        audit.record(AuditEvent.Action.TOKEN_CREATED, actor=None, details={name: "x"})
    with pytest.raises(audit.AuditError, match="may hold a secret"):
        audit.record(
            AuditEvent.Action.WAIVER_CHANGED, actor=None, details={"changed": {name: ["a", "b"]}}
        )
    assert not AuditEvent.objects.exists()


def test_events_are_append_only(personas: dict[str, Any]) -> None:
    with transaction.atomic():
        event = audit.record(AuditEvent.Action.TOKEN_CREATED, actor=personas["admin"])
    event.actor_label = "someone else"
    with pytest.raises(ValueError, match="append-only"):
        event.save()
    with pytest.raises(ValueError, match="append-only"):
        event.delete()
    assert AuditEvent.objects.get().actor_label == "ada"


def test_the_label_survives_the_actors_deletion(personas: dict[str, Any]) -> None:
    outsider = personas["outsider"]
    team = TeamFactory()
    api_tokens.issue(team, "ci", created_by=outsider)
    outsider.delete()
    event = _only("token.created")
    assert event.actor is None
    assert event.actor_label == "otto"


# ----- the Django admin: read-only ----------------------------------------------------------
def test_admin_lists_events_but_cannot_add_change_or_delete(
    client: Client, personas: dict[str, Any]
) -> None:
    issued = api_tokens.issue(personas["team"], "ci", created_by=personas["admin"])
    event = _only("token.created")
    client = _login(client, personas["admin"])
    listing = client.get("/admin/dashboard/auditevent/")
    assert listing.status_code == 200
    assert "API token created" in listing.content.decode()
    assert issued.plaintext not in listing.content.decode()
    assert client.get("/admin/dashboard/auditevent/add/").status_code == 403
    detail = client.get(f"/admin/dashboard/auditevent/{event.pk}/change/")
    assert detail.status_code == 200  # view only
    assert 'name="_save"' not in detail.content.decode()
    assert (
        client.post(
            f"/admin/dashboard/auditevent/{event.pk}/change/", {"actor_label": "x"}
        ).status_code
        == 403
    )
    assert (
        client.post(f"/admin/dashboard/auditevent/{event.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    bulk = client.post(
        "/admin/dashboard/auditevent/",
        {"action": "delete_selected", "_selected_action": [event.pk], "post": "yes"},
    )
    assert bulk.status_code in {200, 302}
    assert AuditEvent.objects.get().actor_label == "ada"


def test_waivers_are_not_added_or_deleted_in_the_admin_and_edits_are_recorded(
    client: Client, personas: dict[str, Any]
) -> None:
    _, waiver = _waived(personas)
    client = _login(client, personas["admin"])
    assert client.get("/admin/dashboard/waiver/add/").status_code == 403
    assert (
        client.post(f"/admin/dashboard/waiver/{waiver.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    later = timezone.now() + timedelta(days=20)
    response = client.post(
        f"/admin/dashboard/waiver/{waiver.pk}/change/",
        {
            "reason": "a reason long enough",
            "expires_at_0": later.date().isoformat(),
            "expires_at_1": "12:00:00",
            "revoked_at_0": "",
            "revoked_at_1": "",
        },
    )
    assert response.status_code == 302, response.content[:3000]
    event = _only("waiver.changed")
    assert list(event.details["changed"]) == ["expires_at"]
    old, new = event.details["changed"]["expires_at"]
    assert old != new
    assert new.startswith(later.date().isoformat())
    assert Waiver.objects.filter(pk=waiver.pk).exists()


def test_admin_token_revocation_action_is_recorded(
    client: Client, personas: dict[str, Any]
) -> None:
    issued = api_tokens.issue(personas["team"], "ci")
    client = _login(client, personas["admin"])
    response = client.post(
        "/admin/dashboard/apitoken/",
        {"action": "revoke_selected", "_selected_action": [issued.token.pk]},
    )
    assert response.status_code == 302
    assert _only("token.revoked").actor == personas["admin"]
    with pytest.raises(api_tokens.TokenRefused, match="token revoked on"):
        api_tokens.authenticate(issued.plaintext)


def test_admin_bulk_revocation_of_waivers_and_attestations_is_recorded(
    client: Client, personas: dict[str, Any]
) -> None:
    repository, waiver = _waived(personas)
    attestation = governance.attest(
        personas["maintainer"],
        repository,
        Rule.objects.get(rule_id="VER-005"),
        "https://wiki.example.com/runbooks",
    )
    client = _login(client, personas["admin"])
    for path, item in (("waiver", waiver), ("attestation", attestation)):
        response = client.post(
            f"/admin/dashboard/{path}/",
            {"action": "revoke_selected", "_selected_action": [item.pk]},
        )
        assert response.status_code == 302
        item.refresh_from_db()
        assert item.revoked_at is not None
        assert _only(f"{path}.revoked").actor == personas["admin"]
