"""Results computed in CI: a `yardstick scan --format json` report, a Cobertura coverage.xml.

Both are untrusted input: size-limited by the caller, validated here (the report against
docs/report-schema.json, the XML parsed with defusedxml), and kept for one commit. A report
never becomes a scan as it is: it queues the server's own scan of its commit, which keeps
only CI's measured results (coverage, test run, mypy). Every upload, accepted or refused,
is audited.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict
from functools import cache, partial
from typing import Any

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException
from django.conf import settings
from django.db import transaction
from jsonschema import Draft202012Validator

from dashboard.domain.clone_urls import workspace_policy
from dashboard.models import AuditAction, CoverageReport, Repository, Scan
from dashboard.services.access import audit
from dashboard.services.access.audit import SYSTEM, Actor
from dashboard.services.scans.measurements import queue_rejudge
from dashboard.services.scans.pipeline import enqueue
from dashboard.services.scans.results import DEEP_RULES, Findings, ResultRow
from dashboard.services.standard.sync import current_standard
from scanners.formats import ReportFormatError, load_json
from scanners.repo_url import RepositoryError
from scanners.workspace import Workspace

SHA = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")
# A CI run reports what the engine found; governance outcomes are decided here, not there.
UPLOADABLE_STATUSES = frozenset({"pass", "fail", "warn", "not_applicable", "error", "manual"})
MAX_COVERAGE_FILES = 50_000


class UploadError(ValueError):
    """The upload cannot be stored; `code` and `details` go into the API's error body."""

    def __init__(
        self, code: str, message: str, details: object = None, *, status: int = 422
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details
        self.status = status


@cache
def _report_validator() -> Draft202012Validator:
    schema = json.loads((settings.BASE_DIR / "docs" / "report-schema.json").read_text("utf-8"))
    return Draft202012Validator(schema)


def parse_report(body: bytes) -> dict[str, Any]:
    """A report that follows docs/report-schema.json, or UploadError naming what is wrong."""
    try:
        document = load_json(body)
    except ReportFormatError as exc:
        raise UploadError("invalid_report", str(exc)) from None
    errors = sorted(_report_validator().iter_errors(document), key=lambda e: list(e.path))
    if errors:
        details = [
            {"field": "/" + "/".join(str(p) for p in error.path), "message": error.message[:300]}
            for error in errors[:20]
        ]
        raise UploadError("schema_violation", "the report does not follow its schema", details)
    return document


def _findings(document: dict[str, Any]) -> Findings:
    rows = []
    seen: set[str] = set()
    for result in document["results"]:
        if result["rule_id"] in seen:
            raise UploadError("duplicate_rule", f"{result['rule_id']} is reported more than once")
        seen.add(result["rule_id"])
        if result["status"] not in UPLOADABLE_STATUSES:
            raise UploadError(
                "invalid_status", f"{result['rule_id']}: {result['status']!r} cannot be uploaded"
            )
        rows.append(
            ResultRow(
                result["rule_id"],
                result["status"],
                result["message"],
                list(result["evidence"])[:200],
                float(result.get("duration_ms") or 0.0),
            )
        )
    return Findings(
        rows,
        document["commit"],
        document["engine_version"][:32],
        {str(k)[:64]: str(v)[:64] for k, v in document["tool_versions"].items()},
        {str(k): int(v) for k, v in document["counts"].items()},
    )


def receive_report(repository: Repository, body: bytes, actor: Actor) -> Scan:
    """Validate a CI report and queue the server's own scan of its commit; audited either way.

    The commit must be on the repository's tracked (default) branch (the mirror is fetched to
    check). The server scans that commit itself: CI's static results are ignored, and only
    its measured results (TST-006, TST-008, STY-009) are kept, for the rules the server
    cannot judge itself (`results.merge_reported`). A scan of a commit older than the
    latest one is kept as history of that commit only (`results.store_findings`).
    """
    commit = ""
    try:
        document = parse_report(body)
        commit = str(document.get("commit") or "")[:64]
        scan = _queue_report(repository, document, actor)
    except UploadError as exc:
        _refused(AuditAction.REPORT_UPLOADED, actor, repository, commit, exc)
        raise
    return scan


def _queue_report(repository: Repository, document: dict[str, Any], actor: Actor) -> Scan:
    commit = document.get("commit")
    if not isinstance(commit, str) or not SHA.match(commit):
        raise UploadError("missing_commit", "the report names no commit: scan a git checkout")
    standard = current_standard()
    if document["standard"]["key"] != standard.key:
        raise UploadError(
            "wrong_standard",
            f"the report judges {document['standard']['key']!r}; this server uses {standard.key!r}",
        )
    findings = _findings(document)
    require_on_branch(repository, commit)
    measured = [asdict(row) for row in findings.results if row.rule_id in DEEP_RULES]
    with transaction.atomic():
        scan = Scan.objects.create(
            repository=repository,
            trigger=Scan.Trigger.UPLOAD,
            ref=commit,
            commit_sha=commit,
            standard=standard,
            reported_results=measured,
        )
        _audited(
            AuditAction.REPORT_UPLOADED,
            actor,
            repository,
            {
                "commit": commit,
                "outcome": "accepted",
                "scan": scan.pk,
                "measured_rules": [row["rule_id"] for row in measured],
            },
        )
        transaction.on_commit(partial(enqueue, scan.pk))
    return scan


def require_on_branch(repository: Repository, commit: str) -> None:
    """Refuse a commit that is not on the repository's tracked branch (fetching its mirror)."""
    try:
        on_branch = Workspace(workspace_policy()).commit_on_branch(
            repository.clone_url, commit, repository.default_branch
        )
    except RepositoryError as exc:
        raise UploadError(
            "repository_unavailable",
            f"cannot check the commit against the repository now: {exc}; try again later",
            status=503,
        ) from None
    if not on_branch:
        raise UploadError(
            "unknown_commit",
            f"commit {commit} is not on the tracked branch {repository.default_branch!r} "
            "of this repository: upload reports of commits pushed to it",
        )


def _refused(
    action: AuditAction, actor: Actor, repository: Repository, commit: str, exc: UploadError
) -> None:
    with transaction.atomic():
        _audited(
            action, actor, repository, {"commit": commit, "outcome": "refused", "code": exc.code}
        )


def _audited(
    action: AuditAction, actor: Actor, repository: Repository, details: dict[str, object]
) -> None:
    """One audit event of an upload (accepted or refused) on the repository and its team."""
    audit.record(action, actor=actor, target=repository, team=repository.team, details=details)


def parse_cobertura(body: bytes) -> dict[str, list[int]]:
    """Cobertura XML as {path: [covered lines, total lines]} (lines counted once per file)."""
    try:
        root = SafeET.fromstring(body)
    except (SafeET.ParseError, DefusedXmlException) as exc:
        raise UploadError(
            "invalid_coverage", f"not a safe, well-formed XML document: {exc}"
        ) from None
    if root.tag != "coverage":
        raise UploadError("invalid_coverage", f"root element is <{root.tag}>, not <coverage>")
    lines: dict[str, dict[int, bool]] = {}
    for klass in root.iter("class"):
        path = (klass.get("filename") or "").strip().replace("\\", "/")
        if not path:
            raise UploadError("invalid_coverage", "a <class> element has no filename")
        seen = lines.setdefault(path, {})
        if len(lines) > MAX_COVERAGE_FILES:
            raise UploadError("invalid_coverage", f"more than {MAX_COVERAGE_FILES} files")
        for line in klass.iter("line"):
            try:
                number, hits = int(line.get("number", "")), int(line.get("hits", ""))
            except ValueError:
                raise UploadError(
                    "invalid_coverage", f"{path}: <line> needs integer number and hits"
                ) from None
            seen[number] = seen.get(number, False) or hits > 0
    if not lines:
        raise UploadError("invalid_coverage", "the report covers no file")
    return {path: [sum(hits.values()), len(hits)] for path, hits in sorted(lines.items())}


def store_coverage(
    repository: Repository, commit: str, body: bytes, actor: Actor = SYSTEM
) -> CoverageReport:
    """Parse and store (or replace) the uploaded coverage of one commit; audited either way.

    Scans of that commit that already finished are re-judged (`measurements.queue_rejudge`).
    """
    try:
        if not SHA.match(commit):
            raise UploadError("missing_commit", "give the full commit SHA: ?commit=<40 hex>")
        files = parse_cobertura(body)
    except UploadError as exc:
        _refused(AuditAction.COVERAGE_UPLOADED, actor, repository, commit[:64], exc)
        raise
    with transaction.atomic():
        report, _ = CoverageReport.objects.update_or_create(
            repository=repository, commit_sha=commit, source="upload", defaults={"files": files}
        )
        rejudged = queue_rejudge(repository, commit)
        _audited(
            AuditAction.COVERAGE_UPLOADED,
            actor,
            repository,
            {
                "commit": commit,
                "outcome": "accepted",
                "files": len(files),
                "rejudged_scans": rejudged,
            },
        )
    return report
