"""Daily roll-ups, kept incrementally; trend pages read these, never raw results.

A day's rows describe the state at the end of that day (UTC), with the waivers and
attestations in force then. Three writers keep them:

- `record_scan_day`: after each finished scan, the repository's row for that day, then its
  team's rows (score and per-rule counts).
- `close_day`: once a day (beat), finalises the previous day for repositories whose governance
  changed during it, then carries every row forward to the new day.
- `recompute_range`: from scratch, from raw scans — for backfills and to check the others.

A team's daily score follows the one definition (dashboard/domain/scores.py): the mean of its
active repositories' scores of the day, rounded to 2 decimals.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from statistics import fmean

from django.db import connection, transaction
from django.db.models import Field, Model, Q
from django.utils import timezone

from dashboard.domain.governance import score_governed
from dashboard.domain.scores import team_score
from dashboard.models import (
    Attestation,
    CheckResult,
    Repository,
    RepositoryDailyScore,
    Rule,
    RuleDailyStats,
    Scan,
    Team,
    TeamDailyScore,
    Waiver,
)
from dashboard.selectors.governance import governance_for, upcoming_rule_ids
from dashboard.services.infra import page_versions


def end_of_day(day: date) -> datetime:
    """The first instant after `day` (UTC)."""
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=UTC)


def _as_of(day: date, now: datetime | None) -> datetime:
    """Governance instant for a day's row: its last instant, or now while the day still runs.

    The next midnight belongs to the next day, so a waiver created exactly then does not count.
    """
    now = now or timezone.now()
    return min(end_of_day(day) - timedelta(microseconds=1), now)


def latest_scan_on(repository_id: int, day: date) -> Scan | None:
    """The repository's latest succeeded scan finished before the end of `day` (a scan kept
    as history of an older commit, `history_only`, never counts)."""
    return (
        Scan.objects.filter(
            repository_id=repository_id,
            status=Scan.Status.SUCCEEDED,
            finished_at__lt=end_of_day(day),
            history_only=False,
        )
        .order_by("-finished_at", "-id")
        .first()
    )


def _repository_row(repository_id: int, day: date, now: datetime | None) -> None:
    scan = latest_scan_on(repository_id, day)
    if scan is None:
        RepositoryDailyScore.objects.filter(repository_id=repository_id, date=day).delete()
        return
    at = _as_of(day, now)
    results = CheckResult.objects.filter(scan=scan).select_related("rule")
    effective = score_governed(
        ((r.rule, r.status, r.findings) for r in results), governance_for(repository_id, at)
    )
    RepositoryDailyScore.objects.update_or_create(
        repository_id=repository_id,
        date=day,
        defaults={
            "score": effective.score,
            "level": effective.level,
            "scan": scan,
            "section_scores": effective.sections,
            "open_rules": effective.open_rules,
        },
    )


def _team_rows(team_id: int, day: date, now: datetime | None) -> None:
    # Repositories without a row yet today (the nightly carry-forward may not have run) get
    # theirs computed now, so the team's figures never miss a member.
    missing = Repository.objects.filter(team_id=team_id, active=True).exclude(
        daily_scores__date=day
    )
    for repository_id in missing.values_list("pk", flat=True):
        _repository_row(repository_id, day, now)
    rows = list(
        RepositoryDailyScore.objects.filter(
            repository__team_id=team_id, repository__active=True, date=day
        ).select_related("repository")
    )
    if not rows:
        TeamDailyScore.objects.filter(team_id=team_id, date=day).delete()
        RuleDailyStats.objects.filter(team_id=team_id, date=day).delete()
        return
    sections: dict[str, list[float]] = {}
    for row in rows:
        for code, value in row.section_scores.items():
            if value is not None:
                sections.setdefault(code, []).append(value)
    TeamDailyScore.objects.update_or_create(
        team_id=team_id,
        date=day,
        defaults={
            "score": team_score(row.score for row in rows),  # dashboard/domain/scores.py
            "repositories": len(rows),
            "section_scores": {code: round(fmean(v), 2) for code, v in sorted(sections.items())},
        },
    )
    _rule_stats(team_id, day, rows, now)


def _rule_stats(
    team_id: int, day: date, rows: list[RepositoryDailyScore], now: datetime | None
) -> None:
    at = _as_of(day, now)
    upcoming = upcoming_rule_ids(at)
    counts: dict[int, Counter[str]] = {}
    for row in rows:
        if row.scan_id is None:
            continue
        governance = governance_for(row.repository_id, at, upcoming)
        for rule_id, status, findings in CheckResult.objects.filter(
            scan_id=row.scan_id
        ).values_list("rule_id", "status", "findings"):
            # Upcoming results count as `other`: not judged yet, like the scores.
            counts.setdefault(rule_id, Counter())[governance.shown(status, rule_id, findings)] += 1
    RuleDailyStats.objects.filter(team_id=team_id, date=day).delete()
    RuleDailyStats.objects.bulk_create(
        RuleDailyStats(
            rule_id=rule_id,
            team_id=team_id,
            date=day,
            passed=c["pass"],
            failed=c["fail"],
            warned=c["warn"],
            other=sum(c.values()) - c["pass"] - c["fail"] - c["warn"],
        )
        for rule_id, c in counts.items()
    )


@transaction.atomic
def record_scan_day(repository: Repository, day: date, now: datetime | None = None) -> None:
    """Update `day`'s roll-ups after a scan of `repository` finished (or governance changed)."""
    _repository_row(repository.pk, day, now)
    _team_rows(repository.team_id, day, now)
    page_versions.changed(team_id=repository.team_id, repository_id=repository.pk)


@transaction.atomic
def refresh_team_day(team_id: int, day: date, now: datetime | None = None) -> None:
    """Recompute a team's roll-up rows of `day` from its repositories' rows."""
    _team_rows(team_id, day, now)
    page_versions.changed(team_id=team_id)


def governance_changed_on(day: date) -> set[int]:
    start, end = end_of_day(day - timedelta(days=1)), end_of_day(day)
    window = (
        Q(created_at__gte=start, created_at__lt=end)
        | Q(expires_at__gte=start, expires_at__lt=end)
        | Q(revoked_at__gte=start, revoked_at__lt=end)
    )
    return set(Waiver.objects.filter(window).values_list("repository_id", flat=True)) | set(
        Attestation.objects.filter(window).values_list("repository_id", flat=True)
    )


def rules_taking_effect_on(day: date) -> bool:
    """Whether a rule's grace period ends on `day` (scores change with no scan)."""
    return Rule.objects.filter(effective_from=day).exists()


@transaction.atomic
def close_day(day: date, now: datetime | None = None) -> None:
    """Finalise `day` where governance changed during it, then carry every row to `day + 1`.

    When a rule takes effect on `day + 1`, that day's rows are recomputed instead of copied.
    """
    changed = governance_changed_on(day)
    repositories = Repository.objects.filter(pk__in=changed)
    for repository in repositories:
        _repository_row(repository.pk, day, now)
    for team_id in {r.team_id for r in repositories}:
        _team_rows(team_id, day, now)
    next_day = day + timedelta(days=1)
    carry_forward(day, next_day)
    if rules_taking_effect_on(next_day):
        carried = RepositoryDailyScore.objects.filter(date=next_day)
        for repository_id in list(carried.values_list("repository_id", flat=True)):
            _repository_row(repository_id, next_day, now)
        teams = TeamDailyScore.objects.filter(date=next_day).values_list("team_id", flat=True)
        for team_id in list(teams):
            _team_rows(team_id, next_day, now)


def _columns(model: type[Model], *names: str) -> list[str]:
    fields = [model._meta.get_field(name) for name in names]
    return [str(field.column) for field in fields if isinstance(field, Field)]


def _copy_sql(model: type[Model], fields: tuple[str, ...], key: str, unless: type[Model]) -> str:
    """Copy `model`'s rows of one day to the next, unless `unless` has a row for their key."""
    (date_col,), (key_col,) = _columns(model, "date"), _columns(model, key)
    (unless_date,), (unless_key,) = _columns(unless, "date"), _columns(unless, key)
    cols = ", ".join(_columns(model, *fields))
    return (
        f"INSERT INTO {model._meta.db_table} ({cols}, {date_col}) "  # noqa: S608 - model names
        f"SELECT {cols}, %s FROM {model._meta.db_table} WHERE {date_col} = %s AND {key_col} "
        f"NOT IN (SELECT {unless_key} FROM {unless._meta.db_table} WHERE {unless_date} = %s)"
    )


def _copied_fields(model: type[Model]) -> tuple[str, ...]:
    """Every column but the key and the date, so a new roll-up field is carried too."""
    return tuple(f.name for f in model._meta.concrete_fields if f.name not in {"id", "date"})


def carry_forward(day: date, next_day: date) -> None:
    """Copy `day`'s roll-up rows to `next_day` where `next_day` has none (three INSERT…SELECT)."""
    repo_fields, team_fields, rule_fields = (
        _copied_fields(model) for model in (RepositoryDailyScore, TeamDailyScore, RuleDailyStats)
    )
    statements = (
        _copy_sql(RepositoryDailyScore, repo_fields, "repository", RepositoryDailyScore),
        _copy_sql(RuleDailyStats, rule_fields, "team", TeamDailyScore),  # before teams' rows
        _copy_sql(TeamDailyScore, team_fields, "team", TeamDailyScore),
    )
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql, [next_day, day, next_day])
    page_versions.changed(everything=True)


def rerecord_since(repository: Repository, start: date, now: datetime | None = None) -> None:
    """Rebuild the repository's (and its team's) rows from `start` to today, after a stored
    scan's results changed (late measurements): rows after `start` carried the old ones."""
    for day in _days(start, (now or timezone.now()).date()):
        record_scan_day(repository, day, now)


@transaction.atomic
def recompute_range(start: date, end: date, now: datetime | None = None) -> None:
    """Rebuild every roll-up row from `start` to `end` (inclusive) from raw scans."""
    RepositoryDailyScore.objects.filter(date__gte=start, date__lte=end).delete()
    TeamDailyScore.objects.filter(date__gte=start, date__lte=end).delete()
    RuleDailyStats.objects.filter(date__gte=start, date__lte=end).delete()
    repository_ids = list(Repository.objects.values_list("pk", flat=True))
    team_ids = list(Team.objects.values_list("pk", flat=True))
    for day in _days(start, end):
        for repository_id in repository_ids:
            _repository_row(repository_id, day, now)
        for team_id in team_ids:
            _team_rows(team_id, day, now)
    page_versions.changed(everything=True)


def _days(start: date, end: date) -> Iterable[date]:
    day = start
    while day <= end:
        yield day
        day += timedelta(days=1)
