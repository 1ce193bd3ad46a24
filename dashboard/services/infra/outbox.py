"""A transactional outbox for follow-up tasks that nobody would notice were lost.

A scan that is stored, fails, or a level that drops outside a scan each calls for a task
that records notifications. Sending that task straight to the broker after the commit loses
it when the broker is down (or restarts without persistence): the scan is safe, but its
team never hears of the drop. So the request for the task is written as an
`OutboxMessage` row in the same transaction, sent after the commit, and deleted by the task
when its work is done (`done`). `resend`, run by the sweeper, sends again every message
whose row outlived its `retry_at`. The tasks are idempotent (notifications have dedupe keys),
so a message that was only slow, and is sent twice, does no harm.

A message still unsent after `GIVE_UP_AFTER` is dropped with an error in the log: a
notification a day late is noise, and the table must not grow without bound.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from celery import Task
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as KombuOperationalError

from dashboard.models import OutboxMessage

logger = logging.getLogger(__name__)

RESEND_AFTER = timedelta(minutes=5)
GIVE_UP_AFTER = timedelta(days=1)


def publish_on_commit(task: Task[Any, Any], *args: Any) -> OutboxMessage:
    """Write the task's message now, in the caller's transaction; send it after the commit.

    `task` must accept `outbox_id=` and call `done(outbox_id)` once its work is done.
    """
    message = OutboxMessage.objects.create(
        task=task.name, args=list(args), retry_at=timezone.now() + RESEND_AFTER
    )
    transaction.on_commit(partial(_send, task, message.pk, list(args)))
    return message


def done(outbox_id: int | None) -> None:
    """The task of this message did its work: forget the message."""
    if outbox_id is not None:
        OutboxMessage.objects.filter(pk=outbox_id).delete()


def _send(task: Task[Any, Any], outbox_id: int, args: list[Any]) -> bool:
    try:
        task.apply_async(args=tuple(args), kwargs={"outbox_id": outbox_id})
    except KombuOperationalError as exc:
        logger.warning(
            "%s%s stays in the outbox: the broker is unreachable (%s); the sweeper will send it",
            task.name,
            tuple(args),
            exc,
        )
        return False
    return True


def resend(now: datetime | None = None) -> dict[str, int]:
    """Send again the messages whose task has not done its work by their `retry_at`.

    Returns how many went out, how many could not (broker still down), and how many were
    dropped for being older than `GIVE_UP_AFTER`.
    """
    from celery import current_app

    now = now or timezone.now()
    resent = unsent = dropped = 0
    for message in OutboxMessage.objects.filter(retry_at__lte=now).order_by("retry_at")[:500]:
        if message.created_at < now - GIVE_UP_AFTER:
            logger.error(
                "outbox message %s (%s) dropped: not done after %s",
                message.pk,
                message,
                GIVE_UP_AFTER,
            )
            message.delete()
            dropped += 1
            continue
        task = current_app.tasks.get(message.task)
        if task is None:
            logger.error("outbox message %s names an unknown task: dropped", message)
            message.delete()
            dropped += 1
            continue
        sent = _send(task, message.pk, message.args)
        OutboxMessage.objects.filter(pk=message.pk).update(
            retry_at=now + RESEND_AFTER, resends=message.resends + 1
        )
        resent, unsent = (resent + 1, unsent) if sent else (resent, unsent + 1)
    return {"outbox_resent": resent, "outbox_unsent": unsent, "outbox_dropped": dropped}
