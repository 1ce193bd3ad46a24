"""Ratchets on the repository page: freeze a count-based rule's count, or release it."""

from __future__ import annotations

from typing import cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from dashboard.forms.governance import RatchetForm
from dashboard.models import Ratchet, Repository, Rule
from dashboard.services.access.permissions import can_manage_repository
from dashboard.services.governance import ratchets


@login_required
@require_POST
def freeze(request: HttpRequest, pk: int) -> HttpResponse:
    """Freeze today's count of a count-based rule as the repository's baseline (maintainers)."""
    repository = get_object_or_404(Repository.objects.select_related("team"), pk=pk)
    if not can_manage_repository(request.user, repository):
        raise PermissionDenied("only the team's maintainers may set ratchets")
    form = RatchetForm(
        request.POST, rules=Rule.objects.filter(countable=True, retired=False), prefix="ratchet"
    )
    if not form.is_valid():
        messages.error(request, "Choose a count-based rule.")
        return redirect("repository", pk=pk)
    try:
        ratchet = ratchets.freeze(cast(User, request.user), repository, form.cleaned_data["rule"])
    except ratchets.RatchetError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, f"{ratchet.rule.rule_id} ratcheted at {ratchet.baseline} findings."
        )
    return redirect("repository", pk=pk)


@login_required
@require_POST
def release(request: HttpRequest, pk: int, ratchet_pk: int) -> HttpResponse:
    """Remove a ratchet (maintainers)."""
    ratchet = get_object_or_404(
        Ratchet.objects.select_related("repository__team", "rule"), pk=ratchet_pk, repository_id=pk
    )
    ratchets.release(cast(User, request.user), ratchet)
    messages.success(request, f"Ratchet on {ratchet.rule.rule_id} removed.")
    return redirect("repository", pk=pk)
