"""Request and response shapes of the API (they are the OpenAPI schema's components)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Field, Schema
from pydantic import StrictBool


class ErrorOut(Schema):
    """Every error: a stable code, a message for people, details for programs."""

    code: str
    message: str
    details: object = None


# The largest id a database column holds (bigint): a filter beyond it is a 422, never a 500
# (Django checks the range of primary keys, not of foreign keys).
MAX_ID = 2**63 - 1


class PageQuery(Schema):
    """Pagination: `page` from 1, `per_page` 1-100 (default 20)."""

    page: int = Field(1, ge=1, le=1_000_000)
    per_page: int = Field(20, ge=1, le=100)


class PageOut(Schema):
    """The pagination envelope around `data`."""

    total: int
    page: int
    per_page: int
    total_pages: int


class TeamOut(Schema):
    """A team's scorecard line."""

    id: int
    name: str
    slug: str
    repositories: int
    score: float | None
    level: str


class TeamPage(PageOut):
    """A page of teams."""

    data: list[TeamOut]


class RepositoryOut(Schema):
    """A registered repository and its latest score."""

    id: int
    name: str
    team: str = Field(description="team slug")
    clone_url: str
    default_branch: str
    project_dir: str = Field(
        description="the project folder judged ('' for the root or the one detected); the "
        "services of one monorepo are repositories of one clone URL, one per folder"
    )
    active: bool
    score: float | None
    level: str
    latest_scan_id: int | None
    created_at: datetime


class RepositoryPage(PageOut):
    """A page of repositories."""

    data: list[RepositoryOut]


class RepositoryIn(Schema):
    """Register a repository for a team (its first scan is queued)."""

    team: str = Field(description="team slug", min_length=1, max_length=120)
    clone_url: str = Field(min_length=1, max_length=500)
    name: str = Field("", max_length=200)
    default_branch: str = Field("main", max_length=200)
    project_dir: str = Field(
        "",
        max_length=300,
        description="the folder to judge; the same clone URL may be registered once per folder",
    )


class RegisteredOut(Schema):
    """A new repository; `webhook_secret` is shown here once and never again."""

    repository: RepositoryOut
    webhook_secret: str
    scan_id: int


class ScanIn(Schema):
    """Request a scan of a branch, tag or commit (default branch when empty)."""

    ref: str = Field("", max_length=200)
    force: StrictBool = Field(
        False, description="scan again even if the commit was already scanned (a new scan)"
    )


class ScanOut(Schema):
    """One scan: its state, and its score once finished."""

    id: int
    repository_id: int
    ref: str
    commit_sha: str
    trigger: str
    status: str
    queued_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    score: float | None
    level: str
    section_scores: dict[str, float | None]
    engine_version: str
    error: str
    skipped_reason: str
    forced: bool
    duplicate_of_id: int | None = Field(None, description="a skipped scan's earlier scan")
    source: str = Field(description='"ci" (an uploaded report) or "yardstick" (this server)')
    reported_by: str = Field(description='"reported by CI" or "scanned by Yardstick"')
    reported_rules: list[str] = Field(description="rules whose result CI reported (measured)")
    history_only: bool = Field(
        description="a scan of a commit older than the latest one: never the repository's score"
    )
    discovery: dict[str, Any] = Field(
        default_factory=dict,
        description="the Python projects the engine found and why the judged one was chosen "
        "(the JSON report's `discovery`, docs/report-schema.md); {} when not recorded",
    )


class ScanPage(PageOut):
    """A page of scans."""

    data: list[ScanOut]


class EvidenceOut(Schema):
    """Where a result comes from (repository-relative path)."""

    path: str | None = None
    line: int | None = None
    message: str = ""


class ResultOut(Schema):
    """One rule's verdict in one scan; `effective_status` applies waivers and attestations."""

    scan_id: int
    repository_id: int
    rule_id: str
    section: str
    severity: str
    status: str
    effective_status: str
    message: str
    evidence: list[EvidenceOut]


class ResultPage(PageOut):
    """A page of results."""

    data: list[ResultOut]


class RuleOut(Schema):
    """A rule of the standard."""

    rule_id: str
    section: str
    section_title: str
    severity: str
    weight: int
    evaluation: str
    title: str
    rationale: str
    remediation: str
    retired: bool


class RulePage(PageOut):
    """A page of rules."""

    data: list[RuleOut]


class CoverageOut(Schema):
    """A stored coverage report."""

    repository_id: int
    commit_sha: str
    files: int
    covered_lines: int
    total_lines: int
    percent: float | None
