"""Late measurements: coverage that arrives after its commit was scanned re-judges that scan.

A static scan reads the coverage stored for its commit (`deep_scans.stored_reports`). When
CI uploads the coverage only after the server scanned the commit, each succeeded scan of that
commit is re-judged (task `rejudge_measured`, on the scans queue): TST-006 is run again on a
checkout of the commit with the stored coverage, its result replaced, the scan re-scored, the
repository's score and level refreshed when the scan is its latest, and the roll-ups rebuilt
from the scan's day (`rollups.rerecord_since`). Test results and mypy output arrive in an
uploaded report, which queues a server scan of its commit (see `services.uploads`); when
the server already scanned that commit, the upload re-judges that scan's measured rules
instead (`store_late_report`) and the upload's own scan is marked skipped, saying so.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

from django.db import transaction

from dashboard.domain.clone_urls import workspace_policy
from dashboard.domain.governance import EffectiveScore
from dashboard.models import CheckResult, Repository, Scan
from dashboard.services.infra import dispatch
from dashboard.services.notify.events import after_level_refreshed
from dashboard.services.scans.deep import replace_outcomes, stored_reports
from dashboard.services.scans.results import (
    DEEP_RULES,
    ResultRow,
    merge_reported,
    rescore,
    write_rows,
)
from dashboard.services.scans.row_locks import ScanGone, lock_scan_rows
from dashboard.services.scoring.rollups import rerecord_since
from scanners.engine import scan as run_engine
from scanners.repo_url import RepositoryError
from scanners.report import Report
from scanners.workspace import Workspace

logger = logging.getLogger(__name__)

#: The rules a coverage report feeds.
COVERAGE_RULES = frozenset({"TST-006"})


def queue_rejudge(repository: Repository, commit_sha: str) -> list[int]:
    """Queue a re-judgement of every succeeded scan of the commit (after this transaction)."""
    scan_ids = list(
        Scan.objects.filter(
            repository=repository, commit_sha=commit_sha, status=Scan.Status.SUCCEEDED
        ).values_list("pk", flat=True)
    )
    for scan_id in scan_ids:
        transaction.on_commit(partial(_send, scan_id))
    return scan_ids


def _send(scan_id: int) -> None:
    dispatch.task(dispatch.REJUDGE_MEASURED).delay(scan_id)


def rejudge_coverage(scan_id: int) -> str:
    """Run TST-006 again on the scan's commit with the coverage stored now; store the result.

    Returns what happened ("done", "gone", "no coverage", "failed"); a checkout failure is
    logged, never raised (the scan keeps its earlier result).
    """
    scan = Scan.objects.select_related("repository").filter(pk=scan_id).first()
    if scan is None or scan.status != Scan.Status.SUCCEEDED or not scan.commit_sha:
        return "gone"
    repository = scan.repository
    reports = stored_reports(repository, scan.commit_sha)
    if reports is None:
        return "no coverage"
    try:
        with Workspace(workspace_policy()).checkout(repository.clone_url, scan.commit_sha) as co:
            report = run_engine(
                co.path,
                project_dir=repository.project_dir or None,
                only=COVERAGE_RULES,
                repository=co.url,
                reports=reports,
            )
    except (RepositoryError, OSError) as exc:
        logger.warning("coverage of scan %s not re-judged: %s", scan.pk, exc)
        return "failed"
    try:
        store_rejudged(scan, report)
    except ScanGone:
        return "gone"
    return "done"


@transaction.atomic
def store_rejudged(scan: Scan, report: Report) -> Scan:
    """Replace the re-judged rules' results; refresh the repository and roll-ups it feeds.

    Raises `ScanGone` when the scan or its repository was deleted meanwhile.
    """
    lock_scan_rows(scan)
    effective = replace_outcomes(scan, report)
    scan.save(update_fields=["score", "level", "section_scores", "reported_rules"])
    _propagate(scan, effective)
    return scan


@transaction.atomic
def store_late_report(scan: Scan, reported: Sequence[Mapping[str, Any]]) -> list[str]:
    """Re-judge a scanned commit's measured rules with results CI reported later (a test run,
    mypy, coverage): only rules the scan found not applicable (`results.merge_reported`).
    Returns the rule ids taken. Raises `ScanGone` when the scan was deleted meanwhile.
    """
    lock_scan_rows(scan)
    stored = {
        r.rule.rule_id: r
        for r in CheckResult.objects.filter(scan=scan, rule__rule_id__in=DEEP_RULES).select_related(
            "rule"
        )
    }
    rows = [ResultRow(rule_id, r.status, r.message, r.evidence) for rule_id, r in stored.items()]
    merged, taken = merge_reported(rows, reported)
    write_rows(scan, merged, [stored[rule_id].rule for rule_id in taken], only=taken)
    if not taken:
        return []
    scan.reported_rules = sorted({*scan.reported_rules, *taken})
    effective = rescore(scan)
    scan.save(update_fields=["score", "level", "section_scores", "reported_rules"])
    _propagate(scan, effective)
    return taken


def _propagate(scan: Scan, effective: EffectiveScore) -> None:
    """A re-judged scan's new score reaches its repository (if latest) and the roll-ups."""
    repository = Repository.objects.get(pk=scan.repository_id)
    if repository.latest_scan_id == scan.pk:
        before = repository.level
        repository.score, repository.level = effective.score, effective.level
        repository.save(update_fields=["score", "level"])
        after_level_refreshed(repository.pk, before, repository.level)
    if not scan.history_only and scan.finished_at is not None:
        rerecord_since(repository, scan.finished_at.date())
