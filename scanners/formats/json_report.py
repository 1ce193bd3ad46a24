"""The JSON report: a stable, versioned document (schema in docs/report-schema.json).

Compatibility contract: within schema major version 1, fields are only ever added, never
renamed, removed or retyped. Consumers check `schema_version` and ignore unknown fields.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from scanners import strict_json
from scanners.fingerprints import Comparison, outcome_findings
from scanners.report import REPORT_SCHEMA_VERSION, Report, RuleOutcome, Score
from scanners.results import Status

SCHEMA_MAJOR = REPORT_SCHEMA_VERSION.split(".", 1)[0]


class ReportFormatError(ValueError):
    """A JSON document is not a Yardstick report this version can read."""


def utc_timestamp(moment: datetime | None = None) -> str:
    """ISO 8601 UTC timestamp with a `Z` suffix and second precision."""
    moment = (moment or datetime.now(UTC)).astimezone(UTC)
    return moment.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _counts(outcomes: list[RuleOutcome]) -> dict[str, int]:
    out = {status.value: 0 for status in Status}
    for outcome in outcomes:
        out[outcome.status.value] += 1
    return out


def _score(score: Score) -> dict[str, Any]:
    return {"score": score.value, "level": score.level.value}


def _result(outcome: RuleOutcome, fingerprints: dict[int, str]) -> dict[str, Any]:
    """One result; its evidence items that are findings carry their `fingerprint`."""
    spec = outcome.spec
    evidence = [item.to_dict() for item in outcome.result.evidence]
    for index, value in fingerprints.items():
        evidence[index]["fingerprint"] = value
    return {
        "rule_id": spec.id,
        "section": spec.section,
        "severity": spec.severity.value,
        "evaluation": spec.evaluation,
        "title": spec.title,
        "status": outcome.status.value,
        "message": outcome.result.message,
        "evidence": evidence,
        "remediation": spec.remediation,
        "duration_ms": outcome.duration_ms,
    }


def _results(report: Report) -> list[dict[str, Any]]:
    seen: dict[str, int] = {}
    out = []
    for outcome in report.outcomes:
        found = outcome_findings(outcome, report.line_texts, seen)
        fingerprints = {i: f.fingerprint for i, f in found if i is not None}
        out.append(_result(outcome, fingerprints))
    return out


def diff_to_dict(comparison: Comparison) -> dict[str, Any]:
    """The `diff` member of a report compared with a baseline: counts, new and fixed."""
    return {
        "base": comparison.base_label,
        "counts": comparison.counts(),
        "new": [f.to_dict() for f in comparison.new],
        "fixed": [f.to_dict() for f in comparison.fixed],
        "notes": list(comparison.notes),
    }


def report_to_dict(
    report: Report, generated_at: datetime | None = None, comparison: Comparison | None = None
) -> dict[str, Any]:
    """The report as a JSON-ready mapping that follows docs/report-schema.json (with a
    `diff` member when compared with a baseline)."""
    standard = report.standard
    section_scores = report.section_scores()
    sections = [
        {
            "code": code,
            "title": section.title,
            **_score(section_scores[code]),
            "counts": _counts([o for o in report.outcomes if o.spec.section == code]),
        }
        for code, section in standard.sections.items()
    ]
    document: dict[str, Any] = {
        "schema_version": REPORT_SCHEMA_VERSION,
        "standard": {"key": standard.key, "name": standard.name, "version": standard.version},
        "repository": report.repository,
        "commit": report.commit,
        "project_dir": report.project_dir,
        "discovery": report.discovery.to_dict() if report.discovery is not None else None,
        "engine_version": report.engine_version,
        "tool_versions": dict(report.tool_versions),
        **_score(report.score),
        "sections": sections,
        "results": _results(report),
        "counts": report.counts(),
        "notes": [note.to_dict() for note in report.notes],
        "timings": dict(report.timings),
        "generated_at": utc_timestamp(generated_at),
    }
    if comparison is not None:
        document["diff"] = diff_to_dict(comparison)
    return document


def render_json(
    report: Report, generated_at: datetime | None = None, comparison: Comparison | None = None
) -> str:
    """The report as indented JSON text (UTF-8 safe, keys in schema order)."""
    document = report_to_dict(report, generated_at, comparison)
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def load_json(text: str | bytes) -> dict[str, Any]:
    """Parse a JSON report written by any 1.x engine; raise `ReportFormatError` otherwise."""
    try:
        data = strict_json.loads(text)
    except strict_json.JSONInputError as exc:
        raise ReportFormatError(f"not JSON: {exc}" if exc.malformed else str(exc)) from exc
    if not isinstance(data, dict):
        raise ReportFormatError("a report must be a JSON object")
    version = data.get("schema_version")
    if not isinstance(version, str):
        raise ReportFormatError("missing 'schema_version': not a Yardstick report")
    if version.split(".", 1)[0] != SCHEMA_MAJOR:
        raise ReportFormatError(
            f"report schema {version} is not readable here (this engine reads {SCHEMA_MAJOR}.x)"
        )
    for key in ("standard", "results", "sections"):
        if key not in data:
            raise ReportFormatError(f"report lacks '{key}'")
    return data
