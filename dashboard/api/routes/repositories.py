"""Repositories: list and read; register, request a scan, upload CI results (write)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema, Status

from dashboard.api.auth import require_write
from dashboard.api.errors import ApiError
from dashboard.api.pagination import paginate
from dashboard.api.schemas import (
    CoverageOut,
    ErrorOut,
    PageQuery,
    RegisteredOut,
    RepositoryIn,
    RepositoryOut,
    RepositoryPage,
    ScanIn,
    ScanOut,
)
from dashboard.http.bodies import read_limited
from dashboard.models import CoverageReport, Repository, Scan, Team
from dashboard.services.repos.registration import RegistrationError, register_repository
from dashboard.services.scans.pipeline import request_scan
from dashboard.services.scans.uploads import UploadError, receive_report, store_coverage

router = Router(tags=["repositories"])
WRITE_ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut}


class RepositoryFilters(Schema):
    """Filter repositories by team, state, level or name."""

    team: str = Field("", max_length=120, description="team slug")
    active: bool | None = None
    level: str = Field("", max_length=8)
    search: str = Field("", max_length=200)


def repository_out(repository: Repository) -> dict[str, Any]:
    """A repository (with its team selected) as RepositoryOut."""
    return {
        "id": repository.pk,
        "name": repository.name,
        "team": repository.team.slug,
        "clone_url": repository.public_clone_url,
        "default_branch": repository.default_branch,
        "project_dir": repository.project_dir,
        "active": repository.active,
        "score": repository.score,
        "level": repository.level,
        "latest_scan_id": repository.latest_scan_id,
        "created_at": repository.created_at,
    }


@router.get("/repositories", response=RepositoryPage)
def list_repositories(
    request: HttpRequest, page: Query[PageQuery], filters: Query[RepositoryFilters]
) -> dict[str, Any]:
    """Repositories by name."""
    queryset = Repository.objects.select_related("team").order_by("name", "pk")
    if filters.team:
        queryset = queryset.filter(team__slug=filters.team)
    if filters.active is not None:
        queryset = queryset.filter(active=filters.active)
    if filters.level:
        queryset = queryset.filter(level=filters.level)
    if filters.search:
        queryset = queryset.filter(name__icontains=filters.search)
    return paginate(queryset, page, lambda repos: [repository_out(r) for r in repos])


def _repository(repository_id: int) -> Repository:
    return get_object_or_404(Repository.objects.select_related("team"), pk=repository_id)


@router.get("/repositories/{repository_id}", response={200: RepositoryOut, 404: ErrorOut})
def get_repository(request: HttpRequest, repository_id: int) -> dict[str, Any]:
    """One repository."""
    return repository_out(_repository(repository_id))


@router.post("/repositories", response={201: RegisteredOut, **WRITE_ERRORS, 422: ErrorOut})
def register(request: HttpRequest, payload: RepositoryIn) -> Status[dict[str, Any]]:
    """Register a repository for a team and queue its first scan."""
    team = Team.objects.filter(slug=payload.team).first()
    if team is None:
        raise ApiError(
            422, "validation_error", "unknown team", [{"field": "team", "message": "no such team"}]
        )
    require_write(request, team)
    try:
        registered = register_repository(
            team,
            payload.clone_url,
            name=payload.name,
            default_branch=payload.default_branch,
            project_dir=payload.project_dir,
            actor=request.auth,  # type: ignore[attr-defined]
        )
    except RegistrationError as exc:
        raise ApiError(
            422, "validation_error", exc.message, [{"field": exc.field, "message": exc.message}]
        ) from None
    return Status(
        201,
        {
            "repository": repository_out(registered.repository),
            "webhook_secret": registered.webhook_secret,
            "scan_id": registered.scan.pk,
        },
    )


@router.post(
    "/repositories/{repository_id}/scans", response={202: ScanOut, **WRITE_ERRORS, 409: ErrorOut}
)
def scan(request: HttpRequest, repository_id: int, payload: ScanIn) -> Status[Scan]:
    """Queue a scan (merged into one already queued for the repository).

    `{"force": true}` scans again a commit already scanned: the engine runs and a new scan is
    stored, where an ordinary request would be skipped.
    """
    repository = _repository(repository_id)
    require_write(request, repository.team)
    if not repository.active:
        raise ApiError(409, "inactive", "the repository is inactive")
    scan = request_scan(
        repository, Scan.Trigger.MANUAL, ref=payload.ref.strip(), force=payload.force
    )
    return Status(202, scan)


def _upload_body(request: HttpRequest, content_types: set[str]) -> bytes:
    if request.content_type not in content_types:
        raise ApiError(415, "unsupported_media_type", f"send {' or '.join(sorted(content_types))}")
    body = read_limited(request, settings.API_UPLOAD_MAX_BYTES)
    if body is None:
        raise ApiError(413, "too_large", f"over {settings.API_UPLOAD_MAX_BYTES} bytes")
    return body


def _raw_body(media_type: str, description: str) -> dict[str, Any]:
    return {
        "requestBody": {
            "required": True,
            "description": description,
            "content": {media_type: {"schema": {"type": "string"}}},
        }
    }


UPLOAD_ERRORS = {**WRITE_ERRORS, 413: ErrorOut, 415: ErrorOut, 422: ErrorOut, 503: ErrorOut}


@router.post(
    "/repositories/{repository_id}/reports",
    response={202: ScanOut, **UPLOAD_ERRORS},
    openapi_extra=_raw_body("application/json", "`yardstick scan --format json` output"),
)
def upload_report(request: HttpRequest, repository_id: int) -> Status[Scan]:
    """Queue the server's scan of the report's commit, keeping CI's measured results.

    The commit must be on the tracked branch (422 `unknown_commit`; 503 when the repository
    cannot be fetched to check). A commit older than the latest scanned one is kept as
    history only. Audited.
    """
    repository = _repository(repository_id)
    require_write(request, repository.team)
    body = _upload_body(request, {"application/json"})
    try:
        scan = receive_report(repository, body, request.auth)  # type: ignore[attr-defined]
    except UploadError as exc:
        raise ApiError(exc.status, exc.code, exc.message, exc.details) from None
    return Status(202, scan)


class CoverageQuery(Schema):
    """The commit the coverage was measured on."""

    commit: str = Field(min_length=40, max_length=64)


@router.post(
    "/repositories/{repository_id}/coverage",
    response={201: CoverageOut, **UPLOAD_ERRORS},
    openapi_extra=_raw_body("application/xml", "Cobertura coverage.xml"),
)
def upload_coverage(
    request: HttpRequest, repository_id: int, query: Query[CoverageQuery]
) -> Status[dict[str, Any]]:
    """Store a Cobertura coverage report for a commit (replacing an earlier upload); scans of
    that commit already finished are re-judged. Audited."""
    repository = _repository(repository_id)
    require_write(request, repository.team)
    body = _upload_body(request, {"application/xml", "text/xml"})
    try:
        report = store_coverage(
            repository,
            query.commit.lower(),
            body,
            request.auth,  # type: ignore[attr-defined]
        )
    except UploadError as exc:
        raise ApiError(422, exc.code, exc.message, exc.details) from None
    return Status(201, coverage_out(report))


def coverage_out(report: CoverageReport) -> dict[str, Any]:
    """Totals of a coverage report."""
    covered = sum(pair[0] for pair in report.files.values())
    total = sum(pair[1] for pair in report.files.values())
    return {
        "repository_id": report.repository_id,
        "commit_sha": report.commit_sha,
        "files": len(report.files),
        "covered_lines": covered,
        "total_lines": total,
        "percent": round(100 * covered / total, 2) if total else None,
    }
