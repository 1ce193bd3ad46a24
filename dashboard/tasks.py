"""Celery tasks: thin wrappers that call services."""

from __future__ import annotations

import socket

from celery import shared_task

from dashboard.services.heartbeat import record_heartbeat


@shared_task(name="dashboard.heartbeat", ignore_result=True)
def heartbeat(worker: str | None = None) -> dict[str, str]:
    """Record that a worker is alive and executing tasks."""
    beat = record_heartbeat(worker or socket.gethostname())
    return {"worker": beat.worker, "seen_at": beat.seen_at.isoformat()}
