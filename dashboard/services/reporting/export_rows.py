"""Rows of every CSV export: (header, row generator) pairs that read in constant memory.

Scorecards read the denormalised repository scores and the daily roll-ups, team figures the
one definition (dashboard/domain/scores.py); results the shared query of the results API
(dashboard/selectors/results.py) with governance applied, as pages do.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db.models import OuterRef, Subquery
from django.utils import timezone

from dashboard.domain.scores import team_score_of, with_team_scores
from dashboard.http.params import whole_number
from dashboard.models import Repository, RepositoryDailyScore, Rule, Team, TeamDailyScore
from dashboard.selectors.results import (
    SHOWN_STATUSES,
    STATUSES,
    ResultQuery,
    governance_by_repository,
    latest_results,
)
from scanners.repo_url import redact_url
from scanners.standard import default_standard

CHUNK = 2000
MAX_DAYS = 3660
MAX_ID = 2**63 - 1  # bigint: a larger id would overflow the query (a 500), not match nothing
Rows = Iterator[tuple[object, ...]]


class ExportError(ValueError):
    """A filter value the export cannot use."""


def file_name(what: str, day: date) -> str:
    """An export's file name, `yardstick-<what>-<YYYYMMDD>.csv` (the day it was made, UTC):
    downloads and the weekly digest's attachments alike."""
    return f"yardstick-{what}-{day:%Y%m%d}.csv"


def sections() -> list[str]:
    """Section codes of the standard, in its order: the per-section columns."""
    return list(default_standard().sections)


def _section_cells(scores: Mapping[str, Any] | None, codes: list[str]) -> list[object]:
    scores = scores or {}
    return [scores.get(code) for code in codes]


# ----- scorecards ---------------------------------------------------------------------------
def organisation() -> tuple[list[str], Rows]:
    """team, slug, repositories, scanned, score, level, then one column per section."""
    codes = sections()
    latest_day = TeamDailyScore.objects.filter(team=OuterRef("pk")).order_by("-date")
    teams = (
        with_team_scores(Team.objects.all())
        .annotate(
            sections=Subquery(latest_day.values("section_scores")[:1]),
        )
        .order_by("name")
    )
    header = ["team", "slug", "repositories", "scanned", "score", "level", *codes]

    def rows() -> Rows:
        for team in teams.iterator(chunk_size=CHUNK):
            figures = team_score_of(team)  # dashboard/domain/scores.py
            yield (
                team.name,
                team.slug,
                figures.repositories,
                figures.scanned,
                figures.score,
                figures.level,
                *_section_cells(team.sections, codes),
            )

    return header, rows()


def team(team: Team) -> tuple[list[str], Rows]:
    """One row per repository of the team, with its latest scan and section scores."""
    codes = sections()
    header = [
        "repository",
        "project_dir",
        "clone_url",
        "default_branch",
        "active",
        "score",
        "level",
        "last_scanned_at",
        "commit",
        *codes,
    ]
    queryset = Repository.objects.filter(team=team).order_by("name", "pk")
    fields = ("name", "project_dir", "clone_url", "default_branch", "active", "score", "level")
    latest = ("latest_scan__finished_at", "latest_scan__commit_sha", "latest_scan__section_scores")

    def rows() -> Rows:
        for name, folder, clone_url, *values, finished, sha, scores in queryset.values_list(
            *fields, *latest
        ).iterator(chunk_size=CHUNK):
            # Never a credential of the clone URL: any signed-in user may export a team.
            yield (
                name,
                folder,
                redact_url(clone_url),
                *values,
                finished,
                sha,
                *_section_cells(scores, codes),
            )

    return header, rows()


# ----- results ----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ResultFilters:
    """Filters of the results export: those of the results API (dashboard/selectors/results.py).

    `status` is the engine's verdict (a waived failure is still a failing result, shown with
    its effective status); `effective_status` the status people see.
    """

    team: str = ""
    repository: int | None = None
    rule: str = ""
    status: str = ""
    section: str = ""
    effective_status: str = ""

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> ResultFilters:
        """Read and check the filters from a query string."""
        repository = query.get("repository", "").strip()
        number = whole_number(repository)
        if repository and not (number is not None and number <= MAX_ID):
            raise ExportError("repository must be a repository id")
        status = query.get("status", "").strip().lower()
        if status and status not in STATUSES:
            raise ExportError(f"status must be one of {', '.join(sorted(STATUSES))}")
        shown = query.get("effective_status", "").strip().lower()
        if shown and shown not in SHOWN_STATUSES:
            raise ExportError(
                f"effective_status must be one of {', '.join(sorted(SHOWN_STATUSES))}"
            )
        return cls(
            team=query.get("team", "").strip(),
            repository=int(repository) if repository else None,
            rule=query.get("rule", "").strip().upper(),
            status=status,
            section=query.get("section", "").strip().upper(),
            effective_status=shown,
        )

    def query(self) -> ResultQuery:
        """The shared results query these filters make."""
        return ResultQuery(
            repository=self.repository,
            team=self.team,
            rule=self.rule,
            section=self.section,
            status=self.status,
            effective_status=self.effective_status,
        )


# `project_dir` beside the repository: a monorepo's services are rows of one name and URL.
RESULT_HEADER = [
    "team",
    "repository",
    "project_dir",
    "rule",
    "section",
    "severity",
    "title",
    "status",
    "engine_status",
    "message",
    "evidence",
    "scanned_at",
    "commit",
    "reported_by",
]


def evidence_summary(evidence: object, limit: int = 3) -> str:
    """`path:line message` of the first few evidence items, and how many more there are."""
    items = evidence if isinstance(evidence, list) else []
    parts = []
    for item in items[:limit]:
        if not isinstance(item, dict):
            continue
        where = str(item.get("path") or "")
        if where and item.get("line"):
            where = f"{where}:{item['line']}"
        parts.append(" ".join(p for p in (where, str(item.get("message") or "")) if p))
    if len(items) > limit:
        parts.append(f"(+{len(items) - limit} more)")
    return " | ".join(parts)


def results(filters: ResultFilters) -> tuple[list[str], Rows]:
    """Results of the latest scan of every active repository, filtered (as the API lists them)."""
    columns = (
        "scan__repository__team__name",
        "scan__repository__name",
        "scan__repository__project_dir",
        "rule__rule_id",
        "rule__section",
        "rule__severity",
        "rule__title",
        "status",
        "message",
        "evidence",
        "scan__finished_at",
        "scan__commit_sha",
        "scan__repository_id",
        "rule_id",
        "findings",
        "scan__reported_rules",
    )
    scope = None if filters.repository is None else [filters.repository]
    values = latest_results(filters.query()).values_list(*columns)
    return RESULT_HEADER, _result_rows(values, scope)


def _result_rows(values: Any, scope: list[int] | None) -> Rows:
    governance = governance_by_repository(scope)
    for row in values.iterator(chunk_size=CHUNK):
        team_name, repo, folder, rule_id, section, severity, title, engine, message = row[:9]
        evidence, finished, sha, repository_id, rule_pk, findings, from_ci = row[9:]
        yield (
            team_name,
            repo,
            folder,
            rule_id,
            section,
            severity,
            title,
            governance[repository_id].shown(engine, rule_pk, findings),
            engine,
            message,
            evidence_summary(evidence),
            finished,
            sha,
            reported_by(rule_id, from_ci),
        )


def reported_by(rule_id: str, reported_rules: object) -> str:
    """Who produced one result: CI (a measured rule taken from an upload) or this server."""
    from_ci = isinstance(reported_rules, list) and rule_id in reported_rules
    return "reported by CI" if from_ci else "scanned by Yardstick"


def rule_adoption(rule: Rule) -> tuple[list[str], Rows]:
    """One row per active repository whose latest scan judged `rule`."""
    _, rows = results(ResultFilters(rule=rule.rule_id))
    header = [
        "team",
        "repository",
        "project_dir",
        "status",
        "engine_status",
        "message",
        "scanned_at",
        "commit",
    ]

    def adoption() -> Rows:
        for row in rows:
            yield (row[0], row[1], row[2], row[7], row[8], row[9], row[11], row[12])

    return header, adoption()


# ----- history ----------------------------------------------------------------------------
def history(scope: str, team_slug: str = "", days: int = 90) -> tuple[list[str], Rows]:
    """Daily scores from the roll-ups: per team, or per repository, for the last `days` days."""
    if scope not in {"team", "repository"}:
        raise ExportError("scope must be team or repository")
    if not 1 <= days <= MAX_DAYS:
        raise ExportError(f"days must be between 1 and {MAX_DAYS}")
    since = timezone.now().date() - timedelta(days=days - 1)
    if scope == "team":
        teams = TeamDailyScore.objects.filter(date__gte=since)
        if team_slug:
            teams = teams.filter(team__slug=team_slug)
        team_values = teams.order_by("date", "team__name").values_list(
            "date", "team__name", "score", "repositories"
        )
        return ["date", "team", "score", "repositories"], team_values.iterator(chunk_size=CHUNK)
    repos = RepositoryDailyScore.objects.filter(date__gte=since)
    if team_slug:
        repos = repos.filter(repository__team__slug=team_slug)
    repo_values = repos.order_by(
        "date", "repository__team__name", "repository__name", "repository__project_dir"
    ).values_list(
        "date",
        "repository__team__name",
        "repository__name",
        "repository__project_dir",
        "score",
        "level",
    )
    header = ["date", "team", "repository", "project_dir", "score", "level"]
    return header, repo_values.iterator(chunk_size=CHUNK)
