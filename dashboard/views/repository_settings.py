"""A repository's settings page: edit, archive and restore, hand it to another team; and the
receiving team's answer to a transfer. Decisions are the services' (services/repos)."""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from dashboard.forms.repos import RepositorySettingsForm, TransferForm
from dashboard.models import Repository, RepositoryTransfer, Team
from dashboard.selectors.transfers import pending_transfer
from dashboard.services.access.permissions import can_edit_repository
from dashboard.services.repos import lifecycle, transfers
from dashboard.services.repos.registration import RegistrationError


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def _editable(request: HttpRequest, pk: int) -> Repository:
    """The repository, 404 when unknown, 403 unless the user may change it."""
    repository = get_object_or_404(
        Repository.objects.select_related("team").defer("webhook_secret_encrypted"), pk=pk
    )
    if not can_edit_repository(request.user, repository):
        raise PermissionDenied("only the team's maintainers, managers and admins may do this")
    return repository


def _other_teams(repository: Repository) -> QuerySet[Team]:
    return Team.objects.exclude(pk=repository.team_id).only("name")


@login_required
@require_http_methods(["GET", "POST"])
def edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Name, default branch and project folder; archive or restore; transfer (editors)."""
    repository = _editable(request, pk)
    initial = {f: getattr(repository, f) for f in ("name", "default_branch", "project_dir")}
    form = RepositorySettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            changes = lifecycle.edit_repository(_user(request), repository, **form.cleaned_data)
        except RegistrationError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            if changes:
                messages.success(request, f"Saved: {', '.join(_labels(changes))} changed.")
            else:
                messages.info(request, "Nothing changed.")
            return redirect("repository-settings", pk=pk)
    return _page(request, repository, form, TransferForm(teams=_other_teams(repository)))


def _labels(changes: dict[str, Any]) -> list[str]:
    names = {"default_branch": "default branch", "project_dir": "project folder"}
    return [names.get(field, field) for field in changes]


def _page(
    request: HttpRequest,
    repository: Repository,
    form: RepositorySettingsForm,
    transfer_form: TransferForm,
    status: int = 200,
) -> HttpResponse:
    context = {
        "repository": repository,
        "form": form,
        "transfer_form": transfer_form,
        "pending": pending_transfer(repository),
    }
    return render(request, "repository_settings.html", context, status=status)


@login_required
@require_POST
def archive(request: HttpRequest, pk: int) -> HttpResponse:
    """Archive: out of every score and rescan, its history kept (editors)."""
    repository = _editable(request, pk)
    if lifecycle.archive_repository(_user(request), repository):
        messages.success(
            request, f"{repository.label} is archived: it counts in no score and is not rescanned."
        )
    return redirect("repository-settings", pk=pk)


@login_required
@require_POST
def restore(request: HttpRequest, pk: int) -> HttpResponse:
    """Restore an archived repository (editors); back to the team page when asked from it."""
    repository = _editable(request, pk)
    if lifecycle.restore_repository(_user(request), repository):
        messages.success(request, f"{repository.label} is restored and counts again.")
    if request.POST.get("back") == "team":
        return redirect("team", slug=repository.team.slug)
    return redirect("repository-settings", pk=pk)


@login_required
@require_POST
def transfer(request: HttpRequest, pk: int) -> HttpResponse:
    """Hand the repository to another team: at once when the user speaks for that team,
    else proposed to its maintainers."""
    repository = _editable(request, pk)
    form = TransferForm(request.POST, teams=_other_teams(repository))
    if form.is_valid():
        to_team = form.cleaned_data["to_team"]
        try:
            proposal = transfers.transfer_or_propose(_user(request), repository, to_team)
        except transfers.TransferError as exc:
            form.add_error("to_team", exc.message)
        else:
            if proposal is None:
                messages.success(request, f"{repository.label} now belongs to {to_team.name}.")
            else:
                messages.success(
                    request,
                    f"Transfer proposed: {to_team.name}'s maintainers accept or decline it on "
                    "their team page.",
                )
            return redirect("repository-settings", pk=pk)
    blank = RepositorySettingsForm(
        initial={f: getattr(repository, f) for f in ("name", "default_branch", "project_dir")}
    )
    return _page(request, repository, blank, form, status=400)


def _transfer(pk: int) -> RepositoryTransfer:
    return get_object_or_404(
        RepositoryTransfer.objects.select_related("repository__team", "from_team", "to_team"),
        pk=pk,
    )


def _decided(
    request: HttpRequest, pk: int, decide: Any, done: str, *, proposer: bool = False
) -> HttpResponse:
    """Apply `decide(user, transfer)`; back to the page of the team that answered (the
    receiving one, or the proposing one when it withdraws)."""
    proposal = _transfer(pk)
    try:
        decide(_user(request), proposal)
    except transfers.TransferError as exc:
        messages.error(request, f"{proposal.repository.label}: {exc.message}.")
    else:
        messages.success(request, f"{proposal.repository.label}: {done}.")
    team = proposal.from_team if proposer else proposal.to_team
    return redirect("team", slug=team.slug)


@login_required
@require_POST
def accept(request: HttpRequest, pk: int) -> HttpResponse:
    """The receiving team takes the repository (its maintainers, managers, admins)."""
    return _decided(request, pk, transfers.accept, "transfer accepted, it is yours now")


@login_required
@require_POST
def decline(request: HttpRequest, pk: int) -> HttpResponse:
    """The receiving team refuses the repository."""
    return _decided(request, pk, transfers.decline, "transfer declined")


@login_required
@require_POST
def cancel(request: HttpRequest, pk: int) -> HttpResponse:
    """The proposing team withdraws its proposal."""
    return _decided(request, pk, transfers.cancel, "transfer cancelled", proposer=True)
