"""The terminal report: results grouped by section, failures with evidence and remediation."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TextIO

from scanners.discovery import describe_kind
from scanners.fingerprints import Comparison
from scanners.report import Report, RuleOutcome, Score
from scanners.results import Status

#: Evidence lines shown per result before "… N more".
MAX_EVIDENCE = 5

_WORD = {
    Status.PASS: "PASS",
    Status.FAIL: "FAIL",
    Status.WARN: "WARN",
    Status.NOT_APPLICABLE: "N/A",
    Status.ERROR: "ERROR",
    Status.WAIVED: "WAIVED",
    Status.MANUAL: "MANUAL",
}
_SYMBOL = {
    Status.PASS: "✓",
    Status.FAIL: "✗",
    Status.WARN: "!",
    Status.NOT_APPLICABLE: "-",
    Status.ERROR: "?",
    Status.WAIVED: "~",
    Status.MANUAL: "•",
}
_COLOUR = {
    Status.PASS: "32",  # green
    Status.FAIL: "31",  # red
    Status.WARN: "33",  # yellow
    Status.ERROR: "35",  # magenta
    Status.WAIVED: "36",  # cyan
}
_WIDTH = max(len(word) for word in _WORD.values())


def use_colour(stream: TextIO, environ: Mapping[str, str] | None = None) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    env = os.environ if environ is None else environ
    if env.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


class _Painter:
    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, text: str, code: str | None) -> str:
        if not self.enabled or not code:
            return text
        return f"\033[{code}m{text}\033[0m"


def _score_text(score: Score) -> str:
    """The repository's score and level: the summary line."""
    if score.value is None:
        return f"no scorable result, level {score.level.value}"
    return f"{score.value:g}/100, level {score.level.value}"


def _section_text(outcomes: list[RuleOutcome], score: Score) -> str:
    """A section's own score and how many of its scored rules passed.

    No level: levels belong to the repository (every section's results together), so a
    section that scores 0 would otherwise show one ("0/100, level silver").
    """
    scored = [o for o in outcomes if o.status.credit is not None]
    passed = sum(o.status is Status.PASS for o in scored)
    parts = ["no score" if score.value is None else f"{score.value:g}/100"]
    if scored:
        parts.append(f"{passed} of {len(scored)} rule{'s' if len(scored) != 1 else ''} passed")
    if unscored := len(outcomes) - len(scored):
        parts.append(f"{unscored} not scored")
    return ", ".join(parts)


def _outcome_lines(outcome: RuleOutcome, paint: _Painter) -> list[str]:
    status = outcome.status
    word = f"{_SYMBOL[status]} {_WORD[status]:<{_WIDTH}}"
    spec = outcome.spec
    message = f" — {outcome.result.message}" if outcome.result.message else ""
    lines = [f"  {paint(word, _COLOUR.get(status))}  {spec.id}  {spec.title}{message}"]
    if status in (Status.FAIL, Status.WARN):
        evidence = outcome.result.evidence
        for item in evidence[:MAX_EVIDENCE]:
            where = item.path or "."
            if item.line is not None:
                where = f"{where}:{item.line}"
            lines.append(f"      {paint(where, '2')} {item.message}".rstrip())
        if len(evidence) > MAX_EVIDENCE:
            lines.append(f"      … {len(evidence) - MAX_EVIDENCE} more")
        lines.append(f"      fix: {spec.remediation}")
    return lines


def _project_lines(report: Report) -> list[str]:
    """Which project was judged and why, and the other Python projects of the checkout."""
    found = report.discovery
    if found is None:
        return [f"project:    {report.project_dir}"] if report.project_dir else []
    if not report.project_dir and len(found.candidates) <= 1:
        return []  # one project at the root: nothing to explain
    lines = [f"project:    {report.project_dir or '.'}: {found.reason}"]
    if found.others:
        others = ", ".join(f"{c.label} ({describe_kind(c)})" for c in found.others)
        lines.append(f"also found: {others}")
    return lines


def render_text(report: Report, *, colour: bool = False) -> str:
    """The report as a readable table; ANSI colours only when `colour` is set."""
    paint = _Painter(colour)
    standard = report.standard
    head = [
        paint(f"Yardstick {report.engine_version}", "1") + f" · {standard.name} {standard.version}",
        f"repository: {report.repository}",
        f"commit:     {report.commit or 'n/a'}",
    ]
    head.extend(_project_lines(report))
    lines = [*head, ""]
    section_scores = report.section_scores()
    for code, section in standard.sections.items():
        outcomes = [o for o in report.outcomes if o.spec.section == code]
        if not outcomes:
            continue
        title = f"{code}  {section.title}"
        lines.append(f"{paint(title, '1')}  ({_section_text(outcomes, section_scores[code])})")
        for outcome in outcomes:
            lines.extend(_outcome_lines(outcome, paint))
        lines.append("")
    if report.notes:
        lines.append(paint("Notes", "1"))
        lines.extend(f"  {note.path or '.'}: {note.message}" for note in report.notes)
        lines.append("")
    counts = ", ".join(f"{n} {status}" for status, n in report.counts().items() if n)
    summary = f"Score {_score_text(report.score)} · {counts or 'no rules ran'}"
    lines.append(paint(summary, "1"))
    return "\n".join(lines) + "\n"


def render_diff_text(report: Report, comparison: Comparison, *, colour: bool = False) -> str:
    """Only the findings new since the baseline, then one line: N new, M fixed, K unchanged."""
    paint = _Painter(colour)
    standard = report.standard
    lines = [
        paint(f"Yardstick {report.engine_version}", "1") + f" · {standard.name} {standard.version}",
        f"repository: {report.repository}",
        f"baseline:   {comparison.base_label}",
        "",
    ]
    titles = {o.spec.id: o.spec.title for o in report.outcomes}
    if comparison.new:
        lines.append(paint("New findings", "1"))
    for finding in comparison.new:
        word = f"{_SYMBOL[finding.status]} {_WORD[finding.status]:<{_WIDTH}}"
        where = finding.path or "."
        if finding.line is not None:
            where = f"{where}:{finding.line}"
        lines.append(
            f"  {paint(word, _COLOUR.get(finding.status))}  {finding.rule_id}  "
            f"{finding.severity.value}  {titles.get(finding.rule_id, '')}"
        )
        lines.append(f"      {paint(where, '2')} {finding.message or finding.summary}".rstrip())
    if comparison.new:
        lines.append("")
    lines.extend(f"note: {note}" for note in comparison.notes)
    lines.append(paint(comparison.summary(), "1"))
    return "\n".join(lines) + "\n"
