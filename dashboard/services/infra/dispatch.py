"""The one seam between services and Celery tasks: tasks are looked up by name.

Services decide that work must run in a worker; `dashboard/tasks.py` holds the thin task
functions, which call services. So services never import the tasks module (that would make
an import circle, and the import-linter contracts in pyproject.toml forbid it): they name
the task here and get the registered `Task` back, with `.delay`, `.apply_async` and
`.name` as usual (so eager mode, routing and a test's stand-in for `delay` all still apply).

The names below are the tasks' registered names (`@shared_task(name=...)`); a test checks
that each one is registered.
"""

from __future__ import annotations

from typing import Any

from celery import Task, current_app

SCAN_REPOSITORY = "dashboard.scan_repository"
DEEP_SCAN = "dashboard.deep_scan"
REJUDGE_MEASURED = "dashboard.rejudge_measured"
SCAN_FINISHED = "dashboard.scan_finished"
SCAN_FAILED = "dashboard.scan_failed"
LEVEL_CHANGED = "dashboard.level_changed"
DELIVER_NOTIFICATION = "dashboard.deliver_notification"
REEVALUATE_STANDARD = "dashboard.reevaluate_standard"
REVIEW_PULL_REQUEST = "dashboard.review_pull_request"

SENT_BY_SERVICES = (
    SCAN_REPOSITORY,
    DEEP_SCAN,
    REJUDGE_MEASURED,
    SCAN_FINISHED,
    SCAN_FAILED,
    LEVEL_CHANGED,
    DELIVER_NOTIFICATION,
    REEVALUATE_STANDARD,
    REVIEW_PULL_REQUEST,
)


def task(name: str) -> Task[Any, Any]:
    """The registered task called `name`; the task modules are imported on first use.

    Raises KeyError for a name no task module registers (a typo is a bug, not a retry).
    """
    registry = current_app.tasks
    if name not in registry:
        # Celery's own autodiscovery (the installed apps' `tasks` modules), which a worker
        # runs at start-up and a web process runs here, once.
        current_app.autodiscover_tasks(force=True)
    return registry[name]
