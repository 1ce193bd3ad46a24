"""Operational records: which workers are alive."""

from __future__ import annotations

from django.db import models


class WorkerHeartbeat(models.Model):
    """The last time a worker executed the heartbeat task (readiness and quickstart use it)."""

    worker = models.CharField(max_length=255, unique=True)
    seen_at = models.DateTimeField()
    request_id = models.CharField(max_length=128, blank=True)

    class Meta:
        ordering = ("-seen_at",)

    def __str__(self) -> str:
        return f"{self.worker} @ {self.seen_at:%Y-%m-%d %H:%M:%S}"


class OutboxMessage(models.Model):
    """A follow-up task written in the transaction of the change that calls for it.

    The message goes to the broker after the commit, and the task deletes the row when it
    has done its work. A row still here after its `retry_at` means the message was lost
    (the broker was down, or restarted without persistence): the sweeper sends it again.
    The tasks behind it are idempotent, so a message sent twice does no harm.
    """

    task = models.CharField(max_length=100)
    args = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    retry_at = models.DateTimeField(db_index=True)
    resends = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ("created_at", "id")

    def __str__(self) -> str:
        return f"{self.task}{tuple(self.args)}"
