"""Who may do what. Views and services ask here; templates never decide.

Roles: organisation admins (superusers) and managers (the `managers` group) see and export
everything and may act on every repository; a team's maintainers register and edit its
repositories, request waivers and record attestations; members and every other signed-in
user may browse scorecards. A waiver request is decided by a manager or an admin (or, with
WAIVER_APPROVERS=maintainers, by another maintainer of the team), never by its requester;
managers and admins may also grant a waiver directly.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.models import User as AuthUser
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet

from dashboard.models import ApiToken, Membership, Repository, Team, WaiverRequest

MANAGERS_GROUP = "managers"

User = AuthUser | AnonymousUser


def is_admin(user: User) -> bool:
    """Organisation administrators."""
    return bool(getattr(user, "is_superuser", False) and user.is_active)


def is_manager(user: User) -> bool:
    """Managers see and export everything; admins are managers too."""
    if not user.is_authenticated:
        return False
    return is_admin(user) or user.groups.filter(name=MANAGERS_GROUP).exists()


def maintained_teams(user: User) -> QuerySet[Team]:
    """Teams whose repositories the user may register and manage."""
    if not user.is_authenticated:
        return Team.objects.none()
    if is_admin(user):
        return Team.objects.all()
    return Team.objects.filter(
        memberships__user=user, memberships__role=Membership.Role.MAINTAINER
    ).distinct()


def own_maintained_team(user: User) -> Team | None:
    """The one team the user belongs to among those they may register for, if exactly one.

    Forms that ask for a team start on it; with none or several the user chooses (an admin
    may register for every team, but is usually a member of one or none).
    """
    if not user.is_authenticated:
        return None
    own = list(maintained_teams(user).filter(memberships__user=user).distinct()[:2])
    return own[0] if len(own) == 1 else None


def can_manage_team(user: User, team: Team) -> bool:
    """May register repositories for `team`, grant waivers, attest."""
    if not user.is_authenticated:
        return False
    return (
        is_admin(user)
        or Membership.objects.filter(user=user, team=team, role=Membership.Role.MAINTAINER).exists()
    )


def can_manage_members(user: User, team: Team) -> bool:
    """May add, remove and change the role of `team`'s members on its Members page: its
    maintainers and admins (`can_manage_team`), and managers, who oversee every team."""
    return can_manage_team(user, team) or is_manager(user)


def can_manage_repository(user: User, repository: Repository) -> bool:
    """Scan now, waivers, attestations, settings of one repository."""
    return can_manage_team(user, repository.team)


def can_edit_repository(user: User, repository: Repository) -> bool:
    """Change its settings, archive or restore it, hand it to another team: its team's
    maintainers, managers and admins."""
    return is_manager(user) or can_manage_repository(user, repository)


def can_receive_repository(user: User, team: Team) -> bool:
    """Accept or decline a repository handed to `team` (its maintainers), or move one into it
    directly (managers and admins too): the receiving side consents."""
    return is_manager(user) or can_manage_team(user, team)


def token_teams(user: User, *, write: bool) -> QuerySet[Team]:
    """The teams `user` may tie a token to: any team for reading (reading is organisation-wide),
    the teams they maintain for writing."""
    if not user.is_authenticated or not user.is_active:
        return Team.objects.none()
    return maintained_teams(user) if write else Team.objects.all()


def token_write_refusal(token: ApiToken, team: Team) -> str | None:
    """Why `token` may not change `team`'s repositories, or None when it may.

    A personal token never gives more than its owner has now: a write token acts on the
    teams its owner maintains at the moment of use (only its own team, when it has one), so
    an owner who leaves a team takes the token's rights with them. A legacy team token (no
    owner) writes for its team, as it always has.
    """
    if not token.can_write:
        return "this token is read-only"
    if token.team_id is not None and token.team_id != team.pk:
        return f"this token belongs to another team than {team.slug}"
    if token.owner is not None and not can_manage_team(token.owner, team):
        return f"the token's owner does not maintain {team.slug}"
    return None


def require_team_maintainer(user: User, team: Team) -> None:
    """Raise PermissionDenied (403) unless the user maintains `team`."""
    if not can_manage_team(user, team):
        raise PermissionDenied("only the team's maintainers may do this")


def can_grant_waiver(user: User) -> bool:
    """Grant a waiver without a request (managers and admins, who decide requests anyway)."""
    return is_manager(user)


def maintainers_approve_waivers() -> bool:
    """Whether another maintainer of the team may decide a waiver request (WAIVER_APPROVERS)."""
    return getattr(settings, "WAIVER_APPROVERS", "managers") == "maintainers"


def waiver_approval_teams(user: User) -> QuerySet[Team]:
    """Teams whose waiver requests the user may decide (their own requests always aside)."""
    if is_manager(user):
        return Team.objects.all()
    if maintainers_approve_waivers():
        return maintained_teams(user)
    return Team.objects.none()


def waiver_decision_refusal(user: User, request: WaiverRequest) -> str | None:
    """Why the user may not approve or reject `request`, or None when they may."""
    if not user.is_authenticated:
        return "sign in to decide waiver requests"
    if request.requested_by_id == user.pk:
        return "you requested this waiver: someone else must approve or reject it"
    if is_manager(user):
        return None
    if maintainers_approve_waivers():
        if can_manage_team(user, request.repository.team):
            return None
        return "only managers and the team's other maintainers may decide this request"
    return "only managers may approve or reject waiver requests"


def require_waiver_decider(user: User, request: WaiverRequest) -> None:
    """Raise PermissionDenied, saying why, unless the user may decide `request`."""
    if refusal := waiver_decision_refusal(user, request):
        raise PermissionDenied(refusal)


def require_admin_permission(user: User, permission: str) -> None:
    """Raise PermissionDenied unless the user is an admin or holds the Django `permission`.

    For actions taken in the Django admin (deleting a repository, changing memberships).
    """
    if not (is_admin(user) or (user.is_active and user.has_perm(permission))):
        raise PermissionDenied("only administrators may do this")
