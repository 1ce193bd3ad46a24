"""Check (and repair) stored scores against the one definition (`manage.py check_scores`).

A repository's stored score and level must equal its latest succeeded scan's results with
the governance in force now (`scoring.score_scan`); a repository without one stores none. A
team's stored score is today's roll-up (`TeamDailyScore`); it must equal the team score of
its scored repositories' recomputed scores (`domain/scores.py`: `team_score`).

A repair refreshes the repository (`refresh_repository_score`) and today's roll-ups, or the
team's roll-ups, and records one `score.repaired` audit event per repaired object.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime

from django.db import transaction
from django.utils import timezone

from dashboard.domain.scores import team_score
from dashboard.models import AuditAction, Repository, Team, TeamDailyScore
from dashboard.selectors.governance import score_scan
from dashboard.services.access import audit
from dashboard.services.scoring import rollups
from dashboard.services.scoring.scores import refresh_repository_score

logger = logging.getLogger(__name__)
ACTOR = "check_scores"


@dataclass(frozen=True, slots=True)
class Drift:
    """One stored figure that differs from the computed one."""

    kind: str  # "repository" or "team"
    pk: int
    name: str
    field: str  # "score" or "level"
    stored: float | str | None
    computed: float | str | None

    def __str__(self) -> str:
        return (
            f"{self.kind} {self.name} (#{self.pk}): {self.field} stored {self.stored!r}, "
            f"computed {self.computed!r}"
        )


def _computed(repository: Repository, at: datetime) -> tuple[float | None, str]:
    if repository.latest_scan is None:
        return None, ""
    effective = score_scan(repository.latest_scan, at)
    return effective.score, effective.level


def repository_drifts(at: datetime) -> tuple[list[Drift], dict[int, float | None]]:
    """Drifts of every repository, and every repository's computed score by pk."""
    drifts: list[Drift] = []
    computed: dict[int, float | None] = {}
    for repository in Repository.objects.select_related("latest_scan").order_by("pk"):
        score, level = _computed(repository, at)
        computed[repository.pk] = score
        for field, stored, value in (
            ("score", repository.score, score),
            ("level", repository.level, level),
        ):
            if stored != value:
                drifts.append(
                    Drift("repository", repository.pk, repository.name, field, stored, value)
                )
    return drifts, computed


def team_drifts(day: date, computed: dict[int, float | None]) -> list[Drift]:
    """Teams whose roll-up score of `day` differs from the score of their scored repositories."""
    stored = dict(TeamDailyScore.objects.filter(date=day).values_list("team_id", "score"))
    members: dict[int, list[float | None]] = {}
    for team_id, pk in Repository.objects.scored().values_list("team_id", "pk"):
        members.setdefault(team_id, []).append(computed.get(pk))
    drifts = []
    for team in Team.objects.order_by("pk"):
        value = team_score(members.get(team.pk, []))
        if stored.get(team.pk) != value:
            drifts.append(Drift("team", team.pk, team.name, "score", stored.get(team.pk), value))
    return drifts


def check(at: datetime | None = None) -> list[Drift]:
    """Every stored figure that differs from the one definition (reads only)."""
    at = at or timezone.now()
    drifts, computed = repository_drifts(at)
    return drifts + team_drifts(at.date(), computed)


def repair(drifts: list[Drift], at: datetime | None = None) -> None:
    """Recompute what `drifts` name and record one audit event per repaired object."""
    at = at or timezone.now()
    day = at.date()
    for pk in sorted({d.pk for d in drifts if d.kind == "repository"}):
        with transaction.atomic():
            repository = Repository.objects.select_related("latest_scan", "team").get(pk=pk)
            before = {"score": repository.score, "level": repository.level}
            refresh_repository_score(repository)
            rollups.record_scan_day(repository, day, at)
            audit.record(
                AuditAction.SCORE_REPAIRED,
                actor=ACTOR,
                target=repository,
                team=repository.team,
                details={
                    "before": before,
                    "after": {"score": repository.score, "level": repository.level},
                },
            )
    for pk in sorted({d.pk for d in drifts if d.kind == "team"}):
        with transaction.atomic():
            team = Team.objects.get(pk=pk)
            before_score = (
                TeamDailyScore.objects.filter(team=team, date=day)
                .values_list("score", flat=True)
                .first()
            )
            rollups.refresh_team_day(team.pk, day, at)
            after = (
                TeamDailyScore.objects.filter(team=team, date=day)
                .values_list("score", flat=True)
                .first()
            )
            audit.record(
                AuditAction.SCORE_REPAIRED,
                actor=ACTOR,
                target=team,
                team=team,
                details={"before": {"score": before_score}, "after": {"score": after}},
            )


def nightly(at: datetime | None = None) -> list[Drift]:
    """After `close_day`: log an ERROR per drift and repair them (returns what was found)."""
    drifts = check(at)
    for drift in drifts:
        logger.error("score drift: %s", drift)
    if drifts:
        repair(drifts, at)
    return drifts
