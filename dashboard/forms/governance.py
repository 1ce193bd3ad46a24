"""Forms: Waivers, attestations, ratchets and initiatives.

Shape and basic validation of input; the services decide the rest.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django import forms
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.utils import timezone

from dashboard.forms.widgets import DateInput
from dashboard.models import Initiative, Repository, Rule, Team
from dashboard.services.governance.initiatives import Goal


def _default_expiry() -> str:
    return (timezone.now() + timedelta(days=90)).date().isoformat()


class WaiverForm(forms.Form):
    """Accept a failing rule for a while, with a reason."""

    rule = forms.ModelChoiceField(queryset=Rule.objects.none(), empty_label=None)
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), min_length=10, max_length=2000
    )
    expires_on = forms.DateField(widget=DateInput(), initial=_default_expiry)

    def __init__(self, *args: Any, rules: QuerySet[Rule], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["rule"].queryset = rules  # type: ignore[attr-defined]

    def expires_at(self) -> datetime:
        """End of the chosen day, UTC."""
        day = self.cleaned_data["expires_on"]
        return datetime.combine(day, time.max, tzinfo=UTC)


class AttestationForm(forms.Form):
    """State that an `attest` rule is met, with a link as evidence."""

    rule = forms.ModelChoiceField(queryset=Rule.objects.none(), empty_label=None)
    evidence_url = forms.URLField(max_length=500, assume_scheme="https")
    note = forms.CharField(required=False, max_length=2000)
    days = forms.IntegerField(min_value=1, max_value=365, initial=90)

    def __init__(self, *args: Any, rules: QuerySet[Rule], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["rule"].queryset = rules  # type: ignore[attr-defined]


def _today() -> date:
    return timezone.now().date()


class InitiativeForm(forms.Form):
    """A goal (a level, or rules) for teams and/or repositories, from a start to a target date."""

    name = forms.CharField(max_length=200)
    description = forms.CharField(
        required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 2})
    )
    goal = forms.ChoiceField(choices=Initiative.Goal.choices, initial=Initiative.Goal.LEVEL)
    target_level = forms.ChoiceField(
        choices=[("", "—"), *Initiative.Level.choices], required=False, initial="silver"
    )
    rules = forms.ModelMultipleChoiceField(
        queryset=Rule.objects.none(), required=False, widget=forms.SelectMultiple(attrs={"size": 8})
    )
    teams = forms.ModelMultipleChoiceField(
        queryset=Team.objects.all(), required=False, widget=forms.CheckboxSelectMultiple
    )
    repositories = forms.ModelMultipleChoiceField(
        queryset=Repository.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    start_date = forms.DateField(widget=DateInput(), initial=_today)
    target_date = forms.DateField(
        widget=DateInput(),
        initial=lambda: _today() + timedelta(days=90),
    )
    owner = forms.ModelChoiceField(queryset=User.objects.none(), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["rules"].queryset = Rule.objects.filter(  # type: ignore[attr-defined]
            retired=False
        ).order_by("position")
        self.fields["repositories"].queryset = Repository.objects.filter(  # type: ignore[attr-defined]
            active=True
        ).select_related("team")
        self.fields["owner"].queryset = User.objects.filter(is_active=True).order_by("username")  # type: ignore[attr-defined]

    def goal_value(self) -> Goal:
        """The validated input as the service takes it."""
        data = self.cleaned_data
        return Goal(
            name=data["name"],
            description=data["description"],
            goal=data["goal"],
            target_level=data["target_level"],
            rules=tuple(data["rules"]),
            teams=tuple(data["teams"]),
            repositories=tuple(data["repositories"]),
            start_date=data["start_date"],
            target_date=data["target_date"],
            owner=data["owner"],
        )


class RatchetForm(forms.Form):
    """Freeze the latest count of a count-based rule."""

    rule = forms.ModelChoiceField(queryset=Rule.objects.none(), empty_label=None)

    def __init__(self, *args: Any, rules: QuerySet[Rule], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["rule"].queryset = rules  # type: ignore[attr-defined]
