"""The scanning pipeline: request a scan, run it once per repository at a time, store it."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from kombu.exceptions import OperationalError as KombuOperationalError

from dashboard.domain.clone_urls import workspace_policy
from dashboard.models import Repository, Scan
from dashboard.services.infra import dispatch, page_versions
from dashboard.services.notify.events import after_scan_failed
from dashboard.services.scans import deep as deep_scans
from dashboard.services.scans.locks import repository_lock
from dashboard.services.scans.measurements import store_late_report
from dashboard.services.scans.results import store_report
from dashboard.services.scans.row_locks import ScanGone
from dashboard.services.standard.sync import current_standard
from scanners import ENGINE_VERSION
from scanners.engine import scan as run_engine
from scanners.repo_url import RepositoryError
from scanners.workspace import Workspace

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 3


class ScanDeferred(Exception):
    """Another worker holds the repository's lock; try again later."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a task returns: small and JSON-ready."""

    scan_id: int
    status: str
    detail: str = ""

    def as_dict(self) -> dict[str, object]:
        """JSON-ready form for Celery."""
        return {"scan_id": self.scan_id, "status": self.status, "detail": self.detail}


def enqueue(scan_id: int) -> bool:
    """Send the scan to the workers (call only after the row is committed).

    With the broker down the scan stays `queued` in the database and the request that asked
    for it still succeeds: the sweeper sends it again once the broker is back. Returns
    whether the message went out.
    """
    try:
        dispatch.task(dispatch.SCAN_REPOSITORY).delay(scan_id)
    except KombuOperationalError as exc:
        logger.warning(
            "scan %s stays queued: the broker is unreachable (%s); the sweeper will send it",
            scan_id,
            exc,
        )
        return False
    return True


def request_scan(
    repository: Repository,
    trigger: str,
    ref: str = "",
    *,
    send: bool = True,
    force: bool = False,
) -> Scan:
    """Queue a scan; a request while one is already queued merges into it (newest ref wins).

    `send=False` leaves the scan for the caller to run (operators' `scan --sync`).
    `force=True` runs the engine even when the commit was already scanned under the same
    engine and standard versions (a forced request merged into a queued scan forces it).
    """
    with transaction.atomic():
        # Serialise requests per repository: a row lock on the repository, since the queued
        # scan we would merge into may not exist yet (no row to lock).
        Repository.objects.select_for_update().filter(pk=repository.pk).first()
        queued = (
            Scan.objects.filter(repository=repository, status=Scan.Status.QUEUED)
            .exclude(trigger=Scan.Trigger.UPLOAD)  # an upload names its own commit
            .order_by("-queued_at")
            .first()
        )
        if queued is not None:
            changed = []
            if ref and queued.ref != ref:
                queued.ref = ref
                changed.append("ref")
            if force and not queued.forced:
                queued.forced = True
                changed.append("forced")
            if changed:
                queued.save(update_fields=changed)
            return queued
        scan = Scan.objects.create(
            repository=repository,
            trigger=trigger,
            ref=ref,
            standard=current_standard(),
            forced=force,
        )
        if send:
            transaction.on_commit(partial(enqueue, scan.pk))
    return scan


def run_scan(scan_id: int, worker: str) -> Outcome:
    """Run one scan: claim it under the repository lock, fetch, judge, store.

    Safe to call twice for the same scan (redelivery): a finished scan is left alone, and a
    scan left `running` by a dead worker is taken over (its lock died with it).
    """
    scan = Scan.objects.select_related("repository").filter(pk=scan_id).first()
    if scan is None:
        return Outcome(scan_id, "gone")
    if scan.is_finished:
        return Outcome(scan_id, scan.status, "already finished")
    repository = scan.repository
    with repository_lock(repository.pk) as acquired:
        if not acquired:
            raise ScanDeferred(f"repository {repository.pk} is being scanned")
        claimed = Scan.objects.filter(
            pk=scan.pk, status__in=(Scan.Status.QUEUED, Scan.Status.RUNNING)
        ).update(
            status=Scan.Status.RUNNING,
            started_at=timezone.now(),
            worker=worker[:200],
            attempts=F("attempts") + 1,
        )
        if claimed != 1:
            return Outcome(scan_id, "lost", "another worker finished it first")
        page_versions.scans_changed(repository.pk)
        try:
            scan.refresh_from_db()
            try:
                return _execute(scan, repository)
            except RepositoryError as exc:
                return _fail(scan, str(exc))
        except (ScanGone, Scan.DoesNotExist, Repository.DoesNotExist):
            if Scan.objects.filter(pk=scan_id).exists():
                raise  # not a deletion: a real bug, with its traceback
            logger.info("scan %s stopped: its repository was deleted during the scan", scan_id)
            return Outcome(scan_id, "gone", "the repository was deleted during the scan")


def _execute(scan: Scan, repository: Repository) -> Outcome:
    standard = current_standard()
    workspace = Workspace(workspace_policy())
    sha, ref = workspace.resolve(repository.clone_url, scan.ref or repository.default_branch)
    Scan.objects.filter(pk=scan.pk).update(commit_sha=sha, ref=ref)
    page_versions.scans_changed(repository.pk)
    prior = (
        Scan.objects.filter(
            repository=repository,
            commit_sha=sha,
            engine_version=ENGINE_VERSION,
            standard_version=standard.version,
            status=Scan.Status.SUCCEEDED,
        )
        .exclude(pk=scan.pk)
        .order_by("-finished_at")
        .first()
    )
    uploaded = scan.trigger == Scan.Trigger.UPLOAD
    if prior is not None and uploaded:
        return _merge_upload(scan, prior)
    if prior is not None and not scan.forced:
        return _skip(scan, f"commit {sha[:12]} already scanned in scan #{prior.pk}", prior)
    latest = _is_newest(workspace, repository, scan.ref, sha)
    started = time.perf_counter()
    with workspace.checkout(repository.clone_url, sha, fetch=False) as checkout:
        report = run_engine(
            checkout.path,
            project_dir=repository.project_dir or None,
            repository=checkout.url,
            reports=deep_scans.stored_reports(repository, sha),
        )
    stored = store_report(
        scan,
        report,
        duration_ms=int((time.perf_counter() - started) * 1000),
        latest=latest,
        reported=scan.reported_results if uploaded else (),
    )
    deep_scans.queue_deep_scan(stored)
    return Outcome(scan.pk, Scan.Status.SUCCEEDED)


def _is_newest(workspace: Workspace, repository: Repository, ref: str, sha: str) -> bool:
    """Whether a scan of `sha` becomes the repository's latest: a scan of the default branch
    always does; a named commit (an upload, a manual ref) only when the latest scan's commit
    is not a descendant of it (by commit order on the branch, not by time)."""
    if not ref or ref == repository.default_branch:
        return True
    latest_sha = (
        Repository.objects.filter(pk=repository.pk)
        .values_list("latest_scan__commit_sha", flat=True)
        .first()
    )
    if not latest_sha or latest_sha == sha:
        return True
    return workspace.is_ancestor(repository.clone_url, sha, latest_sha) is not True


def _merge_upload(scan: Scan, prior: Scan) -> Outcome:
    """A CI upload for a commit the server already scanned: its measured results re-judge
    that scan (late measurements); the upload's own scan is skipped, saying which rules."""
    taken = store_late_report(prior, scan.reported_results)
    taken_text = ", ".join(taken) if taken else "nothing new"
    prior.refresh_from_db()
    return _skip(scan, f"measured results merged into scan {prior.pk}: {taken_text}", prior)


def _skip(scan: Scan, reason: str, prior: Scan) -> Outcome:
    Scan.objects.filter(pk=scan.pk).update(
        status=Scan.Status.SKIPPED,
        finished_at=timezone.now(),
        skipped_reason=reason[:200],
        duplicate_of=prior,
        score=prior.score,
        level=prior.level,
        engine_version=ENGINE_VERSION,
        standard_version=prior.standard_version,
    )
    page_versions.scans_changed(scan.repository_id)
    return Outcome(scan.pk, Scan.Status.SKIPPED, reason)


def _fail(scan: Scan, message: str) -> Outcome:
    with transaction.atomic():  # the failure and its notification's outbox message, together
        failed = Scan.objects.filter(pk=scan.pk).update(
            status=Scan.Status.FAILED, finished_at=timezone.now(), error=message[:2000]
        )
        if not failed:
            raise ScanGone(scan.pk)
        after_scan_failed(scan.pk)
    logger.warning("scan %s failed: %s", scan.pk, message)
    page_versions.scans_changed(scan.repository_id)
    return Outcome(scan.pk, Scan.Status.FAILED, message)


def fail_scan(scan_id: int, message: str) -> None:
    """Record a failure decided outside the pipeline (time limit, retries exhausted)."""
    with transaction.atomic():  # the failure and its notification's outbox message, together
        failed = Scan.objects.filter(
            pk=scan_id, status__in=(Scan.Status.QUEUED, Scan.Status.RUNNING)
        ).update(status=Scan.Status.FAILED, finished_at=timezone.now(), error=message[:2000])
        if failed:
            after_scan_failed(scan_id)
    repository_id = Scan.objects.filter(pk=scan_id).values_list("repository_id", flat=True)
    if failed and (repository := repository_id.first()) is not None:  # None: deleted since
        page_versions.scans_changed(repository)


def sweep(
    grace: timedelta = timedelta(seconds=60), stale: timedelta | None = None
) -> dict[str, int]:
    """Recover scans nobody is working on.

    - `running` for longer than `grace` but its repository lock is free: the worker died.
      Re-queue it (up to MAX_ATTEMPTS), else fail it. A live worker holds the lock, so it is
      never disturbed.
    - `queued` for longer than `stale` (default: the scan time limit, at least 5 minutes):
      its message was lost (a broker restart without persistence, or the broker was down
      when the scan was requested). Send it again; claiming is conditional, so a duplicate
      is harmless.
    """
    cutoff = timezone.now() - grace
    requeued = failed = resent = 0
    for scan in Scan.objects.filter(status=Scan.Status.RUNNING, started_at__lt=cutoff):
        with repository_lock(scan.repository_id) as acquired:
            if not acquired:
                continue
            if scan.attempts >= MAX_ATTEMPTS:
                fail_scan(scan.pk, f"the worker stopped {scan.attempts} times during this scan")
                failed += 1
                continue
            if Scan.objects.filter(pk=scan.pk, status=Scan.Status.RUNNING).update(
                status=Scan.Status.QUEUED
            ):
                page_versions.scans_changed(scan.repository_id)
                transaction.on_commit(partial(enqueue, scan.pk))
                requeued += 1
    if stale is None:
        stale = timedelta(seconds=max(300, settings.SCAN_TIME_LIMIT_S))
    waiting = Scan.objects.filter(status=Scan.Status.QUEUED, queued_at__lt=timezone.now() - stale)
    for pk in waiting.values_list("pk", flat=True):
        if enqueue(pk):
            resent += 1
    return {"requeued": requeued, "failed": failed, "resent": resent}


def queue_position(scan: Scan) -> int | None:
    """1-based position among queued scans (oldest first), or None when not queued."""
    if scan.status != Scan.Status.QUEUED:
        return None
    return Scan.objects.filter(status=Scan.Status.QUEUED, queued_at__lt=scan.queued_at).count() + 1
