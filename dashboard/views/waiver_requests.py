"""Waiver requests: the repository page's waiver form (a request, or a direct grant for
managers and admins) and the "Pending approvals" page where approvers decide.

Who may do what is `services/access/permissions.py`; the writes are
`services/governance/waiver_requests.py` (and `waivers.grant_waiver`).
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
from django.views.decorators.http import require_GET, require_POST

from dashboard.forms.governance import WaiverForm
from dashboard.models import Repository, Rule, WaiverRequest
from dashboard.selectors.repositories import repository_page, waivable
from dashboard.selectors.waiver_requests import awaiting_decision, requested_by
from dashboard.services.access.permissions import (
    can_grant_waiver,
    can_manage_repository,
    maintainers_approve_waivers,
    waiver_approval_teams,
)
from dashboard.services.governance import waiver_requests as requests
from dashboard.services.governance import waivers as governance


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


@login_required
@require_POST
def add_waiver(request: HttpRequest, pk: int) -> HttpResponse:
    """Request a waiver (maintainers), or grant one directly (managers and admins)."""
    repository = get_object_or_404(Repository.objects.select_related("team"), pk=pk)
    user = _user(request)
    grant = can_grant_waiver(user)
    if not grant and not can_manage_repository(user, repository):
        raise PermissionDenied("only the team's maintainers may request waivers")
    rules = Rule.objects.filter(pk__in=waivable(repository_page(repository)))
    form = WaiverForm(request.POST, rules=rules.order_by("position"))
    if not form.is_valid():
        messages.error(request, "; ".join(str(e) for es in form.errors.values() for e in es))
        return redirect("repository", pk=pk)
    rule, reason = form.cleaned_data["rule"], form.cleaned_data["reason"]
    try:
        if grant:
            governance.grant_waiver(user, repository, rule, reason, form.expires_at())
        else:
            requests.request_waiver(user, repository, rule, reason, form.expires_at())
    except governance.GovernanceError as exc:
        messages.error(request, exc.message)
    else:
        done = "granted" if grant else "requested: it counts once someone else approves it"
        messages.success(request, f"Waiver of {rule.rule_id} {done}.")
    return redirect("repository", pk=pk)


@dataclass(frozen=True, slots=True)
class Row:
    """A request to decide, with what the approver typed when the decision was refused."""

    request: WaiverRequest
    error: str = ""
    reason: str = ""


def _page(
    request: HttpRequest,
    failed: WaiverRequest | None = None,
    error: str = "",
    reason: str = "",
    status: int = 400,
) -> HttpResponse:
    """The page; after a refused decision, its message by the request's forms (or on top,
    when the request is no longer listed: decided meanwhile, or not the user's to decide)."""
    user = _user(request)
    rows = [
        Row(item, error, reason) if failed and item.pk == failed.pk else Row(item)
        for item in awaiting_decision(waiver_approval_teams(user), user.pk)
    ]
    context = {
        "rows": rows,
        "mine": list(requested_by(user.pk)),
        "maintainers_approve": maintainers_approve_waivers(),
        "error": error if error and not any(row.error for row in rows) else "",
    }
    return render(request, "waiver_requests.html", context, status=status if error else 200)


@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    """Pending waiver requests the user may decide, and the user's own pending requests."""
    return _page(request)


def _pending(pk: int) -> WaiverRequest:
    return get_object_or_404(
        WaiverRequest.objects.select_related("repository__team", "rule", "requested_by"), pk=pk
    )


@login_required
@require_POST
def approve(request: HttpRequest, pk: int) -> HttpResponse:
    """Approve a request: its waiver is in force at once (someone other than the requester)."""
    item = _pending(pk)
    try:
        requests.approve(_user(request), item, request.POST.get("note", ""))
    except PermissionDenied as exc:
        return _page(request, item, str(exc), status=403)
    except governance.GovernanceError as exc:
        return _page(request, item, exc.message)
    messages.success(request, f"Waiver of {item.rule.rule_id} on {item.repository.label} approved.")
    return redirect("waiver-requests")


@login_required
@require_POST
def reject(request: HttpRequest, pk: int) -> HttpResponse:
    """Reject a request with a reason; a refused form keeps what was typed."""
    item = _pending(pk)
    reason = request.POST.get("reason", "")
    try:
        requests.reject(_user(request), item, reason)
    except PermissionDenied as exc:
        return _page(request, item, str(exc), status=403)
    except governance.GovernanceError as exc:
        return _page(request, item, exc.message, reason)
    messages.success(request, f"Waiver of {item.rule.rule_id} on {item.repository.label} rejected.")
    return redirect("waiver-requests")


@login_required
@require_POST
def withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    """The requester takes back a pending request."""
    item = _pending(pk)
    try:
        requests.withdraw(_user(request), item)
    except governance.GovernanceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Request to waive {item.rule.rule_id} withdrawn.")
    return redirect("repository", pk=item.repository_id)
