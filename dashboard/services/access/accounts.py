"""Accounts: the first admin, team memberships and privileges (audited)."""

from __future__ import annotations

import secrets
from collections.abc import Mapping

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import transaction

from dashboard.models import AuditAction, Membership
from dashboard.services.access import audit, members
from dashboard.services.access.permissions import require_admin_permission

PRIVILEGES = ("is_superuser", "is_staff", "is_active", "groups")


def ensure_admin(username: str = "admin") -> str | None:
    """Create a superuser when none exists; return its one-time password, else None."""
    user_model = get_user_model()
    if user_model.objects.filter(is_superuser=True).exists():
        return None
    password = secrets.token_urlsafe(12)
    user_model.objects.create_superuser(username=username, email="", password=password)
    return password


@transaction.atomic
def save_membership(
    actor: User, membership: Membership, before: Mapping[str, object] | None = None
) -> None:
    """Add a member to a team (`before` is None) or change a membership (administrators, in
    the admin: no guard; the Members page goes through `members`)."""
    require_admin_permission(
        actor, "dashboard.add_membership" if before is None else "dashboard.change_membership"
    )
    membership.save()
    details: dict[str, object] = {"role": membership.role}
    action = AuditAction.MEMBERSHIP_ADDED
    if before is not None:
        changed = [
            name
            for name, now in (
                ("user", membership.user_id),
                ("team", membership.team_id),
                ("role", membership.role),
            )
            if before.get(name) != now
        ]
        if not changed:
            return
        action = AuditAction.MEMBERSHIP_CHANGED
        details["changed"] = audit.changes(before, membership, changed)
    members.record(action, actor, membership, details)


@transaction.atomic
def remove_membership(actor: User, membership: Membership) -> None:
    """Take a user out of a team (administrators)."""
    require_admin_permission(actor, "dashboard.delete_membership")
    members.record(AuditAction.MEMBERSHIP_REMOVED, actor, membership, {"role": membership.role})
    membership.delete()


def privileges(user: User) -> dict[str, object]:
    """What a user may do beyond browsing: admin flags and groups (the managers group)."""
    return {
        "is_superuser": user.is_superuser,
        "is_staff": user.is_staff,
        "is_active": user.is_active,
        "groups": sorted(user.groups.values_list("name", flat=True)) if user.pk else [],
    }


NO_PRIVILEGES: Mapping[str, object] = {
    "is_superuser": False,
    "is_staff": False,
    "is_active": True,
    "groups": [],
}


def record_privileges(actor: User, user: User, before: Mapping[str, object] | None) -> None:
    """Audit a change of `user`'s privileges made in the admin (`before` None: a new user)."""
    before = NO_PRIVILEGES if before is None else before
    after = privileges(user)
    changed = {
        name: [before[name], after[name]] for name in PRIVILEGES if before[name] != after[name]
    }
    if not changed:
        return
    with transaction.atomic():
        audit.record(
            AuditAction.USER_ROLES_CHANGED,
            actor=actor,
            target=user,
            target_label=user.get_username(),
            details={"changed": changed},
        )
