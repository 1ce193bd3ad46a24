"""Periodic work started by Celery beat."""

from __future__ import annotations

import logging
from datetime import date, timedelta

from django.conf import settings
from django.db import transaction

from dashboard.domain.clone_urls import workspace_policy
from dashboard.models import Repository, Scan
from dashboard.services.scans.deep import deep_work_dir
from dashboard.services.scans.pipeline import request_scan
from dashboard.services.scoring import rollups
from dashboard.services.scoring.scores import refresh_repository_score
from scanners import scratch
from scanners.advisories import AdvisoryDatabaseError, update_database
from scanners.deep import SCRATCH_PREFIX
from scanners.workspace import Workspace

logger = logging.getLogger(__name__)


def rescan_active_repositories() -> int:
    """Queue a scheduled scan of each active repository; returns how many were requested."""
    count = 0
    for repository in Repository.objects.filter(active=True).iterator():
        with transaction.atomic():
            request_scan(repository, Scan.Trigger.SCHEDULE)
        count += 1
    return count


def close_day(day: date) -> None:
    """Finalise `day`'s roll-ups and refresh scores whose waivers or attestations lapsed,
    or every score when a rule's grace period ends the next day."""
    rollups.close_day(day)
    changed = Repository.objects.filter(pk__in=rollups.governance_changed_on(day))
    if rollups.rules_taking_effect_on(day + timedelta(days=1)):
        changed = Repository.objects.filter(latest_scan__isnull=False)
    for repository in changed.select_related("latest_scan"):
        refresh_repository_score(repository)


def sweep_scratch() -> dict[str, int]:
    """Remove scratch folders (checkouts, partial clones, deep-scan copies) that killed workers
    left: older than a scan's hard time limit, and no live process holds their lock."""
    older_than = settings.SCAN_TIME_LIMIT_S + settings.TIME_LIMIT_GRACE_S
    removed = Workspace(workspace_policy()).sweep_scratch(older_than)
    removed += scratch.sweep(deep_work_dir(), SCRATCH_PREFIX, older_than)
    return {"scratch_removed": removed}


def refresh_advisories() -> dict[str, object]:
    """Refresh DSEC-003's advisory database from `ADVISORY_SOURCE` into `ADVISORY_DB`.

    On any failure (source unreachable, not an OSV export, disk full) the database in place
    stays as it was, the reason is logged and returned; scans keep reading the old one.
    """
    source = settings.ADVISORY_SOURCE
    if not source:
        return {"refreshed": False, "reason": "ADVISORY_SOURCE is empty"}
    try:
        summary = update_database(source, settings.ADVISORY_DB)
    except AdvisoryDatabaseError as exc:
        logger.error("advisory database not refreshed from %s: %s", source, exc)
        return {"refreshed": False, "reason": str(exc)}
    logger.info(
        "advisory database refreshed: %d advisories for %d packages in %s",
        summary.advisories,
        summary.packages,
        summary.path,
    )
    return {"refreshed": True, "advisories": summary.advisories, "packages": summary.packages}
