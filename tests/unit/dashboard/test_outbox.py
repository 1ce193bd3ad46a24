"""Notification work survives a broker outage: the outbox and the sweeper's resends.

The broker is replaced by a stand-in that refuses messages while "down" (raising kombu's
error, as a real unreachable Redis does) and runs the task in-process once "up". The
database, the pipeline's writer and the tasks are the real ones.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from kombu.exceptions import OperationalError as KombuOperationalError

from dashboard import tasks
from dashboard.models import Delivery, Notification, OutboxMessage, Scan
from dashboard.services.infra import outbox
from dashboard.services.notify import delivery
from dashboard.services.notify.events import save_team_settings
from dashboard.services.scans.pipeline import fail_scan
from tests.factories import RepositoryFactory
from tests.notify import store

pytestmark = pytest.mark.django_db

GOLD = {"DEP-001": "pass", "DEP-002": "pass", "DEP-003": "pass"}
NONE = {"DEP-001": "fail", "DEP-002": "pass", "DEP-003": "pass"}
LATER = timedelta(minutes=6)  # past RESEND_AFTER


@dataclass
class Broker:
    """Stands in for `apply_async`/`delay`: refuses while down, runs the task when up."""

    up: bool = False
    sent: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = field(default_factory=list)

    def patch(self, monkeypatch: pytest.MonkeyPatch, *names: str) -> None:
        for name in names:
            task = getattr(tasks, name)

            def apply_async(
                args: tuple[Any, ...] = (),
                kwargs: dict[str, Any] | None = None,
                _task: Any = task,
                **_: Any,
            ) -> None:
                if not self.up:
                    raise KombuOperationalError("Error 111 connecting to 127.0.0.1:6379.")
                self.sent.append((_task.name, tuple(args), dict(kwargs or {})))
                _task.run(*args, **(kwargs or {}))

            monkeypatch.setattr(task, "apply_async", apply_async)
            monkeypatch.setattr(task, "delay", lambda *a, _send=apply_async, **k: _send(a, k))


@pytest.fixture
def broker(monkeypatch: pytest.MonkeyPatch) -> Broker:
    stand_in = Broker()
    stand_in.patch(
        monkeypatch, "scan_finished", "scan_failed", "level_changed", "deliver_notification"
    )
    return stand_in


@pytest.fixture
def team(personas: dict[str, Any]) -> Any:
    save_team_settings(personas["maintainer"], personas["team"], emails="oncall@example.com")
    return personas["team"]


def _dropped(team: Any) -> Scan:
    """A repository's second scan, which drops it from Gold to no level (its notification
    work is in the outbox: on-commit callbacks do not run here unless a test asks)."""
    repository = RepositoryFactory(team=team)
    store(repository, GOLD, sha="1" * 40)
    return store(repository, NONE, sha="2" * 40)


def test_a_level_drop_during_a_broker_outage_is_notified_once_the_broker_is_back(
    team: Any,
    broker: Broker,
    django_capture_on_commit_callbacks: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    repository = RepositoryFactory(team=team)
    broker.up = True
    with django_capture_on_commit_callbacks(execute=True):
        store(repository, GOLD, sha="1" * 40)
    assert tasks.sweep_scans()["outbox_resent"] == 0  # nothing to resend: it went out
    assert not OutboxMessage.objects.exists()  # ... and the task forgot it when done
    broker.up = False
    with (
        caplog.at_level(logging.WARNING, logger="dashboard.services.infra.outbox"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        scan = store(repository, NONE, sha="2" * 40)
    # The scan is stored and its notification's work waits in the outbox, not lost.
    assert Scan.objects.get(pk=scan.pk).status == Scan.Status.SUCCEEDED
    assert "dashboard.scan_finished" in caplog.text
    assert "stays in the outbox" in caplog.text
    message = OutboxMessage.objects.get()
    assert message.args == [scan.pk, "gold", "none"]
    assert not Notification.objects.filter(kind="level_drop").exists()

    # Still down at the sweeper's next pass: counted as unsent, kept, tried later again.
    assert outbox.resend(timezone.now() + LATER)["outbox_unsent"] == 1
    assert OutboxMessage.objects.get().resends == 1

    broker.up = True
    with django_capture_on_commit_callbacks(execute=True):
        assert outbox.resend(timezone.now() + 2 * LATER)["outbox_resent"] == 1
    drop = Notification.objects.get(kind="level_drop")
    assert drop.dedupe_key == f"level-drop:scan:{scan.pk}"
    assert not OutboxMessage.objects.exists()
    # The deliveries it recorded went to the broker (it is up) and were sent once.
    assert [d.status for d in Delivery.objects.filter(notification=drop)] == ["sent"]
    assert broker.sent[1] == (
        "dashboard.scan_finished",
        (scan.pk, "gold", "none"),
        {"outbox_id": message.pk},
    )


def test_a_failure_during_an_outage_is_notified_too(
    team: Any, broker: Broker, django_capture_on_commit_callbacks: Any
) -> None:
    scan = Scan.objects.create(repository=RepositoryFactory(team=team), status=Scan.Status.RUNNING)
    with django_capture_on_commit_callbacks(execute=True):
        fail_scan(scan.pk, "the worker stopped 3 times")
    assert OutboxMessage.objects.get().task == "dashboard.scan_failed"
    broker.up = True
    assert tasks.sweep_scans()["outbox_resent"] == 0  # not yet: the message may be on its way
    assert outbox.resend(timezone.now() + LATER)["outbox_resent"] == 1
    assert Notification.objects.get(kind="scan_failed").scan_id == scan.pk


def test_a_slow_message_sent_twice_notifies_once(team: Any, broker: Broker) -> None:
    broker.up = True
    scan = _dropped(team)  # its messages are in flight: sent, not yet done
    assert OutboxMessage.objects.count() == 2
    assert outbox.resend(timezone.now() + LATER)["outbox_resent"] == 2
    # The original message arrives after all: the task is idempotent.
    tasks.scan_finished(scan.pk, "gold", "none")
    assert Notification.objects.filter(kind="level_drop").count() == 1
    assert not OutboxMessage.objects.exists()


def test_a_task_that_fails_keeps_its_message_for_the_sweeper(
    team: Any, broker: Broker, monkeypatch: pytest.MonkeyPatch
) -> None:
    scan = _dropped(team)
    message = OutboxMessage.objects.get(args=[scan.pk, "gold", "none"])

    def broken(*_: Any) -> str:
        raise RuntimeError("the database blinked")

    monkeypatch.setattr("dashboard.services.notify.events.on_scan_finished", broken)
    with pytest.raises(RuntimeError):
        tasks.scan_finished(scan.pk, "gold", "none", outbox_id=message.pk)
    assert OutboxMessage.objects.filter(pk=message.pk).exists()


def test_the_outbox_gives_up_after_a_day_and_says_so(
    broker: Broker, caplog: pytest.LogCaptureFixture
) -> None:
    message = outbox.publish_on_commit(tasks.scan_failed, 10**9)
    OutboxMessage.objects.filter(pk=message.pk).update(
        created_at=timezone.now() - outbox.GIVE_UP_AFTER - timedelta(minutes=1)
    )
    OutboxMessage.objects.create(task="dashboard.gone_task", args=[], retry_at=timezone.now())
    with caplog.at_level(logging.ERROR, logger="dashboard.services.infra.outbox"):
        assert outbox.resend(timezone.now() + LATER)["outbox_dropped"] == 2
    assert f"outbox message {message.pk}" in caplog.text
    assert "dashboard.gone_task() names an unknown task" in caplog.text
    assert not OutboxMessage.objects.exists()
    assert broker.sent == []


def test_deliveries_never_tried_are_resent_and_tried_ones_are_left_to_their_retries(
    team: Any, broker: Broker, django_capture_on_commit_callbacks: Any
) -> None:
    broker.up = True
    scan = _dropped(team)
    tasks.scan_finished(scan.pk, "gold", "none")  # records the delivery; its task is "lost"
    lost = Delivery.objects.get()
    assert lost.status == Delivery.Status.PENDING
    assert delivery.resend_untried()["deliveries_resent"] == 0  # too recent to be lost
    retrying = Delivery.objects.create(
        notification=lost.notification, channel="slack", target="x", attempts=1
    )
    old = timezone.now() - timedelta(minutes=10)
    Delivery.objects.update(created_at=old)
    assert delivery.resend_untried()["deliveries_resent"] == 1
    lost.refresh_from_db()
    assert lost.status == Delivery.Status.SENT
    retrying.refresh_from_db()
    assert retrying.status == Delivery.Status.PENDING  # its own retry is scheduled
    assert [name for name, *_ in broker.sent] == ["dashboard.deliver_notification"]


def test_deliveries_stay_unsent_while_the_broker_is_down(
    team: Any, broker: Broker, caplog: pytest.LogCaptureFixture
) -> None:
    scan = _dropped(team)
    tasks.scan_finished(scan.pk, "gold", "none")
    Delivery.objects.update(created_at=timezone.now() - timedelta(minutes=10))
    with caplog.at_level(logging.WARNING, logger="dashboard.services.notify.delivery"):
        assert delivery.resend_untried()["deliveries_resent"] == 0
    assert "broker is unreachable" in caplog.text
    assert Delivery.objects.get().status == Delivery.Status.PENDING
