"""Worker liveness: written by the heartbeat task, read by readiness and quickstart."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from dashboard.models import WorkerHeartbeat
from dashboard.observability.context import get_request_id


def record_heartbeat(worker: str) -> WorkerHeartbeat:
    """Upsert the heartbeat of `worker` at the current time."""
    beat, _ = WorkerHeartbeat.objects.update_or_create(
        worker=worker[:255],
        defaults={"seen_at": timezone.now(), "request_id": get_request_id()[:128]},
    )
    return beat


def latest_heartbeat(since: datetime | None = None) -> WorkerHeartbeat | None:
    """The most recent heartbeat, optionally only if newer than `since`."""
    queryset = WorkerHeartbeat.objects.all()
    if since is not None:
        queryset = queryset.filter(seen_at__gte=since)
    return queryset.first()
