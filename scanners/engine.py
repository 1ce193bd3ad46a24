"""Run the rules of a standard over one checkout and build a `Report`."""

from __future__ import annotations

import logging
import time
from collections.abc import Collection
from pathlib import Path

from scanners import ENGINE_VERSION
from scanners.analysis.nodes import indexing
from scanners.context import RepoContext
from scanners.fingerprints import evidence_lines, read_line_texts
from scanners.gcpause import gc_paused
from scanners.measured import Reports
from scanners.report import Report, RuleOutcome
from scanners.results import Evidence, RuleResult, Status
from scanners.rules import registry
from scanners.standard import RuleSpec, Standard, default_standard

logger = logging.getLogger(__name__)

#: A rule that takes longer than this is reported as `error` (it still ran to completion:
#: Python cannot stop a thread safely, so the budget judges rather than interrupts).
RULE_TIME_BUDGET_S = 10.0


def evaluate_rule(spec: RuleSpec, ctx: RepoContext) -> RuleOutcome:
    """Evaluate one rule; a crash or an overrun becomes `error` for that rule alone."""
    rule_cls = registry().get(spec.id)
    started = time.perf_counter()
    if rule_cls is None:
        result = RuleResult(Status.ERROR, f"{spec.id} is not implemented by this engine", [])
    else:
        try:
            result = rule_cls().evaluate(ctx)
        except Exception as exc:
            logger.exception("rule %s crashed", spec.id)
            result = RuleResult(Status.ERROR, f"rule crashed: {type(exc).__name__}: {exc}", [])
    elapsed = time.perf_counter() - started
    if elapsed > RULE_TIME_BUDGET_S and result.status is not Status.ERROR:
        result = RuleResult(
            Status.ERROR, f"rule ran {elapsed:.1f}s, over its {RULE_TIME_BUDGET_S:.0f}s budget", []
        )
    return RuleOutcome(spec, result, round(elapsed * 1000, 3))


def scan(
    root: Path | str,
    *,
    standard: Standard | None = None,
    project_dir: str | None = None,
    only: Collection[str] | None = None,
    repository: str | None = None,
    context: RepoContext | None = None,
    reports: Reports | None = None,
) -> Report:
    """Scan the checkout at `root` against `standard` (the default one when None).

    `reports` carries measured results (coverage, tests, mypy) for the report rules.
    """
    standard = standard or default_standard()
    started = time.perf_counter()
    ctx = context or RepoContext(Path(root), project_dir=project_dir)
    if reports is not None:
        ctx.reports = reports
    specs = [s for s in standard.rules.values() if only is None or s.id in only]
    with gc_paused(), indexing():  # one walk per tree shared by the rules; no GC passes
        outcomes = [evaluate_rule(spec, ctx) for spec in specs]
        line_texts = read_line_texts(evidence_lines(outcomes), ctx.read_text)
        total = time.perf_counter() - started
        report = Report(
            standard=standard,
            outcomes=outcomes,
            repository=repository or str(ctx.root),
            commit=ctx.commit_sha,
            project_dir=ctx.project_rel,
            engine_version=ENGINE_VERSION,
            tool_versions=ctx.tool_versions(),
            notes=[Evidence(n.path, None, n.reason) for n in ctx.notes],
            timings={"total_ms": round(total * 1000, 3)},
            discovery=ctx.discovery,
            line_texts=line_texts,
        )
        if context is None:  # free the trees while the collector is paused (`release`)
            ctx.release()
        del ctx
    return report
