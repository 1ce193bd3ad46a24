"""Ruff findings of the scan's one lint run, restricted to app code, as rule evidence."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from scanners.results import Evidence

if TYPE_CHECKING:
    from scanners.analysis.lint import Finding
    from scanners.context import RepoContext

MAX_EVIDENCE = 50


def app_findings(ctx: RepoContext, codes: str | Iterable[str]) -> list[Finding]:
    """Findings of `codes` (ruff selectors) in app code: no tests, migrations or vendored code."""
    app_paths = {m.path for m in ctx.app_files}
    return [f for f in ctx.lint.select(codes) if f.path in app_paths]


def finding_evidence(findings: Iterable[Finding]) -> list[Evidence]:
    """One evidence item per finding (`CODE message`), capped at `MAX_EVIDENCE`."""
    return [Evidence(f.path, f.line, f"{f.code} {f.message}") for f in findings][:MAX_EVIDENCE]


def lint_unavailable(ctx: RepoContext) -> Evidence | None:
    """Evidence that ruff could not run (rules then warn, never pass), or None."""
    error = ctx.lint.error
    return None if error is None else Evidence(None, None, f"ruff did not run: {error}")
