"""Registering a repository: the form, and the page that shows the new webhook secret once."""

from __future__ import annotations

from typing import cast

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from dashboard.forms.repos import RegistrationForm
from dashboard.http.registered import registered_page
from dashboard.services.access.permissions import maintained_teams, own_maintained_team
from dashboard.services.repos.registration import RegistrationError, register_repository


@login_required
@require_http_methods(["GET", "POST"])
def register(request: HttpRequest) -> HttpResponse:
    """Register a repository; the webhook secret is shown once, on the answer to the POST."""
    teams = maintained_teams(request.user)
    if not teams.exists():
        raise PermissionDenied("only team maintainers may register repositories")
    initial = {"team": own_maintained_team(request.user)}
    form = RegistrationForm(request.POST or None, teams=teams, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            registered = register_repository(
                data["team"],
                data["clone_url"],
                name=data["name"],
                default_branch=data["default_branch"],
                project_dir=data["project_dir"],
                actor=cast(User, request.user),
            )
        except RegistrationError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            return registered_page(request, registered)
    return render(request, "register.html", {"form": form})
