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
from dashboard.models import CheckResult, Scan
from dashboard.selectors.results import (
    SHOWN_STATUSES,
    STATUSES,
    ResultQuery,
    governance_by_repository,
    latest_results,
)

router = Router(tags=["scans"])


class ScanFilters(Schema):
    """Filter scans by repository, status or trigger."""

    repository: int | None = Field(None, ge=1, le=MAX_ID)
    status: Scan.Status | None = None
    trigger: Scan.Trigger | None = None


class ResultFilters(Schema):
    """Which results: one scan's, one repository's latest, or every active repository's latest.

    The same filters select the same rows as the results CSV (dashboard/selectors/results.py).
    """

    scan: int | None = Field(None, ge=1, le=MAX_ID)
    repository: int | None = Field(None, ge=1, le=MAX_ID)
    team: str = Field("", max_length=120)
    rule: str = Field("", max_length=16)
    section: str = Field("", max_length=8)
    status: str = Field("", max_length=16, description="engine status (a waived fail is fail)")
    effective_status: str = Field(
        "", max_length=16, description="status with governance applied (waived, upcoming…)"
    )


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


def _invalid(field: str, allowed: frozenset[str]) -> ApiError:
    return ApiError(
        422,
        "validation_error",
        f"unknown {field.replace('_', ' ')}",
        [{"field": field, "message": f"one of {', '.join(sorted(allowed))}"}],
    )


def _results(filters: ResultFilters) -> QuerySet[CheckResult]:
    if filters.status and filters.status not in STATUSES:
        raise _invalid("status", STATUSES)
    if filters.effective_status and filters.effective_status not in SHOWN_STATUSES:
        raise _invalid("effective_status", SHOWN_STATUSES)
    query = ResultQuery(
        scan=filters.scan,
        repository=filters.repository,
        team=filters.team,
        rule=filters.rule,
        section=filters.section,
        status=filters.status,
        effective_status=filters.effective_status,
    )
    return latest_results(query).select_related("rule", "scan")


def _result_rows(results: list[CheckResult]) -> list[dict[str, Any]]:
    governance = governance_by_repository(sorted({r.scan.repository_id for r in results}))
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
