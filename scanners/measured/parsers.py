"""Parse measured-result files: Cobertura XML or coverage.py JSON, JUnit XML, mypy output.

Every input is untrusted: size-limited, XML parsed with defusedxml (no entities, no DTDs),
JSON parsed with the standard library; a malformed file raises `ReportParseError` with one
line saying what is wrong.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element  # the type only: parsing is defusedxml's  # nosec B405

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from scanners.measured import (
    MAX_COVERAGE_FILES,
    MAX_REPORT_BYTES,
    CoverageData,
    FailedTest,
    MypyError,
    ReportParseError,
    SuiteRun,
    TypeCheck,
)

_MYPY_ERROR = re.compile(
    r"^(?P<path>(?:[A-Za-z]:)?[^:\n]+?):(?P<line>\d+)(?::\d+)?(?::\d+:\d+)?: error: (?P<msg>.*)$"
)
_MYPY_FOUND = re.compile(r"^Found \d+ errors? in \d+ files?")
_MYPY_SUCCESS = re.compile(r"^Success: no issues found")


def read_report(path: Path | str, limit: int = MAX_REPORT_BYTES) -> bytes:
    """Bytes of a report file, refusing anything larger than `limit`."""
    path = Path(path)
    try:
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise ReportParseError(f"cannot read {path}: {exc.strerror}") from None
    if len(data) > limit:
        raise ReportParseError(f"{path} is larger than {limit // (1024 * 1024)} MiB")
    return data


def _xml(data: bytes, what: str) -> Element:
    if len(data) > MAX_REPORT_BYTES:
        raise ReportParseError(f"the {what} is larger than {MAX_REPORT_BYTES // 2**20} MiB")
    try:
        root: Element = SafeET.fromstring(data)
    except (SafeET.ParseError, DefusedXmlException) as exc:
        raise ReportParseError(f"the {what} is not safe, well-formed XML: {exc}") from None
    return root


# ----- coverage --------------------------------------------------------------------------
def parse_coverage(data: bytes, source: str = "coverage report") -> CoverageData:
    """A Cobertura XML (coverage.py's `coverage xml`) or a coverage.py JSON report."""
    if data.lstrip()[:1] == b"{":
        return parse_coverage_json(data, source)
    return parse_cobertura(data, source)


def parse_cobertura(data: bytes, source: str = "coverage report") -> CoverageData:
    """Cobertura XML: lines counted once per file (a file may appear in several classes)."""
    root = _xml(data, "coverage report")
    if root.tag != "coverage":
        raise ReportParseError(f"root element is <{root.tag}>, not Cobertura's <coverage>")
    roots = tuple(
        text.strip().replace("\\", "/") for s in root.iter("source") if (text := s.text or "")
    )
    lines: dict[str, dict[int, bool]] = {}
    for klass in root.iter("class"):
        name = (klass.get("filename") or "").strip().replace("\\", "/")
        if not name:
            raise ReportParseError("a <class> element has no filename")
        seen = lines.setdefault(name, {})
        if len(lines) > MAX_COVERAGE_FILES:
            raise ReportParseError(f"more than {MAX_COVERAGE_FILES} files")
        for line in klass.iter("line"):
            try:
                number, hits = int(line.get("number", "")), int(line.get("hits", ""))
            except ValueError:
                raise ReportParseError(f"{name}: <line> needs integer number and hits") from None
            seen[number] = seen.get(number, False) or hits > 0
    if not lines:
        raise ReportParseError("the coverage report covers no file")
    files = {name: (sum(hits.values()), len(hits)) for name, hits in lines.items()}
    return CoverageData(files, source, roots)


def _json_file_counts(name: str, entry: Any) -> tuple[int, int]:
    if not isinstance(entry, dict):
        raise ReportParseError(f"{name}: not an object")
    summary = entry.get("summary")
    if isinstance(summary, dict):
        covered, total = summary.get("covered_lines"), summary.get("num_statements")
        if isinstance(covered, int) and isinstance(total, int) and 0 <= covered <= total:
            return covered, total
    executed, missing = entry.get("executed_lines"), entry.get("missing_lines")
    if isinstance(executed, list) and isinstance(missing, list):
        return len(set(executed)), len(set(executed)) + len(set(missing))
    raise ReportParseError(f"{name}: no summary and no executed/missing lines")


def parse_coverage_json(data: bytes, source: str = "coverage report") -> CoverageData:
    """coverage.py's `coverage json`: `files` -> {summary: {covered_lines, num_statements}}."""
    if len(data) > MAX_REPORT_BYTES:
        raise ReportParseError(
            f"the coverage report is larger than {MAX_REPORT_BYTES // 2**20} MiB"
        )
    try:
        document = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise ReportParseError(f"the coverage report is not valid JSON: {exc}") from None
    files = document.get("files") if isinstance(document, dict) else None
    if not isinstance(files, dict):
        raise ReportParseError("not a coverage.py JSON report: no `files` object")
    if not files:
        raise ReportParseError("the coverage report covers no file")
    if len(files) > MAX_COVERAGE_FILES:
        raise ReportParseError(f"more than {MAX_COVERAGE_FILES} files")
    counts = {
        str(name).replace("\\", "/"): _json_file_counts(str(name), entry)
        for name, entry in files.items()
    }
    return CoverageData(counts, source)


# ----- JUnit -----------------------------------------------------------------------------
def _failure_of(case: Element) -> str | None:
    for tag in ("failure", "error"):
        found = case.find(tag)
        if found is not None:
            message = found.get("message") or ""
            if not message:
                lines = [line for line in (found.text or "").splitlines() if line.strip()]
                message = lines[-1].strip() if lines else ""
            return f"{tag}: {message}".strip()[:300]
    return None


def parse_junit(data: bytes, source: str = "test report") -> SuiteRun:
    """JUnit XML (pytest `--junitxml`): every <testcase>, its failure or error, skips."""
    root = _xml(data, "test report")
    if root.tag not in {"testsuites", "testsuite"}:
        raise ReportParseError(f"root element is <{root.tag}>, not JUnit's <testsuite(s)>")
    total = skipped = 0
    failures: list[FailedTest] = []
    for case in root.iter("testcase"):
        total += 1
        module, name = case.get("classname", ""), case.get("name", "?")
        reason = _failure_of(case)
        if reason is not None:
            failures.append(FailedTest(f"{module}::{name}" if module else name, reason, module))
        elif case.find("skipped") is not None:
            skipped += 1
    suite_errors = sum(_int(s.get("errors")) for s in root.iter("testsuite"))
    if suite_errors and not failures:  # collection errors: counted on the suite, no testcase
        failures.append(FailedTest("collection", f"{suite_errors} errors while collecting"))
    return SuiteRun(total, tuple(failures), skipped, source)


def _int(text: str | None) -> int:
    try:
        return int(text or 0)
    except ValueError:
        return 0


# ----- mypy ------------------------------------------------------------------------------
def parse_mypy(text: str, exit_code: int | None = None, source: str = "mypy output") -> TypeCheck:
    """mypy's text output; `checked` when it reached its summary (or exited 0 or 1)."""
    errors: list[MypyError] = []
    summary = ""
    for line in text.splitlines():
        if match := _MYPY_ERROR.match(line):
            errors.append(
                MypyError(match["path"].replace("\\", "/"), int(match["line"]), match["msg"])
            )
        elif _MYPY_FOUND.match(line) or _MYPY_SUCCESS.match(line):
            summary = line.strip()
    if exit_code is None:
        checked = bool(summary)
    else:
        checked = exit_code == 0 or (exit_code == 1 and bool(errors or summary))
    if not checked and not summary:
        tail = [line for line in text.splitlines() if line.strip()][-3:]
        summary = " / ".join(tail)[:500] or "no output"
    return TypeCheck(tuple(errors), checked, summary, source)


def load_mypy_output(path: Path | str) -> TypeCheck:
    """A saved `mypy --strict ... > mypy.txt`: it must end with mypy's summary line."""
    text = read_report(path).decode("utf-8", "replace")
    check = parse_mypy(text, None, str(path))
    if not check.checked:
        raise ReportParseError(
            f"{path}: no mypy summary line ('Success: ...' or 'Found N errors ...')"
        )
    return check
