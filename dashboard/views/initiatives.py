"""Initiatives: list, create (managers), progress with burn-up, close, CSV status."""

from __future__ import annotations

from typing import cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from dashboard.forms.governance import InitiativeForm
from dashboard.models import Initiative
from dashboard.selectors.initiatives import burn_up, initiative_rows, progress_many, status_rows
from dashboard.services.access.permissions import is_manager
from dashboard.services.governance import initiatives
from dashboard.services.reporting.csv_stream import csv_response
from dashboard.services.reporting.export_rows import file_name


def _initiative(pk: int) -> Initiative:
    return get_object_or_404(Initiative.objects.select_related("owner"), pk=pk)


@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    """Open initiatives first, then the closed ones, each with its progress."""
    found = list(Initiative.objects.select_related("owner").order_by("closed_at", "target_date"))
    progress = progress_many(found)
    context = {
        "rows": [progress[i.pk] for i in found],
        "can_manage": is_manager(request.user),
        "today": timezone.now().date(),
    }
    return render(request, "initiatives.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def new(request: HttpRequest) -> HttpResponse:
    """Start an initiative (managers)."""
    initiatives.require_manager(cast(User, request.user))
    form = InitiativeForm(request.POST or None, initial={"owner": request.user})
    if request.method == "POST" and form.is_valid():
        try:
            created = initiatives.create_initiative(cast(User, request.user), form.goal_value())
        except initiatives.InitiativeError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, f"Initiative “{created.name}” started.")
            return redirect("initiative", pk=created.pk)
    return render(request, "initiative_form.html", {"form": form})


@login_required
@require_GET
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Progress per team, the burn-up, and the repositories still behind with what they miss."""
    initiative = _initiative(pk)
    progress = progress_many([initiative])[initiative.pk]
    team = request.GET.get("team", "")
    behind = [r for r in progress.behind if not team or r.team_slug == team]
    context = {"initiative": initiative, "progress": progress, "behind": behind, "team": team}
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "initiative.html#behind", context)
    context.update(
        burnup=burn_up(progress),
        rules=list(initiative.rules.order_by("position")),
        can_manage=is_manager(request.user),
    )
    return render(request, "initiative.html", context)


@login_required
@require_POST
def close(request: HttpRequest, pk: int) -> HttpResponse:
    """Close an initiative (managers)."""
    initiative = _initiative(pk)
    initiatives.close_initiative(cast(User, request.user), initiative)
    messages.success(request, f"Initiative “{initiative.name}” closed.")
    return redirect("initiative", pk=pk)


@login_required
@require_GET
def export(request: HttpRequest, pk: int) -> HttpResponseBase:
    """One row per repository in scope: done, level, what it misses."""
    initiative = _initiative(pk)
    header, rows = status_rows(progress_many([initiative])[initiative.pk])
    name = file_name(f"initiative-{initiative.pk}", timezone.now().date())
    return csv_response(name, header, rows)


@login_required
@require_GET
def export_all(request: HttpRequest) -> HttpResponseBase:
    """One row per initiative with its progress."""
    found = list(Initiative.objects.select_related("owner").order_by("closed_at", "target_date"))
    header, rows = initiative_rows(found, progress_many(found))
    return csv_response(file_name("initiatives", timezone.now().date()), header, rows)
