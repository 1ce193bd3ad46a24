"""Handing a repository to another team: proposal, consent, refusal, direct moves
(services/repos/transfers.py)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied

from dashboard.models import (
    AuditAction,
    AuditEvent,
    Membership,
    Repository,
    RepositoryDailyScore,
    RepositoryTransfer,
    Scan,
)
from dashboard.services.repos import transfers
from dashboard.services.repos.registration import update_repository
from tests.factories import MembershipFactory, TeamFactory, UserFactory
from tests.unit.dashboard.test_repository_lifecycle import _team_today, scored

pytestmark = pytest.mark.django_db

Status = RepositoryTransfer.Status


@pytest.fixture
def people(personas: dict[str, Any]) -> dict[str, Any]:
    """The personas, and Ledger: another team with its own maintainer (Lena)."""
    ledger = TeamFactory(name="Ledger", slug="ledger")
    lena = UserFactory(username="lena")
    MembershipFactory(user=lena, team=ledger, role=Membership.Role.MAINTAINER)
    return {**personas, "ledger": ledger, "lena": lena, "repo": scored(personas["team"])}


def _actions() -> list[str]:
    return list(AuditEvent.objects.order_by("id").values_list("action", flat=True))


def _team_of(repository: Repository) -> int:
    return Repository.objects.get(pk=repository.pk).team_id


def test_a_maintainer_proposes_and_nothing_moves_yet(people: dict[str, Any]) -> None:
    proposal = transfers.transfer_or_propose(people["maintainer"], people["repo"], people["ledger"])
    assert proposal is not None
    assert (proposal.status, proposal.from_team, proposal.to_team) == (
        Status.PENDING,
        people["team"],
        people["ledger"],
    )
    assert _team_of(people["repo"]) == people["team"].pk
    [event] = AuditEvent.objects.all()
    assert event.action == AuditAction.TRANSFER_PROPOSED
    assert event.details["to_team"] == "Ledger"
    assert event.team == people["team"]


def test_the_receiving_maintainer_accepts_and_the_history_follows(people: dict[str, Any]) -> None:
    repo = people["repo"]
    proposal = transfers.transfer_or_propose(people["maintainer"], repo, people["ledger"])
    assert proposal is not None
    assert (_team_today(people["team"]), _team_today(people["ledger"])) == (1, 0)
    transfers.accept(people["lena"], proposal)
    assert _team_of(repo) == people["ledger"].pk
    assert RepositoryTransfer.objects.get().status == Status.ACCEPTED
    assert RepositoryTransfer.objects.get().decided_by == people["lena"]
    # Scans and daily scores belong to the repository: its history moved with it.
    assert Scan.objects.filter(repository=repo).count() == 1
    assert RepositoryDailyScore.objects.filter(repository=repo).exists()
    # Both teams' roll-ups of today were recomputed at once.
    assert (_team_today(people["team"]), _team_today(people["ledger"])) == (0, 1)
    assert _actions() == [
        AuditAction.TRANSFER_PROPOSED,
        AuditAction.TRANSFER_ACCEPTED,
        AuditAction.REPOSITORY_CHANGED,
    ]
    moved = AuditEvent.objects.get(action=AuditAction.REPOSITORY_CHANGED)
    assert moved.details == {"team": ["Payments", "Ledger"], "transfer": proposal.pk}


def test_the_receiving_maintainer_declines_and_it_stays(people: dict[str, Any]) -> None:
    proposal = transfers.transfer_or_propose(people["maintainer"], people["repo"], people["ledger"])
    assert proposal is not None
    transfers.decline(people["lena"], proposal)
    assert _team_of(people["repo"]) == people["team"].pk
    assert RepositoryTransfer.objects.get().status == Status.DECLINED
    assert _actions()[-1] == AuditAction.TRANSFER_DECLINED
    with pytest.raises(transfers.TransferError, match="was declined already"):
        transfers.accept(people["lena"], proposal)
    assert _team_of(people["repo"]) == people["team"].pk


@pytest.mark.parametrize("role", ["maintainer", "member", "outsider"])
def test_only_the_receiving_side_answers(people: dict[str, Any], role: str) -> None:
    proposal = transfers.transfer_or_propose(people["maintainer"], people["repo"], people["ledger"])
    assert proposal is not None
    for answer in (transfers.accept, transfers.decline):
        with pytest.raises(PermissionDenied):
            answer(people[role], proposal)
    assert RepositoryTransfer.objects.get().status == Status.PENDING
    assert _team_of(people["repo"]) == people["team"].pk


def test_the_proposing_side_cancels_the_receiving_side_cannot(people: dict[str, Any]) -> None:
    proposal = transfers.transfer_or_propose(people["maintainer"], people["repo"], people["ledger"])
    assert proposal is not None
    with pytest.raises(PermissionDenied):
        transfers.cancel(people["lena"], proposal)
    transfers.cancel(people["maintainer"], proposal)
    assert RepositoryTransfer.objects.get().status == Status.CANCELLED
    assert _actions()[-1] == AuditAction.TRANSFER_CANCELLED


def test_one_pending_proposal_at_a_time(people: dict[str, Any]) -> None:
    transfers.transfer_or_propose(people["maintainer"], people["repo"], people["ledger"])
    other = TeamFactory(name="Other")
    with pytest.raises(transfers.TransferError, match="to team 'Ledger' is pending already"):
        transfers.transfer_or_propose(people["maintainer"], people["repo"], other)
    assert RepositoryTransfer.objects.count() == 1


@pytest.mark.parametrize("role", ["manager", "admin"])
def test_managers_and_admins_move_it_at_once(people: dict[str, Any], role: str) -> None:
    pending = transfers.transfer_or_propose(people["maintainer"], people["repo"], TeamFactory())
    assert transfers.transfer_or_propose(people[role], people["repo"], people["ledger"]) is None
    assert _team_of(people["repo"]) == people["ledger"].pk
    assert pending is not None
    assert RepositoryTransfer.objects.get(pk=pending.pk).status == Status.CANCELLED  # void now
    moved = AuditEvent.objects.filter(action=AuditAction.REPOSITORY_CHANGED).get()
    assert moved.details == {"team": ["Payments", "Ledger"], "transfer": "direct"}
    assert moved.actor == people[role]


def test_a_maintainer_of_both_teams_moves_it_at_once(people: dict[str, Any]) -> None:
    MembershipFactory(
        user=people["maintainer"], team=people["ledger"], role=Membership.Role.MAINTAINER
    )
    assert (
        transfers.transfer_or_propose(people["maintainer"], people["repo"], people["ledger"])
        is None
    )
    assert _team_of(people["repo"]) == people["ledger"].pk


@pytest.mark.parametrize("role", ["member", "outsider", "lena"])
def test_only_its_editors_hand_it_over(people: dict[str, Any], role: str) -> None:
    with pytest.raises(PermissionDenied):
        transfers.transfer_or_propose(people[role], people["repo"], people["ledger"])
    assert not RepositoryTransfer.objects.exists()
    assert _team_of(people["repo"]) == people["team"].pk
    assert _actions() == []


def test_its_own_team_is_refused(people: dict[str, Any]) -> None:
    with pytest.raises(transfers.TransferError, match="already belongs to team 'Payments'"):
        transfers.transfer_or_propose(people["manager"], people["repo"], people["team"])


def test_a_proposal_overtaken_by_an_admin_move_is_void(people: dict[str, Any]) -> None:
    proposal = transfers.transfer_or_propose(people["maintainer"], people["repo"], people["ledger"])
    assert proposal is not None
    repo = Repository.objects.get(pk=people["repo"].pk)
    repo.team = TeamFactory(name="Elsewhere")
    update_repository(people["admin"], repo)
    with pytest.raises(transfers.TransferError, match="changed teams since it was proposed"):
        transfers.accept(people["lena"], proposal)
    assert RepositoryTransfer.objects.get().status == Status.CANCELLED
    assert Repository.objects.get(pk=repo.pk).team.name == "Elsewhere"
