"""Results computed in CI: a `yardstick scan --format json` report, a Cobertura coverage.xml.

Both are untrusted input: size-limited by the caller, validated here (the report against
docs/report-schema.json, the XML parsed with defusedxml), and stored for one commit.
"""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException
from django.conf import settings
from django.db import transaction
from jsonschema import Draft202012Validator

from dashboard.models import CoverageReport, Repository, Scan
from dashboard.services.scanning import Findings, ResultRow, store_findings
from dashboard.services.standards import current_standard
from scanners.formats import ReportFormatError, load_json

SHA = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")
# A CI run reports what the engine found; governance outcomes are decided here, not there.
UPLOADABLE_STATUSES = frozenset({"pass", "fail", "warn", "not_applicable", "error", "manual"})
MAX_COVERAGE_FILES = 50_000


class UploadError(ValueError):
    """The upload cannot be stored; `code` and `details` go into the API's error body."""

    def __init__(self, code: str, message: str, details: object = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details


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


def store_uploaded_report(repository: Repository, document: dict[str, Any]) -> Scan:
    """Store a validated report as a finished scan of its commit (trigger `upload`)."""
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
    total_ms = document["timings"].get("total_ms", 0)
    with transaction.atomic():
        scan = Scan.objects.create(
            repository=repository,
            trigger=Scan.Trigger.UPLOAD,
            ref=commit,
            commit_sha=commit,
            status=Scan.Status.RUNNING,
            standard=standard,
        )
        return store_findings(scan, findings, duration_ms=int(total_ms))


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


def store_coverage(repository: Repository, commit: str, body: bytes) -> CoverageReport:
    """Parse and store (or replace) the uploaded coverage of one commit."""
    if not SHA.match(commit):
        raise UploadError("missing_commit", "give the full commit SHA: ?commit=<40 hex>")
    files = parse_cobertura(body)
    report, _ = CoverageReport.objects.update_or_create(
        repository=repository, commit_sha=commit, source="upload", defaults={"files": files}
    )
    return report
