"""Initiative progress and burn-up, read from the daily roll-ups (a fixed number of queries).

A repository in scope is done on a day when that day's roll-up row (the latest one before it
when a day has none) reaches the target level, or lists none of the goal's rules among its
`open_rules`. A repository without a row (never scanned) is not done.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone

from dashboard.domain.scores import rank_of
from dashboard.models import Initiative, Repository, RepositoryDailyScore, Rule
from scanners.report import LEVEL_ORDER, blocking_severities

# Severities whose failures keep a repository below each level (scanners.report's one map).
BLOCKING = {
    level.value: frozenset(severity.value for severity in blocking_severities(level))
    for level in LEVEL_ORDER[1:]
}


@dataclass(frozen=True, slots=True)
class Target:
    """What done means for one initiative."""

    goal: str
    level: str
    rules: frozenset[str]

    def done(self, level: str | None, open_rules: Sequence[str] | None) -> bool:
        """Whether a roll-up state (None: never scanned) meets the goal."""
        if level is None or open_rules is None:
            return False
        if self.goal == Initiative.Goal.LEVEL:
            return rank_of(level) >= rank_of(self.level)
        return not self.rules.intersection(open_rules)

    def missing(
        self, level: str | None, open_rules: Sequence[str] | None, severity: dict[str, str]
    ) -> list[str]:
        """The rules still keeping a repository from the goal."""
        if open_rules is None or self.done(level, open_rules):
            return []
        if self.goal == Initiative.Goal.LEVEL:
            blocking = BLOCKING[self.level]
            return [rid for rid in open_rules if severity.get(rid) in blocking]
        return sorted(self.rules.intersection(open_rules))


@dataclass(slots=True)
class RepositoryStatus:
    """One repository in an initiative's scope, as of its latest roll-up."""

    repository_id: int
    name: str
    team_name: str
    team_slug: str
    done: bool
    level: str | None
    missing: list[str]
    day: date | None


@dataclass(slots=True)
class TeamProgress:
    """Done / total for one team of the scope."""

    name: str
    slug: str
    done: int = 0
    total: int = 0

    @property
    def percent(self) -> float:
        """Share of the team's repositories done (0-100)."""
        return round(100 * self.done / self.total, 1) if self.total else 0.0


@dataclass(slots=True)
class Progress:
    """Where an initiative stands."""

    initiative: Initiative
    target: Target
    repositories: list[RepositoryStatus] = field(default_factory=list)

    @property
    def total(self) -> int:
        """Repositories in scope."""
        return len(self.repositories)

    @property
    def done(self) -> int:
        """Repositories meeting the goal."""
        return sum(1 for r in self.repositories if r.done)

    @property
    def percent(self) -> float:
        """Share done (0-100)."""
        return round(100 * self.done / self.total, 1) if self.total else 0.0

    @property
    def behind(self) -> list[RepositoryStatus]:
        """Repositories not done yet, those missing most first."""
        return sorted(
            (r for r in self.repositories if not r.done),
            key=lambda r: (r.level is not None, -len(r.missing), r.team_name, r.name),
        )

    @property
    def teams(self) -> list[TeamProgress]:
        """Progress per team, by name."""
        teams: dict[str, TeamProgress] = {}
        for status in self.repositories:
            team = teams.setdefault(
                status.team_slug, TeamProgress(status.team_name, status.team_slug)
            )
            team.total += 1
            team.done += status.done
        return sorted(teams.values(), key=lambda t: t.name)


def _scopes(ids: list[int]) -> tuple[dict[int, set[int]], dict[int, set[int]], dict[int, set[str]]]:
    teams: dict[int, set[int]] = defaultdict(set)
    repos: dict[int, set[int]] = defaultdict(set)
    rules: dict[int, set[str]] = defaultdict(set)
    for initiative_id, team_id in Initiative.teams.through.objects.filter(
        initiative_id__in=ids
    ).values_list("initiative_id", "team_id"):
        teams[initiative_id].add(team_id)
    for initiative_id, repository_id in Initiative.repositories.through.objects.filter(
        initiative_id__in=ids
    ).values_list("initiative_id", "repository_id"):
        repos[initiative_id].add(repository_id)
    for initiative_id, rule_id in Initiative.rules.through.objects.filter(
        initiative_id__in=ids
    ).values_list("initiative_id", "rule__rule_id"):
        rules[initiative_id].add(rule_id)
    return teams, repos, rules


def _latest_rows(
    repository_ids: Iterable[int], before: date
) -> dict[int, tuple[date, str, list[str]]]:
    """Each repository's latest roll-up row on or before `before` (1 query)."""
    latest = (
        RepositoryDailyScore.objects.filter(
            repository_id=OuterRef("repository_id"), date__lte=before
        )
        .order_by("-date")
        .values("date")[:1]
    )
    return {
        repository_id: (day, level, open_rules)
        for repository_id, day, level, open_rules in RepositoryDailyScore.objects.filter(
            repository_id__in=list(repository_ids), date=Subquery(latest)
        ).values_list("repository_id", "date", "level", "open_rules")
    }


def progress_many(
    initiatives: Sequence[Initiative], today: date | None = None
) -> dict[int, Progress]:
    """Progress of several initiatives, as of `today`'s roll-ups (6 queries)."""
    today = today or timezone.now().date()
    ids = [i.pk for i in initiatives]
    teams, repos, rules = _scopes(ids)
    all_teams = set().union(*teams.values()) if teams else set()
    all_repos = set().union(*repos.values()) if repos else set()
    scope = list(
        Repository.objects.filter(active=True)
        .filter(Q(team_id__in=all_teams) | Q(pk__in=all_repos))
        .values_list("pk", "name", "team_id", "team__name", "team__slug")
        .order_by("team__name", "name")
    )
    rows = _latest_rows([row[0] for row in scope], today)
    # The severity as scored: the organisation's override, else the bundled one.
    severity = {
        rule_id: override or bundled
        for rule_id, bundled, override in Rule.objects.values_list(
            "rule_id", "severity", "severity_override"
        )
    }
    out: dict[int, Progress] = {}
    for initiative in initiatives:
        target = Target(initiative.goal, initiative.target_level, frozenset(rules[initiative.pk]))
        progress = Progress(initiative, target)
        for pk, name, team_id, team_name, team_slug in scope:
            if team_id not in teams[initiative.pk] and pk not in repos[initiative.pk]:
                continue
            day, level, open_rules = rows.get(pk, (None, None, None))
            progress.repositories.append(
                RepositoryStatus(
                    pk,
                    name,
                    team_name,
                    team_slug,
                    target.done(level, open_rules),
                    level,
                    target.missing(level, open_rules, severity),
                    day,
                )
            )
        out[initiative.pk] = progress
    return out


@dataclass(frozen=True, slots=True)
class BurnUp:
    """Repositories done per day from the start, the scope, and the ideal line to the target."""

    days: list[date]
    done: list[int | None]  # None after the last day with data (today, or the closing day)
    ideal: list[float]
    total: int


def burn_up(progress: Progress, today: date | None = None) -> BurnUp:
    """The initiative's burn-up from the daily roll-ups of its current scope (2 queries)."""
    initiative, target = progress.initiative, progress.target
    today = today or timezone.now().date()
    last = today
    if initiative.closed_at is not None:
        last = min(last, initiative.closed_at.date())
    end = max(initiative.target_date, last)
    days = [
        initiative.start_date + timedelta(days=n)
        for n in range((end - initiative.start_date).days + 1)
    ]
    ids = [r.repository_id for r in progress.repositories]
    state: dict[int, tuple[str, list[str]]] = {
        pk: (level, open_rules)
        for pk, (_, level, open_rules) in _latest_rows(
            ids, initiative.start_date - timedelta(days=1)
        ).items()
    }
    by_day: dict[date, list[tuple[int, str, list[str]]]] = defaultdict(list)
    for pk, day, level, open_rules in RepositoryDailyScore.objects.filter(
        repository_id__in=ids, date__gte=initiative.start_date, date__lte=last
    ).values_list("repository_id", "date", "level", "open_rules"):
        by_day[day].append((pk, level, open_rules))
    done: list[int | None] = []
    for day in days:
        if day > last:
            done.append(None)
            continue
        for pk, level, open_rules in by_day.get(day, ()):
            state[pk] = (level, open_rules)
        done.append(
            sum(1 for level, open_rules in state.values() if target.done(level, open_rules))
        )
    total = len(ids)
    first = next((d for d in done if d is not None), 0)
    span = (initiative.target_date - initiative.start_date).days
    ideal = [
        round(first + (total - first) * min(1.0, (day - initiative.start_date).days / span), 2)
        for day in days
    ]
    return BurnUp(days, done, ideal, total)


STATUS_HEADER = ["team", "repository", "done", "level", "missing", "as_of"]
INITIATIVE_HEADER = [
    "initiative",
    "goal",
    "target",
    "start_date",
    "target_date",
    "owner",
    "done",
    "total",
    "percent",
    "closed_at",
]


def status_rows(progress: Progress) -> tuple[list[str], Iterator[tuple[object, ...]]]:
    """CSV rows of an initiative's status: one per repository in scope."""

    def rows() -> Iterator[tuple[object, ...]]:
        for status in progress.repositories:
            yield (
                status.team_name,
                status.name,
                status.done,
                status.level or "",
                " ".join(status.missing),
                status.day,
            )

    return STATUS_HEADER, rows()


def initiative_rows(
    initiatives: Sequence[Initiative], progress: dict[int, Progress]
) -> tuple[list[str], Iterator[tuple[object, ...]]]:
    """CSV rows of every initiative with its progress."""

    def rows() -> Iterator[tuple[object, ...]]:
        for initiative in initiatives:
            state = progress[initiative.pk]
            target = (
                initiative.target_level
                if initiative.goal == Initiative.Goal.LEVEL
                else " ".join(sorted(state.target.rules))
            )
            yield (
                initiative.name,
                initiative.goal,
                target,
                initiative.start_date,
                initiative.target_date,
                initiative.owner.get_username() if initiative.owner else "",
                state.done,
                state.total,
                state.percent,
                initiative.closed_at,
            )

    return INITIATIVE_HEADER, rows()
