"""What changed over a period, and which fixes would gain most: the overview's panels (and the
weekly digest's).

`what_changed` reads the daily roll-ups only (`RepositoryDailyScore`, `TeamDailyScore`): a
repository's score and level on a day are the roll-up's, computed by the one scoring code
(`dashboard/domain/governance.py`). Regressions (levels lost, movers, new failures) compare
repositories present at both ends of the period; repositories onboarded in it (first scored
after its start, or registered in it and not scored yet) and repositories failing to scan
(`selectors/membership.failing_to_scan`, with a failed scan in the period) are listed apart,
never as regressions. Team movers compare like with like (`selectors/trends.team_trends`).

`fix_first` rescores each repository's latest scan under the governance in force now with one
failing or warning rule passing (`domain/governance.points_if_passed`, the scoring of
`score_governed`): the difference is the points that rule would gain the repository.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlencode

from django.db.models import Exists, Max, Min, OuterRef, Q
from django.urls import reverse

from dashboard.domain.governance import points_if_passed
from dashboard.domain.scores import rank_of
from dashboard.models import (
    CheckResult,
    Repository,
    RepositoryDailyScore,
    Rule,
    Scan,
    Team,
    TeamDailyScore,
)
from dashboard.selectors.membership import failing_to_scan
from dashboard.selectors.results import governance_by_repository
from dashboard.selectors.trends import team_trends

MOVERS = 5  # movers listed each way
PERIODS = (7, 30, 90)  # days the overview offers
REPOSITORY_IDS = "repos"  # the rule page's filter by repository ids (dashboard/views/rules.py)


@dataclass(frozen=True, slots=True)
class RepositoryRef:
    """A repository as the panels name it."""

    id: int
    name: str  # `Repository.label`: the project folder too for a monorepo's services
    team: str


@dataclass(frozen=True, slots=True)
class LevelChange:
    """A repository whose level rose or fell between the period's ends."""

    repository: RepositoryRef
    before: str
    after: str


@dataclass(frozen=True, slots=True)
class Mover:
    """A repository or team whose score moved: before, after and the change.

    A team's `before`/`after` are its daily scores; its `delta` compares the repositories it
    had at both ends (`note` names those that joined or left), so it may differ from
    `after - before`.
    """

    kind: str  # "repository" or "team"
    id: int
    name: str
    before: float | None
    after: float | None
    delta: float
    slug: str = ""  # teams: for their page's URL
    note: str = ""


@dataclass(frozen=True, slots=True)
class NewFailure:
    """A rule met at the period's start and not at its end, in these repositories."""

    rule_id: str
    title: str
    severity: str
    repositories: tuple[RepositoryRef, ...]

    @property
    def count(self) -> int:
        """How many repositories newly fail the rule."""
        return len(self.repositories)


@dataclass(frozen=True, slots=True)
class Changes:
    """What changed between `start` and `end` (both days' roll-ups), in a team or everywhere."""

    start: date
    end: date
    team_id: int | None
    levels_gained: tuple[LevelChange, ...] = ()
    levels_lost: tuple[LevelChange, ...] = ()
    movers_up: tuple[Mover, ...] = ()
    movers_down: tuple[Mover, ...] = ()
    team_movers_up: tuple[Mover, ...] = ()  # organisation scope only
    team_movers_down: tuple[Mover, ...] = ()
    new_failures: tuple[NewFailure, ...] = ()
    onboarded: tuple[RepositoryRef, ...] = ()
    failing_to_scan: tuple[RepositoryRef, ...] = ()

    @property
    def days(self) -> int:
        """The period's length in days."""
        return (self.end - self.start).days

    @property
    def regressions(self) -> bool:
        """Whether anything moved among the repositories present throughout."""
        return bool(
            self.levels_gained
            or self.levels_lost
            or self.movers_up
            or self.movers_down
            or self.team_movers_up
            or self.team_movers_down
            or self.new_failures
        )

    @property
    def empty(self) -> bool:
        """Nothing changed: no regression, nothing onboarded, nothing failing to scan."""
        return not (self.regressions or self.onboarded or self.failing_to_scan)


def _ref(repository_id: int, name: str, project_dir: str, team: str) -> RepositoryRef:
    return RepositoryRef(repository_id, Repository(name=name, project_dir=project_dir).label, team)


def _repositories(team: Team | None) -> Q:
    where = Q(repository__active=True)
    return where & Q(repository__team=team) if team is not None else where


def latest_rollup_day(team: Team | None = None, until: date | None = None) -> date | None:
    """The latest day with team roll-ups (of `team`; on or before `until`), None before any:
    the day "what changed" ends, as today's rows may not be carried yet (1 query)."""
    rows = TeamDailyScore.objects.all()
    if team is not None:
        rows = rows.filter(team=team)
    if until is not None:
        rows = rows.filter(date__lte=until)
    day: date | None = rows.aggregate(day=Max("date"))["day"]
    return day


def what_changed(start: date, end: date, team: Team | None = None) -> Changes:
    """What changed from the end of `start` to the end of `end` (3 queries for a team, 5 for
    the organisation; one more with new failures, one more with deactivated repositories;
    flat with the data's size)."""
    rows = RepositoryDailyScore.objects.filter(_repositories(team), date__in=(start, end))
    ends: dict[date, dict[int, tuple[float | None, str, list[str]]]] = {start: {}, end: {}}
    refs: dict[int, RepositoryRef] = {}
    for repository_id, name, folder, team_name, day, score, level, open_rules in rows.values_list(
        "repository_id",
        "repository__name",
        "repository__project_dir",
        "repository__team__name",
        "date",
        "score",
        "level",
        "open_rules",
    ):
        ends[day][repository_id] = (score, level, list(open_rules or ()))
        refs[repository_id] = _ref(repository_id, name, folder, team_name)
    onboarded = _onboarded(start, end, team)
    new = {ref.id for ref in onboarded}
    both = sorted((ends[start].keys() & ends[end].keys()) - new, key=lambda pk: (refs[pk].name, pk))
    gained, lost, moved = [], [], []
    failing: dict[str, list[RepositoryRef]] = defaultdict(list)
    for pk in both:
        (before, level_before, open_before), (after, level_after, open_after) = (
            ends[start][pk],
            ends[end][pk],
        )
        change = LevelChange(refs[pk], level_before, level_after)
        if rank_of(level_after) > rank_of(level_before):
            gained.append(change)
        elif rank_of(level_after) < rank_of(level_before):
            lost.append(change)
        delta = None if before is None or after is None else round(after - before, 1)
        if delta:  # to one decimal, as pages show changes and team trends round them
            moved.append(Mover("repository", pk, refs[pk].name, before, after, delta))
        for rule_id in dict.fromkeys(open_after):
            if rule_id not in open_before:
                failing[rule_id].append(refs[pk])
    lost.sort(key=lambda c: (rank_of(c.after) - rank_of(c.before), c.repository.name))
    gained.sort(key=lambda c: (rank_of(c.before) - rank_of(c.after), c.repository.name))
    up, down = _ranked(moved)
    team_up, team_down = _ranked(_team_movers(start, end)) if team is None else ((), ())
    return Changes(
        start,
        end,
        None if team is None else team.pk,
        tuple(gained),
        tuple(lost),
        up,
        down,
        team_up,
        team_down,
        _new_failures(failing),
        onboarded,
        _failing_to_scan(start, end, team),
    )


def _ranked(moved: list[Mover]) -> tuple[tuple[Mover, ...], tuple[Mover, ...]]:
    up = sorted((m for m in moved if m.delta > 0), key=lambda m: (-m.delta, m.name))
    down = sorted((m for m in moved if m.delta < 0), key=lambda m: (m.delta, m.name))
    return tuple(up[:MOVERS]), tuple(down[:MOVERS])


def _team_movers(start: date, end: date) -> list[Mover]:
    """Teams whose like-for-like score moved (2 queries, 3 with repositories deactivated)."""
    rows = TeamDailyScore.objects.filter(date__in=(start, end)).values_list(
        "team_id", "team__name", "team__slug", "date", "score"
    )
    history: dict[int, dict[date, float | None]] = defaultdict(dict)
    names: dict[int, tuple[str, str]] = {}
    for team_id, name, slug, day, score in rows:
        history[team_id][day] = score
        names[team_id] = (name, slug)
    movers = []
    for team_id, trend in team_trends(history).items():
        if trend.delta:
            name, slug = names[team_id]
            before, after = history[team_id].get(start), history[team_id].get(end)
            movers.append(
                Mover("team", team_id, name, before, after, trend.delta, slug, trend.note)
            )
    return movers


def _onboarded(start: date, end: date, team: Team | None) -> tuple[RepositoryRef, ...]:
    """Active repositories first scored after `start` (up to `end`), or registered after it and
    not scored yet (1 query)."""
    repositories = Repository.objects.filter(active=True)
    if team is not None:
        repositories = repositories.filter(team=team)
    rows = (
        repositories.annotate(first=Min("daily_scores__date"))
        .filter(
            Q(first__gt=start, first__lte=end)
            | Q(first__isnull=True, created_at__date__gt=start, created_at__date__lte=end)
        )
        .order_by("name", "project_dir")
        .values_list("pk", "name", "project_dir", "team__name")
    )
    return tuple(_ref(*row) for row in rows)


def _failing_to_scan(start: date, end: date, team: Team | None) -> tuple[RepositoryRef, ...]:
    """Active repositories failing to scan (no successful scan, none on its way) with a scan
    that failed in the period (1 query)."""
    failed = Scan.objects.filter(
        repository=OuterRef("pk"),
        status=Scan.Status.FAILED,
        queued_at__date__gt=start,
        queued_at__date__lte=end,
    )
    repositories = Repository.objects.filter(active=True).filter(failing_to_scan(), Exists(failed))
    if team is not None:
        repositories = repositories.filter(team=team)
    rows = repositories.order_by("name", "project_dir").values_list(
        "pk", "name", "project_dir", "team__name"
    )
    return tuple(_ref(*row) for row in rows)


def _new_failures(failing: dict[str, list[RepositoryRef]]) -> tuple[NewFailure, ...]:
    """Rules newly not met, most repositories first (1 query, none when nothing is new)."""
    if not failing:
        return ()
    about = {
        rule_id: (title, severity)
        for rule_id, title, severity in Rule.objects.filter(rule_id__in=list(failing))
        .order_by("standard_id")
        .values_list("rule_id", "title", "severity")
    }
    found = [
        NewFailure(rule_id, *about.get(rule_id, ("", "")), repositories=tuple(refs))
        for rule_id, refs in failing.items()
    ]
    return tuple(sorted(found, key=lambda f: (-f.count, f.rule_id)))


@dataclass(frozen=True, slots=True)
class FixFirst:
    """A rule worth fixing: the score points it would gain a repository failing or warning on it
    (their mean), and those repositories; ranked by `score` = points x repositories, the points
    the organisation's repositories would gain in all."""

    rule_id: str
    title: str
    severity: str
    points: float  # score points gained per repository if the rule passed (mean over them)
    repository_ids: tuple[int, ...]

    @property
    def repositories(self) -> int:
        """How many repositories would gain."""
        return len(self.repository_ids)

    @property
    def score(self) -> float:
        """The ranking: points gained x repositories affected (the total gain)."""
        return round(self.points * self.repositories, 2)

    @property
    def url(self) -> str:
        """The rule page with its results filtered to these repositories (bookmarkable)."""
        query = urlencode({REPOSITORY_IDS: ",".join(str(pk) for pk in self.repository_ids)})
        return f"{reverse('rule', args=[self.rule_id])}?{query}"


def fix_first(team: Team | None = None, limit: int = 10) -> list[FixFirst]:
    """The rules whose passing would gain most, ranked by points x repositories (6 queries).

    Over every scored repository (of `team`): its latest scan's results, with the governance
    in force now, as its stored score (`services/scoring/scores.py`). A rule counts where its
    shown result is a failure or a warning (upcoming rules are not scored yet: never).
    """
    repositories = Repository.objects.filter(active=True, latest_scan__isnull=False)
    if team is not None:
        repositories = repositories.filter(team=team)
    results = CheckResult.objects.filter(
        scan_id__in=repositories.values("latest_scan_id")
    ).values_list("scan__repository_id", "rule_id", "status", "findings")
    by_repository: dict[int, list[tuple[int, str, int]]] = defaultdict(list)
    for repository_id, rule_pk, status, findings in results:
        by_repository[repository_id].append((rule_pk, status, findings))
    if not by_repository:
        return []
    rules = Rule.objects.in_bulk({pk for rows in by_repository.values() for pk, _, _ in rows})
    governance = governance_by_repository(sorted(by_repository))
    points: dict[int, float] = defaultdict(float)
    affected: dict[int, list[int]] = defaultdict(list)
    for repository_id, rows in sorted(by_repository.items()):
        scored = [(rules[pk], status, findings) for pk, status, findings in rows]
        for rule_pk, gain in points_if_passed(scored, governance[repository_id]).items():
            points[rule_pk] += gain
            affected[rule_pk].append(repository_id)
    ranked = [
        FixFirst(
            rules[pk].rule_id,
            rules[pk].title,
            rules[pk].weighting.severity.value,
            round(total / len(affected[pk]), 2),
            tuple(affected[pk]),
        )
        for pk, total in points.items()
    ]
    ranked.sort(key=lambda f: (-f.score, -f.points, f.rule_id))
    return ranked[:limit]
