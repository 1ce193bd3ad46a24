"""Storing a scan's results: the one writer of result rows, whoever judged them.

A worker's engine report (`store_report`), CI's upload (`store_findings`), a deep scan and
a late measurement (`write_rows` with `only`) all write `CheckResult` rows here, with the
same truncation (message 2,000 characters, 200 evidence items, the finding count kept), and
re-score the scan with `rescore`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from dashboard.domain.governance import EffectiveScore
from dashboard.models import CheckResult, Repository, Rule, Scan
from dashboard.selectors.governance import score_scan
from dashboard.services.governance.ratchets import follow_improvements
from dashboard.services.notify.events import after_scan_stored
from dashboard.services.scans.row_locks import lock_scan_rows
from dashboard.services.scoring.rollups import record_scan_day
from dashboard.services.standard.sync import current_standard
from scanners.report import Report

#: The measured rules: judged from a test run, mypy or coverage (CI's upload, a deep scan).
DEEP_RULES = frozenset({"TST-006", "TST-008", "STY-009"})
MAX_MESSAGE = 2000
MAX_EVIDENCE = 200


@dataclass(frozen=True, slots=True)
class ResultRow:
    """One rule's verdict, ready to store."""

    rule_id: str
    status: str
    message: str
    evidence: list[dict[str, object]]
    duration_ms: float = 0.0
    findings: int | None = None  # evidence items before truncation (default: len(evidence))


@dataclass(frozen=True, slots=True)
class Findings:
    """What a scan found, whoever ran the engine: a worker here, or CI (an uploaded report)."""

    results: list[ResultRow]
    commit: str | None
    engine_version: str
    tool_versions: dict[str, str]
    counts: dict[str, int]
    #: The report's `discovery` (the checkout's Python projects, the judged one); {}: none.
    discovery: dict[str, Any] = field(default_factory=dict)


def merge_reported(
    results: list[ResultRow], reported: Sequence[Mapping[str, Any]]
) -> tuple[list[ResultRow], list[str]]:
    """The server's results, with a measured rule it could not judge (not applicable: no
    coverage, test or mypy data here) taken from CI's report; and the rule ids taken.

    Only the measured rules (`DEEP_RULES`) are ever taken: CI's static results
    are ignored, since the server judged the same commit itself.
    """
    from_ci = {str(row["rule_id"]): row for row in reported if row.get("rule_id") in DEEP_RULES}
    merged: list[ResultRow] = []
    taken: list[str] = []
    for row in results:
        ci = from_ci.get(row.rule_id)
        if ci is not None and row.status == "not_applicable" and ci["status"] != row.status:
            merged.append(
                ResultRow(
                    row.rule_id,
                    str(ci["status"]),
                    str(ci["message"]),
                    list(ci["evidence"])[:200],
                    float(ci.get("duration_ms") or 0.0),
                )
            )
            taken.append(row.rule_id)
        else:
            merged.append(row)
    return merged, taken


def rows_of(report: Report) -> list[ResultRow]:
    """An engine report's verdicts as rows to store."""
    return [
        ResultRow(
            outcome.spec.id,
            outcome.status.value,
            outcome.result.message,
            [e.to_dict() for e in outcome.result.evidence[:MAX_EVIDENCE]],
            outcome.duration_ms,
            len(outcome.result.evidence),
        )
        for outcome in report.outcomes
    ]


def write_rows(
    scan: Scan,
    rows: Iterable[ResultRow],
    rules: Iterable[Rule],
    *,
    only: Collection[str] | None = None,
) -> None:
    """Replace the scan's result rows (all of them, or those of the rule ids in `only`);
    rows of rules not in `rules` (the scan's standard) are dropped."""
    by_id = {rule.rule_id: rule for rule in rules}
    stale = CheckResult.objects.filter(scan=scan)
    if only is not None:
        stale = stale.filter(rule__rule_id__in=list(only))
    stale.delete()
    CheckResult.objects.bulk_create(
        CheckResult(
            scan=scan,
            rule=by_id[row.rule_id],
            status=row.status,
            message=row.message[:MAX_MESSAGE],
            evidence=row.evidence[:MAX_EVIDENCE],
            findings=len(row.evidence) if row.findings is None else row.findings,
            duration_ms=row.duration_ms,
        )
        for row in rows
        if row.rule_id in by_id and (only is None or row.rule_id in only)
    )


def rescore(scan: Scan) -> EffectiveScore:
    """Score the scan's stored results with the governance in force; set (not save) its
    score, level and section scores."""
    effective = score_scan(scan)
    scan.score, scan.level, scan.section_scores = (
        effective.score,
        effective.level,
        effective.sections,
    )
    return effective


def store_report(
    scan: Scan,
    report: Report,
    duration_ms: int,
    *,
    latest: bool = True,
    reported: Sequence[Mapping[str, Any]] = (),
) -> Scan:
    """Write an engine report's results and scores in one transaction (idempotent per scan).

    `reported`: measured results from a CI upload of the same commit (`merge_reported`);
    `latest=False` keeps the scan as history of an older commit (`store_findings`).
    """
    results, taken = merge_reported(rows_of(report), reported)
    findings = Findings(
        results,
        report.commit,
        report.engine_version,
        report.tool_versions,
        report.counts(),
        report.discovery.to_dict() if report.discovery is not None else {},
    )
    return store_findings(scan, findings, duration_ms, latest=latest, reported_rules=taken)


@transaction.atomic
def store_findings(
    scan: Scan,
    findings: Findings,
    duration_ms: int,
    *,
    latest: bool = True,
    reported_rules: Sequence[str] = (),
) -> Scan:
    """Write results and scores in one transaction (idempotent per scan); unknown rules drop.

    With `latest` the scan becomes the repository's latest (score, level, roll-ups,
    ratchets, notifications); without it, it is history of an older commit only.
    Raises `ScanGone` when the scan or its repository was deleted meanwhile.
    """
    lock_scan_rows(scan)
    standard = current_standard()
    write_rows(scan, findings.results, standard.rules.all())
    scan.status = Scan.Status.SUCCEEDED
    scan.finished_at = timezone.now()
    scan.commit_sha = findings.commit or scan.commit_sha
    scan.engine_version = findings.engine_version
    scan.standard = standard
    scan.standard_version = standard.version
    scan.tool_versions = findings.tool_versions
    scan.counts = findings.counts
    scan.discovery = findings.discovery
    scan.duration_ms = duration_ms
    scan.error = ""
    scan.reported_rules = list(reported_rules)
    scan.history_only = not latest
    if latest:
        follow_improvements(scan)
    effective = rescore(scan)
    scan.save()
    if not latest:
        return scan
    repository = scan.repository
    # The level before this scan as stored (the row is locked), not as a stale object says.
    before = Repository.objects.values_list("level", flat=True).get(pk=repository.pk)
    repository.latest_scan = scan
    repository.score, repository.level = effective.score, effective.level
    repository.save(update_fields=["latest_scan", "score", "level"])
    record_scan_day(repository, scan.finished_at.date())
    after_scan_stored(scan.pk, before, effective.level)
    return scan
