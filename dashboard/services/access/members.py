"""A team's members, managed on its Members page by its maintainers, managers and admins.

Every change a person makes there goes through this module: it checks the permission
(`permissions.can_manage_members`), refuses what the identity provider owns (a membership
with source `idp` is changed only by the group mapping at sign-in) and what would leave a
team that has maintainers without one, and audits. The Django admin keeps its own path
(`accounts.save_membership`): administrators may repair anything there.

Changes to one team's members are serialised by locking the team's row, so two maintainers
demoting each other at the same moment cannot both succeed and leave nobody in charge.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import transaction

from dashboard.models import AuditAction, Membership, Team
from dashboard.services.access import audit
from dashboard.services.access.permissions import can_manage_members

MAINTAINER = Membership.Role.MAINTAINER
IDENTITY_PROVIDER = Membership.Source.IDENTITY_PROVIDER


class MembershipRefused(Exception):
    """A change the rules refuse, with the sentence to show (`forbidden`: 403, else 400)."""

    def __init__(self, message: str, *, forbidden: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.forbidden = forbidden


def owned_by_identity_provider(membership: Membership) -> bool:
    """True when the identity provider's group mapping owns the membership (no UI change)."""
    return membership.source == IDENTITY_PROVIDER


def is_only_maintainer(membership: Membership, maintainers: int) -> bool:
    """True when `membership` is the last of the team's `maintainers` (demoting or removing
    it would leave the team with nobody to manage it)."""
    return membership.role == MAINTAINER and maintainers <= 1


def find_user(identifier: str) -> User:
    """The one account a username or an e-mail address names, case-insensitively.

    A username is tried first (an exact match wins among usernames differing only in case),
    then an e-mail address. None, several, or a deactivated account: MembershipRefused.
    """
    text = identifier.strip()
    if not text:
        raise MembershipRefused("Type a username or an e-mail address.")
    users = get_user_model().objects.order_by("username")
    found = list(users.filter(username__iexact=text)[:10])
    if len(found) > 1:
        found = [user for user in found if user.get_username() == text] or found
    if not found:
        found = list(users.filter(email__iexact=text)[:10])
    if not found:
        raise MembershipRefused(f"No account has the username or e-mail address “{text}”.")
    if len(found) > 1:
        names = ", ".join(user.get_username() for user in found)
        raise MembershipRefused(
            f"“{text}” matches several accounts ({names}): type the exact username instead."
        )
    user = found[0]
    if not user.is_active:
        raise MembershipRefused(f"{user.get_username()}'s account is deactivated.")
    return user


@transaction.atomic
def add_member(
    actor: User, team: Team, identifier: str, role: str = Membership.Role.MEMBER
) -> Membership:
    """Add the account `identifier` names to `team` with `role`, by hand (source manual)."""
    _require(actor, team)
    _lock(team)
    user = find_user(identifier)
    role = _valid_role(role)
    existing = Membership.objects.filter(team=team, user=user).first()
    if existing is not None:
        raise MembershipRefused(
            f"{user.get_username()} is already a {existing.role} of {team.name}."
        )
    membership = Membership.objects.create(
        team=team, user=user, role=role, source=Membership.Source.MANUAL
    )
    record(AuditAction.MEMBERSHIP_ADDED, actor, membership, {"role": role})
    return membership


@transaction.atomic
def change_role(actor: User, membership: Membership, role: str) -> Membership:
    """Make a member a maintainer or a maintainer a member (the same role: nothing to do)."""
    _require(actor, membership.team)
    current = _locked(membership)
    role = _valid_role(role)
    if current.role == role:
        return current
    if role != MAINTAINER:
        _refuse_last_maintainer(current, "stop being a maintainer")
    before = current.role
    current.role = role
    current.save(update_fields=["role"])
    details = {"role": role, "changed": {"role": [before, role]}}
    record(AuditAction.MEMBERSHIP_CHANGED, actor, current, details)
    return current


@transaction.atomic
def remove_member(actor: User, membership: Membership) -> None:
    """Take a member out of the team."""
    _require(actor, membership.team)
    current = _locked(membership)
    _refuse_last_maintainer(current, "leave the team")
    record(AuditAction.MEMBERSHIP_REMOVED, actor, current, {"role": current.role})
    current.delete()


def record(
    action: AuditAction, actor: audit.Actor, membership: Membership, details: Mapping[str, object]
) -> None:
    """One audit event for a membership, the same shape from the admin, the UI and a sign-in."""
    username = membership.user.get_username()
    audit.record(
        action,
        actor=actor,
        target=membership,
        target_label=f"{username} in {membership.team.name}",
        team=membership.team,
        details={**details, "user": username},
    )


def _require(actor: User, team: Team) -> None:
    if not can_manage_members(actor, team):
        raise PermissionDenied("only the team's maintainers, managers and admins may do this")


def _lock(team: Team) -> None:
    """Hold the team's row until the transaction ends (serialises member changes)."""
    list(Team.objects.select_for_update().filter(pk=team.pk).values_list("pk", flat=True))


def _locked(membership: Membership) -> Membership:
    """The membership as it is now, under the team's lock; refused when gone or mapped."""
    _lock(membership.team)
    current = (
        Membership.objects.select_related("user", "team")
        .filter(pk=membership.pk, team_id=membership.team_id)
        .first()
    )
    if current is None:
        raise MembershipRefused("That person is no longer a member of the team.")
    if owned_by_identity_provider(current):
        raise MembershipRefused(
            f"{current.user.get_username()}'s membership comes from the identity provider: "
            "change it in the identity provider's group mapping.",
            forbidden=True,
        )
    return current


def _refuse_last_maintainer(membership: Membership, change: str) -> None:
    maintainers = Membership.objects.filter(team_id=membership.team_id, role=MAINTAINER).count()
    if is_only_maintainer(membership, maintainers):
        raise MembershipRefused(
            f"{membership.user.get_username()} is the team's only maintainer and cannot "
            f"{change}: make someone else a maintainer first."
        )


def _valid_role(role: str) -> str:
    if role not in Membership.Role.values:
        raise MembershipRefused("Choose a role: member or maintainer.")
    return role
