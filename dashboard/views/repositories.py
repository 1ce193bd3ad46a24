"""Repository pages: results with evidence, history, scans; registration; governance."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache, partial
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from dashboard.charts import line_chart
from dashboard.forms.governance import AttestationForm, RatchetForm, WaiverForm
from dashboard.models import Attestation, Repository, Rule, Scan, Waiver
from dashboard.selectors.common import RANGES, TableState, TrendRange, table_state, trend_range
from dashboard.selectors.repositories import (
    EVERY,
    REPOSITORY_RANGE,
    GovernanceInForce,
    RepositoryPage,
    ResultsSummary,
    attestable,
    governance_in_force,
    latest_results,
    ratchetable,
    recent_scans,
    repository_page,
    score_history,
    waivable,
)
from dashboard.selectors.teams import REPOSITORY_SORTS, repositories_table
from dashboard.selectors.waiver_requests import of_repository
from dashboard.services.access.permissions import (
    can_edit_repository,
    can_grant_waiver,
    can_manage_repository,
    maintained_teams,
)
from dashboard.services.governance import waivers as governance
from dashboard.services.scans import deep as deep_scans
from dashboard.services.scans import pipeline as scanning
from dashboard.views import pagecache, projects
from dashboard.views.panels import render_panel, with_current_ages
from scanners.results import Status

QUERY = ("sort", "q", "page", "level", "active")
# Decided waiver requests stay on the repository page (for their requester) this long.
REQUESTS_SHOWN = timedelta(days=30)
# Status filters of the results tabs; other values are answered uncached.
RESULT_FILTERS = frozenset({"", *(s.value for s in Status), "upcoming", EVERY})


def _user(request: HttpRequest) -> User:
    """The signed-in user (every view here is behind `login_required`)."""
    return cast(User, request.user)


def _repository(pk: int) -> Repository:
    wide = ("webhook_secret_encrypted", "latest_scan__tool_versions", "latest_scan__counts")
    return get_object_or_404(
        Repository.objects.select_related("team", "latest_scan").defer(*wide), pk=pk
    )


@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    """Every repository, searchable and sortable (cached like the team page's table)."""
    state = table_state(request, REPOSITORY_SORTS, "name", filters=("level", "active"))
    query = pagecache.query_part(request.GET, QUERY)
    scopes, day = (pagecache.ALL, pagecache.ORG), pagecache.today_part()
    if request.htmx:  # type: ignore[attr-defined]
        table = pagecache.panel(
            "repositories-table",
            scopes,
            lambda: render_panel(request, "repositories.html#repositories-table", _table(state)),
            query=query,
            parts=(day,),
        )
        return HttpResponse(with_current_ages(pagecache.one(table)))
    can_register = maintained_teams(request.user).exists()
    body = pagecache.panel(
        "repositories",
        scopes,
        lambda: render_panel(
            request, "repositories.html#body", {**_table(state), "can_register": can_register}
        ),
        query=query,
        parts=(day, f"register={can_register}"),
    )
    return render(request, "repositories.html", {"body": with_current_ages(pagecache.one(body))})


def _table(state: TableState) -> dict[str, Any]:
    page, rows = repositories_table(None, state)
    return {"page": page, "rows": rows, "state": state}


@login_required
@require_GET
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Latest results grouped by section, evidence, governance, history and scans.

    Results, history chart and (for all but maintainers, managers and admins, who get forms)
    governance come from the page cache; scans and webhook deliveries, which change with
    every request for a scan and every delivery, are read live.
    """
    repository = _repository(pk)
    status_filter = request.GET.get("status", "")
    # Read at most once per request, by whichever panel misses first.
    in_force = cache(partial(governance_in_force, repository))
    results_panel = _results_panel(request, repository, status_filter, in_force)
    if request.htmx and request.GET.get("partial") == "results":  # type: ignore[attr-defined]
        # The tabs sit outside #results: swapped out of band, so the active one follows the URL.
        tabs = render_to_string(
            "repository.html#result-filters", {"status_filter": status_filter, "oob": True}, request
        )
        return HttpResponse(pagecache.one(results_panel).html + tabs)
    can_manage = can_manage_repository(request.user, repository)
    # Managers and admins grant waivers directly; maintainers request them: both get forms.
    can_grant = can_grant_waiver(request.user)
    span = trend_range(request.GET, REPOSITORY_RANGE)
    wanted = {
        "results": results_panel,
        "history": _history_panel(repository, span),
        "activity": _activity_panel(request, repository),
    }
    if not (can_manage or can_grant):
        wanted["governance"] = _governance_panel(request, repository, results_panel, in_force)
    found = pagecache.panels(wanted)  # one lookup for the page's cached panels
    data = repository_page(repository, status_filter, lazy=True)
    data.summary = found["results"].summary
    context: dict[str, Any] = {
        "repository": repository,
        "data": data,
        "results": found["results"].html,
        "history": found["history"],
        "activity": Activity(
            with_current_ages(found["activity"].top), with_current_ages(found["activity"].bottom)
        ),
        "status_filter": status_filter,
        "span": span,
        "ranges": RANGES,
        "can_manage": can_manage,
        "can_edit": can_manage or can_edit_repository(request.user, repository),
        "can_grant": can_grant,
        **projects.card(request, repository, can_manage),
    }
    if can_manage or can_grant:
        governed = in_force()
        data.waivers, data.attestations = governed.waivers, governed.attestations
        data.ratchet_rows = governed.ratchets
        context["waiver_form"] = WaiverForm(rules=_rules(waivable(data)))
        context["waiver_requests"] = of_repository(repository, timezone.now() - REQUESTS_SHOWN)
        context["attest_form"] = AttestationForm(rules=_rules(attestable(data)), prefix="att")
        context["ratchet_form"] = RatchetForm(rules=_rules(ratchetable(data)), prefix="ratchet")
        context["governance"] = render_to_string("repository.html#governance", context, request)
    else:
        context["governance"] = found["governance"].html
    return render(request, "repository.html", context)


@dataclass(frozen=True, slots=True)
class Rendered:
    """A rendered panel, what the rest of the page needs from it, and until when it holds."""

    html: str
    summary: ResultsSummary
    valid_until: datetime | None


def _results_panel(
    request: HttpRequest,
    repository: Repository,
    status_filter: str,
    in_force: Callable[[], GovernanceInForce],
) -> pagecache.Panel:
    def build() -> Rendered:
        governed = in_force()
        sections, summary = latest_results(repository, governed.governance, status_filter)
        context = {"sections": sections, "summary": summary, "status_filter": status_filter}
        html = render_panel(request, "repository.html#results", context)
        return Rendered(html, summary, governed.valid_until)

    return pagecache.panel(
        "repository-results",
        (pagecache.ALL, pagecache.repository(repository.pk)),
        build,
        query=status_filter if status_filter in RESULT_FILTERS else None,
        # "by-severity": panels cached before results were ordered hold an older summary.
        parts=(repository.latest_scan_id, repository.clone_url, "by-severity"),
    )


def _governance_panel(
    request: HttpRequest,
    repository: Repository,
    results: pagecache.Panel,
    in_force: Callable[[], GovernanceInForce],
) -> pagecache.Panel:
    """Waivers, attestations and ratchets as people who may not change them see them."""

    def build() -> Rendered:
        summary = pagecache.one(results).summary  # ratchets show the latest counts
        governed = in_force()
        data = RepositoryPage([], governed.waivers, governed.attestations, [], [], None, summary)
        data.ratchet_rows = governed.ratchets
        context = {"repository": repository, "data": data, "can_manage": False}
        html = render_panel(request, "repository.html#governance", context)
        return Rendered(html, summary, governed.valid_until)

    return pagecache.panel(
        "repository-governance",
        (pagecache.ALL, pagecache.repository(repository.pk)),
        build,
        query="",
        parts=(repository.latest_scan_id, "manage=False"),
    )


@dataclass(frozen=True, slots=True)
class Activity:
    """The repository's scans: the notice (or the not-scanned state) above, the tables below."""

    top: str
    bottom: str


def _activity_panel(request: HttpRequest, repository: Repository) -> pagecache.Panel:
    """Retired whenever a scan of the repository is queued, starts, ends (services/scanning)."""

    def build() -> Activity:
        scans = recent_scans(repository)
        active = next((s for s in scans if s.status in {"queued", "running"}), None)
        data = RepositoryPage([], [], [], [], scans, active)
        context = {"repository": repository, "data": data}
        return Activity(
            render_panel(request, "repository.html#activity-top", context),
            render_panel(request, "repository.html#activity-bottom", context),
        )

    return pagecache.panel(
        "repository-activity",
        (pagecache.ALL, pagecache.repository(repository.pk)),
        build,
        query="",
        parts=(repository.latest_scan_id,),
    )


def _history_panel(repository: Repository, span: TrendRange) -> pagecache.Panel:
    def build() -> str:
        history, marks = score_history(repository, span)
        return line_chart(history, marks=marks)

    return pagecache.panel(
        "repository-history",
        (pagecache.ALL, pagecache.repository(repository.pk)),
        build,
        query=f"range={span.key}",
        parts=(pagecache.today_part(),),
    )


def _rules(ids: list[int]) -> QuerySet[Rule]:
    return Rule.objects.filter(pk__in=ids).order_by("position")


@login_required
@require_POST
def scan_now(request: HttpRequest, pk: int) -> HttpResponse:
    """Queue a manual scan (maintainers); then show its progress.

    `force=1` rescans a commit already scanned (the engine runs again, a new scan is stored).
    """
    repository = _repository(pk)
    if not can_manage_repository(request.user, repository):
        raise PermissionDenied("only the team's maintainers may start scans")
    force = request.POST.get("force") == "1"
    with transaction.atomic():
        scan = scanning.request_scan(repository, Scan.Trigger.MANUAL, force=force)
    return redirect("scan", pk=scan.pk)


@login_required
@require_POST
def deep_scan(request: HttpRequest, pk: int) -> HttpResponse:
    """Turn the sandboxed deep scan on or off (maintainers); it runs after the next scan."""
    repository = _repository(pk)
    deep_scans.set_enabled(_user(request), repository, request.POST.get("enabled") == "1")
    return redirect("repository", pk=repository.pk)


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
    form = AttestationForm(request.POST, rules=_rules(attestable(data)), prefix="att")
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
