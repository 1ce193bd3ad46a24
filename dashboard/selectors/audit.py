"""The audit log page and its CSV: filters by action, team and text; newest first."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from django.core.paginator import Page
from django.db.models import Q, QuerySet

from dashboard.models import AuditAction, AuditEvent
from dashboard.selectors.common import paginate

PER_PAGE = 50
CSV_HEADER = [
    "when",
    "actor",
    "action",
    "target_type",
    "target_id",
    "target",
    "team",
    "details",
    "source_ip",
    "request_id",
]


@dataclass(frozen=True, slots=True)
class AuditFilters:
    """What to show: one action, one team (slug), text in the actor or target."""

    action: str = ""
    team: str = ""
    q: str = ""

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> AuditFilters:
        """Read the filters; an unknown action is ignored rather than refused."""
        action = query.get("action", "").strip()
        return cls(
            action=action if action in AuditAction.values else "",
            team=query.get("team", "").strip()[:120],
            q=query.get("q", "").strip()[:100],
        )

    @property
    def active(self) -> bool:
        """Whether any filter narrows the log."""
        return bool(self.action or self.team or self.q)


def events(filters: AuditFilters) -> QuerySet[AuditEvent]:
    """Events matching the filters, newest first."""
    queryset = AuditEvent.objects.order_by("-created_at", "-id")
    if filters.action:
        queryset = queryset.filter(action=filters.action)
    if filters.team:
        queryset = queryset.filter(team__slug=filters.team)
    if filters.q:
        queryset = queryset.filter(
            Q(actor_label__icontains=filters.q) | Q(target_label__icontains=filters.q)
        )
    return queryset


def audit_page(filters: AuditFilters, page: int) -> Page[AuditEvent]:
    """One page of events with their teams (two queries: the count and the rows)."""
    return paginate(events(filters).select_related("team"), page, PER_PAGE)


def audit_rows(filters: AuditFilters) -> tuple[list[str], Iterator[tuple[object, ...]]]:
    """The CSV export: every matching event, streamed."""
    rows = (
        events(filters)
        .values_list(
            "created_at",
            "actor_label",
            "action",
            "target_type",
            "target_id",
            "target_label",
            "team__slug",
            "details",
            "source_ip",
            "request_id",
        )
        .iterator(chunk_size=2000)
    )
    return CSV_HEADER, (_csv_row(row) for row in rows)


def _csv_row(row: tuple[object, ...]) -> tuple[object, ...]:
    details = json.dumps(row[7], sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return (*row[:7], details, *row[8:])
