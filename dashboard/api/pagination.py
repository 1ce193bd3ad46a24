"""One pagination helper: {data, total, page, per_page, total_pages}."""

from __future__ import annotations

from collections.abc import Callable
from math import ceil
from typing import Any

from django.db.models import Model, QuerySet

from dashboard.api.schemas import PageQuery


def paginate[M: Model](
    queryset: QuerySet[M], query: PageQuery, convert: Callable[[list[M]], list[Any]]
) -> dict[str, Any]:
    """One page of `queryset` (already ordered); a page past the end is empty, not an error."""
    total = queryset.count()
    start = (query.page - 1) * query.per_page
    items = list(queryset[start : start + query.per_page]) if start < total else []
    return {
        "data": convert(items),
        "total": total,
        "page": query.page,
        "per_page": query.per_page,
        "total_pages": ceil(total / query.per_page),
    }
