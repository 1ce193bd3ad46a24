"""Report rules: judged from measured results (`ctx.reports`), not from the files.

TST-006 (80% coverage of services/ and of repositories/), TST-008 (the suite passes) and
STY-009 (mypy --strict passes). Without a measurement they are not applicable and say how
to provide one (`scanners.measured.HOW_TO_PROVIDE`).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import TYPE_CHECKING

from scanners.measured import HOW_TO_PROVIDE, CoverageData, FailedTest
from scanners.measured.pathmap import PathMapper
from scanners.results import Evidence, RuleResult, Status
from scanners.rules import Rule, register

if TYPE_CHECKING:
    from scanners.context import PyModule, RepoContext

COVERAGE_FLOOR = 80.0
COVERAGE_LAYERS = ("services", "repositories")
LEAST_COVERED = 10  # files listed per layer
MAX_EVIDENCE = 50


def _missing(ctx: RepoContext, part: str, what: str) -> RuleResult:
    reports = ctx.reports
    why = reports.why.get(part) if reports is not None else None
    prefix = f"{why}; " if why else f"no {what} for this commit: "
    return RuleResult(Status.NOT_APPLICABLE, prefix + HOW_TO_PROVIDE, [])


@dataclass(frozen=True, slots=True)
class LayerCoverage:
    """Coverage of one layer: totals over its files found in the report."""

    layer: str
    covered: int
    total: int
    files: dict[str, tuple[int, int]]  # repository path -> (covered, total)
    absent: list[str]  # layer files with statements that the report does not list

    @property
    def percent(self) -> float:
        """Line coverage in percent (100 for a layer without statements)."""
        return 100.0 * self.covered / self.total if self.total else 100.0


def _has_statements(mod: PyModule) -> bool:
    """More than a docstring: coverage.py would count lines in it."""
    if mod.tree is None:
        return bool((mod.source or "").strip())
    body = mod.tree.body
    return len(body) > 1 or (len(body) == 1 and not _is_docstring(body[0]))


def _is_docstring(node: ast.stmt) -> bool:
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)


def mapped_coverage(ctx: RepoContext, coverage: CoverageData) -> dict[str, tuple[int, int]]:
    """The report's per-file counts keyed by repository-relative tracked path."""
    mapping = PathMapper(ctx.files).map(coverage.files, coverage.roots)
    out: dict[str, tuple[int, int]] = {}
    for name, counts in coverage.files.items():
        rel = mapping.get(name)
        if rel is not None and (rel not in out or counts[1] > out[rel][1]):
            out[rel] = counts
    return out


def layer_coverage(ctx: RepoContext, files: dict[str, tuple[int, int]]) -> list[LayerCoverage]:
    """Coverage of each layer present in the checkout, from mapped per-file counts."""
    layers = []
    for layer in COVERAGE_LAYERS:
        modules = ctx.layer_files(layer)
        if not modules:
            continue
        own = {m.path: files[m.path] for m in modules if m.path in files}
        absent = [m.path for m in modules if m.path not in files and _has_statements(m)]
        covered, total = sum(c for c, _ in own.values()), sum(t for _, t in own.values())
        layers.append(LayerCoverage(layer, covered, total, own, absent))
    return layers


def _layer_evidence(layer: LayerCoverage, ctx: RepoContext) -> list[Evidence]:
    dirs = ctx.layer_dirs(layer.layer)
    folder = dirs[0] if len(dirs) == 1 else None
    out = [
        Evidence(
            folder,
            None,
            f"{layer.layer}/: {layer.percent:.1f}% ({layer.covered}/{layer.total} lines)",
        )
    ]
    ranked = sorted(
        ((c / t, t - c, path) for path, (c, t) in layer.files.items() if t), key=lambda r: r[:2]
    )
    ranked = [r for r in ranked if r[0] < 1.0] if layer.percent < COVERAGE_FLOOR else ranked
    for share, missed, path in ranked[:LEAST_COVERED]:
        out.append(Evidence(path, None, f"{share:.0%} covered, {missed} lines missed"))
    out += [Evidence(p, None, "not in the coverage report") for p in layer.absent[:LEAST_COVERED]]
    return out


@register
class LayerCoverageRule(Rule):
    """services/ and repositories/ each reach 80% line coverage in the measured report."""

    id = "TST-006"
    heuristic = (
        "Report paths map to tracked files by their longest shared suffix (a report made in "
        "another folder still maps). Each layer is totalled over its files in the report; "
        "layer files missing from the report (with statements) make a passing layer warn."
    )

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Aggregate covered/total lines per layer and compare each with 80%."""
        coverage = ctx.reports.coverage if ctx.reports is not None else None
        if coverage is None:
            return _missing(ctx, "coverage", "coverage report")
        files = mapped_coverage(ctx, coverage)
        layers = layer_coverage(ctx, files)
        if not layers:
            return self.not_applicable("no services/ or repositories/ layer to measure")
        if not files:
            first = next(iter(coverage.files), "?")
            message = f"the {coverage.source} names none of this checkout's files (e.g. {first})"
            return RuleResult(Status.ERROR, message, [])
        low = [la for la in layers if la.total == 0 or la.percent < COVERAGE_FLOOR]
        evidence = [e for la in layers for e in _layer_evidence(la, ctx)][:MAX_EVIDENCE]
        summary = ", ".join(
            f"{la.layer} {la.percent:.1f}%" if la.total else f"{la.layer} not measured"
            for la in layers
        )
        if low:
            return self.failed(f"{summary} (need {COVERAGE_FLOOR:g}% each)", evidence)
        if any(la.absent for la in layers):
            return self.warned(f"{summary}; some layer files are not in the report", evidence)
        return self.passed(f"{summary} ({coverage.source})", evidence)


def _test_path(failure: FailedTest, mapper: PathMapper) -> str | None:
    """The test module of a failure: the longest prefix of its dotted classname that maps."""
    parts = failure.module.split(".") if failure.module else []
    for k in range(len(parts), 0, -1):
        candidate = "/".join(parts[:k]) + ".py"
        mapped = mapper.map([candidate]).get(candidate)
        if mapped:
            return mapped
    return None


@register
class PassingSuite(Rule):
    """The test suite ran and no test failed or errored."""

    id = "TST-008"

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Fail on failures, errors, an unfinished run or no test at all."""
        run = ctx.reports.tests if ctx.reports is not None else None
        if run is None:
            return _missing(ctx, "tests", "test report")
        mapper = PathMapper(ctx.files)
        evidence = [
            Evidence(_test_path(f, mapper), None, f"{f.test_id}: {f.message}")
            for f in run.failures[:MAX_EVIDENCE]
        ]
        if run.incomplete:
            return self.failed(f"the test run did not finish: {run.incomplete}", evidence)
        if run.failures:
            return self.failed(f"{len(run.failures)} of {run.total} tests failed", evidence)
        if run.total == 0:
            return self.failed(f"no test ran ({run.source})")
        skipped = f", {run.skipped} skipped" if run.skipped else ""
        return self.passed(f"{run.total - run.skipped} tests passed{skipped} ({run.source})")


@register
class MypyStrict(Rule):
    """`mypy --strict` reports no error."""

    id = "STY-009"

    def evaluate(self, ctx: RepoContext) -> RuleResult:
        """Fail listing the first mypy errors; error when mypy itself did not finish."""
        check = ctx.reports.mypy if ctx.reports is not None else None
        if check is None:
            return _missing(ctx, "mypy", "mypy result")
        if not check.checked:
            return RuleResult(Status.ERROR, f"mypy did not finish: {check.summary}", [])
        if not check.errors:
            return self.passed(check.summary or "mypy --strict: no issues")
        mapping = PathMapper(ctx.files).map({e.path for e in check.errors})
        evidence = [
            Evidence(rel, e.line, e.message)
            if (rel := mapping.get(e.path))
            else Evidence(None, None, f"{e.path}:{e.line}: {e.message}")
            for e in check.errors[:MAX_EVIDENCE]
        ]
        files = len({e.path for e in check.errors})
        return self.failed(f"mypy --strict: {len(check.errors)} errors in {files} files", evidence)
