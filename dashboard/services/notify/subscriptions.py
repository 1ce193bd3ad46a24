"""Who receives the weekly digest: each user opts in per scope, the organisation or a team.

Managers (admins too) may subscribe to the organisation's digest, a team's maintainers to
the team's (`services/access/permissions.py`); nobody else. The same rule is asked again
when the digest is sent, so someone who lost the role stops receiving it.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import User as AuthUser
from django.core.exceptions import PermissionDenied
from django.db import transaction

from dashboard.models import DigestSubscription, Team
from dashboard.services.access.permissions import (
    User,
    can_manage_team,
    is_manager,
    maintained_teams,
)

ORGANISATION = "org"  # the scope key of the organisation's digest (`?scope=org`)


class DigestRefused(PermissionDenied):
    """The user may not subscribe to (or preview) this digest; the message says who may."""


@dataclass(frozen=True, slots=True)
class Scope:
    """What a digest covers: the organisation (`team` None) or one team."""

    team: Team | None = None

    @property
    def key(self) -> str:
        """`org` or the team's slug: the `scope` parameter of the digest's pages."""
        return ORGANISATION if self.team is None else self.team.slug

    @property
    def label(self) -> str:
        """How messages name it."""
        return "the organisation" if self.team is None else self.team.name

    @property
    def dedupe(self) -> str:
        """Its part of a notification's dedupe key: stable when a team is renamed."""
        return ORGANISATION if self.team is None else f"team:{self.team.pk}"


def scope_named(key: str) -> Scope:
    """The scope a `scope` parameter names; raises Team.DoesNotExist for an unknown team."""
    if key == ORGANISATION:
        return Scope()
    return Scope(Team.objects.get(slug=key))


def may_subscribe(user: User, scope: Scope) -> bool:
    """Managers to the organisation's digest, a team's maintainers to the team's."""
    if scope.team is None:
        return is_manager(user)
    return can_manage_team(user, scope.team)


def require_may_subscribe(user: User, scope: Scope) -> None:
    """Raise `DigestRefused` (a 403) with a message naming who may, unless the user may."""
    if may_subscribe(user, scope):
        return
    if scope.team is None:
        raise DigestRefused("Only managers may subscribe to the organisation's weekly digest.")
    raise DigestRefused(f"Only {scope.team.name}'s maintainers may subscribe to its weekly digest.")


def available_scopes(user: User) -> list[Scope]:
    """The digests the user may subscribe to: the organisation's first, then teams by name."""
    scopes = [Scope()] if is_manager(user) else []
    return scopes + [Scope(team) for team in maintained_teams(user).order_by("name")]


def enabled_scopes(user: User) -> set[str]:
    """Keys of the scopes the user has turned on."""
    if user.pk is None:  # signed out
        return set()
    rows = DigestSubscription.objects.filter(user_id=user.pk, enabled=True)
    return {
        ORGANISATION if slug is None else slug for slug in rows.values_list("team__slug", flat=True)
    }


@transaction.atomic
def subscribe(user: User, scope: Scope, enabled: bool) -> DigestSubscription:
    """Turn the user's weekly digest of `scope` on or off (refused: `DigestRefused`)."""
    require_may_subscribe(user, scope)
    if user.pk is None:  # never: only signed-in users may subscribe
        raise DigestRefused("Sign in to subscribe to a weekly digest.")
    subscription, _ = DigestSubscription.objects.update_or_create(
        user_id=user.pk, team=scope.team, defaults={"enabled": enabled}
    )
    return subscription


def subscribed_scopes() -> list[Scope]:
    """Scopes with at least one subscription turned on: the organisation's first."""
    rows = DigestSubscription.objects.filter(enabled=True)
    team_ids = set(rows.filter(team__isnull=False).values_list("team_id", flat=True))
    scopes = [Scope()] if rows.filter(team__isnull=True).exists() else []
    return scopes + [Scope(team) for team in Team.objects.filter(pk__in=team_ids).order_by("name")]


def recipients(scope: Scope) -> list[AuthUser]:
    """Users who turned `scope` on, are active, have an address and still may receive it."""
    rows = (
        DigestSubscription.objects.filter(team=scope.team, enabled=True, user__is_active=True)
        .exclude(user__email="")
        .select_related("user")
        .order_by("user_id")
    )
    return [row.user for row in rows if may_subscribe(row.user, scope)]
