"""The repository's Python projects: judge another folder the engine found (maintainers), or
register one as its own repository row (maintainers of any team)."""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from dashboard.http.params import whole_number
from dashboard.http.registered import registered_page
from dashboard.models import Repository, Team
from dashboard.selectors.projects import (
    ProjectChoice,
    Sibling,
    project_choice,
    siblings,
    with_siblings,
)
from dashboard.services.access.permissions import can_manage_repository, maintained_teams
from dashboard.services.repos.registration import RegistrationError, judge_folder, register_folder


def card(request: HttpRequest, repository: Repository, can_manage: bool) -> dict[str, Any]:
    """The "Python projects" card's context: the folders the latest scan found, each linked to
    the sibling row that judges it, and the teams the user may register the others for.

    No query without a card; two (siblings, teams) with one, however many rows or folders.
    """
    choice = project_choice(repository.latest_scan)
    if choice is None:
        return {"projects": None, "register_teams": []}
    choice = with_siblings(choice, siblings(repository))
    teams: list[Team] = []
    if choice.unclaimed and (can_manage or not repository.holds_credential):
        teams = list(maintained_teams(request.user).only("name").order_by("name"))
    return {"projects": choice, "register_teams": teams}


def _found(repository: Repository, folder: str) -> ProjectChoice | None:
    """The latest scan's projects, when `folder` is one of them."""
    choice = project_choice(repository.latest_scan)
    if choice is None or folder not in {row.folder for row in choice.rows}:
        return None
    return choice


@login_required
@require_POST
def judge(request: HttpRequest, pk: int) -> HttpResponse:
    """Judge one of the folders the latest scan found (maintainers); then show the rescan."""
    repository = get_object_or_404(Repository.objects.select_related("team", "latest_scan"), pk=pk)
    if not can_manage_repository(request.user, repository):
        raise PermissionDenied("only the team's maintainers may change the project folder")
    folder = request.POST.get("folder", "")
    if _found(repository, folder) is None:
        messages.error(request, "That folder is not one of the projects the latest scan found.")
        return redirect("repository", pk=repository.pk)
    try:
        scan = judge_folder(cast(User, request.user), repository, folder)
    except RegistrationError as exc:
        messages.error(request, exc.message)
        return redirect("repository", pk=repository.pk)
    messages.success(request, f"From now on the scans judge {folder or 'the repository root'}.")
    return redirect("scan", pk=scan.pk)


@login_required
@require_POST
def register(request: HttpRequest, pk: int) -> HttpResponse:
    """Register a folder the latest scan found as its own repository row, for a team the user
    maintains; answer with the new row's webhook secret, as the registration form does."""
    repository = get_object_or_404(Repository.objects.select_related("team", "latest_scan"), pk=pk)
    team_pk = whole_number(request.POST.get("team", ""))
    team = maintained_teams(request.user).filter(pk=team_pk).first() if team_pk else None
    if team is None:
        raise PermissionDenied("only a team's maintainers may register repositories for it")
    folder = request.POST.get("folder", "")
    choice = _found(repository, folder)
    if choice is None:
        messages.error(request, "That folder is not one of the projects the latest scan found.")
        return redirect("repository", pk=repository.pk)
    row = next(r for r in with_siblings(choice, siblings(repository)).rows if r.folder == folder)
    if row.judged or row.sibling is not None:
        # This row judges it (named or detected), or a sibling does: one row per service.
        owner = row.sibling or Sibling(repository.pk, repository.label, repository.team.name, "")
        messages.error(
            request,
            f"Already judged by {owner.name!r} of team {owner.team!r}: one repository per folder.",
        )
        return redirect("repository", pk=repository.pk)
    try:
        registered = register_folder(cast(User, request.user), repository, team, folder)
    except RegistrationError as exc:
        messages.error(request, exc.message)
        return redirect("repository", pk=repository.pk)
    return registered_page(request, registered)
