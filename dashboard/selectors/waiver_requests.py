"""Waiver requests: those awaiting a person's decision, a repository's recent ones, who to tell.

Who may decide is the permissions service's answer (`waiver_approval_teams`); these queries
take it as an argument, so that selectors import no services.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.contrib.auth.models import User
from django.db.models import Q, QuerySet

from dashboard.models import Membership, Repository, Team, WaiverRequest


def _with_names(requests: QuerySet[WaiverRequest]) -> QuerySet[WaiverRequest]:
    return requests.select_related("repository__team", "rule", "requested_by", "decided_by")


def awaiting_decision(teams: QuerySet[Team], user_id: int) -> QuerySet[WaiverRequest]:
    """Pending requests on repositories of `teams` that the user did not make, oldest first."""
    pending = WaiverRequest.objects.filter(
        status=WaiverRequest.Status.PENDING, repository__team__in=teams
    ).exclude(requested_by_id=user_id)
    return _with_names(pending).order_by("created_at", "pk")


def requested_by(user_id: int) -> QuerySet[WaiverRequest]:
    """The user's own pending requests, oldest first."""
    mine = WaiverRequest.objects.filter(
        status=WaiverRequest.Status.PENDING, requested_by_id=user_id
    )
    return _with_names(mine).order_by("created_at", "pk")


def of_repository(repository: Repository, since: datetime) -> list[WaiverRequest]:
    """A repository's pending requests and those decided since `since`, newest first."""
    recent = WaiverRequest.objects.filter(repository=repository).filter(
        Q(status=WaiverRequest.Status.PENDING) | Q(decided_at__gte=since)
    )
    return list(_with_names(recent).order_by("-created_at", "-pk")[:20])


def approver_emails(
    request: WaiverRequest, *, managers_group: str, with_maintainers: bool
) -> list[str]:
    """The e-mail addresses of those who may decide `request` (active admins and members of
    `managers_group`; the team's maintainers too when `with_maintainers`), the requester
    aside, sorted."""
    who = Q(is_superuser=True) | Q(groups__name=managers_group)
    if with_maintainers:
        who |= Q(
            memberships__team_id=request.repository.team_id,
            memberships__role=Membership.Role.MAINTAINER,
        )
    users = User.objects.filter(who, is_active=True).exclude(email="")
    if request.requested_by_id is not None:
        users = users.exclude(pk=request.requested_by_id)
    return sorted(set(_emails(users.values_list("email", flat=True))))


def _emails(values: Iterable[str]) -> Iterable[str]:
    return (value.strip() for value in values if value.strip())
