"""Periodic work started by Celery beat."""

from __future__ import annotations

from datetime import date, timedelta

from django.db import transaction

from dashboard.models import Repository, Scan
from dashboard.services import rollups
from dashboard.services.scanning import request_scan
from dashboard.services.scoring import refresh_repository_score


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
