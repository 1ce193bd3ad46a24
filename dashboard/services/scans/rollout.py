"""A new version of the standard: re-judge every repository's latest commit under it.

Trends then hold two points for the same commit, one per version, so a score that moved
because the standard changed is told apart from one that moved because the code did.
"""

from __future__ import annotations

from django.db import transaction

from dashboard.models import Repository, Scan, Standard
from dashboard.services.scans.pipeline import request_scan


def reevaluate_latest_commits(standard: Standard) -> int:
    """Queue a scheduled scan of each active repository's latest commit not yet judged under
    `standard`'s current version; returns how many were requested."""
    count = 0
    stale = (
        Repository.objects.filter(active=True, latest_scan__isnull=False)
        .exclude(latest_scan__standard_version=standard.version)
        .select_related("latest_scan")
    )
    for repository in stale.iterator():
        sha = repository.latest_scan.commit_sha if repository.latest_scan else ""
        with transaction.atomic():
            request_scan(repository, Scan.Trigger.SCHEDULE, ref=sha)
        count += 1
    return count
