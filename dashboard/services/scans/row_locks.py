"""A scan whose repository is deleted while it runs: the pipeline stops quietly."""

from __future__ import annotations

from dashboard.models import Repository, Scan


class ScanGone(Exception):
    """The scan's row (or its repository's) was deleted while it ran: nothing to store."""


def lock_scan_rows(scan: Scan) -> None:
    """Lock the scan's repository and scan rows for the transaction in progress; raise
    `ScanGone` when either was deleted meanwhile (the style guide: load by primary key,
    return quietly if the row is gone)."""
    if Repository.objects.select_for_update().filter(pk=scan.repository_id).first() is None:
        raise ScanGone(scan.pk)
    if Scan.objects.select_for_update().filter(pk=scan.pk).values_list("pk").first() is None:
        raise ScanGone(scan.pk)
