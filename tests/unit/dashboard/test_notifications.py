"""Notifications: one per event and channel, delivered to a local HTTP server and locmem mail,
retried on a 500, never sent twice; signed outgoing webhooks; digests; deadlines."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from dashboard.models import (
    Delivery,
    Initiative,
    Notification,
    OutboxMessage,
    OutgoingWebhook,
    Scan,
)
from dashboard.services.access import secrets
from dashboard.services.notify import events as notifications
from dashboard.services.notify.delivery import DeliveryRetry, deliver
from dashboard.services.notify.events import save_team_settings
from dashboard.tasks import deliver_notification, scan_failed, scan_finished
from tests.factories import RepositoryFactory
from tests.notify import Receiver, http_receiver, store
from tests.oncommit import queued_work

pytestmark = pytest.mark.django_db

GOLD = {"DEP-001": "pass", "DEP-002": "pass", "DEP-003": "pass"}
NONE = {"DEP-001": "fail", "DEP-002": "pass", "DEP-003": "pass"}


@pytest.fixture
def receiver() -> Any:
    with http_receiver() as running:
        yield running


@pytest.fixture
def team(personas: dict[str, Any], receiver: Receiver) -> Any:
    save_team_settings(
        personas["maintainer"],
        personas["team"],
        emails="oncall@example.com, lead@example.com",
        slack_url=f"{receiver.url}/slack",
    )
    return personas["team"]


def _drop(team: Any, capture: Any) -> Scan:
    """Two scans of one repository, Gold then no level; the task's arguments come on commit."""
    repository = RepositoryFactory(team=team)
    store(repository, GOLD, sha="1" * 40)
    with capture() as captured:
        scan = store(repository, NONE, sha="2" * 40)
    # The task's message is in the outbox, written with the results; it is sent on commit.
    first, message = OutboxMessage.objects.order_by("id")  # one per stored scan
    assert first.args[0] != scan.pk
    assert (message.task, message.args) == ("dashboard.scan_finished", [scan.pk, "gold", "none"])
    [callback] = queued_work(captured)
    assert callback.args[1:] == (message.pk, [scan.pk, "gold", "none"])
    return scan


def test_a_level_drop_sends_exactly_one_message_per_channel(
    team: Any, receiver: Receiver, django_capture_on_commit_callbacks: Any
) -> None:
    scan = _drop(team, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks() as callbacks:
        assert scan_finished(scan.pk, "gold", "none") == "recorded"
    assert len(callbacks) == 2  # one delivery task per channel, queued after commit
    for delivery in Delivery.objects.all():
        assert deliver_notification(delivery.pk) == "sent"
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["oncall@example.com", "lead@example.com"]
    assert "dropped from Gold to None" in mail.outbox[0].subject
    assert [r.path for r in receiver.requests] == ["/slack"]
    assert "dropped from Gold to None" in json.loads(receiver.requests[0].body)["text"]

    # A redelivered task and a second send change nothing.
    assert scan_finished(scan.pk, "gold", "none") == "recorded"
    for delivery in Delivery.objects.all():
        assert deliver_notification(delivery.pk) == "sent"
    assert Notification.objects.filter(kind="level_drop").count() == 1
    assert len(mail.outbox) == 1
    assert len(receiver.requests) == 1


def test_no_notification_when_the_level_holds_or_rises(team: Any) -> None:
    repository = RepositoryFactory(team=team)
    first = store(repository, NONE, sha="1" * 40)
    second = store(repository, GOLD, sha="2" * 40)
    notifications.on_scan_finished(first.pk, "", "none")
    notifications.on_scan_finished(second.pk, "none", "gold")
    assert not Notification.objects.filter(kind="level_drop").exists()


def test_a_500_is_retried_and_recorded_then_sent_once(team: Any, receiver: Receiver) -> None:
    repository = RepositoryFactory(team=team)
    notifications.level_dropped(repository, "silver", "bronze", "k1")
    slack = Delivery.objects.get(channel="slack")
    receiver.codes = [500]
    with pytest.raises(DeliveryRetry):
        deliver_notification(slack.pk)
    slack.refresh_from_db()
    assert (slack.status, slack.attempts, slack.response_code) == ("pending", 1, 500)
    assert slack.last_error == "HTTP 500"
    assert deliver_notification(slack.pk) == "sent"
    assert deliver_notification(slack.pk) == "sent"
    slack.refresh_from_db()
    assert (slack.status, slack.attempts, slack.response_code) == ("sent", 2, 200)
    assert len(receiver.requests) == 2  # the 500 and the success, nothing after


def test_the_last_attempt_and_client_errors_fail_for_good(team: Any, receiver: Receiver) -> None:
    repository = RepositoryFactory(team=team)
    notifications.level_dropped(repository, "gold", "silver", "k1")
    notifications.level_dropped(repository, "silver", "bronze", "k2")
    first, second = Delivery.objects.filter(channel="slack").order_by("pk")
    receiver.codes = [503, 404]
    assert deliver(first.pk, final=True) == "failed"
    assert deliver(second.pk) == "failed"  # 404: trying again will not help
    assert Delivery.objects.get(pk=second.pk).response_code == 404
    assert deliver(second.pk) == "failed"
    assert len(receiver.requests) == 2


def test_a_delivery_claimed_by_another_worker_is_left_alone(team: Any, receiver: Receiver) -> None:
    notifications.level_dropped(RepositoryFactory(team=team), "gold", "none", "k")
    slack = Delivery.objects.get(channel="slack")
    Delivery.objects.filter(pk=slack.pk).update(claimed_at=timezone.now())
    assert deliver(slack.pk) == "pending"
    assert receiver.requests == []
    Delivery.objects.filter(pk=slack.pk).update(claimed_at=timezone.now() - timedelta(hours=1))
    assert deliver(slack.pk) == "sent"  # the claimer died: taken over


def test_unreachable_receiver_is_transient(team: Any) -> None:
    save_team_settings(
        team.memberships.get(role="maintainer").user,
        team,
        emails="",
        slack_url="http://127.0.0.1:9/closed",
    )
    notifications.level_dropped(RepositoryFactory(team=team), "gold", "none", "k")
    slack = Delivery.objects.get(channel="slack")
    with pytest.raises(DeliveryRetry):
        deliver(slack.pk)
    assert "cannot reach 127.0.0.1" in Delivery.objects.get(pk=slack.pk).last_error


def test_outgoing_webhooks_are_signed_and_sent_once_per_scan(team: Any, receiver: Receiver) -> None:
    OutgoingWebhook.objects.create(
        name="ci", url=f"{receiver.url}/hook", secret_encrypted=secrets.encrypt("hook-secret-1")
    )
    OutgoingWebhook.objects.create(
        name="other team",
        url=f"{receiver.url}/no",
        secret_encrypted=secrets.encrypt("x" * 20),
        team=RepositoryFactory().team,
    )
    repository = RepositoryFactory(team=team)
    scan = store(repository, GOLD)
    notifications.on_scan_finished(scan.pk, "", "gold")
    notifications.on_scan_finished(scan.pk, "", "gold")
    hook = Delivery.objects.get(channel="webhook")
    assert deliver_notification(hook.pk) == "sent"
    (request,) = receiver.requests
    assert request.path == "/hook"
    expected = "sha256=" + hmac.new(b"hook-secret-1", request.body, hashlib.sha256).hexdigest()
    assert request.headers["X-Yardstick-Signature-256"] == expected
    assert request.headers["X-Yardstick-Event"] == "scan.completed"
    assert request.headers["X-Yardstick-Delivery"] == str(hook.pk)
    body = json.loads(request.body)
    assert body["scan"]["id"] == scan.pk
    assert body["scan"]["level"] == "gold"
    assert body["repository"]["team"] == team.slug


def test_a_failed_scan_notifies_the_team(team: Any, receiver: Receiver) -> None:
    repository = RepositoryFactory(team=team)
    scan = Scan.objects.create(
        repository=repository, status=Scan.Status.FAILED, error="could not clone"
    )
    assert scan_failed(scan.pk) == "recorded"
    assert scan_failed(scan.pk) == "recorded"
    for delivery in Delivery.objects.all():
        deliver_notification(delivery.pk)
    assert len(mail.outbox) == 1
    assert "could not clone" in mail.outbox[0].body
    assert len(receiver.requests) == 1
    assert scan_failed(10**9) == "gone"


def test_the_pipeline_queues_the_failure_task_after_commit(
    django_capture_on_commit_callbacks: Any,
) -> None:
    from dashboard.services.scans.pipeline import fail_scan

    scan = Scan.objects.create(repository=RepositoryFactory(), status=Scan.Status.RUNNING)
    with django_capture_on_commit_callbacks() as callbacks:
        fail_scan(scan.pk, "time limit")
        fail_scan(scan.pk, "time limit")  # already failed: no second task
    [message] = OutboxMessage.objects.all()
    assert (message.task, message.args) == ("dashboard.scan_failed", [scan.pk])
    assert [cb.args[1:] for cb in queued_work(callbacks)] == [(message.pk, [scan.pk])]


def test_digest_teams_get_one_message_a_day(
    team: Any, receiver: Receiver, personas: dict[str, Any]
) -> None:
    save_team_settings(personas["maintainer"], team, emails="oncall@example.com", digest=True)
    repository = RepositoryFactory(team=team)
    notifications.level_dropped(repository, "gold", "silver", "k1")
    notifications.level_dropped(repository, "silver", "none", "k2")
    assert not Delivery.objects.exists()
    assert notifications.send_digests() == 1
    assert notifications.send_digests() == 0
    assert sorted(Delivery.objects.values_list("channel", flat=True)) == ["email", "slack"]
    for delivery in Delivery.objects.all():
        deliver_notification(delivery.pk)
    assert len(mail.outbox) == 1
    assert len(receiver.requests) == 1
    assert "2 updates" in mail.outbox[0].subject
    assert "dropped from Gold to Silver" in mail.outbox[0].body


def test_deadline_a_week_away_tells_teams_behind_and_the_owner_once(
    team: Any, personas: dict[str, Any], receiver: Receiver
) -> None:
    store(RepositoryFactory(team=team), NONE)
    today = timezone.now().date()
    initiative = Initiative.objects.create(
        name="Payments at Silver",
        goal="level",
        target_level="silver",
        start_date=today - timedelta(days=30),
        target_date=today + timedelta(days=7),
        owner=personas["manager"],
    )
    initiative.teams.add(team)
    Initiative.objects.create(
        name="Far away",
        goal="level",
        target_level="silver",
        start_date=today,
        target_date=today + timedelta(days=30),
    ).teams.add(team)
    assert notifications.notify_deadlines(today) == 2
    assert notifications.notify_deadlines(today) == 0
    for delivery in Delivery.objects.all():
        deliver_notification(delivery.pk)
    recipients = sorted(tuple(m.to) for m in mail.outbox)
    assert recipients == [("manon@example.com",), ("oncall@example.com", "lead@example.com")]
    assert "7 days left" in mail.outbox[0].subject
    assert len(receiver.requests) == 1
