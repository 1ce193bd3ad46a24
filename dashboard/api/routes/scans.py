"""Read-only: scans and their results."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema

from dashboard.api.errors import ApiError
from dashboard.api.pagination import paginate
from dashboard.api.schemas import MAX_ID, ErrorOut, PageQuery, ResultPage, ScanOut, ScanPage
from dashboard.models import CheckResult, Repository, Scan
from dashboard.services.export_rows import STATUSES, live_governance_by_repository

router = Router(tags=["scans"])


class ScanFilters(Schema):
    """Filter scans by repository, status or trigger."""

    repository: int | None = Field(None, ge=1, le=MAX_ID)
    status: Scan.Status | None = None
    trigger: Scan.Trigger | None = None


class ResultFilters(Schema):
    """Which results: one scan's, one repository's latest, or every active repository's latest."""

    scan: int | None = Field(None, ge=1, le=MAX_ID)
    repository: int | None = Field(None, ge=1, le=MAX_ID)
    rule: str = Field("", max_length=16)
    section: str = Field("", max_length=8)
    status: str = Field("", max_length=16, description="engine status")


@router.get("/scans", response=ScanPage)
def list_scans(
    request: HttpRequest, page: Query[PageQuery], filters: Query[ScanFilters]
) -> dict[str, Any]:
    """Scans, newest first."""
    queryset = Scan.objects.order_by("-queued_at", "-id")
    if filters.repository is not None:
        queryset = queryset.filter(repository_id=filters.repository)
    if filters.status:
        queryset = queryset.filter(status=filters.status)
    if filters.trigger:
        queryset = queryset.filter(trigger=filters.trigger)
    return paginate(queryset, page, list)


@router.get("/scans/{scan_id}", response={200: ScanOut, 404: ErrorOut})
def get_scan(request: HttpRequest, scan_id: int) -> Scan:
    """One scan."""
    return get_object_or_404(Scan, pk=scan_id)


def _results(filters: ResultFilters) -> QuerySet[CheckResult]:
    if filters.scan is not None:
        queryset = CheckResult.objects.filter(scan_id=filters.scan)
    elif filters.repository is not None:
        latest = Repository.objects.filter(pk=filters.repository).values("latest_scan_id")
        queryset = CheckResult.objects.filter(scan_id__in=latest)
    else:
        latest = Repository.objects.filter(active=True).values("latest_scan_id")
        queryset = CheckResult.objects.filter(scan_id__in=latest)
    if filters.rule:
        queryset = queryset.filter(rule__rule_id=filters.rule.upper())
    if filters.section:
        queryset = queryset.filter(rule__section=filters.section.upper())
    if filters.status:
        if filters.status not in STATUSES:
            raise ApiError(
                422,
                "validation_error",
                "unknown status",
                [{"field": "status", "message": f"one of {', '.join(sorted(STATUSES))}"}],
            )
        queryset = queryset.filter(status=filters.status)
    return queryset.select_related("rule", "scan").order_by(
        "scan__repository__name", "scan_id", "rule__position"
    )


def _result_rows(results: list[CheckResult]) -> list[dict[str, Any]]:
    governance = live_governance_by_repository(sorted({r.scan.repository_id for r in results}))
    return [
        {
            "scan_id": r.scan_id,
            "repository_id": r.scan.repository_id,
            "rule_id": r.rule.rule_id,
            "section": r.rule.section,
            "severity": r.rule.severity,
            "status": r.status,
            "effective_status": governance[r.scan.repository_id].shown(
                r.status, r.rule_id, r.findings
            ),
            "message": r.message,
            "evidence": [e for e in r.evidence if isinstance(e, dict)],
        }
        for r in results
    ]


@router.get("/results", response=ResultPage)
def list_results(
    request: HttpRequest, page: Query[PageQuery], filters: Query[ResultFilters]
) -> dict[str, Any]:
    """Results of one scan, of a repository's latest scan, or of every active repository's."""
    return paginate(_results(filters), page, _result_rows)
