"""Review scans of pull/merge requests: scan the head, compare with the base, post back.

The head commit is scanned with the repository's project folder; the base is the commit of
the repository's latest scan of its default branch, scanned again here with the same engine
so both sides are judged alike, and the two reports are compared by fingerprint with the one
comparison the command line's `--diff-base` uses (`scanners.baseline.compare_with`). The
result is stored as a `ReviewScan` (never a `Scan`: pull requests stay out of the branch's
history, scores and trends), then a commit status and one summary comment are posted.
"""

from __future__ import annotations

import logging
from functools import partial

from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as KombuOperationalError

from dashboard.domain.clone_urls import workspace_policy
from dashboard.domain.governance import EffectiveScore, score_governed
from dashboard.models import Repository, ReviewScan, Rule
from dashboard.selectors.governance import governance_for
from dashboard.services.access import secrets
from dashboard.services.infra import dispatch
from dashboard.services.reviews import hosts, summary
from dashboard.services.standard.sync import current_standard
from scanners.baseline import Baseline, compare_with, judged_rules
from scanners.engine import scan as run_engine
from scanners.fingerprints import report_findings
from scanners.repo_url import RepositoryError
from scanners.report import Report
from scanners.workspace import Workspace

logger = logging.getLogger(__name__)


NO_BASE_NOTE = "the base branch has no scan yet: every finding counts as new"


class ReviewRetry(Exception):
    """The code host could not take the status or comment now (5xx, 429, unreachable)."""


def request_review(repository: Repository, **facts: object) -> ReviewScan:
    """Record a review of a pull request's head and send it to the workers on commit."""
    review = ReviewScan.objects.create(repository=repository, **facts)
    transaction.on_commit(partial(enqueue, review.pk))
    return review


def enqueue(review_id: int) -> None:
    """Send a review to its queue (the broker down: logged; the code host may send again)."""
    try:
        dispatch.task(dispatch.REVIEW_PULL_REQUEST).delay(review_id)
    except KombuOperationalError as exc:
        logger.warning("review %s not sent: the broker is unreachable (%s)", review_id, exc)


def run_review(review_id: int) -> str:
    """Scan and compare (once), then post back; the review's status. Transient code-host
    errors raise `ReviewRetry` after the comparison is stored, so a retry only posts. A
    review scan that failed (the head cannot be fetched) posts an `error` status saying so."""
    review = (
        ReviewScan.objects.select_related("repository__code_host", "repository__latest_scan")
        .filter(pk=review_id)
        .first()
    )
    if review is None:
        return "gone"
    if review.status == ReviewScan.Status.QUEUED:
        try:
            _judge(review)
        except RepositoryError as exc:
            _fail(review, str(exc))
    if not review.state:
        _post(review)
    return review.status


def _effective(repository: Repository, report: Report) -> EffectiveScore:
    """The report scored as the dashboard scores a stored scan (governance in force now)."""
    rules = {r.rule_id: r for r in Rule.objects.filter(standard=current_standard())}
    rows = (
        (rules[o.spec.id], o.status.value, len(o.result.evidence))
        for o in report.outcomes
        if o.spec.id in rules
    )
    return score_governed(rows, governance_for(repository.pk))


def _scan(workspace: Workspace, repository: Repository, sha: str) -> Report:
    with workspace.checkout(repository.clone_url, sha, fetch=False) as checkout:
        return run_engine(
            checkout.path, project_dir=repository.project_dir or None, repository=checkout.url
        )


def _pull_ref(review: ReviewScan) -> str:
    """Where the host keeps the request's head (the only place a fork's commits reach)."""
    if review.provider == "gitlab":
        return f"refs/merge-requests/{review.number}/head"
    return f"refs/pull/{review.number}/head"


def _base_sha(repository: Repository) -> str:
    """The commit of the repository's latest scan of its default branch ("" when none)."""
    latest = repository.latest_scan
    return latest.commit_sha if latest is not None else ""


def _judge(review: ReviewScan) -> None:
    repository = review.repository
    workspace = Workspace(workspace_policy())
    head_sha = workspace.resolve_pull(repository.clone_url, review.head_sha, _pull_ref(review))
    head = _scan(workspace, repository, head_sha)
    base_sha = _base_sha(repository)
    if base_sha:
        base = _scan(workspace, repository, base_sha)
        baseline = Baseline(
            f"{repository.default_branch} ({base_sha[:12]})",
            report_findings(base),
            judged_rules(base),
            base.standard.version,
            base.project_dir,
        )
        base_score = _effective(repository, base)
    else:  # nothing to compare with: every finding of the head is new, and we say so
        baseline = Baseline("nothing", [], judged_rules(head), "", head.project_dir)
        base_score = EffectiveScore(None, "", {})
    comparison = compare_with(baseline, head)
    notes = comparison.notes if base_sha else [NO_BASE_NOTE]
    score = _effective(repository, head)
    review.base_sha, review.score, review.level = base_sha, score.score, score.level
    review.base_score, review.base_level = base_score.score, base_score.level
    review.new_findings = [f.to_dict() for f in comparison.new]
    review.fixed_findings = [f.to_dict() for f in comparison.fixed]
    review.notes, review.status = notes, ReviewScan.Status.SUCCEEDED
    review.finished_at = timezone.now()
    review.save()


def _fail(review: ReviewScan, message: str) -> None:
    logger.warning("review %s failed: %s", review.pk, message)
    review.status, review.error = ReviewScan.Status.FAILED, message[:2000]
    review.finished_at = timezone.now()
    review.save(update_fields=["status", "error", "finished_at"])


def _note_error(review: ReviewScan, message: str) -> None:
    """Record why nothing (or not everything) was posted, after a failure's own error."""
    failed = review.status == ReviewScan.Status.FAILED
    error = f"{review.error}\n{message}" if failed and review.error else message
    ReviewScan.objects.filter(pk=review.pk).update(error=error[:2000])


def _target(review: ReviewScan) -> hosts.Target | None:
    host = review.repository.code_host
    token = secrets.decrypt(host.token_encrypted) if host is not None else None
    if host is None or not token:
        return None
    return hosts.Target(host.provider, host.api_base_url, token, review.host_repo, review.number)


def _post(review: ReviewScan) -> None:
    """Post the status, then create or update the summary comment."""
    target = _target(review)
    if target is None:
        _note_error(review, "no code host connection with a usable token: nothing posted")
        return
    failed = review.status == ReviewScan.Status.FAILED
    state = "error" if failed else summary.state_of(review, review.repository.pr_gate)
    description = summary.failed(review) if failed else summary.describe(review)
    try:
        hosts.post_status(target, review.head_sha, state, description, summary.target_url(review))
        comment_id = review.comment_id
        if review.repository.pr_comment and not failed:
            comment_id = hosts.upsert_comment(
                target, summary.comment(review, state), review.comment_id or _last_comment(review)
            )
    except hosts.HostError as exc:
        if exc.transient:
            raise ReviewRetry(str(exc)) from None
        _note_error(review, f"posting back failed: {exc}")
        logger.warning("review %s: posting back failed: %s", review.pk, exc)
        return
    review.state, review.description, review.comment_id = state, description, comment_id
    review.save(update_fields=["state", "description", "comment_id"])


def _last_comment(review: ReviewScan) -> str:
    """The comment id an earlier review of the same pull request stored ("" when none)."""
    earlier = (
        ReviewScan.objects.filter(
            repository=review.repository_id,
            provider=review.provider,
            number=review.number,
        )
        .exclude(comment_id="")
        .exclude(pk=review.pk)
        .order_by("-queued_at", "-id")
        .values_list("comment_id", flat=True)
        .first()
    )
    return earlier or ""
