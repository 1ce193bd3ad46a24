"""A team's members for its Members page: one query, maintainers first, then by username."""

from __future__ import annotations

from django.db.models import Case, IntegerField, Value, When

from dashboard.models import Membership, Team


def team_members(team: Team) -> list[Membership]:
    """Every membership of `team` with its user, maintainers first (1 query)."""
    maintainers_first = Case(
        When(role=Membership.Role.MAINTAINER, then=Value(0)),
        default=Value(1),
        output_field=IntegerField(),
    )
    return list(
        Membership.objects.filter(team=team)
        .select_related("user")
        .order_by(maintainers_first, "user__username")
    )
