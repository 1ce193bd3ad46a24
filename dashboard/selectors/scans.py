"""Scan page: one scan's results to look at, what to fix first."""

from __future__ import annotations

from dataclasses import dataclass, field

from dashboard.domain.governance import attention_order
from dashboard.models import CheckResult, Scan
from dashboard.selectors.repositories import listed


@dataclass(slots=True)
class Attention:
    """A scan's results other than passes, in the order to look at them, and its counts."""

    results: list[CheckResult] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)  # engine status -> results


def needs_attention(scan: Scan, status_filter: str = "") -> Attention:
    """The scan's results as the engine judged them, passes left out (1 query).

    Failures, warnings and errors first, by severity then points (`attention_order`); the
    not-applicable and manual ones only under the filter listing them (`listed`).
    """
    out = Attention()
    for row in CheckResult.objects.filter(scan=scan).select_related("rule"):
        out.counts[row.status] = out.counts.get(row.status, 0) + 1
        if row.status != CheckResult.Status.PASS and listed(row.status, status_filter):
            out.results.append(row)
    out.results.sort(
        key=lambda row: attention_order(row.status, row.rule.weighting, row.rule.position)
    )
    return out
