"""Reminders 14 and 3 days before a waiver or an attestation expires: to the repository's
team, once per threshold, never for revoked or expired ones, caught up after a missed day."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from dashboard.models import (
    Attestation,
    Delivery,
    ExpiryReminder,
    Notification,
    Repository,
    Rule,
    Waiver,
)
from dashboard.services.notify.events import save_team_settings
from dashboard.services.notify.waiver_notices import send_expiry_reminders
from dashboard.tasks import send_expiry_reminders as task
from tests.factories import AttestationFactory, RepositoryFactory, WaiverFactory

pytestmark = pytest.mark.django_db

NOW = timezone.now()


@pytest.fixture
def repo(personas: dict[str, Any]) -> Repository:
    save_team_settings(personas["maintainer"], personas["team"], emails="team@example.com")
    return RepositoryFactory(team=personas["team"], name="billing")


def _waiver(repo: Repository, days: float, **extra: Any) -> Waiver:
    rule = Rule.objects.get(rule_id="DEP-002", standard__key="python-backend")
    waiver = WaiverFactory(
        repository=repo, rule=rule, expires_at=NOW + timedelta(days=days), **extra
    )
    Waiver.objects.filter(pk=waiver.pk).update(created_at=NOW - timedelta(days=60))
    return waiver


def _attestation(repo: Repository, days: float) -> Attestation:
    rule = Rule.objects.filter(evaluation="attest").first()
    item = AttestationFactory(repository=repo, rule=rule, expires_at=NOW + timedelta(days=days))
    Attestation.objects.filter(pk=item.pk).update(created_at=NOW - timedelta(days=60))
    return item


def _days_later(days: float) -> datetime:
    return NOW + timedelta(days=days)


def _subjects() -> list[str]:
    return list(
        Notification.objects.filter(kind="expiry_reminder")
        .order_by("pk")
        .values_list("subject", flat=True)
    )


def test_a_waiver_is_reminded_at_14_then_3_days_once_each(repo: Repository) -> None:
    waiver = _waiver(repo, 20)
    assert send_expiry_reminders(NOW) == 0  # 20 days left: nothing yet
    assert send_expiry_reminders(_days_later(6.5)) == 1  # 13.5 days left
    assert send_expiry_reminders(_days_later(7)) == 0  # the same threshold: once
    assert send_expiry_reminders(_days_later(16)) == 0  # 4 days left
    assert send_expiry_reminders(_days_later(17.5)) == 1  # 2.5 days left
    assert send_expiry_reminders(_days_later(18.5)) == 0
    assert list(waiver.reminders.order_by("days").values_list("days", flat=True)) == [3, 14]
    fourteen, three = Notification.objects.filter(kind="expiry_reminder").order_by("pk")
    assert fourteen.team == repo.team
    assert fourteen.repository == repo
    left = (waiver.expires_at.date() - _days_later(6.5).date()).days  # calendar days: 13 or 14
    assert f"Waiver of DEP-002 on billing expires in {left} days" in fourteen.subject
    assert "request a new waiver" in fourteen.body
    assert f"expires in {(waiver.expires_at.date() - _days_later(17.5).date()).days} days" in (
        three.subject
    )
    assert Delivery.objects.filter(notification=fourteen, channel="email").count() == 1


def test_an_attestation_is_reminded_too(repo: Repository) -> None:
    _attestation(repo, 10)
    assert send_expiry_reminders(NOW) == 1
    (subject,) = _subjects()
    assert subject.startswith("Attestation of ")
    assert "expires in 10 days" in subject
    assert ExpiryReminder.objects.get().attestation is not None
    assert "Attest the rule again" in Notification.objects.get(kind="expiry_reminder").body


def test_revoked_expired_and_inactive_ones_are_skipped(
    repo: Repository, personas: dict[str, Any]
) -> None:
    _waiver(repo, 5, revoked_at=NOW - timedelta(days=1))
    expired = _waiver(repo, 5)
    Waiver.objects.filter(pk=expired.pk).update(expires_at=NOW - timedelta(hours=1))
    retired = RepositoryFactory(team=personas["team"], active=False)
    _waiver(retired, 5)
    assert send_expiry_reminders(NOW) == 0
    assert not ExpiryReminder.objects.exists()
    assert not _subjects()


def test_one_granted_close_to_its_expiry_gets_the_nearest_reminder_only(
    repo: Repository,
) -> None:
    _waiver(repo, 2)
    assert send_expiry_reminders(NOW) == 1
    assert send_expiry_reminders(_days_later(1)) == 0
    assert list(ExpiryReminder.objects.values_list("days", flat=True)) == [3]


def test_an_extended_expiry_earns_fresh_reminders(repo: Repository) -> None:
    waiver = _waiver(repo, 10)
    assert send_expiry_reminders(NOW) == 1
    Waiver.objects.filter(pk=waiver.pk).update(expires_at=NOW + timedelta(days=12))
    assert send_expiry_reminders(NOW) == 1
    assert ExpiryReminder.objects.filter(waiver=waiver).count() == 2


def test_the_daily_task_is_thin_and_idempotent(repo: Repository) -> None:
    _waiver(repo, 10)
    _attestation(repo, 3)
    assert task() == {"reminders": 2}
    assert task() == {"reminders": 0}
    assert Notification.objects.filter(kind="expiry_reminder").count() == 2
