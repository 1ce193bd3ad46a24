"""Waiver requests: a maintainer asks, someone else approves or rejects, the requester may
withdraw. Only an approval makes a `Waiver` (approved_by = the approver), in the same
transaction; a pending, rejected or withdrawn request never counts for a score.

Who may decide is `permissions.waiver_decision_refusal` (managers and admins; another
maintainer of the team with WAIVER_APPROVERS=maintainers; never the requester). The bounds
of a waiver (reason, expiry, rule) are `waivers.clean_waiver`, checked at the request and
again at the approval (an expiry may have passed while the request waited).
"""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from dashboard.models import AuditAction, Repository, Rule, Waiver, WaiverRequest
from dashboard.services.access import audit
from dashboard.services.access.permissions import require_team_maintainer, require_waiver_decider
from dashboard.services.governance.waivers import (
    GovernanceError,
    clean_waiver,
    create_waiver,
    label,
)
from dashboard.services.notify import waiver_notices

MIN_DECISION_REASON = 10


@transaction.atomic
def request_waiver(
    user: User, repository: Repository, rule: Rule, reason: str, expires_at: datetime
) -> WaiverRequest:
    """A maintainer of the repository's team asks for a waiver; approvers are notified."""
    require_team_maintainer(user, repository.team)
    reason = clean_waiver(rule, reason, expires_at)
    pending = WaiverRequest.objects.filter(
        repository=repository, rule=rule, status=WaiverRequest.Status.PENDING
    )
    if pending.exists():
        raise GovernanceError("rule", f"a waiver of {rule.rule_id} already awaits a decision")
    if Waiver.objects.in_force().filter(repository=repository, rule=rule).exists():
        raise GovernanceError("rule", f"{rule.rule_id} already has a waiver in force")
    request = WaiverRequest.objects.create(
        repository=repository, rule=rule, reason=reason, expires_at=expires_at, requested_by=user
    )
    _audit(AuditAction.WAIVER_REQUESTED, user, request, expires_at=expires_at, reason=reason)
    waiver_notices.requested(request)
    return request


@transaction.atomic
def approve(user: User, request: WaiverRequest, note: str = "") -> Waiver:
    """Approve a pending request: its waiver is created, approved by `user`, scores follow."""
    require_waiver_decider(user, request)
    try:
        clean_waiver(request.rule, request.reason, request.expires_at)
    except GovernanceError as exc:
        raise GovernanceError(
            exc.field, f"cannot approve: {exc.message}; reject it and ask for a new request"
        ) from None
    _decide(user, request, WaiverRequest.Status.APPROVED, note.strip()[:2000])
    waiver = create_waiver(
        user, request.repository, request.rule, request.reason, request.expires_at
    )
    request.waiver = waiver
    request.save(update_fields=["waiver"])
    _audit(
        AuditAction.WAIVER_APPROVED,
        user,
        request,
        waiver=waiver.pk,
        expires_at=waiver.expires_at,
        reason=request.decision_reason,
    )
    waiver_notices.decided(request)
    return waiver


@transaction.atomic
def reject(user: User, request: WaiverRequest, reason: str) -> None:
    """Reject a pending request, saying why (the requester's team is told)."""
    require_waiver_decider(user, request)
    reason = reason.strip()
    if len(reason) < MIN_DECISION_REASON:
        raise GovernanceError(
            "reason",
            f"say why it is rejected (at least {MIN_DECISION_REASON} characters), "
            "so that the requester knows what to change",
        )
    _decide(user, request, WaiverRequest.Status.REJECTED, reason[:2000])
    _audit(AuditAction.WAIVER_REJECTED, user, request, reason=request.decision_reason)
    waiver_notices.decided(request)


@transaction.atomic
def withdraw(user: User, request: WaiverRequest) -> None:
    """The requester takes back a pending request."""
    if request.requested_by_id != user.pk:
        raise PermissionDenied("only the person who requested a waiver may withdraw it")
    _decide(user, request, WaiverRequest.Status.WITHDRAWN, "")
    _audit(AuditAction.WAIVER_WITHDRAWN, user, request)


def _decide(user: User, request: WaiverRequest, status: str, reason: str) -> None:
    """Move a pending request to `status`; refuse one decided meanwhile.

    A conditional update: of two approvers clicking at once, exactly one goes on.
    """
    now = timezone.now()
    claimed = WaiverRequest.objects.filter(
        pk=request.pk, status=WaiverRequest.Status.PENDING
    ).update(status=status, decided_by=user, decided_at=now, decision_reason=reason)
    if claimed != 1:
        current = WaiverRequest.objects.filter(pk=request.pk).values_list("status", flat=True)
        raise GovernanceError("status", f"this request was already {current.first() or 'removed'}")
    request.status, request.decided_by, request.decided_at = status, user, now
    request.decision_reason = reason


def _audit(action: AuditAction, user: User, request: WaiverRequest, **details: object) -> None:
    audit.record(
        action,
        actor=user,
        target=request,
        target_label=label(request.repository, request.rule),
        team=request.repository.team,
        details={
            "rule": request.rule.rule_id,
            "requested_by": request.requested_by.username if request.requested_by else None,
            **details,
        },
    )
