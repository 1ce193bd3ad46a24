"""Rule page: who passes it, who fails it, adoption over time."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.paginator import Page
from django.db.models import Count, Sum

from dashboard.charts import Point
from dashboard.models import CheckResult, Repository, Rule, RuleDailyStats
from dashboard.selectors.common import TableState, day_range, points, sorted_page
from dashboard.selectors.teams import SCAN_BULK

RESULT_SORTS = ("repository", "team", "status")


def latest_results(rule: Rule) -> Any:
    """Results of `rule` in every active repository's latest scan.

    A semi-join on the denormalised `Repository.latest_scan`: one index probe per repository
    (scan, rule), never a pass over the rule's results in older scans.
    """
    latest = Repository.objects.filter(active=True, latest_scan__isnull=False)
    return CheckResult.objects.filter(rule=rule, scan_id__in=latest.values("latest_scan_id"))


def results_table(
    rule: Rule, state: TableState, repository_ids: Sequence[int] | None = None
) -> Page[Any]:
    """Repositories with their result for the rule (2 queries: count + page); `repository_ids`
    narrows them to those repositories (the overview's "Fix first" links)."""
    # Only names, status and message are shown: leave the wide columns out of the sort.
    queryset = (
        latest_results(rule)
        .select_related("scan__repository__team")
        .defer(
            "evidence",
            "scan__repository__webhook_secret_encrypted",
            *(f"scan__{name}" for name in SCAN_BULK),
        )
    )
    if state.filters.get("status"):
        queryset = queryset.filter(status=state.filters["status"])
    if state.q:
        queryset = queryset.filter(scan__repository__name__icontains=state.q)
    if repository_ids is not None:
        queryset = queryset.filter(scan__repository_id__in=list(repository_ids))
    columns = {
        "repository": "scan__repository__name",
        "team": "scan__repository__team__name",
        "status": "status",
    }
    return sorted_page(queryset, state, columns, tie="scan__repository__name")


def status_counts(rule: Rule) -> dict[str, int]:
    """How many repositories have each status for the rule (1 query)."""
    return dict(
        latest_results(rule).values("status").annotate(n=Count("pk")).values_list("status", "n")
    )


@dataclass(slots=True)
class Adoption:
    """Share of repositories passing the rule, per day."""

    trend: list[Point]


def adoption(rule: Rule, days: int = 180) -> Adoption:
    """Daily pass rate across teams from the roll-ups (1 query)."""
    window = day_range(days)
    rates = {}
    for row in (
        RuleDailyStats.objects.filter(rule=rule, date__gte=window[0])
        .values("date")
        .annotate(passed=Sum("passed"), failed=Sum("failed"), warned=Sum("warned"))
    ):
        judged = row["passed"] + row["failed"] + row["warned"]
        rates[row["date"]] = round(100 * row["passed"] / judged, 1) if judged else None
    return Adoption(points(rates, window))
