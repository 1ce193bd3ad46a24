"""Stored scores: a repository's score and level, refreshed from its latest scan.

The effective result, score and level are defined in `dashboard/domain/governance.py` (pure)
and read in `dashboard/selectors/governance.py` (`score_scan`); this module stores them.
"""

from __future__ import annotations

from django.db import transaction

from dashboard.models import Repository, Scan
from dashboard.selectors.governance import score_scan


def refresh_repository_score(repository: Repository) -> Repository:
    """Recompute the denormalised score and level from the latest scan and governance now.

    Everything is read from the database, never from the object passed in: a caller holding
    it from before a newer scan was stored would otherwise score the older scan (the demo's
    Silver 99.5 against a Gold 100 latest scan). The repository row is locked while scoring,
    so a scan stored meanwhile cannot be overwritten, and only score and level are written
    (an `update()`). The object passed in gets the fresh values and is returned.
    """
    with transaction.atomic():
        row = (
            Repository.objects.select_for_update()
            .filter(pk=repository.pk)
            .values_list("latest_scan_id", "level")
            .first()
        )
        if row is None:  # deleted meanwhile: nothing to store
            return repository
        latest_scan_id, before = row
        scan = Scan.objects.filter(pk=latest_scan_id).first() if latest_scan_id else None
        score, level = None, ""
        if scan is not None:
            effective = score_scan(scan)
            score, level = effective.score, effective.level
        Repository.objects.filter(pk=repository.pk).update(score=score, level=level)
    repository.latest_scan_id = scan.pk if scan is not None else None
    repository.score, repository.level = score, level
    if scan is not None:
        from dashboard.services.notify.events import after_level_refreshed

        after_level_refreshed(repository.pk, before, level)
    return repository
