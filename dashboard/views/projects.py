"""The repository's Python projects: judge another folder the engine found (maintainers)."""

from __future__ import annotations

from typing import cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from dashboard.models import Repository
from dashboard.selectors.projects import project_choice
from dashboard.services.permissions import can_manage_repository
from dashboard.services.registration import RegistrationError, judge_folder


@login_required
@require_POST
def judge(request: HttpRequest, pk: int) -> HttpResponse:
    """Judge one of the folders the latest scan found (maintainers); then show the rescan."""
    repository = get_object_or_404(Repository.objects.select_related("team", "latest_scan"), pk=pk)
    if not can_manage_repository(request.user, repository):
        raise PermissionDenied("only the team's maintainers may change the project folder")
    folder = request.POST.get("folder", "")
    choice = project_choice(repository.latest_scan)
    if choice is None or folder not in {row.folder for row in choice.rows}:
        messages.error(request, "That folder is not one of the projects the latest scan found.")
        return redirect("repository", pk=repository.pk)
    try:
        scan = judge_folder(cast(User, request.user), repository, folder)
    except RegistrationError as exc:
        messages.error(request, exc.message)
        return redirect("repository", pk=repository.pk)
    messages.success(request, f"From now on the scans judge {folder or 'the repository root'}.")
    return redirect("scan", pk=scan.pk)
