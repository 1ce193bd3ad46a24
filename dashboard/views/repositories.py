"""Repository pages: results with evidence, history, scans; registration; governance."""

from __future__ import annotations

from typing import cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from dashboard.forms import AttestationForm, RegistrationForm, WaiverForm
from dashboard.models import Attestation, Repository, Rule, Scan, Waiver
from dashboard.rollout_forms import RatchetForm
from dashboard.selectors.common import table_state
from dashboard.selectors.repositories import attestable, ratchetable, repository_page, waivable
from dashboard.selectors.teams import REPOSITORY_SORTS, repositories_table
from dashboard.services import deep_scans, governance, scanning
from dashboard.services.permissions import can_manage_repository, maintained_teams
from dashboard.services.registration import RegistrationError, register_repository


def _user(request: HttpRequest) -> User:
    """The signed-in user (every view here is behind `login_required`)."""
    return cast(User, request.user)


def _repository(pk: int) -> Repository:
    return get_object_or_404(Repository.objects.select_related("team", "latest_scan"), pk=pk)


@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    """Every repository, searchable and sortable."""
    state = table_state(request, REPOSITORY_SORTS, "name", filters=("level", "active"))
    page, rows = repositories_table(None, state)
    context = {
        "page": page,
        "rows": rows,
        "state": state,
        "can_register": maintained_teams(request.user).exists(),
    }
    template = "repositories.html#repositories-table" if request.htmx else "repositories.html"  # type: ignore[attr-defined]
    return render(request, template, context)


@login_required
@require_GET
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Latest results grouped by section, evidence, governance, history and scans."""
    repository = _repository(pk)
    status_filter = request.GET.get("status", "")
    data = repository_page(repository, status_filter)
    if request.htmx and request.GET.get("partial") == "results":  # type: ignore[attr-defined]
        return render(
            request,
            "repository.html#results",
            {"repository": repository, "data": data, "status_filter": status_filter},
        )
    can_manage = can_manage_repository(request.user, repository)
    context = {
        "repository": repository,
        "data": data,
        "status_filter": status_filter,
        "can_manage": can_manage,
    }
    if can_manage:
        context["waiver_form"] = WaiverForm(rules=_rules([r.rule_id for r in waivable(data)]))
        context["attest_form"] = AttestationForm(
            rules=_rules([r.rule_id for r in attestable(data)]), prefix="att"
        )
        context["ratchet_form"] = RatchetForm(rules=_rules(ratchetable(data)), prefix="ratchet")
    return render(request, "repository.html", context)


def _rules(ids: list[int]) -> QuerySet[Rule]:
    return Rule.objects.filter(pk__in=ids).order_by("position")


@login_required
@require_POST
def scan_now(request: HttpRequest, pk: int) -> HttpResponse:
    """Queue a manual scan (maintainers); then show its progress."""
    repository = _repository(pk)
    if not can_manage_repository(request.user, repository):
        raise PermissionDenied("only the team's maintainers may start scans")
    with transaction.atomic():
        scan = scanning.request_scan(repository, Scan.Trigger.MANUAL)
    return redirect("scan", pk=scan.pk)


@login_required
@require_POST
def deep_scan(request: HttpRequest, pk: int) -> HttpResponse:
    """Turn the sandboxed deep scan on or off (maintainers); it runs after the next scan."""
    repository = _repository(pk)
    deep_scans.set_enabled(_user(request), repository, request.POST.get("enabled") == "1")
    return redirect("repository", pk=repository.pk)


@login_required
@require_http_methods(["GET", "POST"])
def register(request: HttpRequest) -> HttpResponse:
    """Register a repository; the webhook secret is shown once, on the answer to the POST."""
    teams = maintained_teams(request.user)
    if not teams.exists():
        raise PermissionDenied("only team maintainers may register repositories")
    form = RegistrationForm(request.POST or None, teams=teams, initial={"team": teams.first()})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            registered = register_repository(
                data["team"],
                data["clone_url"],
                name=data["name"],
                default_branch=data["default_branch"],
                project_dir=data["project_dir"],
                actor=_user(request),
            )
        except RegistrationError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            return render(
                request,
                "registered.html",
                {
                    "repository": registered.repository,
                    "secret": registered.webhook_secret,
                    "scan": registered.scan,
                    "base_url": request.build_absolute_uri("/").rstrip("/"),
                },
            )
    return render(request, "register.html", {"form": form})


@login_required
@require_POST
def add_waiver(request: HttpRequest, pk: int) -> HttpResponse:
    """Grant a waiver (maintainers)."""
    repository = _repository(pk)
    if not can_manage_repository(request.user, repository):
        raise PermissionDenied("only the team's maintainers may grant waivers")
    data = repository_page(repository)
    form = WaiverForm(request.POST, rules=_rules([r.rule_id for r in waivable(data)]))
    if form.is_valid():
        try:
            governance.grant_waiver(
                _user(request),
                repository,
                form.cleaned_data["rule"],
                form.cleaned_data["reason"],
                form.expires_at(),
            )
        except governance.GovernanceError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"Waiver granted for {form.cleaned_data['rule'].rule_id}.")
    else:
        messages.error(
            request, "; ".join(str(e) for errors in form.errors.values() for e in errors)
        )
    return redirect("repository", pk=pk)


@login_required
@require_POST
def revoke_waiver(request: HttpRequest, pk: int, waiver_pk: int) -> HttpResponse:
    """End a waiver now (maintainers)."""
    waiver = get_object_or_404(
        Waiver.objects.select_related("repository__team", "rule"), pk=waiver_pk, repository_id=pk
    )
    governance.revoke_waiver(_user(request), waiver)
    messages.success(request, "Waiver revoked.")
    return redirect("repository", pk=pk)


@login_required
@require_POST
def add_attestation(request: HttpRequest, pk: int) -> HttpResponse:
    """Record an attestation (maintainers)."""
    repository = _repository(pk)
    if not can_manage_repository(request.user, repository):
        raise PermissionDenied("only the team's maintainers may attest")
    data = repository_page(repository)
    form = AttestationForm(
        request.POST, rules=_rules([r.rule_id for r in attestable(data)]), prefix="att"
    )
    if form.is_valid():
        try:
            governance.attest(
                _user(request),
                repository,
                form.cleaned_data["rule"],
                form.cleaned_data["evidence_url"],
                form.cleaned_data["note"],
                form.cleaned_data["days"],
            )
        except governance.GovernanceError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request, f"Attestation recorded for {form.cleaned_data['rule'].rule_id}."
            )
    else:
        messages.error(
            request, "; ".join(str(e) for errors in form.errors.values() for e in errors)
        )
    return redirect("repository", pk=pk)


@login_required
@require_POST
def revoke_attestation(request: HttpRequest, pk: int, attestation_pk: int) -> HttpResponse:
    """Withdraw an attestation now (maintainers)."""
    attestation = get_object_or_404(
        Attestation.objects.select_related("repository__team", "rule"),
        pk=attestation_pk,
        repository_id=pk,
    )
    governance.revoke_attestation(_user(request), attestation)
    messages.success(request, f"Attestation of {attestation.rule.rule_id} revoked.")
    return redirect("repository", pk=pk)
