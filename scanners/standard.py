"""The standard as data: rule ids, titles, severities, rationale, levels, loaded from YAML.

An organisation can ship its own standard file without forking code; the registry of rule
classes supplies the evaluation for every id the file names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from scanners.results import Severity

DEFAULT_STANDARD_PATH = Path(__file__).parent / "standards" / "python-backend.yaml"
RULE_ID_PATTERN = re.compile(r"^[A-Z]{2,5}-\d{3}$")
EVALUATIONS = frozenset({"static", "history", "report", "attest"})


class StandardError(ValueError):
    """The standard file is malformed; the message names the entry."""


@dataclass(frozen=True, slots=True)
class Section:
    """A section of the standard (DEP, FW, ...)."""

    code: str
    title: str
    heading: str  # the heading of the standard's text this section enforces


@dataclass(frozen=True, slots=True)
class RuleSpec:
    """Everything the standard says about one rule; the code only adds `evaluate`."""

    id: str
    section: str
    severity: Severity
    evaluation: str
    title: str
    rationale: str
    remediation: str
    heading: str
    weight: int
    # Grace period: before this day (UTC) results are shown as upcoming and not scored.
    effective_from: date | None = None
    # Count-based: the result's evidence lists one item per finding, so a repository may
    # freeze today's count as a baseline (a ratchet) and fail only when it grows.
    countable: bool = False

    @property
    def is_attest(self) -> bool:
        """Attest rules cannot be seen in a repository; a maintainer attests them."""
        return self.evaluation == "attest"


@dataclass(frozen=True, slots=True)
class Standard:
    """A loaded standard: sections and rules, in file order."""

    key: str
    name: str
    version: str
    sections: dict[str, Section]
    rules: dict[str, RuleSpec]
    text_path: Path | None = None
    retired: frozenset[str] = field(default_factory=frozenset)
    # Rules this version adds are upcoming until this day unless they name their own date.
    effective_from: date | None = None

    def text(self) -> str:
        """The full text of the standard, when the file ships one."""
        if self.text_path is None or not self.text_path.is_file():
            return ""
        return self.text_path.read_text(encoding="utf-8")

    def section_text(self, heading: str) -> str:
        """The part of the standard's text under `## heading`, up to the next `## `."""
        lines = self.text().splitlines()
        out: list[str] = []
        inside = False
        for line in lines:
            if line.startswith("## "):
                if inside:
                    break
                inside = line[3:].strip().lower() == heading.strip().lower()
                continue
            if inside:
                out.append(line)
        return "\n".join(out).strip()


def _require(entry: dict[str, Any], key: str, where: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        raise StandardError(f"{where}: '{key}' is required and must be a non-empty string")
    return value.strip()


def _parse_date(value: Any, where: str) -> date | None:
    """An optional ISO date (YAML may already have decoded it)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise StandardError(f"{where}: 'effective_from' must be a date like 2026-03-01")


def _parse_rule(entry: Any, sections: dict[str, Section], index: int) -> RuleSpec:
    if not isinstance(entry, dict):
        raise StandardError(f"rules[{index}]: must be a mapping")
    rule_id = _require(entry, "id", f"rules[{index}]")
    where = f"rule {rule_id}"
    if not RULE_ID_PATTERN.match(rule_id):
        raise StandardError(f"{where}: id must look like ABC-001")
    section = _require(entry, "section", where)
    if section not in sections:
        raise StandardError(f"{where}: unknown section {section!r}")
    evaluation = _require(entry, "evaluation", where)
    if evaluation not in EVALUATIONS:
        raise StandardError(f"{where}: evaluation must be one of {sorted(EVALUATIONS)}")
    try:
        severity = Severity(_require(entry, "severity", where))
    except ValueError as exc:
        raise StandardError(f"{where}: severity must be critical, major, minor or info") from exc
    weight = entry.get("weight", severity.weight)
    if not isinstance(weight, int) or weight < 0:
        raise StandardError(f"{where}: weight must be a non-negative integer")
    countable = entry.get("countable", False)
    if not isinstance(countable, bool):
        raise StandardError(f"{where}: countable must be true or false")
    return RuleSpec(
        id=rule_id,
        section=section,
        severity=severity,
        evaluation=evaluation,
        title=_require(entry, "title", where),
        rationale=_require(entry, "rationale", where),
        remediation=_require(entry, "remediation", where),
        heading=str(entry.get("heading") or sections[section].heading),
        weight=weight,
        effective_from=_parse_date(entry.get("effective_from"), where),
        countable=countable,
    )


def parse_standard(data: Any, text_path: Path | None = None) -> Standard:
    """Validate a decoded standard document; raise `StandardError` naming the bad entry."""
    if not isinstance(data, dict):
        raise StandardError("the standard file must be a mapping")
    key = _require(data, "key", "standard")
    raw_sections = data.get("sections")
    if not isinstance(raw_sections, dict) or not raw_sections:
        raise StandardError("standard: 'sections' must be a non-empty mapping")
    sections: dict[str, Section] = {}
    for code, sec in raw_sections.items():
        if not isinstance(sec, dict):
            raise StandardError(f"section {code}: must be a mapping")
        sections[str(code)] = Section(
            code=str(code),
            title=_require(sec, "title", f"section {code}"),
            heading=_require(sec, "heading", f"section {code}"),
        )
    raw_rules = data.get("rules")
    if not isinstance(raw_rules, list) or not raw_rules:
        raise StandardError("standard: 'rules' must be a non-empty list")
    rules: dict[str, RuleSpec] = {}
    for index, entry in enumerate(raw_rules):
        spec = _parse_rule(entry, sections, index)
        if spec.id in rules:
            raise StandardError(f"rule {spec.id}: duplicated")
        rules[spec.id] = spec
    retired = data.get("retired") or []
    return Standard(
        key=key,
        name=_require(data, "name", "standard"),
        version=str(data.get("version") or "").strip() or "0",
        sections=sections,
        rules=rules,
        text_path=text_path,
        retired=frozenset(str(r) for r in retired),
        effective_from=_parse_date(data.get("effective_from"), "standard"),
    )


def load_standard(path: Path | str | None = None) -> Standard:
    """Load a standard file (YAML); the default standard when no path is given."""
    file = Path(path) if path is not None else DEFAULT_STANDARD_PATH
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise StandardError(f"cannot read standard file {file}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise StandardError(f"standard file {file} is not valid YAML: {exc}") from exc
    text_name = data.get("text") if isinstance(data, dict) else None
    text_path = file.parent / text_name if isinstance(text_name, str) else None
    return parse_standard(data, text_path)


@cache
def default_standard() -> Standard:
    """The bundled Python Backend Development Standards, loaded once."""
    return load_standard(DEFAULT_STANDARD_PATH)
