"""The Celery application, wired to Django settings (namespace CELERY_)."""

from __future__ import annotations

import os
from typing import Any

from celery import Celery
from celery.schedules import crontab
from celery.signals import before_task_publish, task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")

app = Celery("yardstick")
# Time limits, annotations and broker options are settings (CELERY_*), derived from the one
# validated configuration (dashboard/config.py).
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.update(
    # A killed worker's task is redelivered, not lost; a worker takes one task at a time.
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_serializer="json",
    accept_content=["json"],
    result_serializer="json",
    task_ignore_result=True,
    worker_hijack_root_logger=False,
    broker_connection_retry_on_startup=True,
    timezone="UTC",
    enable_utc=True,
    # Deep scans (the repository's own tests, sandboxed) never wait behind or delay static
    # scans: they have their own queue and workers (`celery worker -Q deep`).
    # Pull request reviews: someone waits for them, so they never queue behind the nightly
    # rescans (`celery worker -Q reviews`, see README "Pull and merge requests").
    task_routes={
        "dashboard.deep_scan": {"queue": "deep"},
        "dashboard.review_pull_request": {"queue": "reviews"},
    },
)
app.conf.beat_schedule = {
    "sweep-scans": {"task": "dashboard.sweep_scans", "schedule": 120.0},
    "worker-heartbeat": {"task": "dashboard.heartbeat", "schedule": 300.0},
    "close-day": {"task": "dashboard.close_day", "schedule": crontab(minute=5, hour=0)},
    # Before the nightly rescans, so that they judge DSEC-003 against last night's advisories.
    "refresh-advisories": {
        "task": "dashboard.refresh_advisories",
        "schedule": crontab(minute=30, hour=1),
    },
    "nightly-rescan": {"task": "dashboard.nightly_rescan", "schedule": crontab(minute=0, hour=2)},
    "initiative-deadlines": {
        "task": "dashboard.notify_deadlines",
        "schedule": crontab(minute=0, hour=8),
    },
    "expiry-reminders": {
        "task": "dashboard.send_expiry_reminders",
        "schedule": crontab(minute=15, hour=8),
    },
    "notification-digests": {
        "task": "dashboard.send_digests",
        "schedule": crontab(minute=30, hour=8),
    },
    # Mondays, after the night's roll-ups and rescans: the week ending today.
    "weekly-digests": {
        "task": "dashboard.send_weekly_digests",
        "schedule": crontab(minute=45, hour=8, day_of_week="mon"),
    },
}
app.autodiscover_tasks()

_REQUEST_ID_HEADER = "request_id"


@before_task_publish.connect
def _carry_request_id(headers: dict[str, Any] | None = None, **_: Any) -> None:
    """Stamp outgoing tasks with the correlation id of the request that sent them."""
    from dashboard.observability.context import get_request_id

    if headers is not None and _REQUEST_ID_HEADER not in headers:
        headers[_REQUEST_ID_HEADER] = get_request_id()


@task_prerun.connect
def _bind_request_id(task: Any = None, **_: Any) -> None:
    """Log a task's lines under the correlation id it was sent with."""
    from dashboard.observability.context import accept_or_generate, set_request_id

    incoming = getattr(task.request, _REQUEST_ID_HEADER, None) if task else None
    task.request.yardstick_token = set_request_id(accept_or_generate(incoming))


@task_postrun.connect
def _unbind_request_id(task: Any = None, **_: Any) -> None:
    """Restore the previous correlation id after a task."""
    from dashboard.observability.context import reset_request_id

    token = getattr(task.request, "yardstick_token", None) if task else None
    if token is not None:
        reset_request_id(token)
