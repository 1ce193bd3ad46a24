"""The weekly digest: each manager or maintainer turns it on or off per scope, and previews
exactly what will be sent (`services/notify/weekly.py` renders both)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from dashboard.forms.notify import DigestSubscriptionForm
from dashboard.models import Team
from dashboard.selectors.governance import EXPIRING_SOON_DAYS
from dashboard.services.notify import subscriptions, weekly
from dashboard.services.notify.subscriptions import DigestRefused, Scope


def _page(request: HttpRequest, error: str = "", status: int = 200) -> HttpResponse:
    on = subscriptions.enabled_scopes(request.user)
    rows = [(scope, scope.key in on) for scope in subscriptions.available_scopes(request.user)]
    context = {"rows": rows, "error": error, "expiring_days": EXPIRING_SOON_DAYS}
    return render(request, "digest.html", context, status=status)


def _scope(key: str) -> Scope:
    try:
        return subscriptions.scope_named(key)
    except Team.DoesNotExist:
        raise Http404("no such team") from None


@login_required
@require_http_methods(["GET", "POST"])
def index(request: HttpRequest) -> HttpResponse:
    """The weekly digests the user may receive, each with an on/off switch."""
    if request.method == "GET":
        return _page(request)
    form = DigestSubscriptionForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest("scope is required: org or a team's slug")
    scope = _scope(form.cleaned_data["scope"])
    enabled = form.cleaned_data["enabled"]
    try:
        subscriptions.subscribe(request.user, scope, enabled)
    except DigestRefused as exc:
        return _page(request, str(exc), status=403)
    state = "on" if enabled else "off"
    messages.success(request, f"The weekly digest of {scope.label} is {state}.")
    return redirect("digest")


@login_required
@require_GET
def preview(request: HttpRequest) -> HttpResponse:
    """`?scope=org|<team slug>`: the digest as it would be sent now (subject, text, CSV)."""
    key = request.GET.get("scope", "")
    if key:
        scope = _scope(key)
    else:  # the first digest the user may receive
        available = subscriptions.available_scopes(request.user)
        if not available:
            return _page(request, "You receive no weekly digest to preview.", status=403)
        scope = available[0]
    try:
        subscriptions.require_may_subscribe(request.user, scope)
    except DigestRefused as exc:
        return _page(request, str(exc), status=403)
    context = {"digest": weekly.render(scope), "slack": weekly.has_slack(scope)}
    return render(request, "digest_preview.html", context)
