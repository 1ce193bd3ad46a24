"""Celery tasks: ids in, small dict out; each calls one service."""

from __future__ import annotations

import socket
from datetime import timedelta

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from dashboard.services import maintenance, scanning
from dashboard.services.heartbeat import record_heartbeat


@shared_task(name="dashboard.heartbeat", ignore_result=True)
def heartbeat(worker: str | None = None) -> dict[str, str]:
    """Record that a worker is alive and executing tasks."""
    beat = record_heartbeat(worker or socket.gethostname())
    return {"worker": beat.worker, "seen_at": beat.seen_at.isoformat()}


@shared_task(
    bind=True,
    name="dashboard.scan_repository",
    acks_late=True,
    reject_on_worker_lost=True,
    # Transient: the repository is locked by another worker, or the database blinked.
    autoretry_for=(scanning.ScanDeferred, OperationalError, InterfaceError),
    retry_backoff=5,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=20,
)
def scan_repository(self: object, scan_id: int) -> dict[str, object]:
    """Run one scan (see `scanning.run_scan`); a time-limit overrun fails the scan."""
    worker = getattr(getattr(self, "request", None), "hostname", None) or socket.gethostname()
    try:
        return scanning.run_scan(scan_id, worker).as_dict()
    except SoftTimeLimitExceeded:
        scanning.fail_scan(scan_id, "the scan ran past its time limit")
        return {"scan_id": scan_id, "status": "failed", "detail": "time limit"}


@shared_task(name="dashboard.sweep_scans", ignore_result=True)
def sweep_scans() -> dict[str, int]:
    """Re-queue scans whose worker died, resend lost queued ones, fail hopeless ones."""
    return scanning.sweep()


@shared_task(name="dashboard.nightly_rescan", ignore_result=True)
def nightly_rescan() -> dict[str, int]:
    """Queue a scheduled scan of every active repository."""
    return {"queued": maintenance.rescan_active_repositories()}


@shared_task(name="dashboard.close_day", ignore_result=True)
def close_day() -> dict[str, str]:
    """Finalise yesterday's roll-ups and carry them to today."""
    yesterday = timezone.now().date() - timedelta(days=1)
    maintenance.close_day(yesterday)
    return {"closed": yesterday.isoformat()}
