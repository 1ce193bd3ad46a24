"""Shared pieces of page queries: tables, series, levels."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import F, Model, QuerySet
from django.db.models.expressions import OrderBy
from django.http import HttpRequest
from django.utils import timezone

from dashboard.charts import Point
from dashboard.domain.scores import LEVELS, level_rank

__all__ = ["LEVELS", "level_rank"]  # re-exported: defined once, in dashboard/domain/scores.py
PER_PAGE = 25


def ordering(name: str, descending: bool) -> OrderBy:
    """Order by `name` with empty values last, whichever the direction."""
    return F(name).desc(nulls_last=True) if descending else F(name).asc(nulls_last=True)


@dataclass(frozen=True, slots=True)
class TableState:
    """Sorting, search, filters and page of a table, read from the query string."""

    sort: str
    q: str = ""
    filters: Mapping[str, str] = field(default_factory=dict)
    page: int = 1

    @property
    def key(self) -> str:
        """Sort key without direction."""
        return self.sort.lstrip("-")

    @property
    def descending(self) -> bool:
        """Whether the sort is descending."""
        return self.sort.startswith("-")


def table_state(
    request: HttpRequest, sorts: Iterable[str], default: str, filters: Iterable[str] = ()
) -> TableState:
    """Read a table's state; unknown sorts fall back to the default, bad pages to 1."""
    allowed = set(sorts)
    sort = request.GET.get("sort", default)
    if sort.lstrip("-") not in allowed:
        sort = default
    try:
        page = max(1, int(request.GET.get("page", "1")))
    except ValueError:
        page = 1
    values = {name: request.GET.get(name, "").strip()[:100] for name in filters}
    return TableState(sort, request.GET.get("q", "").strip()[:100], values, page)


def paginate[M: Model](queryset: QuerySet[M], page: int, per_page: int = PER_PAGE) -> Page[M]:
    """A page of results; out-of-range pages give the last page."""
    return Paginator(queryset, per_page).get_page(page)


def day_range(days: int, end: date | None = None) -> list[date]:
    """The last `days` days up to `end` (today), oldest first."""
    end = end or timezone.now().date()
    return [end - timedelta(days=offset) for offset in range(days - 1, -1, -1)]


def series(values: Mapping[date, float | None], days: list[date]) -> list[float | None]:
    """Values aligned to `days` (None where a day has no row)."""
    return [values.get(day) for day in days]


def points(values: Mapping[date, float | None], days: list[date]) -> list[Point]:
    """Chart points aligned to `days`."""
    return [Point(day, values.get(day)) for day in days]


def change(values: list[float | None]) -> float | None:
    """Last known value minus first known value."""
    known = [v for v in values if v is not None]
    return round(known[-1] - known[0], 1) if len(known) >= 2 else None


def sorted_page[M: Model](
    queryset: QuerySet[M], state: TableState, columns: Mapping[str, str], tie: str = "name"
) -> Page[M]:
    """The table's page: sorted by the column the state names (empty values last), then by
    `tie`; `columns` maps each sort key to the field or annotation it orders by."""
    order = ordering(columns[state.key], state.descending)
    return paginate(queryset.order_by(order, tie), state.page)


def daily_history(
    daily: QuerySet[Any], owner: str, owners: Iterable[int], window: list[date]
) -> dict[int, dict[date, float | None]]:
    """Each owner's daily `score` rows (a roll-up table, by its `owner` column) over the
    window, keyed by owner pk then day; owners without rows map to {} (1 query)."""
    history: dict[int, dict[date, float | None]] = defaultdict(dict)
    rows = daily.filter(**{f"{owner}__in": list(owners), "date__gte": window[0]})
    for owner_id, day, value in rows.values_list(f"{owner}_id", "date", "score"):
        history[owner_id][day] = value
    return history


@dataclass(frozen=True, slots=True)
class TrendRange:
    """A trend chart's span, chosen by `?range=` (`key`); `days` None: all time."""

    key: str
    days: int | None
    label: str  # "Score over {label}"

    @property
    def change_phrase(self) -> str:
        """How a change over the range reads: "in 90 days", "since the first day"."""
        return f"in {self.label}" if self.days is not None else "since the first day"

    def window(self, first: date | None, minimum: int = 30) -> list[date]:
        """The chart's days up to today: the last `days`, or (all time) from `first`, the
        first day with data, and at least `minimum` days."""
        if self.days is not None:
            return day_range(self.days)
        today = timezone.now().date()
        span = (today - first).days + 1 if first is not None else 0
        return day_range(max(span, minimum), today)


RANGES = (
    TrendRange("30", 30, "30 days"),
    TrendRange("90", 90, "90 days"),
    TrendRange("365", 365, "a year"),
    TrendRange("all", None, "all time"),
)


def trend_range(params: Mapping[str, str], default: str = "90") -> TrendRange:
    """The range a query string asks for (`range=30|90|365|all`); anything else: `default`."""
    by_key = {r.key: r for r in RANGES}
    return by_key.get(params.get("range", ""), by_key[default])
