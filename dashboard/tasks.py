"""Celery tasks: ids in, small dict out; each calls one service."""

from __future__ import annotations

import socket
from datetime import timedelta
from typing import Any

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from dashboard.models import Standard
from dashboard.services import periodic as maintenance
from dashboard.services.infra import outbox
from dashboard.services.infra.heartbeat import record_heartbeat
from dashboard.services.notify import delivery, waiver_notices
from dashboard.services.notify import events as notifications
from dashboard.services.notify import weekly as weekly_digest
from dashboard.services.reviews import review as reviews
from dashboard.services.scans import deep as deep_scans
from dashboard.services.scans import measurements, rollout
from dashboard.services.scans import pipeline as scanning
from dashboard.services.scoring import check as score_check


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


@shared_task(
    name="dashboard.deep_scan",  # routed to the "deep" queue (dashboard/celery.py)
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    # Time limits: settings.DEEP_SCAN_TIME_LIMIT_S, through CELERY_TASK_ANNOTATIONS.
)
def deep_scan(scan_id: int) -> dict[str, object]:
    """Run the opt-in sandboxed deep scan of a scan's commit (queue "deep")."""
    try:
        return {"scan_id": scan_id, "status": deep_scans.run_deep_scan(scan_id)}
    except SoftTimeLimitExceeded:
        deep_scans.fail_deep_scan(scan_id, "the deep scan ran past its time limit")
        return {"scan_id": scan_id, "status": "failed", "detail": "time limit"}


@shared_task(
    name="dashboard.review_pull_request",  # routed to the "reviews" queue (dashboard/celery.py)
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    # Transient: the code host answered 5xx/429 or could not be reached; the database blinked.
    autoretry_for=(reviews.ReviewRetry, OperationalError, InterfaceError),
    retry_backoff=10,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=6,
)
def review_pull_request(review_id: int) -> dict[str, object]:
    """Scan a pull request's head, compare it with its base, post the status and comment."""
    return {"review_id": review_id, "status": reviews.run_review(review_id)}


@shared_task(name="dashboard.rejudge_measured", acks_late=True, ignore_result=True)
def rejudge_measured(scan_id: int) -> dict[str, object]:
    """Re-judge a scan's coverage rule after its commit's coverage arrived late."""
    return {"scan_id": scan_id, "status": measurements.rejudge_coverage(scan_id)}


@shared_task(name="dashboard.sweep_scans", ignore_result=True)
def sweep_scans() -> dict[str, int]:
    """Re-queue scans whose worker died, resend lost queued ones, fail hopeless ones; resend
    lost notification work (outbox messages, deliveries never tried); remove the scratch
    folders killed workers left."""
    return {
        **scanning.sweep(),
        **outbox.resend(),
        **delivery.resend_untried(),
        **maintenance.sweep_scratch(),
    }


@shared_task(name="dashboard.nightly_rescan", ignore_result=True)
def nightly_rescan() -> dict[str, int]:
    """Queue a scheduled scan of every active repository."""
    return {"queued": maintenance.rescan_active_repositories()}


@shared_task(name="dashboard.close_day", ignore_result=True)
def close_day() -> dict[str, str]:
    """Finalise yesterday's roll-ups and carry them to today, then check every stored score
    against the one definition: an ERROR per drift, repaired (services/scoring/check.py)."""
    yesterday = timezone.now().date() - timedelta(days=1)
    maintenance.close_day(yesterday)
    drifts = score_check.nightly()
    return {"closed": yesterday.isoformat(), "score_drifts": str(len(drifts))}


# ----- rolling out the standard: notifications, re-evaluation -------------------------------
# The three below are sent through the outbox (services/infra/outbox.py): `outbox_id` is their
# message, forgotten once the work is done; the sweeper resends it if it was lost.
@shared_task(name="dashboard.scan_finished", ignore_result=True, acks_late=True)
def scan_finished(scan_id: int, before: str, after: str, outbox_id: int | None = None) -> str:
    """Record a finished scan's notifications (level drop, outgoing webhooks)."""
    status = notifications.on_scan_finished(scan_id, before, after)
    outbox.done(outbox_id)
    return status


@shared_task(name="dashboard.scan_failed", ignore_result=True, acks_late=True)
def scan_failed(scan_id: int, outbox_id: int | None = None) -> str:
    """Record a failed scan's notifications."""
    status = notifications.on_scan_failed(scan_id)
    outbox.done(outbox_id)
    return status


@shared_task(name="dashboard.level_changed", ignore_result=True, acks_late=True)
def level_changed(
    repository_id: int, before: str, after: str, day: str, outbox_id: int | None = None
) -> str:
    """Record a level drop that no scan caused (governance, grace periods ending)."""
    status = notifications.on_level_changed(repository_id, before, after, day)
    outbox.done(outbox_id)
    return status


@shared_task(
    bind=True,
    name="dashboard.deliver_notification",
    ignore_result=True,
    acks_late=True,
    # Transient: the receiver answered 5xx/429 or could not be reached; the database blinked.
    autoretry_for=(delivery.DeliveryRetry, OperationalError, InterfaceError),
    retry_backoff=30,
    retry_backoff_max=settings.NOTIFICATION_RETRY_MAX_DELAY_S,  # below Redis's visibility
    retry_jitter=True,
    max_retries=6,
)
def deliver_notification(self: Any, delivery_id: int) -> str:
    """Send one delivery; the last retry records a transient failure as failed."""
    final = self.request.retries >= (self.max_retries or 0)
    return delivery.deliver(delivery_id, final=final)


@shared_task(name="dashboard.notify_deadlines", ignore_result=True)
def notify_deadlines() -> dict[str, int]:
    """Tell teams (and owners) about initiatives ending within a week."""
    return {"recorded": notifications.notify_deadlines()}


@shared_task(name="dashboard.send_digests", ignore_result=True)
def send_digests() -> dict[str, int]:
    """Send each digest team one message with what happened since the last one."""
    return {"digests": notifications.send_digests()}


@shared_task(name="dashboard.send_expiry_reminders", ignore_result=True)
def send_expiry_reminders() -> dict[str, int]:
    """Remind teams 14 and 3 days before a waiver or an attestation expires (once each)."""
    return {"reminders": waiver_notices.send_expiry_reminders()}


@shared_task(name="dashboard.send_weekly_digests", ignore_result=True, acks_late=True)
def send_weekly_digests() -> dict[str, int]:
    """Send this week's digest to each subscriber (once per ISO week, however often run)."""
    return {"digests": weekly_digest.send_weekly_digests()}


@shared_task(name="dashboard.refresh_advisories", ignore_result=True)
def refresh_advisories() -> dict[str, object]:
    """Refresh DSEC-003's offline advisory database (the nightly rescans then read it)."""
    return maintenance.refresh_advisories()


@shared_task(name="dashboard.reevaluate_standard", ignore_result=True, acks_late=True)
def reevaluate_standard(standard_id: int) -> dict[str, int]:
    """Re-judge every active repository's latest commit under a new version of the standard."""
    standard = Standard.objects.filter(pk=standard_id).first()
    if standard is None:
        return {"queued": 0}
    return {"queued": rollout.reevaluate_latest_commits(standard)}
