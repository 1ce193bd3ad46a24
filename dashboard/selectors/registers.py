"""The organisation-wide waiver and attestation registers: a filtered page and its CSV.

A row's status uses the one definition of "in force" (`dashboard/domain/scores.py`: `in_force`);
a row not in force is `revoked` when it was revoked, else `expired`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from django.core.paginator import Page
from django.db.models import Case, CharField, F, Min, Q, QuerySet, Value, When
from django.utils import timezone

from dashboard.domain.scores import in_force
from dashboard.models import Attestation, Waiver
from dashboard.selectors.common import paginate
from dashboard.selectors.governance import EXPIRING_SOON_DAYS

Kind = Literal["waivers", "attestations"]
PER_PAGE = 50
EXPIRING_DAYS = EXPIRING_SOON_DAYS
IN_FORCE, EXPIRED, REVOKED = "in force", "expired", "revoked"
# The expiry filter: its query value and its label.
EXPIRY_CHOICES = {
    "in_force": "In force",
    "expiring": f"Expiring within {EXPIRING_DAYS} days",
    "expired": "Expired",
    "revoked": "Revoked",
}
CSV_HEADER = {
    "waivers": [
        "team",
        "repository",
        "repository_id",
        "rule",
        "granted_by",
        "reason",
        "granted_at",
        "expires_at",
        "revoked_at",
        "status",
    ],
    "attestations": [
        "team",
        "repository",
        "repository_id",
        "rule",
        "attested_by",
        "evidence_url",
        "note",
        "granted_at",
        "expires_at",
        "revoked_at",
        "status",
    ],
}


@dataclass(frozen=True, slots=True)
class RegisterFilters:
    """What to show: one team (slug), one rule (id), one expiry state; unknown values ignored."""

    team: str = ""
    rule: str = ""
    expiry: str = ""

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> RegisterFilters:
        """Read the filters from a query string."""
        expiry = query.get("expiry", "").strip()
        return cls(
            team=query.get("team", "").strip()[:120],
            rule=query.get("rule", "").strip().upper()[:40],
            expiry=expiry if expiry in EXPIRY_CHOICES else "",
        )

    @property
    def active(self) -> bool:
        """Whether any filter narrows the register."""
        return bool(self.team or self.rule or self.expiry)


def _model(kind: Kind) -> type[Waiver] | type[Attestation]:
    return Waiver if kind == "waivers" else Attestation


def entries(kind: Kind, filters: RegisterFilters, now: datetime | None = None) -> QuerySet[Any]:
    """Waivers or attestations matching the filters, each with its `state`, soonest expiry
    first among those in force, then the most recently ended."""
    now = now or timezone.now()
    current = in_force(now)
    revoked = ~current & Q(revoked_at__lte=now)
    queryset = _model(kind).objects.annotate(
        state=Case(
            When(current, then=Value(IN_FORCE)),
            When(revoked, then=Value(REVOKED)),
            default=Value(EXPIRED),
            output_field=CharField(),
        )
    )
    if filters.team:
        queryset = queryset.filter(repository__team__slug=filters.team)
    if filters.rule:
        queryset = queryset.filter(rule__rule_id=filters.rule)
    if filters.expiry == "in_force":
        queryset = queryset.filter(current)
    elif filters.expiry == "expiring":
        queryset = queryset.filter(current, expires_at__lte=now + timedelta(days=EXPIRING_DAYS))
    elif filters.expiry == "revoked":
        queryset = queryset.filter(revoked)
    elif filters.expiry == "expired":
        queryset = queryset.filter(~current & ~Q(revoked_at__lte=now))
    in_force_first = Case(When(current, then=Value(0)), default=Value(1))
    return queryset.order_by(
        in_force_first,
        Case(When(current, then=F("expires_at"))).asc(),
        F("expires_at").desc(),
        "-id",
    )


def register_page(kind: Kind, filters: RegisterFilters, page: int) -> Page[Any]:
    """One page of the register with repository, team, rule and granter (2 queries)."""
    granter = "approved_by" if kind == "waivers" else "attested_by"
    queryset = entries(kind, filters).select_related("repository__team", "rule", granter)
    return paginate(
        queryset.defer(
            "repository__webhook_secret_encrypted",
            "repository__clone_url",
        ),
        page,
        PER_PAGE,
    )


def register_rows(
    kind: Kind, filters: RegisterFilters
) -> tuple[list[str], Iterator[tuple[Any, ...]]]:
    """The CSV export: every matching row, in the register's order, streamed."""
    if kind == "waivers":
        fields = ["approved_by__username", "reason"]
    else:
        fields = ["attested_by__username", "evidence_url", "note"]
    rows = (
        entries(kind, filters)
        .values_list(
            "repository__team__name",
            "repository__name",
            "repository_id",
            "rule__rule_id",
            *fields,
            "created_at",
            "expires_at",
            "revoked_at",
            "state",
        )
        .iterator(chunk_size=2000)
    )
    return CSV_HEADER[kind], rows


def next_change(
    kind: Kind, filters: RegisterFilters, now: datetime | None = None
) -> datetime | None:
    """The next instant a row of the register (with these team and rule filters) changes status
    or enters the "expiring" window, with no write: a cached register holds until then."""
    now = now or timezone.now()
    rows = entries(kind, RegisterFilters(filters.team, filters.rule))
    window = timedelta(days=EXPIRING_DAYS)
    found = rows.aggregate(
        granted=Min("created_at", filter=Q(created_at__gt=now)),
        expires=Min("expires_at", filter=Q(expires_at__gt=now)),
        enters=Min("expires_at", filter=Q(expires_at__gt=now + window)),
        revoked=Min("revoked_at", filter=Q(revoked_at__gt=now)),
    )
    if found["enters"] is not None:
        found["enters"] -= window
    moments = [moment for moment in found.values() if moment is not None]
    return min(moments, default=None)
