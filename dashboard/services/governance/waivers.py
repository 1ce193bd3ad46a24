"""Granting and revoking waivers, recording attestations; scores follow at once."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from dashboard.models import Attestation, AuditAction, Repository, Rule, Waiver
from dashboard.services.access import audit
from dashboard.services.access.permissions import can_grant_waiver, require_team_maintainer
from dashboard.services.scoring.rollups import record_scan_day
from dashboard.services.scoring.scores import refresh_repository_score

MAX_WAIVER_DAYS = 365
DEFAULT_ATTESTATION_DAYS = 90


class GovernanceError(ValueError):
    """Invalid waiver or attestation input; `field` names the input."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _refresh(repository: Repository) -> None:
    refresh_repository_score(repository)
    record_scan_day(repository, timezone.now().date())


def clean_waiver(rule: Rule, reason: str, expires_at: datetime) -> str:
    """The reason to store, or GovernanceError: the bounds every waiver (granted, requested
    or approved) meets."""
    reason = reason.strip()
    if len(reason) < 10:
        raise GovernanceError("reason", "give a reason of at least 10 characters")
    now = timezone.now()
    if expires_at <= now:
        raise GovernanceError("expires_at", "the expiry must be in the future")
    if expires_at > now + timedelta(days=MAX_WAIVER_DAYS):
        raise GovernanceError("expires_at", f"a waiver lasts at most {MAX_WAIVER_DAYS} days")
    if rule.evaluation == "attest":
        raise GovernanceError("rule", "attest rules are attested, not waived")
    return reason[:2000]


def create_waiver(
    approver: User, repository: Repository, rule: Rule, reason: str, expires_at: datetime
) -> Waiver:
    """Store a waiver approved by `approver` (already checked and cleaned) and refresh scores.

    The caller holds the transaction, checks permissions and audits.
    """
    waiver = Waiver.objects.create(
        repository=repository,
        rule=rule,
        reason=reason,
        expires_at=expires_at,
        approved_by=approver,
    )
    _refresh(repository)
    return waiver


@transaction.atomic
def grant_waiver(
    user: User, repository: Repository, rule: Rule, reason: str, expires_at: datetime
) -> Waiver:
    """A manager or an admin accepts a rule's failure until `expires_at`, with a reason.

    Maintainers request a waiver instead (`waiver_requests.request_waiver`): someone else
    approves it.
    """
    if not can_grant_waiver(user):
        raise PermissionDenied("maintainers request waivers; managers and admins grant them")
    reason = clean_waiver(rule, reason, expires_at)
    waiver = create_waiver(user, repository, rule, reason, expires_at)
    audit.record(
        AuditAction.WAIVER_GRANTED,
        actor=user,
        target=waiver,
        target_label=label(repository, rule),
        team=repository.team,
        details={"rule": rule.rule_id, "reason": waiver.reason, "expires_at": expires_at},
    )
    return waiver


def label(repository: Repository, rule: Rule) -> str:
    """How the audit log names a waiver or an attestation."""
    return f"{repository.name} · {rule.rule_id}"


def revoke_waiver(user: User, waiver: Waiver) -> None:
    """End a waiver now."""
    revoke(user, waiver)


@transaction.atomic
def revoke(user: User, item: Waiver | Attestation) -> None:
    """Revoke a waiver or an attestation now (once), refresh the roll-ups, audit it."""
    require_team_maintainer(user, item.repository.team)
    if item.revoked_at is None:
        item.revoked_at = timezone.now()
        item.save(update_fields=["revoked_at"])
        _refresh(item.repository)
        audit.record(
            AuditAction.WAIVER_REVOKED
            if isinstance(item, Waiver)
            else AuditAction.ATTESTATION_REVOKED,
            actor=user,
            target=item,
            target_label=label(item.repository, item.rule),
            team=item.repository.team,
            details={"rule": item.rule.rule_id, "expires_at": item.expires_at},
        )


@transaction.atomic
def attest(
    user: User,
    repository: Repository,
    rule: Rule,
    evidence_url: str,
    note: str = "",
    days: int = DEFAULT_ATTESTATION_DAYS,
) -> Attestation:
    """A maintainer states, with a link as evidence, that an `attest` rule is met."""
    require_team_maintainer(user, repository.team)
    if rule.evaluation != "attest":
        raise GovernanceError("rule", "only attest rules can be attested")
    parts = urlsplit(evidence_url.strip())
    if parts.scheme not in {"https", "http"} or not parts.netloc:
        raise GovernanceError("evidence_url", "evidence must be an http(s) link")
    if not 1 <= days <= MAX_WAIVER_DAYS:
        raise GovernanceError("days", f"an attestation lasts 1 to {MAX_WAIVER_DAYS} days")
    attestation = Attestation.objects.create(
        repository=repository,
        rule=rule,
        evidence_url=evidence_url.strip()[:500],
        note=note.strip()[:2000],
        expires_at=timezone.now() + timedelta(days=days),
        attested_by=user,
    )
    _refresh(repository)
    audit.record(
        AuditAction.ATTESTATION_RECORDED,
        actor=user,
        target=attestation,
        target_label=label(repository, rule),
        team=repository.team,
        details={
            "rule": rule.rule_id,
            "evidence_url": attestation.evidence_url,
            "expires_at": attestation.expires_at,
        },
    )
    return attestation


def revoke_attestation(user: User, attestation: Attestation) -> None:
    """Withdraw an attestation now: the rule is manual again."""
    revoke(user, attestation)


@transaction.atomic
def save_edited(
    user: User, item: Waiver | Attestation, before: Mapping[str, Any], changed: list[str]
) -> None:
    """Store an administrator's edit of a waiver or an attestation (expiry, reason, revocation).

    Scores follow at once, and the audit log keeps each changed field's old and new value.
    """
    require_team_maintainer(user, item.repository.team)
    item.save()
    if not changed:
        return
    _refresh(item.repository)
    action = (
        AuditAction.WAIVER_CHANGED if isinstance(item, Waiver) else AuditAction.ATTESTATION_CHANGED
    )
    audit.record(
        action,
        actor=user,
        target=item,
        target_label=label(item.repository, item.rule),
        team=item.repository.team,
        details={"rule": item.rule.rule_id, "changed": audit.changes(before, item, changed)},
    )
