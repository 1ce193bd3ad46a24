"""Findings and their fingerprints: the one definition SARIF, the JSON report and the diff share.

A *finding* is one located evidence item of a `fail` or `warn` result (a result whose evidence
names no file is one finding without a path). Its *fingerprint* identifies it across commits:
a hash of the rule id, the path, the evidence message with position numbers removed
(`line 12`, `app.py:12:5`, `L12`) and the stripped text of the evidence line when a line is
given. Line numbers themselves are left out, so inserting lines above a finding does not
change it, while the same rule failing on a line with other content does. Identical
fingerprints (the same line copied twice in a file) are told apart by their occurrence index
in report order, so one more copy of an existing finding is a new finding.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from scanners.report import Report, RuleOutcome
from scanners.results import Evidence, Severity, Status

#: Version of the definition, in SARIF's `partialFingerprints` key: bump when it changes.
FINGERPRINT_KEY = "yardstickFinding/v2"
#: Statuses whose evidence items are findings.
FINDING_STATUSES = frozenset({Status.FAIL, Status.WARN})

_POSITIONS = (
    # "line 12", "lines 3-7", "col 4", "line 12, column 5"
    (
        re.compile(r"\b(lines?|ln|cols?|columns?)\s*\d+(\s*[-:\u2013]\s*\d+)?", re.IGNORECASE),
        r"\1 #",
    ),
    # "app/main.py:12" or "app/main.py:12:5"
    (re.compile(r"(\.[A-Za-z][A-Za-z0-9]*):\d+(:\d+)?\b"), r"\1:#"),
    # GitHub-style anchors: "L12", "L12-L20"
    (re.compile(r"\bL\d+(-L?\d+)?\b"), "L#"),
)

#: (repository-relative path, line) -> the stripped text of that line, as the scan read it.
LineTexts = Mapping[tuple[str, int], str]


@dataclass(frozen=True, slots=True)
class Finding:
    """One finding of a scan (see module docstring), as the diff and the outputs show it."""

    rule_id: str
    severity: Severity
    status: Status
    path: str | None
    line: int | None
    message: str  # the evidence item's message ("" for a finding without evidence)
    summary: str  # the rule result's one-line message
    fingerprint: str

    @property
    def text(self) -> str:
        """The result's message followed by the evidence's, as SARIF and the text show it."""
        if self.message and self.message != self.summary:
            return f"{self.summary}: {self.message}" if self.summary else self.message
        return self.summary or self.message

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the `diff` lists of the JSON report)."""
        return {
            "rule_id": self.rule_id,
            "severity": self.severity.value,
            "status": self.status.value,
            "path": self.path,
            "line": self.line,
            "message": self.text,
            "fingerprint": self.fingerprint,
        }


def normalise_message(message: str) -> str:
    """The message without the numbers that only say where (they move with the code)."""
    for pattern, replacement in _POSITIONS:
        message = pattern.sub(replacement, message)
    return " ".join(message.split())


def fingerprint(rule_id: str, path: str, message: str, line_text: str, occurrence: int) -> str:
    """The fingerprint of one finding (see module docstring): 32 hex digits."""
    parts = (rule_id, path, normalise_message(message), line_text.strip(), str(occurrence))
    return hashlib.sha256("\0".join(parts).encode("utf-8")).hexdigest()[:32]


def finding_evidence(outcome: RuleOutcome) -> list[tuple[int | None, Evidence]]:
    """The evidence items of `outcome` that are findings, with their index in its evidence
    (None for the pathless stand-in of a result whose evidence names no file)."""
    if outcome.status not in FINDING_STATUSES:
        return []
    located: list[tuple[int | None, Evidence]] = [
        (i, e) for i, e in enumerate(outcome.result.evidence) if e.path
    ]
    return located or [(None, Evidence(None, None, ""))]


def outcome_findings(
    outcome: RuleOutcome, line_texts: LineTexts, seen: dict[str, int]
) -> Iterator[tuple[int | None, Finding]]:
    """`outcome`'s findings with their evidence index; `seen` counts base fingerprints across
    the report, for the occurrence index (pass the same dict for every outcome of a report)."""
    spec = outcome.spec
    for index, item in finding_evidence(outcome):
        path = item.path or ""
        line_text = line_texts.get((path, item.line), "") if item.line else ""
        base = fingerprint(spec.id, path, item.message, line_text, 0)
        occurrence = seen.get(base, 0)
        seen[base] = occurrence + 1
        finding = Finding(
            rule_id=spec.id,
            severity=spec.severity,
            status=outcome.status,
            path=item.path,
            line=item.line,
            message=item.message,
            summary=outcome.result.message,
            fingerprint=base
            if occurrence == 0
            else fingerprint(spec.id, path, item.message, line_text, occurrence),
        )
        yield index, finding


def report_findings(report: Report) -> list[Finding]:
    """Every finding of `report`, in report order."""
    seen: dict[str, int] = {}
    return [
        finding
        for outcome in report.outcomes
        for _, finding in outcome_findings(outcome, report.line_texts, seen)
    ]


def evidence_lines(report_outcomes: list[RuleOutcome]) -> set[tuple[str, int]]:
    """The (path, line) pairs whose text the fingerprints of these outcomes need."""
    return {
        (item.path, item.line)
        for outcome in report_outcomes
        for _, item in finding_evidence(outcome)
        if item.path and item.line
    }


def read_line_texts(
    wanted: set[tuple[str, int]], read_text: Callable[[str], str | None]
) -> dict[tuple[str, int], str]:
    """The stripped text of each wanted line, read through `read_text` (the scan's safe
    reader: tracked files inside the checkout only); lines it cannot read are left out."""
    by_path: dict[str, list[int]] = {}
    for path, line in wanted:
        by_path.setdefault(path, []).append(line)
    out: dict[tuple[str, int], str] = {}
    for path, numbers in sorted(by_path.items()):
        text = read_text(path)
        if text is None:
            continue
        # Line ends as Python and git count them (not str.splitlines: form feeds, U+2028).
        lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        for line in numbers:
            if 1 <= line <= len(lines):
                out[(path, line)] = lines[line - 1].strip()
    return out


# ----- comparing two scans -----------------------------------------------------------------
@dataclass(slots=True)
class Comparison:
    """A scan's findings against a baseline's: which are new, fixed (gone) and unchanged."""

    base_label: str  # what the baseline is, for people: "origin/main (1a2b3c4)", a file name
    new: list[Finding]
    fixed: list[Finding]
    unchanged: list[Finding]
    notes: list[str]

    def counts(self) -> dict[str, int]:
        """How many findings are new, fixed and unchanged."""
        return {"new": len(self.new), "fixed": len(self.fixed), "unchanged": len(self.unchanged)}

    def states(self) -> dict[str, str]:
        """Fingerprint -> SARIF `baselineState` of each current finding."""
        return {f.fingerprint: "new" for f in self.new} | {
            f.fingerprint: "unchanged" for f in self.unchanged
        }

    def new_at_or_above(self, severity: Severity) -> list[Finding]:
        """The new findings whose rule is at least as severe as `severity`."""
        return [f for f in self.new if f.severity.weight >= severity.weight]

    def summary(self) -> str:
        """One line: N new, M fixed, K unchanged, against what."""
        counts = self.counts()
        return (
            f"{counts['new']} new, {counts['fixed']} fixed, {counts['unchanged']} unchanged "
            f"finding(s) against {self.base_label}"
        )


def compare(
    base: list[Finding],
    head: list[Finding],
    base_label: str,
    rules: set[str] | None = None,
    notes: list[str] | None = None,
) -> Comparison:
    """Match `head`'s findings to `base`'s by fingerprint (rule id included), over `rules`
    only when given (the rules both scans judged)."""
    if rules is not None:
        base = [f for f in base if f.rule_id in rules]
        head = [f for f in head if f.rule_id in rules]
    before = {f.fingerprint for f in base}
    after = {f.fingerprint for f in head}
    return Comparison(
        base_label=base_label,
        new=[f for f in head if f.fingerprint not in before],
        fixed=[f for f in base if f.fingerprint not in after],
        unchanged=[f for f in head if f.fingerprint in before],
        notes=list(notes or []),
    )
