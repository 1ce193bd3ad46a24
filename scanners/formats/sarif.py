"""SARIF 2.1.0 output, for code-scanning dashboards (GitHub, GitLab, Azure DevOps).

One run; the driver lists every rule that ran. Only `fail` and `warn` outcomes become
results, one per evidence location so each annotation lands on its own file and line.
Paths are repository-relative and resolved against `%SRCROOT%`. A finding without a path
(e.g. "no CHANGELOG.md") points at an anchor file: the project's `pyproject.toml` when it
exists, else the project folder itself. Findings and their `partialFingerprints` come from
`scanners.fingerprints`; compared with a baseline (`scanners.baseline`), each result has a
`baselineState` and the fixed findings are listed as `absent`.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

from scanners.fingerprints import FINGERPRINT_KEY, Comparison, Finding, report_findings
from scanners.formats.json_report import utc_timestamp
from scanners.report import Report
from scanners.results import Severity, Status
from scanners.standard import RuleSpec

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
SRCROOT = "%SRCROOT%"
TOOL_NAME = "yardstick"

#: Default level of a rule's failure, from its severity.
_FAIL_LEVEL = {
    Severity.CRITICAL: "error",
    Severity.MAJOR: "error",
    Severity.MINOR: "warning",
    Severity.INFO: "note",
}
#: A `warn` (partial) outcome is reported one step softer than a failure.
_WARN_LEVEL = {"error": "warning", "warning": "note", "note": "note"}
_URL = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)


def default_anchor(project_dir: str, root: Path | None = None) -> str:
    """Repository-relative location for findings that name no file (see module docstring)."""
    project = project_dir.strip("/")
    pyproject = f"{project}/pyproject.toml" if project else "pyproject.toml"
    if root is None or (root / pyproject).is_file():
        return pyproject
    return f"{project}/" if project else "./"


def _rule_name(title: str) -> str:
    """A SARIF `name`: the title in UpperCamelCase, letters and digits only."""
    return "".join(word[:1].upper() + word[1:] for word in re.findall(r"[A-Za-z0-9]+", title))


def _descriptor(spec: RuleSpec) -> dict[str, Any]:
    level = _FAIL_LEVEL[spec.severity]
    return {
        "id": spec.id,
        "name": _rule_name(spec.title) or spec.id,
        "shortDescription": {"text": spec.title},
        "fullDescription": {"text": spec.rationale},
        "help": {
            "text": f"{spec.rationale}\n\nRemediation: {spec.remediation}",
            "markdown": f"{spec.rationale}\n\n**Remediation:** {spec.remediation}",
        },
        "defaultConfiguration": {"level": level, "enabled": True},
        "properties": {
            "tags": [spec.section, spec.severity.value, spec.evaluation],
            "section": spec.section,
            "severity": spec.severity.value,
            "evaluation": spec.evaluation,
            "weight": spec.weight,
        },
    }


def _location(path: str, line: int | None) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": {"uri": path, "uriBaseId": SRCROOT}}
    if line is not None and line >= 1:
        physical["region"] = {"startLine": line}
    return {"physicalLocation": physical}


def _level(severity: Severity, status: Status) -> str:
    level = _FAIL_LEVEL[severity]
    return _WARN_LEVEL[level] if status is Status.WARN else level


def _result(finding: Finding, anchor: str, rule_index: int | None) -> dict[str, Any]:
    """One SARIF result of a finding (a pathless one points at the anchor)."""
    result: dict[str, Any] = {"ruleId": finding.rule_id}
    if rule_index is not None:
        result["ruleIndex"] = rule_index
    result |= {
        "kind": "fail",
        "level": _level(finding.severity, finding.status),
        "message": {"text": finding.text or finding.rule_id},
        "locations": [_location(finding.path or anchor, finding.line)],
        "partialFingerprints": {FINGERPRINT_KEY: finding.fingerprint},
        "properties": {"status": finding.status.value},
    }
    return result


def _results(report: Report, anchor: str, comparison: Comparison | None) -> list[dict[str, Any]]:
    """A result per finding; against a baseline, each with its `baselineState` and the fixed
    findings appended as `absent`."""
    index = {o.spec.id: i for i, o in enumerate(report.outcomes)}
    states = comparison.states() if comparison is not None else {}
    results = []
    for finding in report_findings(report):
        result = _result(finding, anchor, index[finding.rule_id])
        if finding.fingerprint in states:
            result["baselineState"] = states[finding.fingerprint]
        results.append(result)
    if comparison is not None:
        for finding in comparison.fixed:
            result = _result(finding, anchor, index.get(finding.rule_id))
            result["baselineState"] = "absent"
            results.append(result)
    return results


def _invocation(report: Report, finished: str) -> dict[str, Any]:
    notifications: list[dict[str, Any]] = [
        {
            "level": "error",
            "message": {"text": f"{o.spec.id}: {o.result.message}"},
            "associatedRule": {"id": o.spec.id},
        }
        for o in report.outcomes
        if o.status is Status.ERROR
    ]
    for note in report.notes:
        notice: dict[str, Any] = {"level": "note", "message": {"text": note.message or "note"}}
        if note.path:
            notice["locations"] = [_location(note.path, note.line)]
        notifications.append(notice)
    return {
        "executionSuccessful": True,
        "endTimeUtc": finished,
        "toolExecutionNotifications": notifications,
    }


def report_to_sarif(
    report: Report,
    *,
    anchor: str | None = None,
    generated_at: datetime | None = None,
    comparison: Comparison | None = None,
) -> dict[str, Any]:
    """The report as a SARIF 2.1.0 log (a JSON-ready mapping); with `comparison`, results
    carry `baselineState` (new, unchanged, and absent for the fixed findings)."""
    anchor = anchor or default_anchor(report.project_dir)
    specs = [o.spec for o in report.outcomes]
    results = _results(report, anchor, comparison)
    score = report.score
    standard = report.standard
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": TOOL_NAME,
                "version": report.engine_version,
                "semanticVersion": report.engine_version,
                "rules": [_descriptor(spec) for spec in specs],
                "properties": {
                    "standard": {
                        "key": standard.key,
                        "name": standard.name,
                        "version": standard.version,
                    },
                    "toolVersions": dict(report.tool_versions),
                },
            }
        },
        "invocations": [_invocation(report, utc_timestamp(generated_at))],
        "originalUriBaseIds": {
            SRCROOT: {"description": {"text": "The root of the scanned repository."}}
        },
        "columnKind": "unicodeCodePoints",
        "results": results,
        "properties": {
            "score": score.value,
            "level": score.level.value,
            "projectDir": report.project_dir,
            "counts": report.counts(),
        },
    }
    if report.commit and _URL.match(report.repository):
        run["versionControlProvenance"] = [
            {"repositoryUri": report.repository, "revisionId": report.commit}
        ]
    return {"$schema": SARIF_SCHEMA_URI, "version": SARIF_VERSION, "runs": [run]}


def render_sarif(
    report: Report,
    *,
    anchor: str | None = None,
    generated_at: datetime | None = None,
    comparison: Comparison | None = None,
) -> str:
    """The report as SARIF 2.1.0 JSON text."""
    log = report_to_sarif(report, anchor=anchor, generated_at=generated_at, comparison=comparison)
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"
