"""Which active repositories count in scores: scored ones; the others are counted apart.

An active repository without a successful scan has no score and no level. It is either
"not scanned yet" (its first scan is queued or running, or none was asked for yet) or
"failing to scan" (its scans failed and none is on its way). Neither counts in a team's
score nor among its scored repositories; pages show them apart.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q

from dashboard.domain.levels import Member
from dashboard.models import Repository, Scan

IN_FLIGHT = (Scan.Status.QUEUED, Scan.Status.RUNNING)


@dataclass(frozen=True, slots=True)
class Unscored:
    """Active repositories without a successful scan, by state."""

    not_scanned: int = 0
    failing: int = 0

    @property
    def total(self) -> int:
        """Both states together."""
        return self.not_scanned + self.failing


def failing_to_scan() -> Q:
    """Filter for repositories whose scans failed, none succeeded and none is on its way."""
    scans = Scan.objects.filter(repository=OuterRef("pk"))
    return (
        Q(latest_scan__isnull=True)
        & Q(Exists(scans.filter(status=Scan.Status.FAILED)))
        & ~Q(Exists(scans.filter(status__in=IN_FLIGHT)))
    )


def unscored_by_team(team_ids: Iterable[int] | None = None) -> dict[int, Unscored]:
    """Active repositories without a successful scan per team (1 query; all teams if None)."""
    queryset = Repository.objects.filter(active=True, latest_scan__isnull=True)
    if team_ids is not None:
        queryset = queryset.filter(team_id__in=list(team_ids))
    counts: dict[int, list[int]] = {}
    rows = queryset.annotate(
        failing=ExpressionWrapper(failing_to_scan(), output_field=BooleanField())
    ).values_list("team_id", "failing")
    for team_id, failing in rows:
        pair = counts.setdefault(team_id, [0, 0])
        pair[1 if failing else 0] += 1
    return {team_id: Unscored(*pair) for team_id, pair in counts.items()}


def scored_members(team_ids: Iterable[int]) -> dict[int, list[Member]]:
    """The scanned active repositories of teams, by name, with level and score (1 query)."""
    members: dict[int, list[Member]] = {}
    rows = (
        Repository.objects.filter(team_id__in=list(team_ids), active=True)
        .exclude(latest_scan=None)
        .order_by("name", "project_dir")
        .only("team_id", "name", "project_dir", "level", "score")
    )
    for row in rows:  # `label`: a monorepo's services share a name, not a folder
        members.setdefault(row.team_id, []).append(Member(row.label, row.level, row.score))
    return members
