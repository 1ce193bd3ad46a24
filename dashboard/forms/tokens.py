"""Forms: a personal API token (name, scope, team, lifetime).

Shape and bounds only; whether the person may tie a write token to the team is the
service's decision (dashboard/services/access/api_tokens.py), shown on the team field.
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib.auth.models import User

from dashboard.models import ApiToken, Team
from dashboard.services.access.api_tokens import DEFAULT_DAYS, MAX_DAYS
from dashboard.services.access.permissions import token_teams

ALL_TEAMS = "All teams (every team you may read, or maintain for write)"


class TokenForm(forms.Form):
    """A new personal token."""

    name = forms.CharField(
        max_length=100,
        help_text="What it is for, e.g. “GitHub Actions for payments”.",
    )
    scope = forms.ChoiceField(
        choices=ApiToken.Scope.choices,
        initial=ApiToken.Scope.READ,
        widget=forms.RadioSelect,
        help_text="Write tokens register repositories, request scans and upload CI reports "
        "for the teams you maintain.",
    )
    team = forms.ModelChoiceField(
        queryset=Team.objects.order_by("name"),
        required=False,
        empty_label=ALL_TEAMS,
        help_text="A write token can be tied only to a team you maintain.",
    )
    days = forms.IntegerField(
        label="Expires after (days)",
        min_value=1,
        max_value=MAX_DAYS,
        initial=DEFAULT_DAYS,
        help_text=f"{DEFAULT_DAYS} days unless you choose otherwise; at most {MAX_DAYS}.",
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        """The team chooser puts the teams `user` maintains (those a write token may name)
        apart from the others (read tokens only)."""
        super().__init__(*args, **kwargs)
        maintained = set(token_teams(user, write=True).values_list("pk", flat=True))
        teams = list(Team.objects.order_by("name").values_list("pk", "name"))
        groups: list[tuple[str, list[tuple[int, str]]]] = [
            ("Teams you maintain", [team for team in teams if team[0] in maintained]),
            (
                "Other teams (read tokens only)",
                [team for team in teams if team[0] not in maintained],
            ),
        ]
        field = cast("forms.ModelChoiceField[Team]", self.fields["team"])
        field.choices = [("", ALL_TEAMS), *((label, group) for label, group in groups if group)]
