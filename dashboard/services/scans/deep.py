"""Measured results in the pipeline: stored coverage for a static scan, and the opt-in deep scan.

A static scan reads any coverage stored for its commit (an upload from CI, or an earlier
deep scan). When a maintainer enabled the deep scan of a repository, each succeeded static
scan queues `deep_scan` on the separate "deep" Celery queue: it runs the repository's tests
and mypy in the sandbox (`scanners.deep`), then replaces the scan's TST-006, TST-008 and
STY-009 results, re-scores it and records the cost (time, peak memory) on the scan.
"""

from __future__ import annotations

import logging
from functools import partial
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from dashboard.domain.clone_urls import workspace_policy
from dashboard.domain.governance import EffectiveScore
from dashboard.models import AuditAction, CoverageReport, Repository, Scan
from dashboard.services.access import audit
from dashboard.services.access.permissions import require_team_maintainer
from dashboard.services.infra import dispatch
from dashboard.services.scans.locks import deep_scan_lock
from dashboard.services.scans.results import DEEP_RULES, rescore, rows_of, write_rows
from dashboard.services.scans.row_locks import ScanGone, lock_scan_rows
from dashboard.services.scoring.rollups import record_scan_day
from scanners.deep import DeepScan, DeepScanConfig, DeepScanResult
from scanners.engine import scan as run_engine
from scanners.measured import CoverageData, Reports
from scanners.repo_url import RepositoryError
from scanners.report import Report
from scanners.sandbox import SandboxUnavailable
from scanners.workspace import Workspace

logger = logging.getLogger(__name__)


def stored_reports(repository: Repository, commit_sha: str) -> Reports | None:
    """Coverage stored for the commit (the newest of any source), as engine `Reports`."""
    stored = (
        CoverageReport.objects.filter(repository=repository, commit_sha=commit_sha)
        .order_by("-created_at")
        .first()
    )
    if stored is None:
        return None
    files = {
        str(path): (int(counts[0]), int(counts[1]))
        for path, counts in stored.files.items()
        if isinstance(counts, list) and len(counts) == 2
    }
    return Reports(coverage=CoverageData(files, f"{stored.source} coverage")) if files else None


@transaction.atomic
def set_enabled(user: User, repository: Repository, enabled: bool) -> None:
    """A maintainer opts the repository in to (or out of) the deep scan, which runs its code."""
    require_team_maintainer(user, repository.team)
    if repository.deep_scan == enabled:
        return
    repository.deep_scan = enabled
    repository.save(update_fields=["deep_scan"])
    audit.record(
        AuditAction.DEEP_SCAN_CHANGED,
        actor=user,
        target=repository,
        team=repository.team,
        details={"enabled": enabled},
    )


def queue_deep_scan(scan: Scan) -> bool:
    """Queue the deep scan of a succeeded scan when its repository opted in."""
    if not scan.repository.deep_scan or scan.status != Scan.Status.SUCCEEDED:
        return False
    Scan.objects.filter(pk=scan.pk).update(deep_status="queued", deep_detail="")
    transaction.on_commit(partial(_send, scan.pk))
    return True


def _send(scan_id: int) -> None:
    dispatch.task(dispatch.DEEP_SCAN).delay(scan_id)


def deep_work_dir() -> Path:
    """Where deep scans keep their scratch copies (VAR_DIR/deep)."""
    return Path(settings.VAR_DIR) / "deep"


def deep_config(repository: Repository) -> DeepScanConfig:
    """Scratch under VAR_DIR/deep; a uv cache per repository (no cross-repository poisoning)."""
    return DeepScanConfig(
        work_dir=deep_work_dir(),
        cache_dir=settings.VAR_DIR / "deep-cache" / str(repository.pk),
    )


def run_deep_scan(scan_id: int) -> str:
    """Run a queued deep scan; its failure is recorded on the scan, never raised.

    Runs under the deep scan's lock. A redelivered message (the broker gave it to a second
    worker) finds the lock taken and leaves quietly; a scan left `running` with its lock free
    belonged to a worker that died (the lock died with it), so it is claimed again.
    """
    with deep_scan_lock(scan_id) as acquired:
        if not acquired:
            logger.info("deep scan of scan %s is running on another worker", scan_id)
            return "running elsewhere"
        return _run_claimed(scan_id)


def _run_claimed(scan_id: int) -> str:
    scan = Scan.objects.select_related("repository").filter(pk=scan_id).first()
    if scan is None or not scan.commit_sha:
        return "gone"
    claimed = Scan.objects.filter(pk=scan.pk, deep_status__in=("queued", "running")).update(
        deep_status="running"
    )
    if not claimed:
        return "not queued"
    repository = scan.repository
    try:
        with Workspace(workspace_policy()).checkout(repository.clone_url, scan.commit_sha) as co:
            result = DeepScan(deep_config(repository)).run(co.path, repository.project_dir or None)
            report = run_engine(
                co.path,
                project_dir=repository.project_dir or None,
                only=DEEP_RULES,
                repository=co.url,
                reports=result.reports,
            )
    except (RepositoryError, SandboxUnavailable, OSError) as exc:
        logger.warning("deep scan of scan %s failed: %s", scan.pk, exc)
        fail_deep_scan(scan.pk, str(exc))
        return "failed"
    try:
        store_deep_scan(scan, result, report)
    except ScanGone:
        logger.info("deep scan of scan %s stopped: its repository was deleted", scan.pk)
        return "gone"
    return "done"


def fail_deep_scan(scan_id: int, message: str) -> None:
    """Record a deep scan's failure decided outside it (time limit)."""
    Scan.objects.filter(pk=scan_id, deep_status__in=("queued", "running")).update(
        deep_status="failed", deep_detail=message[:2000]
    )


def replace_outcomes(scan: Scan, report: Report) -> EffectiveScore:
    """Replace the scan's results of the rules `report` judged, re-score the scan (not saved;
    the caller holds `lock_scan_rows`). CI no longer reports the rules judged here."""
    ids = [o.spec.id for o in report.outcomes]
    rules = scan.standard.rules.filter(rule_id__in=ids) if scan.standard else []
    write_rows(scan, rows_of(report), rules, only=ids)
    scan.reported_rules = [rule for rule in scan.reported_rules if rule not in ids]
    return rescore(scan)


@transaction.atomic
def store_deep_scan(scan: Scan, result: DeepScanResult, report: Report) -> Scan:
    """Replace the scan's report-rule results, store measured coverage, re-score, record cost.

    Raises `ScanGone` when the scan or its repository was deleted meanwhile.
    """
    lock_scan_rows(scan)
    coverage = result.reports.coverage
    if coverage is not None:
        CoverageReport.objects.update_or_create(
            repository=scan.repository,
            commit_sha=scan.commit_sha,
            source="deep",
            defaults={"files": {p: [c, t] for p, (c, t) in coverage.files.items()}},
        )
    effective = replace_outcomes(scan, report)
    scan.deep_status = "done"
    scan.deep_duration_ms = result.duration_ms
    scan.deep_peak_memory_kb = result.peak_memory_kb
    scan.deep_detail = result.detail[:2000]
    scan.save()
    repository = scan.repository
    # Decided by the database, not by a possibly stale object: still the latest scan?
    Repository.objects.filter(pk=repository.pk, latest_scan_id=scan.pk).update(
        score=effective.score, level=effective.level
    )
    record_scan_day(repository, (scan.finished_at or timezone.now()).date())
    return scan
