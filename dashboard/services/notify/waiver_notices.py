"""Notifications about waivers: a request awaits a decision, a request was decided, and the
reminders 14 and 3 days before a waiver or an attestation expires.

All go through `events.record`, so each is recorded once (its `dedupe_key`) and delivered
once per channel after commit. The repository's team hears of everything on its channels;
a new request is also e-mailed to those who may decide it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from dashboard.models import Attestation, ExpiryReminder, Notification, Waiver, WaiverRequest
from dashboard.selectors.governance import attestations_expiring, waivers_expiring
from dashboard.selectors.waiver_requests import approver_emails
from dashboard.services.access.permissions import MANAGERS_GROUP, maintainers_approve_waivers
from dashboard.services.notify.events import link, record

#: Days before an expiry when the team is reminded, each once per waiver or attestation.
REMINDER_DAYS = (14, 3)


def _day(moment: datetime) -> str:
    return moment.date().isoformat()


def requested(request: WaiverRequest) -> None:
    """A new request: its team's channels, and an e-mail to those who may decide it."""
    repository, rule = request.repository, request.rule
    who = request.requested_by.username if request.requested_by else "someone"
    subject = f"Waiver requested: {repository.label} · {rule.rule_id}"
    body = (
        f"{who} asks to waive {rule.rule_id} ({rule.title}) on {repository.label} "
        f"({repository.team.name}) until {_day(request.expires_at)}.\n"
        f"Reason: {request.reason}\n"
        f"Approve or reject it: {link(reverse('waiver-requests'))}"
    )
    record(
        Notification.Kind.WAIVER_REQUEST,
        f"waiver-request:{request.pk}:team",
        team=repository.team,
        repository=repository,
        subject=subject,
        body=body,
    )
    emails = approver_emails(
        request, managers_group=MANAGERS_GROUP, with_maintainers=maintainers_approve_waivers()
    )
    if emails:
        record(
            Notification.Kind.WAIVER_REQUEST,
            f"waiver-request:{request.pk}:approvers",
            team=None,
            repository=repository,
            subject=subject,
            body=body,
            payload={"emails": emails},
        )


def decided(request: WaiverRequest) -> None:
    """An approval or a rejection: the requester's team hears it, with the decision's reason."""
    repository, rule = request.repository, request.rule
    who = request.decided_by.username if request.decided_by else "someone"
    verdict = request.get_status_display().lower()
    because = f"\nReason: {request.decision_reason}" if request.decision_reason else ""
    until = (
        f" It is in force until {_day(request.expires_at)}."
        if request.status == WaiverRequest.Status.APPROVED
        else ""
    )
    record(
        Notification.Kind.WAIVER_DECISION,
        f"waiver-decision:{request.pk}:{request.status}",
        team=repository.team,
        repository=repository,
        subject=f"Waiver {verdict}: {repository.label} · {rule.rule_id}",
        body=(
            f"{who} {verdict} the waiver of {rule.rule_id} on {repository.label}.{until}"
            f"{because}\n{link(reverse('repository', args=[repository.pk]))}"
        ),
    )


def _threshold(expires_at: datetime, now: datetime) -> int | None:
    """The nearest reminder threshold already reached (None: none yet).

    A waiver granted 10 days before its expiry gets the 14-day reminder at once, then the
    3-day one; a day the job missed is caught up the next day, not skipped.
    """
    reached = [days for days in REMINDER_DAYS if expires_at - now <= timedelta(days=days)]
    return min(reached) if reached else None


def send_expiry_reminders(now: datetime | None = None) -> int:
    """Remind each team, 14 and then 3 days before, of its waivers and attestations that
    expire (in force, on active repositories: revoked and expired ones are skipped). Each
    reminder is sent once (an `ExpiryReminder` row). Returns how many were sent."""
    now = now or timezone.now()
    within = timedelta(days=max(REMINDER_DAYS))
    sent = _remind_all(list(waivers_expiring(within, at=now)), now)
    return sent + _remind_all(list(attestations_expiring(within, at=now)), now)


def _remind_all(items: list[Waiver] | list[Attestation], now: datetime) -> int:
    field = "waiver" if items and isinstance(items[0], Waiver) else "attestation"
    done = set(
        ExpiryReminder.objects.filter(**{f"{field}__in": items}).values_list(
            f"{field}_id", "days", "expires_at"
        )
    )
    sent = 0
    for item in items:
        days = _threshold(item.expires_at, now)
        if days is not None and (item.pk, days, item.expires_at) not in done:
            sent += _remind(item, field, days, now)
    return sent


@transaction.atomic
def _remind(item: Waiver | Attestation, field: str, days: int, now: datetime) -> int:
    ExpiryReminder.objects.create(**{field: item}, days=days, expires_at=item.expires_at)
    repository, rule = item.repository, item.rule
    left = max(0, (item.expires_at.date() - now.date()).days)
    what = "Waiver" if field == "waiver" else "Attestation"
    renew = (
        "Fix the rule, or request a new waiver"
        if field == "waiver"
        else "Attest the rule again with fresh evidence"
    )
    notification = record(
        Notification.Kind.EXPIRY_REMINDER,
        f"expiry-reminder:{field}:{item.pk}:{days}:{item.expires_at.isoformat()}",
        team=repository.team,
        repository=repository,
        subject=f"{what} of {rule.rule_id} on {repository.label} expires in {left} days",
        body=(
            f"The {what.lower()} of {rule.rule_id} ({rule.title}) on {repository.label} "
            f"expires on {_day(item.expires_at)}. {renew} before then.\n"
            f"{link(reverse('repository', args=[repository.pk]))}"
        ),
    )
    return int(notification is not None)
