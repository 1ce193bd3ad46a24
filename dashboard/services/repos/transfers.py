"""Handing a repository to another team, with the receiving team's consent.

A maintainer of the repository's team proposes; a maintainer of the receiving team accepts
or declines; the proposing side may cancel while it is pending. Someone who may already
speak for the receiving team (its maintainer, a manager, an admin) moves it at once.

What moves: the repository row and everything that belongs to it — scans, results, daily
scores, waivers, attestations, ratchets, webhook secret — so its score history follows it.
The teams' own daily roll-ups stay as they were on past days (the old team had it then);
today's are recomputed for both teams, and the page caches of every page are retired, as
for any other change of team (`changes.save_audited`).
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from dashboard.models import AuditAction, Repository, RepositoryTransfer, Team
from dashboard.services.access import audit
from dashboard.services.access.permissions import can_receive_repository
from dashboard.services.repos.changes import save_audited
from dashboard.services.repos.lifecycle import require_editor

Status = RepositoryTransfer.Status


class TransferError(ValueError):
    """The transfer cannot be made as asked; the message says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def transfer_or_propose(
    user: User, repository: Repository, to_team: Team
) -> RepositoryTransfer | None:
    """Move `repository` to `to_team` now when `user` may speak for that team; otherwise
    propose it to that team's maintainers. Returns the pending proposal, or None when moved.
    """
    require_editor(user, repository)
    if to_team.pk == repository.team_id:
        raise TransferError(f"the repository already belongs to team {to_team.name!r}")
    if can_receive_repository(user, to_team):
        _move(user, repository, to_team, details={"transfer": "direct"})
        return None
    try:
        with transaction.atomic():
            Repository.objects.select_for_update().filter(pk=repository.pk).first()
            pending = _pending(repository).select_related("to_team").first()
            if pending is not None:
                raise TransferError(
                    f"a transfer to team {pending.to_team.name!r} is pending already: "
                    "cancel it before proposing another"
                )
            transfer = RepositoryTransfer.objects.create(
                repository=repository,
                from_team_id=repository.team_id,
                to_team=to_team,
                proposed_by=user,
            )
            _record(AuditAction.TRANSFER_PROPOSED, user, transfer, repository.team)
    except IntegrityError:
        raise TransferError("another transfer of this repository was just proposed") from None
    return transfer


def accept(user: User, transfer: RepositoryTransfer) -> None:
    """The receiving team takes the repository (its maintainers, managers, admins)."""
    if not can_receive_repository(user, transfer.to_team):
        raise PermissionDenied("only the receiving team's maintainers may accept it")
    with transaction.atomic():
        locked = _locked_pending(transfer)
        repository = (
            Repository.objects.select_for_update()
            .select_related("team")
            .get(pk=locked.repository_id)
        )
        # Moved meanwhile (the admin): the proposal no longer describes a move.
        stale = repository.team_id != locked.from_team_id
        _close(locked, user, Status.CANCELLED if stale else Status.ACCEPTED)
        if not stale:
            _record(AuditAction.TRANSFER_ACCEPTED, user, locked, locked.to_team)
            _move(user, repository, locked.to_team, details={"transfer": locked.pk})
    if stale:
        raise TransferError("the repository changed teams since it was proposed")
    transfer.status = locked.status


def decline(user: User, transfer: RepositoryTransfer) -> None:
    """The receiving team refuses the repository; it stays where it is."""
    if not can_receive_repository(user, transfer.to_team):
        raise PermissionDenied("only the receiving team's maintainers may decline it")
    _end(user, transfer, Status.DECLINED, AuditAction.TRANSFER_DECLINED, transfer.to_team)


def cancel(user: User, transfer: RepositoryTransfer) -> None:
    """The proposing side withdraws its proposal (its maintainers, managers, admins)."""
    require_editor(user, transfer.repository)
    _end(user, transfer, Status.CANCELLED, AuditAction.TRANSFER_CANCELLED, transfer.from_team)


def _end(
    user: User, transfer: RepositoryTransfer, status: str, action: AuditAction, team: Team
) -> None:
    with transaction.atomic():
        locked = _locked_pending(transfer)
        _close(locked, user, status)
        _record(action, user, locked, team)
    transfer.status = locked.status


def _move(user: User, repository: Repository, to_team: Team, *, details: dict[str, object]) -> None:
    """Give the repository to `to_team`; any proposal still pending for it is void."""
    with transaction.atomic():
        _pending(repository).update(
            status=Status.CANCELLED, decided_by=user, decided_at=timezone.now()
        )
        repository.team = to_team
        save_audited(user, repository, ("team",), details=details)


def _pending(repository: Repository) -> QuerySet[RepositoryTransfer]:
    return RepositoryTransfer.objects.filter(repository=repository, status=Status.PENDING)


def _locked_pending(transfer: RepositoryTransfer) -> RepositoryTransfer:
    """The transfer row, locked; TransferError once it is decided."""
    locked = (
        RepositoryTransfer.objects.select_for_update()
        .select_related("repository", "from_team", "to_team")
        .get(pk=transfer.pk)
    )
    if locked.status != Status.PENDING:
        raise TransferError(f"this transfer was {locked.get_status_display().lower()} already")
    return locked


def _close(transfer: RepositoryTransfer, user: User, status: str) -> None:
    transfer.status, transfer.decided_by, transfer.decided_at = status, user, timezone.now()
    transfer.save(update_fields=["status", "decided_by", "decided_at"])


def _record(action: AuditAction, user: User, transfer: RepositoryTransfer, team: Team) -> None:
    audit.record(
        action,
        actor=user,
        target=transfer.repository,
        team=team,
        details={
            "transfer": transfer.pk,
            "from_team": transfer.from_team.name,
            "to_team": transfer.to_team.name,
        },
    )


__all__ = ["TransferError", "accept", "cancel", "decline", "transfer_or_propose"]
