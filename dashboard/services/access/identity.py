"""Teams and roles from the identity provider, applied at each single sign-on (audited).

The mapping (`SSO_GROUP_MAPPING`, parsed by dashboard/domain/identity.py) owns what it made
and nothing else:

- team memberships it creates have `source=idp`; at each sign-in they are added, changed or
  removed to match the user's groups. Memberships added by a person (`source=manual`) are
  never touched, even when a group names the same team.
- the managers group and the superuser flag are granted when a group says so, and marked as
  the mapping's by a marker group (`MARKERS`). They are taken back only while that marker
  is there: a manager or an admin made by hand (the first admin of `ensure_admin`, say) is
  never demoted by a sign-in.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.contrib.auth.models import Group, User
from django.db import transaction

from dashboard.domain.identity import GroupMapping, Roles, resolve
from dashboard.models import AuditAction, Membership, Team
from dashboard.services.access import audit, members
from dashboard.services.access.accounts import privileges
from dashboard.services.access.permissions import MANAGERS_GROUP

logger = logging.getLogger(__name__)

#: Marker groups: the organisation roles the mapping granted, so it may take them back.
MANAGER_MARKER = "idp:manager"
ADMIN_MARKER = "idp:admin"
MARKERS = (MANAGER_MARKER, ADMIN_MARKER)


@dataclass
class Outcome:
    """What one sign-in changed: team slug -> (old role or "", new role or ""), and privileges."""

    teams: dict[str, tuple[str, str]] = field(default_factory=dict)
    privileges: dict[str, list[object]] = field(default_factory=dict)
    unknown_teams: list[str] = field(default_factory=list)


def actor_label(provider: str) -> str:
    """Who acted, in the audit log: the provider, not the user signing in."""
    return f"identity provider ({provider})"


@transaction.atomic
def apply_groups(
    user: User, groups: Iterable[str], mapping: GroupMapping, *, provider: str
) -> Outcome:
    """Bring `user`'s provider-owned memberships and roles in line with `groups`."""
    roles = resolve(mapping, groups)
    outcome = Outcome()
    _apply_teams(user, roles, provider, outcome)
    _apply_privileges(user, roles, provider, outcome)
    return outcome


def _apply_teams(user: User, roles: Roles, provider: str, outcome: Outcome) -> None:
    teams = {team.slug: team for team in Team.objects.filter(slug__in=roles.teams)}
    outcome.unknown_teams = sorted(set(roles.teams) - set(teams))
    if outcome.unknown_teams:
        logger.warning("SSO_GROUP_MAPPING names teams that do not exist: %s", outcome.unknown_teams)
    existing = {m.team.slug: m for m in Membership.objects.filter(user=user).select_related("team")}
    actor = actor_label(provider)
    for slug, membership in existing.items():
        if membership.source != Membership.Source.IDENTITY_PROVIDER:
            continue  # a person's decision: the mapping never overrides it
        wanted = roles.teams.get(slug)
        if wanted is None:
            _record(AuditAction.MEMBERSHIP_REMOVED, actor, membership, {"role": membership.role})
            outcome.teams[slug] = (membership.role, "")
            membership.delete()
        elif wanted != membership.role:
            outcome.teams[slug] = (membership.role, wanted)
            details: dict[str, object] = {"changed": {"role": [membership.role, wanted]}}
            membership.role = wanted
            membership.save(update_fields=["role"])
            _record(AuditAction.MEMBERSHIP_CHANGED, actor, membership, details)
    for slug, team in teams.items():
        if slug in existing:
            continue
        membership = Membership.objects.create(
            user=user, team=team, role=roles.teams[slug], source=Membership.Source.IDENTITY_PROVIDER
        )
        outcome.teams[slug] = ("", membership.role)
        _record(AuditAction.MEMBERSHIP_ADDED, actor, membership, {"role": membership.role})


def _record(
    action: AuditAction, actor: str, membership: Membership, details: dict[str, object]
) -> None:
    members.record(action, actor, membership, {**details, "source": "idp"})


def _apply_privileges(user: User, roles: Roles, provider: str, outcome: Outcome) -> None:
    before = privileges(user)
    held = set(user.groups.values_list("name", flat=True))
    if roles.manager and MANAGERS_GROUP not in held:
        user.groups.add(_group(MANAGERS_GROUP), _group(MANAGER_MARKER))
    elif not roles.manager and MANAGER_MARKER in held:
        user.groups.remove(_group(MANAGERS_GROUP), _group(MANAGER_MARKER))
    if roles.admin and not user.is_superuser:
        user.is_superuser = user.is_staff = True
        user.save(update_fields=["is_superuser", "is_staff"])
        user.groups.add(_group(ADMIN_MARKER))
    elif not roles.admin and ADMIN_MARKER in held:
        user.is_superuser = user.is_staff = False
        user.save(update_fields=["is_superuser", "is_staff"])
        user.groups.remove(_group(ADMIN_MARKER))
    after = privileges(user)
    outcome.privileges = {
        name: [before[name], after[name]] for name in before if before[name] != after[name]
    }
    if outcome.privileges:
        audit.record(
            AuditAction.USER_ROLES_CHANGED,
            actor=actor_label(provider),
            target=user,
            target_label=user.get_username(),
            details={"changed": outcome.privileges, "source": "idp"},
        )


def _group(name: str) -> Group:
    return Group.objects.get_or_create(name=name)[0]


@transaction.atomic
def record_new_user(user: User, provider: str, email: str) -> None:
    """Audit an account that single sign-on created (its first sign-in)."""
    audit.record(
        AuditAction.SSO_USER_CREATED,
        actor=actor_label(provider),
        target=user,
        target_label=user.get_username(),
        details={"email": email, "provider": provider},
    )


@transaction.atomic
def record_refusal(provider: str, email: str, reason: str) -> None:
    """Audit a refused sign-in: who tried (as the provider says), and why."""
    audit.record(
        AuditAction.SSO_REFUSED,
        actor=actor_label(provider),
        target_label=email or "(no e-mail address)",
        details={"email": email, "provider": provider, "reason": reason},
    )
