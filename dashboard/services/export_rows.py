"""Rows of every CSV export: (header, row generator) pairs that read in constant memory.

Scorecards read the denormalised repository scores and the daily roll-ups; results read the
latest scan of each active repository with waivers and attestations applied, as pages do.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db.models import (
    Avg,
    Case,
    Count,
    IntegerField,
    Min,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.utils import timezone

from dashboard.http.params import whole_number
from dashboard.models import (
    Attestation,
    CheckResult,
    Ratchet,
    Repository,
    RepositoryDailyScore,
    Rule,
    Team,
    TeamDailyScore,
    Waiver,
)
from dashboard.services.scoring import UPCOMING, Governance, upcoming_rule_ids
from scanners.repo_url import redact_url
from scanners.standard import default_standard

CHUNK = 2000
LEVELS = ("none", "bronze", "silver", "gold")
STATUSES = frozenset(s.value for s in CheckResult.Status)
SHOWN_STATUSES = STATUSES | {UPCOMING}  # rules in their grace period are shown as upcoming
MAX_DAYS = 3660
MAX_ID = 2**63 - 1  # bigint: a larger id would overflow the query (a 500), not match nothing
Rows = Iterator[tuple[object, ...]]


class ExportError(ValueError):
    """A filter value the export cannot use."""


def level_rank(field: str) -> Case:
    """SQL ranking of a level column: none 0, bronze 1, silver 2, gold 3."""
    return Case(
        *(When(**{field: name}, then=Value(rank)) for rank, name in enumerate(LEVELS)),
        default=Value(0),
        output_field=IntegerField(),
    )


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
    active = Q(repositories__active=True)
    scanned = active & Q(repositories__latest_scan__isnull=False)
    latest_day = TeamDailyScore.objects.filter(team=OuterRef("pk")).order_by("-date")
    teams = Team.objects.annotate(
        repository_count=Count("repositories", filter=active),
        scanned_count=Count("repositories", filter=scanned),
        mean_score=Avg("repositories__score", filter=active),
        level_rank=Min(level_rank("repositories__level"), filter=scanned),
        sections=Subquery(latest_day.values("section_scores")[:1]),
    ).order_by("name")
    header = ["team", "slug", "repositories", "scanned", "score", "level", *codes]

    def rows() -> Rows:
        for team in teams.iterator(chunk_size=CHUNK):
            score = None if team.mean_score is None else round(team.mean_score, 2)
            level = LEVELS[team.level_rank] if team.level_rank is not None else ""
            yield (
                team.name,
                team.slug,
                team.repository_count,
                team.scanned_count,
                score,
                level,
                *_section_cells(team.sections, codes),
            )

    return header, rows()


def team(team: Team) -> tuple[list[str], Rows]:
    """One row per repository of the team, with its latest scan and section scores."""
    codes = sections()
    header = [
        "repository",
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
    fields = ("name", "clone_url", "default_branch", "active", "score", "level")
    latest = ("latest_scan__finished_at", "latest_scan__commit_sha", "latest_scan__section_scores")

    def rows() -> Rows:
        for name, clone_url, *values, finished, sha, scores in queryset.values_list(
            *fields, *latest
        ).iterator(chunk_size=CHUNK):
            # Never a credential of the clone URL: any signed-in user may export a team.
            yield (
                name,
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
    """Filters of the results export, as the results page takes them."""

    team: str = ""
    repository: int | None = None
    rule: str = ""
    status: str = ""
    section: str = ""

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> ResultFilters:
        """Read and check the filters from a query string."""
        repository = query.get("repository", "").strip()
        number = whole_number(repository)
        if repository and not (number is not None and number <= MAX_ID):
            raise ExportError("repository must be a repository id")
        status = query.get("status", "").strip().lower()
        if status and status not in SHOWN_STATUSES:
            raise ExportError(f"status must be one of {', '.join(sorted(SHOWN_STATUSES))}")
        return cls(
            team=query.get("team", "").strip(),
            repository=int(repository) if repository else None,
            rule=query.get("rule", "").strip().upper(),
            status=status,
            section=query.get("section", "").strip().upper(),
        )


RESULT_HEADER = [
    "team",
    "repository",
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


def live_governance(scope: list[int] | None) -> tuple[dict[int, set[int]], dict[int, set[int]]]:
    """Rule pks with a waiver / an attestation in force now, per repository pk."""
    now = timezone.now()
    live = Q(expires_at__gt=now, created_at__lte=now) & (
        Q(revoked_at__isnull=True) | Q(revoked_at__gt=now)
    )
    if scope is not None:
        live &= Q(repository_id__in=scope)
    waived: dict[int, set[int]] = defaultdict(set)
    attested: dict[int, set[int]] = defaultdict(set)
    for repository_id, rule_pk in Waiver.objects.filter(live).values_list(
        "repository_id", "rule_id"
    ):
        waived[repository_id].add(rule_pk)
    for repository_id, rule_pk in Attestation.objects.filter(live).values_list(
        "repository_id", "rule_id"
    ):
        attested[repository_id].add(rule_pk)
    return waived, attested


def live_ratchets(scope: list[int] | None) -> dict[int, dict[int, int]]:
    """Baseline per rule pk of the ratchets in force now, per repository pk."""
    ratchets = Ratchet.objects.filter(created_at__lte=timezone.now())
    if scope is not None:
        ratchets = ratchets.filter(repository_id__in=scope)
    out: dict[int, dict[int, int]] = defaultdict(dict)
    for repository_id, rule_pk, baseline in ratchets.values_list(
        "repository_id", "rule_id", "baseline"
    ):
        out[repository_id][rule_pk] = baseline
    return out


def live_governance_by_repository(scope: list[int] | None) -> dict[int, Governance]:
    """The governance in force now for every repository in scope (4 queries)."""
    waived, attested = live_governance(scope)
    ratchets = live_ratchets(scope)
    upcoming = upcoming_rule_ids()
    repositories = set(waived) | set(attested) | set(ratchets)
    table = defaultdict(lambda: Governance(set(), set(), {}, upcoming))
    for pk in repositories:
        table[pk] = Governance(
            waived.get(pk) or set(), attested.get(pk) or set(), ratchets.get(pk) or {}, upcoming
        )
    return table


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
    """Results of the latest scan of every active repository, filtered."""
    queryset = CheckResult.objects.filter(
        scan_id__in=Repository.objects.filter(active=True, latest_scan__isnull=False).values(
            "latest_scan_id"
        )
    )
    if filters.team:
        queryset = queryset.filter(scan__repository__team__slug=filters.team)
    if filters.repository is not None:
        queryset = queryset.filter(scan__repository_id=filters.repository)
    if filters.rule:
        queryset = queryset.filter(rule__rule_id=filters.rule)
    if filters.section:
        queryset = queryset.filter(rule__section=filters.section)
    columns = (
        "scan__repository__team__name",
        "scan__repository__name",
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
    ordered = queryset.order_by("scan__repository__team__name", "scan__repository__name", "rule")
    scope = None if filters.repository is None else [filters.repository]
    return RESULT_HEADER, _result_rows(ordered.values_list(*columns), filters.status, scope)


def _result_rows(values: Any, status: str, scope: list[int] | None) -> Rows:
    governance = live_governance_by_repository(scope)
    for row in values.iterator(chunk_size=CHUNK):
        team_name, repo, rule_id, section, severity, title, engine, message, evidence = row[:9]
        finished, sha, repository_id, rule_pk, findings, from_ci = row[9:]
        shown = governance[repository_id].shown(engine, rule_pk, findings)
        if status and shown != status:
            continue
        yield (
            team_name,
            repo,
            rule_id,
            section,
            severity,
            title,
            shown,
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
    header = ["team", "repository", "status", "engine_status", "message", "scanned_at", "commit"]

    def adoption() -> Rows:
        for row in rows:
            yield (row[0], row[1], row[6], row[7], row[8], row[10], row[11])

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
    repo_values = repos.order_by("date", "repository__team__name", "repository__name").values_list(
        "date", "repository__team__name", "repository__name", "score", "level"
    )
    header = ["date", "team", "repository", "score", "level"]
    return header, repo_values.iterator(chunk_size=CHUNK)
