"""The members service (`services/access/members.py`): who may change a team's members, the
identity provider's memberships left alone, the last maintainer kept, every change audited."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied

from dashboard.models import AuditEvent, Membership
from dashboard.services.access import members
from dashboard.services.access.members import MembershipRefused
from tests.factories import MembershipFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

MAINTAINER, MEMBER = Membership.Role.MAINTAINER, Membership.Role.MEMBER


def _membership(personas: dict[str, Any], role: str) -> Membership:
    return Membership.objects.get(team=personas["team"], user=personas[role])


def _snapshot() -> list[tuple[Any, ...]]:
    return list(Membership.objects.order_by("pk").values_list("user_id", "team_id", "role"))


# ----- finding the account ----------------------------------------------------------------
def test_find_user_by_username_or_email_ignoring_case(personas: dict[str, Any]) -> None:
    nina = UserFactory(username="nina", email="Nina.Ng@Example.com")
    assert members.find_user("NINA") == nina
    assert members.find_user("  nina.ng@example.COM ") == nina


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Type a username or an e-mail address."),
        ("   ", "Type a username or an e-mail address."),
        ("nobody", "No account has the username or e-mail address “nobody”."),
        ("shared@example.com", "“shared@example.com” matches several accounts (sam, sue)"),
        ("bo", "“bo” matches several accounts (BO, Bo)"),
        ("gone", "gone's account is deactivated."),
    ],
)
def test_find_user_refuses_none_ambiguous_and_deactivated(text: str, message: str) -> None:
    UserFactory(username="sam", email="shared@example.com")
    UserFactory(username="sue", email="SHARED@example.com")
    UserFactory(username="Bo")
    UserFactory(username="BO")
    UserFactory(username="gone", is_active=False)
    with pytest.raises(MembershipRefused) as refused:
        members.find_user(text)
    assert message in refused.value.message
    assert not refused.value.forbidden


def test_an_exact_username_wins_over_its_case_variants() -> None:
    exact = UserFactory(username="Bo")
    UserFactory(username="BO")
    assert members.find_user("Bo") == exact


def test_a_username_is_tried_before_an_email_address() -> None:
    named = UserFactory(username="ops@example.com", email="someone@example.com")
    UserFactory(username="ops", email="ops@example.com")
    assert members.find_user("ops@example.com") == named


# ----- who may change members -------------------------------------------------------------
@pytest.mark.parametrize("role", ["maintainer", "manager", "admin"])
def test_maintainers_managers_and_admins_add_members(personas: dict[str, Any], role: str) -> None:
    UserFactory(username="nina")
    added = members.add_member(personas[role], personas["team"], "nina", MAINTAINER)
    assert (added.user.username, added.role, added.source) == ("nina", MAINTAINER, "manual")
    event = AuditEvent.objects.get()
    assert (event.action, event.actor, event.team) == (
        "membership.added",
        personas[role],
        personas["team"],
    )
    assert event.target_label == "nina in Payments"
    assert event.details == {"role": "maintainer", "user": "nina"}


@pytest.mark.parametrize("role", ["member", "outsider"])
def test_members_and_outsiders_change_nothing(personas: dict[str, Any], role: str) -> None:
    UserFactory(username="nina")
    actor, team = personas[role], personas["team"]
    before = _snapshot()
    with pytest.raises(PermissionDenied):
        members.add_member(actor, team, "nina")
    with pytest.raises(PermissionDenied):
        members.change_role(actor, _membership(personas, "member"), MAINTAINER)
    with pytest.raises(PermissionDenied):
        members.remove_member(actor, _membership(personas, "member"))
    assert _snapshot() == before
    assert not AuditEvent.objects.exists()


def test_a_maintainer_of_another_team_may_not(personas: dict[str, Any]) -> None:
    other = TeamFactory(name="Ledger", slug="ledger")
    MembershipFactory(team=other, user=personas["outsider"], role=MAINTAINER)
    with pytest.raises(PermissionDenied):
        members.remove_member(personas["outsider"], _membership(personas, "member"))
    assert Membership.objects.filter(user=personas["member"]).exists()


def test_adding_someone_already_in_the_team_says_so(personas: dict[str, Any]) -> None:
    with pytest.raises(MembershipRefused) as refused:
        members.add_member(personas["maintainer"], personas["team"], "MILO", MAINTAINER)
    assert refused.value.message == "milo is already a member of Payments."
    assert _membership(personas, "member").role == MEMBER
    assert not AuditEvent.objects.exists()


def test_an_unknown_role_is_refused(personas: dict[str, Any]) -> None:
    UserFactory(username="nina")
    with pytest.raises(MembershipRefused, match="Choose a role"):
        members.add_member(personas["maintainer"], personas["team"], "nina", "owner")
    with pytest.raises(MembershipRefused, match="Choose a role"):
        members.change_role(personas["maintainer"], _membership(personas, "member"), "owner")
    assert not Membership.objects.filter(user__username="nina").exists()


# ----- changing and removing --------------------------------------------------------------
def test_change_role_both_ways_is_audited(personas: dict[str, Any]) -> None:
    milo = _membership(personas, "member")
    members.change_role(personas["maintainer"], milo, MAINTAINER)
    members.change_role(personas["maintainer"], milo, MEMBER)
    assert _membership(personas, "member").role == MEMBER
    promoted, demoted = AuditEvent.objects.order_by("id")
    assert promoted.action == "membership.changed"
    assert promoted.details == {
        "role": "maintainer",
        "changed": {"role": ["member", "maintainer"]},
        "user": "milo",
    }
    assert demoted.details["changed"] == {"role": ["maintainer", "member"]}


def test_the_same_role_again_changes_and_records_nothing(personas: dict[str, Any]) -> None:
    members.change_role(personas["maintainer"], _membership(personas, "member"), MEMBER)
    assert not AuditEvent.objects.exists()


def test_remove_member_is_audited(personas: dict[str, Any]) -> None:
    members.remove_member(personas["maintainer"], _membership(personas, "member"))
    assert not Membership.objects.filter(user=personas["member"]).exists()
    event = AuditEvent.objects.get()
    assert (event.action, event.target_label) == ("membership.removed", "milo in Payments")
    assert event.details == {"role": "member", "user": "milo"}


def test_a_membership_removed_meanwhile_is_refused_clearly(personas: dict[str, Any]) -> None:
    stale = _membership(personas, "member")
    Membership.objects.filter(pk=stale.pk).delete()
    with pytest.raises(MembershipRefused, match="no longer a member"):
        members.change_role(personas["maintainer"], stale, MAINTAINER)
    with pytest.raises(MembershipRefused, match="no longer a member"):
        members.remove_member(personas["maintainer"], stale)


# ----- the identity provider's memberships ------------------------------------------------
@pytest.mark.parametrize("role", ["maintainer", "admin"])
def test_memberships_from_the_identity_provider_are_refused(
    personas: dict[str, Any], role: str
) -> None:
    mapped = _membership(personas, "member")
    Membership.objects.filter(pk=mapped.pk).update(source=Membership.Source.IDENTITY_PROVIDER)
    before = _snapshot()
    for change in (
        lambda: members.change_role(personas[role], mapped, MAINTAINER),
        lambda: members.remove_member(personas[role], mapped),
    ):
        with pytest.raises(MembershipRefused) as refused:
            change()
        assert refused.value.forbidden
        assert "comes from the identity provider" in refused.value.message
    assert _snapshot() == before
    assert not AuditEvent.objects.exists()


def test_a_stale_copy_does_not_hide_the_identity_provider(personas: dict[str, Any]) -> None:
    """The rule is read from the row as it is now, not from the object the caller holds."""
    stale = _membership(personas, "member")
    Membership.objects.filter(pk=stale.pk).update(source=Membership.Source.IDENTITY_PROVIDER)
    assert stale.source == Membership.Source.MANUAL
    with pytest.raises(MembershipRefused):
        members.remove_member(personas["maintainer"], stale)


# ----- never without a maintainer ---------------------------------------------------------
@pytest.mark.parametrize("actor", ["maintainer", "manager", "admin"])
def test_the_last_maintainer_cannot_be_demoted_or_removed(
    personas: dict[str, Any], actor: str
) -> None:
    maya = _membership(personas, "maintainer")
    with pytest.raises(MembershipRefused) as demote:
        members.change_role(personas[actor], maya, MEMBER)
    assert demote.value.message == (
        "maya is the team's only maintainer and cannot stop being a maintainer: "
        "make someone else a maintainer first."
    )
    assert not demote.value.forbidden
    with pytest.raises(MembershipRefused, match="only maintainer and cannot leave the team"):
        members.remove_member(personas[actor], maya)
    assert _membership(personas, "maintainer").role == MAINTAINER
    assert not AuditEvent.objects.exists()


def test_a_maintainer_may_step_down_once_another_remains(personas: dict[str, Any]) -> None:
    maya = personas["maintainer"]
    members.change_role(maya, _membership(personas, "member"), MAINTAINER)
    members.change_role(maya, _membership(personas, "maintainer"), MEMBER)
    assert _membership(personas, "maintainer").role == MEMBER
    # Now a member, maya may no longer change anyone; milo, the last maintainer, stays.
    with pytest.raises(PermissionDenied):
        members.remove_member(maya, _membership(personas, "member"))
    milo = personas["member"]
    with pytest.raises(MembershipRefused, match="only maintainer"):
        members.remove_member(milo, _membership(personas, "member"))
    members.remove_member(milo, _membership(personas, "maintainer"))
    assert list(Membership.objects.values_list("user__username", "role")) == [("milo", MAINTAINER)]


def test_a_maintainer_from_the_identity_provider_counts_as_another(
    personas: dict[str, Any],
) -> None:
    mapped = UserFactory(username="ivy")
    MembershipFactory(
        team=personas["team"],
        user=mapped,
        role=MAINTAINER,
        source=Membership.Source.IDENTITY_PROVIDER,
    )
    members.remove_member(personas["maintainer"], _membership(personas, "maintainer"))
    assert not Membership.objects.filter(user=personas["maintainer"]).exists()


def test_another_teams_maintainers_do_not_count(personas: dict[str, Any]) -> None:
    other = TeamFactory(name="Ledger", slug="ledger")
    MembershipFactory(team=other, role=MAINTAINER)
    with pytest.raises(MembershipRefused, match="only maintainer"):
        members.remove_member(personas["admin"], _membership(personas, "maintainer"))
