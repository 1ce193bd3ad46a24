"""Waiver requests: a maintainer asks, someone else decides; only an approval makes a waiver
in force; every step is audited and the right people are told."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from dashboard.models import (
    AuditEvent,
    Delivery,
    Membership,
    Notification,
    Repository,
    Rule,
    Waiver,
    WaiverRequest,
)
from dashboard.selectors.governance import active_waiver_rule_ids
from dashboard.services.governance import waiver_requests as requests
from dashboard.services.governance.waivers import GovernanceError, grant_waiver
from dashboard.services.notify.delivery import deliver
from dashboard.services.notify.events import save_team_settings
from tests.factories import MembershipFactory, RepositoryFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

REASON = "Migrating off Poetry next sprint"


@pytest.fixture
def repo(personas: dict[str, Any]) -> Repository:
    return RepositoryFactory(team=personas["team"])


@pytest.fixture
def rule() -> Rule:
    return Rule.objects.get(rule_id="DEP-002", standard__key="python-backend")


def _later(days: int = 30) -> Any:
    return timezone.now() + timedelta(days=days)


def _ask(personas: dict[str, Any], repo: Repository, rule: Rule) -> WaiverRequest:
    return requests.request_waiver(personas["maintainer"], repo, rule, REASON, _later())


def _actions() -> list[str]:
    return list(AuditEvent.objects.order_by("pk").values_list("action", flat=True))


# ----- requesting -------------------------------------------------------------------------
def test_a_maintainer_requests_a_waiver_which_is_not_in_force(
    personas: dict[str, Any], repo: Repository, rule: Rule
) -> None:
    request = _ask(personas, repo, rule)
    assert request.status == WaiverRequest.Status.PENDING
    assert request.requested_by == personas["maintainer"]
    assert not Waiver.objects.exists()
    assert active_waiver_rule_ids(repo.pk) == set()
    assert _actions() == ["waiver.requested"]


@pytest.mark.parametrize("who", ["member", "outsider"])
def test_only_the_teams_maintainers_request(
    personas: dict[str, Any], repo: Repository, rule: Rule, who: str
) -> None:
    with pytest.raises(PermissionDenied):
        requests.request_waiver(personas[who], repo, rule, REASON, _later())
    assert not WaiverRequest.objects.exists()
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize(
    ("reason", "days", "field", "message"),
    [
        ("short", 30, "reason", "at least 10 characters"),
        (REASON, -1, "expires_at", "in the future"),
        (REASON, 400, "expires_at", "at most 365 days"),
    ],
)
def test_a_request_has_the_bounds_of_a_waiver(
    personas: dict[str, Any],
    repo: Repository,
    rule: Rule,
    reason: str,
    days: int,
    field: str,
    message: str,
) -> None:
    with pytest.raises(GovernanceError) as refused:
        requests.request_waiver(personas["maintainer"], repo, rule, reason, _later(days))
    assert refused.value.field == field
    assert message in refused.value.message
    assert not WaiverRequest.objects.exists()


def test_an_attest_rule_cannot_be_requested(personas: dict[str, Any], repo: Repository) -> None:
    attest = Rule.objects.filter(evaluation="attest").first()
    assert attest is not None
    with pytest.raises(GovernanceError, match="attested, not waived"):
        requests.request_waiver(personas["maintainer"], repo, attest, REASON, _later())


def test_a_second_request_for_the_same_rule_waits_for_the_first(
    personas: dict[str, Any], repo: Repository, rule: Rule
) -> None:
    _ask(personas, repo, rule)
    with pytest.raises(GovernanceError, match="already awaits a decision"):
        _ask(personas, repo, rule)
    assert WaiverRequest.objects.count() == 1


def test_a_rule_with_a_waiver_in_force_is_not_requested_again(
    personas: dict[str, Any], repo: Repository, rule: Rule
) -> None:
    grant_waiver(personas["manager"], repo, rule, REASON, _later())
    with pytest.raises(GovernanceError, match="already has a waiver in force"):
        _ask(personas, repo, rule)


# ----- approving --------------------------------------------------------------------------
@pytest.mark.parametrize("who", ["manager", "admin"])
def test_approval_creates_an_in_force_waiver_approved_by_the_approver(
    personas: dict[str, Any], repo: Repository, rule: Rule, who: str
) -> None:
    request = _ask(personas, repo, rule)
    waiver = requests.approve(personas[who], request, "fine for a sprint")
    request.refresh_from_db()
    assert request.status == WaiverRequest.Status.APPROVED
    assert (request.decided_by, request.waiver) == (personas[who], waiver)
    assert request.decision_reason == "fine for a sprint"
    assert request.decided_at is not None
    assert (waiver.approved_by, waiver.reason, waiver.expires_at) == (
        personas[who],
        REASON,
        request.expires_at,
    )
    assert active_waiver_rule_ids(repo.pk) == {rule.pk}
    assert _actions() == ["waiver.requested", "waiver.approved"]
    event = AuditEvent.objects.get(action="waiver.approved")
    assert event.actor == personas[who]
    assert event.details["waiver"] == waiver.pk
    assert event.details["requested_by"] == "maya"


def test_the_requester_cannot_approve_nor_reject_their_own_request(
    personas: dict[str, Any], repo: Repository, rule: Rule, settings: Any
) -> None:
    settings.WAIVER_APPROVERS = "maintainers"
    request = _ask(personas, repo, rule)
    for decide in (
        lambda: requests.approve(personas["maintainer"], request),
        lambda: requests.reject(personas["maintainer"], request, "not a good idea at all"),
    ):
        with pytest.raises(PermissionDenied, match="you requested this waiver"):
            decide()
    request.refresh_from_db()
    assert request.status == WaiverRequest.Status.PENDING
    assert not Waiver.objects.exists()
    assert _actions() == ["waiver.requested"]


def test_an_admin_who_requested_cannot_approve_either(
    personas: dict[str, Any], repo: Repository, rule: Rule
) -> None:
    request = requests.request_waiver(personas["admin"], repo, rule, REASON, _later())
    with pytest.raises(PermissionDenied, match="someone else"):
        requests.approve(personas["admin"], request)
    requests.approve(personas["manager"], request)
    assert Waiver.objects.get().approved_by == personas["manager"]


@pytest.mark.parametrize("who", ["member", "outsider"])
def test_members_and_outsiders_never_decide(
    personas: dict[str, Any], repo: Repository, rule: Rule, who: str
) -> None:
    request = _ask(personas, repo, rule)
    with pytest.raises(PermissionDenied):
        requests.approve(personas[who], request)
    assert WaiverRequest.objects.get().status == "pending"


def test_by_default_another_maintainer_of_the_team_cannot_approve(
    personas: dict[str, Any], repo: Repository, rule: Rule
) -> None:
    colleague = UserFactory(username="mo")
    MembershipFactory(user=colleague, team=personas["team"], role=Membership.Role.MAINTAINER)
    request = _ask(personas, repo, rule)
    with pytest.raises(PermissionDenied, match="only managers"):
        requests.approve(colleague, request)
    assert not Waiver.objects.exists()


def test_with_the_maintainers_policy_another_maintainer_of_the_team_approves(
    personas: dict[str, Any], repo: Repository, rule: Rule, settings: Any
) -> None:
    settings.WAIVER_APPROVERS = "maintainers"
    colleague = UserFactory(username="mo")
    MembershipFactory(user=colleague, team=personas["team"], role=Membership.Role.MAINTAINER)
    request = _ask(personas, repo, rule)
    waiver = requests.approve(colleague, request)
    assert waiver.approved_by == colleague


def test_another_teams_maintainer_cannot_approve_even_with_the_maintainers_policy(
    personas: dict[str, Any], repo: Repository, rule: Rule, settings: Any
) -> None:
    settings.WAIVER_APPROVERS = "maintainers"
    stranger = UserFactory(username="sam")
    MembershipFactory(user=stranger, team=TeamFactory(), role=Membership.Role.MAINTAINER)
    request = _ask(personas, repo, rule)
    with pytest.raises(PermissionDenied, match="other maintainers"):
        requests.approve(stranger, request)
    assert not Waiver.objects.exists()


def test_a_decided_request_cannot_be_decided_again(
    personas: dict[str, Any], repo: Repository, rule: Rule
) -> None:
    request = _ask(personas, repo, rule)
    stale = WaiverRequest.objects.get(pk=request.pk)  # another approver's copy of the page
    requests.approve(personas["manager"], request)
    with pytest.raises(GovernanceError, match="already approved"):
        requests.reject(personas["admin"], stale, "too late for that now")
    with pytest.raises(GovernanceError, match="already approved"):
        requests.approve(personas["admin"], stale)
    assert Waiver.objects.count() == 1
    assert WaiverRequest.objects.get().decided_by == personas["manager"]


def test_a_request_whose_expiry_passed_while_waiting_is_not_approved(
    personas: dict[str, Any], repo: Repository, rule: Rule
) -> None:
    request = _ask(personas, repo, rule)
    WaiverRequest.objects.filter(pk=request.pk).update(expires_at=_later(-1))
    request.refresh_from_db()
    with pytest.raises(GovernanceError, match="cannot approve: the expiry must be in the future"):
        requests.approve(personas["manager"], request)
    assert WaiverRequest.objects.get().status == "pending"
    assert not Waiver.objects.exists()


# ----- rejecting and withdrawing ----------------------------------------------------------
def test_rejection_needs_a_reason_and_never_counts(
    personas: dict[str, Any], repo: Repository, rule: Rule
) -> None:
    request = _ask(personas, repo, rule)
    with pytest.raises(GovernanceError, match="say why"):
        requests.reject(personas["manager"], request, "  no ")
    assert WaiverRequest.objects.get().status == "pending"
    requests.reject(personas["manager"], request, "Fix it this sprint instead")
    request.refresh_from_db()
    assert request.status == WaiverRequest.Status.REJECTED
    assert request.decision_reason == "Fix it this sprint instead"
    assert request.waiver is None
    assert not Waiver.objects.exists()
    assert active_waiver_rule_ids(repo.pk) == set()
    assert _actions() == ["waiver.requested", "waiver.rejected"]
    assert AuditEvent.objects.get(action="waiver.rejected").details["reason"] == (
        "Fix it this sprint instead"
    )


def test_the_requester_withdraws_and_no_one_else_does(
    personas: dict[str, Any], repo: Repository, rule: Rule
) -> None:
    request = _ask(personas, repo, rule)
    for who in ("manager", "admin", "member"):
        with pytest.raises(PermissionDenied, match="only the person who requested"):
            requests.withdraw(personas[who], request)
    requests.withdraw(personas["maintainer"], request)
    assert WaiverRequest.objects.get().status == "withdrawn"
    with pytest.raises(GovernanceError, match="already withdrawn"):
        requests.approve(personas["manager"], request)
    assert _actions() == ["waiver.requested", "waiver.withdrawn"]
    _ask(personas, repo, rule)  # a new request may follow
    assert WaiverRequest.objects.filter(status="pending").count() == 1


# ----- direct grants ----------------------------------------------------------------------
@pytest.mark.parametrize("who", ["maintainer", "member", "outsider"])
def test_only_managers_and_admins_grant_directly(
    personas: dict[str, Any], repo: Repository, rule: Rule, who: str
) -> None:
    with pytest.raises(PermissionDenied, match="maintainers request waivers"):
        grant_waiver(personas[who], repo, rule, REASON, _later())
    assert not Waiver.objects.exists()


def test_a_manager_grants_directly_audited(
    personas: dict[str, Any], repo: Repository, rule: Rule
) -> None:
    waiver = grant_waiver(personas["manager"], repo, rule, REASON, _later())
    assert waiver.approved_by == personas["manager"]
    assert _actions() == ["waiver.granted"]


# ----- notifications ----------------------------------------------------------------------
def test_a_request_tells_the_team_and_e_mails_the_approvers(
    personas: dict[str, Any], repo: Repository, rule: Rule
) -> None:
    save_team_settings(personas["maintainer"], personas["team"], emails="team@example.com")
    for who, email in (("manager", "manon@example.com"), ("admin", "ada@example.com")):
        personas[who].email = email
        personas[who].save()
    personas["maintainer"].email = "maya@example.com"
    personas["maintainer"].save()
    request = _ask(personas, repo, rule)

    team, approvers = Notification.objects.filter(kind="waiver_request").order_by("pk")
    assert (team.team, team.dedupe_key) == (personas["team"], f"waiver-request:{request.pk}:team")
    assert "maya asks to waive DEP-002" in team.body
    assert "/waivers/requests/" in team.body
    assert approvers.team is None
    assert approvers.payload["emails"] == ["ada@example.com", "manon@example.com"]
    deliveries = Delivery.objects.filter(notification__kind="waiver_request")
    assert sorted(d.channel for d in deliveries) == ["email", "email"]
    for delivery in deliveries:
        deliver(delivery.pk)
    assert sorted(tuple(m.to) for m in mail.outbox) == [
        ("ada@example.com", "manon@example.com"),
        ("team@example.com",),
    ]


def test_with_the_maintainers_policy_the_teams_other_maintainers_are_e_mailed_too(
    personas: dict[str, Any], repo: Repository, rule: Rule, settings: Any
) -> None:
    settings.WAIVER_APPROVERS = "maintainers"
    colleague = UserFactory(username="mo", email="mo@example.com")
    MembershipFactory(user=colleague, team=personas["team"], role=Membership.Role.MAINTAINER)
    stranger = UserFactory(username="sam", email="sam@example.com")
    MembershipFactory(user=stranger, team=TeamFactory(), role=Membership.Role.MAINTAINER)
    personas["maintainer"].email = "maya@example.com"
    personas["maintainer"].save()
    _ask(personas, repo, rule)
    approvers = Notification.objects.get(dedupe_key__endswith=":approvers")
    assert approvers.payload["emails"] == ["ada@example.com", "manon@example.com", "mo@example.com"]


def test_a_decision_tells_the_requesters_team_once(
    personas: dict[str, Any], repo: Repository, rule: Rule
) -> None:
    request = _ask(personas, repo, rule)
    requests.reject(personas["manager"], request, "Fix it this sprint instead")
    decision = Notification.objects.get(kind="waiver_decision")
    assert decision.team == personas["team"]
    assert decision.subject.startswith("Waiver rejected:")
    assert "manon rejected the waiver of DEP-002" in decision.body
    assert "Reason: Fix it this sprint instead" in decision.body
    other = _ask(personas, repo, rule)
    requests.approve(personas["manager"], other)
    approved = Notification.objects.get(kind="waiver_decision", dedupe_key__contains=str(other.pk))
    assert "It is in force until" in approved.body
    assert Notification.objects.filter(kind="waiver_decision").count() == 2


def test_a_withdrawal_notifies_no_one(
    personas: dict[str, Any], repo: Repository, rule: Rule
) -> None:
    request = _ask(personas, repo, rule)
    requests.withdraw(personas["maintainer"], request)
    assert not Notification.objects.filter(kind="waiver_decision").exists()
