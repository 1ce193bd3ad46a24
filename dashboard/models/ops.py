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
