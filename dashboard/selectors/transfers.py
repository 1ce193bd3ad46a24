"""Pending repository transfers and archived repositories, as the team and settings pages
list them."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet

from dashboard.models import Repository, RepositoryTransfer, Team


@dataclass(frozen=True, slots=True)
class TeamTransfers:
    """A team's pending transfers: repositories offered to it, and those it offered."""

    incoming: list[RepositoryTransfer]
    outgoing: list[RepositoryTransfer]


def _pending() -> QuerySet[RepositoryTransfer]:
    return RepositoryTransfer.objects.filter(
        status=RepositoryTransfer.Status.PENDING
    ).select_related("repository", "from_team", "to_team", "proposed_by")


def team_transfers(team: Team) -> TeamTransfers:
    """Pending transfers to and from `team`, oldest first (1 query)."""
    rows = list(_pending().filter(Q(to_team=team) | Q(from_team=team)).order_by("proposed_at"))
    return TeamTransfers(
        [row for row in rows if row.to_team_id == team.pk],
        [row for row in rows if row.from_team_id == team.pk],
    )


def pending_transfer(repository: Repository) -> RepositoryTransfer | None:
    """The repository's pending transfer, if any (1 query)."""
    return _pending().filter(repository=repository).first()


def archived_repositories(team: Team) -> list[Repository]:
    """The team's archived (inactive) repositories, by name (1 query)."""
    return list(
        Repository.objects.filter(team=team, active=False).only(
            "name", "project_dir", "team_id", "score", "level"
        )
    )
