"""Team scorecard: the team's repositories, trend and section breakdown."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.core.paginator import Page
from django.db.models import BooleanField, Count, ExpressionWrapper, Q

from dashboard.charts import Point, Scale, day_marks, shared_scale
from dashboard.domain.levels import LevelGap, explain_level, explain_team
from dashboard.domain.scores import TeamScore, scored
from dashboard.models import Repository, RepositoryDailyScore, Team, TeamDailyScore
from dashboard.selectors.common import (
    LEVELS,
    TableState,
    TrendRange,
    change,
    daily_history,
    day_range,
    level_rank,
    points,
    series,
    sorted_page,
    trend_range,
)
from dashboard.selectors.membership import (
    Unscored,
    failing_to_scan,
    scored_members,
    unscored_by_team,
)
from dashboard.selectors.repositories import standard_marks
from dashboard.selectors.scores import team_scores
from dashboard.selectors.trends import TeamTrend, initiative_marks, joined_marks, team_trends

REPOSITORY_SORTS = ("name", "score", "level", "scanned")
SCAN_BULK = ("tool_versions", "section_scores", "counts", "error", "skipped_reason")


@dataclass(slots=True)
class RepositoryRow:
    """A repository as a team scorecard lists it."""

    repository: Repository
    trend: list[float | None]
    delta: float | None
    scale: Scale | None = None  # shared by the table's rows (charts.shared_scale)
    marks: tuple[tuple[int, str], ...] = ()  # new standard versions in the window

    @property
    def level_gap(self) -> LevelGap:
        """What the level alone says keeps the next one out (no query)."""
        return explain_level(self.repository.level, self.repository.score)


def repositories_table(
    team: Team | None, state: TableState, days: int = 30
) -> tuple[Page[Any], list[RepositoryRow]]:
    """Repositories (of one team, or all) with level, last scan and trend, the new standard
    versions marked on it (3-4 queries)."""
    # The table shows the latest scan's time only: leave its JSON columns (and the secret)
    # behind, so the sort before the page's LIMIT stays narrow and in memory.
    queryset = (
        Repository.objects.select_related("team", "latest_scan")
        .defer("webhook_secret_encrypted", *(f"latest_scan__{name}" for name in SCAN_BULK))
        .annotate(
            level_rank=level_rank("level"),
            # Unscored rows say why: failing to scan, or not scanned yet (same query).
            failing_to_scan=ExpressionWrapper(failing_to_scan(), output_field=BooleanField()),
        )
    )
    if team is not None:
        queryset = queryset.filter(team=team)
    if state.q:
        # url_key, not clone_url: a search must not probe a credential in the URL.
        queryset = queryset.filter(
            Q(name__icontains=state.q)
            | Q(url_key__icontains=state.q)
            | Q(project_dir__icontains=state.q)
        )
    if state.filters.get("level"):
        queryset = queryset.filter(_level_filter(state.filters["level"]))
    if state.filters.get("active") != "all":
        queryset = queryset.filter(active=True)
    columns = {
        "name": "name",
        "score": "score",
        "level": "level_rank",
        "scanned": "latest_scan__finished_at",
    }
    page = sorted_page(queryset, state, columns)
    window = day_range(days)
    ids = [repository.pk for repository in page.object_list]
    history = daily_history(RepositoryDailyScore.objects.all(), "repository", ids, window)
    rows = []
    for repository in page.object_list:
        trend = series(history[repository.pk], window)
        rows.append(RepositoryRow(repository, trend, change(trend)))
    scale = shared_scale(row.trend for row in rows)
    marks = day_marks(window, standard_marks(window[0])) if rows else ()
    for row in rows:
        row.scale, row.marks = scale, marks
    return page, rows


def _level_filter(level: str) -> Q:
    """A level filter's rows: "none" is scanned without a level; unscored ones have their own."""
    scanned = Q(latest_scan__isnull=False)
    if level == "none":
        return scanned & ~Q(level__in=LEVELS[1:])
    if level == "failing":
        return failing_to_scan()
    if level == "not_scanned":
        return Q(latest_scan__isnull=True) & ~failing_to_scan()
    return scanned & Q(level=level)


@dataclass(slots=True)
class TeamSummary:
    """Headline figures, trend and section scores of a team."""

    score: float | None
    repositories: int  # scored active repositories; `unscored` counts the others
    levels: dict[str, int]
    trend: list[Point]
    sections: dict[str, float | None]
    delta: float | None  # over the repositories present at both ends (selectors/trends)
    level: str = ""
    scanned: int = 0
    trend_note: str = ""
    unscored: Unscored = field(default_factory=Unscored)
    level_gap: LevelGap | None = None


def team_summary(team: Team, span: TrendRange | None = None) -> TeamSummary:
    """Team figures from the denormalised scores and the daily roll-ups (6 queries).

    Score and level: dashboard/domain/scores.py; level counts are of scored repositories and,
    with the unscored ones counted apart, add up to the active repositories. The trend and
    its change cover `span` (90 days by default; all time starts at the first roll-up).
    """
    span = span or trend_range({})
    figures: TeamScore = team_scores([team.pk])[team.pk]
    levels = Repository.objects.filter(scored(), team=team).aggregate(
        **{name: Count("pk", filter=Q(level=name)) for name in ("bronze", "silver", "gold")},
        none=Count("pk", filter=~Q(level__in=("bronze", "silver", "gold"))),
    )
    daily = TeamDailyScore.objects.filter(team=team).order_by("date")
    if span.days is not None:
        daily = daily.filter(date__gte=day_range(span.days)[0])
    rows = list(daily)
    window = span.window(rows[0].date if rows else None)
    values = {row.date: row.score for row in rows}
    like = team_trends({team.pk: values}).get(team.pk, TeamTrend(None))
    return TeamSummary(
        score=figures.score,
        repositories=figures.scanned,
        levels=levels,
        level=figures.level,
        scanned=figures.scanned,
        trend=points(values, window),
        sections=rows[-1].section_scores if rows else {},
        delta=like.delta,
        trend_note=like.note,
        unscored=unscored_by_team([team.pk]).get(team.pk, Unscored()),
        level_gap=explain_team(figures.level or None, scored_members([team.pk]).get(team.pk, [])),
    )


def chart_marks(team_id: int, since: date) -> list[tuple[date, str]]:
    """The team chart's marks from `since`: new standard versions, repositories joining,
    target dates of initiatives concerning the team; by day (3 queries)."""
    marks = (
        standard_marks(since)
        + joined_marks(team_id, since)
        + initiative_marks(since, team_id=team_id)
    )
    return sorted(marks)
