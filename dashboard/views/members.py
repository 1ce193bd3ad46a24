"""A team's Members page: every signed-in user reads who belongs to the team; its maintainers,
managers and admins add people, change roles and remove people (`services/access/members.py`
decides and audits each change).

Forms post to their own URL; with htmx the answer is the `#members` section, re-rendered.
htmx swaps only 2xx answers, so a refused htmx post answers 200 with the refusal shown in the
section; a plain form post answers 400 (bad input, the last maintainer) or 403 (not allowed,
or owned by the identity provider) with the whole page and the message, the input kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from dashboard.forms.members import AddMemberForm, RoleForm
from dashboard.models import Membership, Team
from dashboard.selectors.members import team_members
from dashboard.services.access import members
from dashboard.services.access.members import MembershipRefused
from dashboard.services.access.permissions import can_manage_members

OTHER_ROLE = {
    Membership.Role.MAINTAINER: Membership.Role.MEMBER,
    Membership.Role.MEMBER: Membership.Role.MAINTAINER,
}


@dataclass(frozen=True, slots=True)
class Row:
    """One member as the page shows it, and what may be done to it."""

    membership: Membership
    from_idp: bool
    only_maintainer: bool
    next_role: str


@login_required
@require_http_methods(["GET", "POST"])
def index(request: HttpRequest, slug: str) -> HttpResponse:
    """The team's members with role and source; POST adds one (username or e-mail)."""
    team = get_object_or_404(Team, slug=slug)
    if request.method == "GET":
        return _page(request, team)
    _require(request, team)
    form = AddMemberForm(request.POST)
    if not form.is_valid():
        return _page(request, team, form=form, status=400)
    try:
        added = members.add_member(
            _actor(request), team, form.cleaned_data["user"], form.cleaned_data["role"]
        )
    except MembershipRefused as exc:
        form.add_error("user", exc.message)
        return _page(request, team, form=form, status=_status(exc))
    name = added.user.get_username()
    return _done(request, team, f"{name} added to {team.name} as a {added.role}.")


@login_required
@require_POST
def change_role(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Make a member a maintainer, or a maintainer a member."""
    team, membership = _membership(request, slug, pk)
    form = RoleForm(request.POST)
    if not form.is_valid():
        return _page(request, team, error="Choose a role: member or maintainer.", status=400)
    try:
        changed = members.change_role(_actor(request), membership, form.cleaned_data["role"])
    except MembershipRefused as exc:
        return _page(request, team, error=exc.message, status=_status(exc))
    return _done(request, team, f"{changed.user.get_username()} is now a {changed.role}.")


@login_required
@require_POST
def remove(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Take a member out of the team."""
    team, membership = _membership(request, slug, pk)
    try:
        members.remove_member(_actor(request), membership)
    except MembershipRefused as exc:
        return _page(request, team, error=exc.message, status=_status(exc))
    name = membership.user.get_username()
    return _done(request, team, f"{name} is no longer a member of {team.name}.")


def _page(
    request: HttpRequest,
    team: Team,
    *,
    form: AddMemberForm | None = None,
    error: str = "",
    notice: str = "",
    status: int = 200,
) -> HttpResponse:
    """The page, or with htmx its `#members` section (always 200: htmx swaps nothing else)."""
    can_manage = can_manage_members(request.user, team)
    context = {
        "team": team,
        "rows": _rows(team_members(team)),
        "can_manage": can_manage,
        "form": form if form is not None else AddMemberForm(),
        "error": error,
        "notice": notice,
    }
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "members.html#members", context)
    return render(request, "members.html", context, status=status)


def _rows(memberships: list[Membership]) -> list[Row]:
    maintainers = sum(m.role == Membership.Role.MAINTAINER for m in memberships)
    return [
        Row(
            membership=m,
            from_idp=members.owned_by_identity_provider(m),
            only_maintainer=members.is_only_maintainer(m, maintainers),
            next_role=OTHER_ROLE[Membership.Role(m.role)],
        )
        for m in memberships
    ]


def _done(request: HttpRequest, team: Team, notice: str) -> HttpResponse:
    """After a change: the fresh section (htmx), else back to the page (post/redirect/get)."""
    if request.htmx:  # type: ignore[attr-defined]
        return _page(request, team, notice=notice)
    messages.success(request, notice)
    return redirect("team-members", slug=team.slug)


def _membership(request: HttpRequest, slug: str, pk: int) -> tuple[Team, Membership]:
    """The team (404), the right to change it (403), then its membership `pk` (404)."""
    team = get_object_or_404(Team, slug=slug)
    _require(request, team)
    membership = get_object_or_404(Membership.objects.select_related("user"), pk=pk, team=team)
    membership.team = team
    return team, membership


def _require(request: HttpRequest, team: Team) -> None:
    if not can_manage_members(request.user, team):
        raise PermissionDenied("only the team's maintainers, managers and admins manage members")


def _actor(request: HttpRequest) -> User:
    return cast(User, request.user)


def _status(exc: MembershipRefused) -> int:
    return 403 if exc.forbidden else 400
