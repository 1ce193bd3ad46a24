"""A small test-local standard, hand-built reports and throwaway rules for the output tests.

Nothing here depends on the real rules' verdicts: the rules below judge one file each.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from scanners import rules as rules_pkg
from scanners.context import RepoContext
from scanners.report import Report, RuleOutcome
from scanners.results import Evidence, RuleResult, Status
from scanners.rules import Rule
from scanners.standard import Standard, parse_standard

STANDARD_TEXT = """\
# Sample standard

## Alpha Heading

Alpha rules keep a README.md in the repository.

## Beta Heading

Beta rules keep a LICENSE.
"""


def _rule(rule_id: str, section: str, severity: str, evaluation: str, title: str) -> dict[str, str]:
    return {
        "id": rule_id,
        "section": section,
        "severity": severity,
        "evaluation": evaluation,
        "title": title,
        "rationale": f"Why {title.lower()} matters.",
        "remediation": f"Add what {rule_id} asks for.",
    }


STANDARD_DATA: dict[str, Any] = {
    "key": "sample",
    "name": "Sample Standard",
    "version": "1.2",
    "sections": {
        "ZZA": {"title": "Alpha section", "heading": "Alpha Heading"},
        "ZZB": {"title": "Beta section", "heading": "Beta Heading"},
    },
    "rules": [
        _rule("ZZA-001", "ZZA", "critical", "static", "README present"),
        _rule("ZZA-002", "ZZA", "major", "history", "No TODO markers"),
        _rule("ZZB-001", "ZZB", "minor", "static", "LICENSE present"),
        _rule("ZZB-002", "ZZB", "info", "attest", "Team reviews monthly"),
    ],
    "retired": ["ZZA-099"],
}


def sample_standard(text_path: Path | None = None) -> Standard:
    """The sample standard as a loaded `Standard`."""
    return parse_standard(STANDARD_DATA, text_path)


def write_standard(folder: Path) -> Path:
    """Write the sample standard (YAML and its text) into `folder`; return the YAML path."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sample.md").write_text(STANDARD_TEXT, encoding="utf-8")
    path = folder / "sample.yaml"
    path.write_text(yaml.safe_dump({**STANDARD_DATA, "text": "sample.md"}), encoding="utf-8")
    return path


def sample_report(
    repository: str = "https://git.example.com/org/api.git",
    commit: str | None = "a" * 40,
    project_dir: str = "backend",
) -> Report:
    """A report with every interesting shape: pass, fail with many evidence, warn, error."""
    standard = sample_standard()
    spec = standard.rules
    many = [Evidence(f"backend/app/m{i}.py", i + 1, f"TODO number {i}") for i in range(7)]
    outcomes = [
        RuleOutcome(spec["ZZA-001"], RuleResult(Status.PASS, "README.md found"), 1.5),
        RuleOutcome(spec["ZZA-002"], RuleResult(Status.FAIL, "7 TODO markers", many), 2.25),
        RuleOutcome(spec["ZZB-001"], RuleResult(Status.WARN, "no LICENSE file", []), 0.5),
        RuleOutcome(spec["ZZB-002"], RuleResult(Status.ERROR, "rule crashed: boom"), 0.1),
    ]
    return Report(
        standard=standard,
        outcomes=outcomes,
        repository=repository,
        commit=commit,
        project_dir=project_dir,
        engine_version="0.1.0",
        tool_versions={"ruff": "0.17.5"},
        notes=[Evidence("backend/big.bin", None, "binary file: skipped")],
        timings={"total_ms": 12.5},
    )


# ----- throwaway rules for the sample standard ------------------------------------------
class ReadmePresent(Rule):
    """README.md exists at the repository root."""

    id = "ZZA-001"
    heuristic = "Looks for README.md at the repository root, nothing else."

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Pass when README.md is tracked."""
        if ctx.exists("README.md"):
            return self.passed("README.md found", [Evidence("README.md")])
        return self.failed("no README.md", [Evidence(None, None, "add README.md")])


class NoTodo(Rule):
    """No TODO marker in tracked Python files."""

    id = "ZZA-002"

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Fail with one evidence line per TODO."""
        found = [
            Evidence(mod.path, number, "TODO marker")
            for mod in ctx.python_files
            for number, line in enumerate((mod.source or "").splitlines(), start=1)
            if "TODO" in line
        ]
        return self.failed(f"{len(found)} TODO markers", found) if found else self.passed()


class LicensePresent(Rule):
    """A LICENSE file exists."""

    id = "ZZB-001"

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Warn (not fail) when missing."""
        return self.passed() if ctx.exists("LICENSE") else self.warned("no LICENSE file")


SAMPLE_RULES: tuple[type[Rule], ...] = (ReadmePresent, NoTodo, LicensePresent)


@contextmanager
def sample_rules_registered() -> Iterator[None]:
    """Make the throwaway rules visible to `registry()` for the duration of a test."""
    rules_pkg.registry()  # import the real section modules first, so they stay registered
    table = rules_pkg._REGISTRY  # tests may reach into the registry
    saved = dict(table)
    for cls in SAMPLE_RULES:
        rules_pkg.register(cls)
    rules_pkg.registry.cache_clear()
    try:
        yield
    finally:
        table.clear()
        table.update(saved)
        rules_pkg.registry.cache_clear()
