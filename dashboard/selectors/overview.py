"""Organisation overview: teams ranked, adoption heat map, most failed rules."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.core.paginator import Page
from django.db.models import Max, Sum
from django.utils import timezone

from dashboard.charts import Scale, day_marks, shared_scale
from dashboard.domain.levels import LevelGap, explain_team
from dashboard.domain.scores import (
    OrganisationScore,
    TeamScore,
    team_score_of,
    with_team_scores,
)
from dashboard.models import Repository, RuleDailyStats, Team, TeamDailyScore
from dashboard.selectors.changes import Changes, latest_rollup_day, what_changed
from dashboard.selectors.common import (
    TableState,
    daily_history,
    day_range,
    series,
    sorted_page,
)
from dashboard.selectors.membership import (
    Unscored,
    failing_to_scan,
    scored_members,
    unscored_by_team,
)
from dashboard.selectors.repositories import standard_marks
from dashboard.selectors.scores import organisation_score
from dashboard.selectors.trends import TeamTrend, team_trends

TEAM_SORTS = ("name", "score", "repositories", "level")


@dataclass(slots=True)
class TeamRow:
    """A team as the overview lists it."""

    team: Team
    trend: list[float | None]
    delta: float | None
    trend_note: str = ""  # repositories joined or left in the window (dashboard/selectors/trends)
    unscored: Unscored = field(default_factory=Unscored)
    level_gap: LevelGap | None = None
    scale: Scale | None = None  # shared by the table's rows (charts.shared_scale)
    marks: tuple[tuple[int, str], ...] = ()  # new standard versions in the window

    @property
    def figures(self) -> TeamScore:
        """The team's score and level (dashboard/domain/scores.py)."""
        return team_score_of(self.team)

    @property
    def score(self) -> float | None:
        """The team's score."""
        return self.figures.score

    @property
    def level(self) -> str:
        """The level every scored repository of the team reaches ("" when none is scanned)."""
        return self.figures.level


def teams_table(state: TableState, days: int = 30) -> tuple[Page[Any], list[TeamRow]]:
    """Teams with score, level, repository count, 30-day change and sparkline with the new
    standard versions marked (7 queries).

    Score and level: dashboard/domain/scores.py. The count is of scored repositories (the
    unscored ones are counted apart); the 30-day change compares the same repositories at
    both ends.
    """
    queryset = with_team_scores(Team.objects.all())
    if state.q:
        queryset = queryset.filter(name__icontains=state.q)
    columns = {
        "name": "name",
        "score": "mean_score",
        "repositories": "scanned_count",
        "level": "level_rank",
    }
    page = sorted_page(queryset, state, columns)
    window = day_range(days)
    ids = [team.pk for team in page.object_list]
    history = daily_history(TeamDailyScore.objects.all(), "team", ids, window)
    trends = team_trends({team_id: history[team_id] for team_id in ids})
    unscored, members = unscored_by_team(ids), scored_members(ids)
    rows = []
    for team in page.object_list:
        trend = series(history[team.pk], window)
        like = trends.get(team.pk, TeamTrend(None))
        row = TeamRow(team, trend, like.delta, like.note, unscored.get(team.pk, Unscored()))
        rank = getattr(team, "level_rank", None)
        row.level_gap = explain_team(None if rank is None else row.level, members.get(team.pk, []))
        rows.append(row)
    scale = shared_scale(row.trend for row in rows)
    marks = day_marks(window, standard_marks(window[0])) if rows else ()
    for row in rows:
        row.scale, row.marks = scale, marks
    return page, rows


@dataclass(slots=True)
class HeatMap:
    """Adoption per standard section (columns) and team (rows), latest day."""

    sections: list[str]
    rows: list[tuple[Team, list[float | None]]]
    day: date | None


def heat_map(limit: int = 40) -> HeatMap:
    """Latest section scores of the best-covered teams (2 queries)."""
    latest = latest_rollup_day()
    if latest is None:
        return HeatMap([], [], None)
    rows = list(
        TeamDailyScore.objects.filter(date=latest)
        .select_related("team")
        .order_by("team__name")[:limit]
    )
    sections = sorted({code for row in rows for code in row.section_scores}, key=_section_order)
    return HeatMap(
        sections,
        [(row.team, [row.section_scores.get(code) for code in sections]) for row in rows],
        latest,
    )


def _section_order(code: str) -> int:
    from scanners.standard import default_standard

    order = list(default_standard().sections)
    return order.index(code) if code in order else len(order)


def most_failed_rules(limit: int = 10) -> list[dict[str, Any]]:
    """Rules failing in the most repositories on the latest day (2 queries)."""
    latest = RuleDailyStats.objects.aggregate(day=Max("date"))["day"]
    if latest is None:
        return []
    return [
        dict(row)
        for row in RuleDailyStats.objects.filter(date=latest)
        .values("rule__rule_id", "rule__title", "rule__severity")
        .annotate(failed=Sum("failed"), warned=Sum("warned"), passed=Sum("passed"))
        .filter(failed__gt=0)
        .order_by("-failed", "rule__rule_id")[:limit]
    ]


def summary() -> dict[str, Any]:
    """Headline figures: repositories, score, level, repositories per level (2 queries).

    Every active repository is in exactly one of gold, silver, bronze, none (scanned, no
    level), not_scanned and failing (no successful scan): they add up to `repositories`.
    """
    figures: OrganisationScore = organisation_score()
    failing = Repository.objects.filter(active=True).filter(failing_to_scan()).count()
    return {
        "repositories": figures.repositories,
        "scanned": figures.scanned,
        "score": figures.score,
        "level": figures.level,
        **{name: count for name, count in figures.levels.items() if name},
        "not_scanned": figures.not_scanned - failing,
        "failing": failing,
    }


def recent_changes(days: int) -> Changes:
    """What changed over the last `days` days of roll-ups, up to the latest day (1 query more
    than `what_changed`): the latest day, not today, as today's rows may not be carried yet."""
    latest = latest_rollup_day()
    if latest is None:
        today = timezone.now().date()
        return Changes(today - timedelta(days=days), today, None)
    return what_changed(latest - timedelta(days=days), latest)
