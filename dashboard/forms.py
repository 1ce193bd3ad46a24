"""Forms: shape and basic validation of input; the services decide the rest."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone

from dashboard.models import Rule, Team


class RegistrationForm(forms.Form):
    """Register a repository for one of the teams the user maintains."""

    team = forms.ModelChoiceField(queryset=Team.objects.none(), empty_label=None)
    clone_url = forms.CharField(
        label="Clone URL",
        max_length=500,
        help_text="https://… or git@host:org/repo.git — the URL you would `git clone`.",
    )
    name = forms.CharField(
        max_length=200, required=False, help_text="Defaults to the repository name."
    )
    default_branch = forms.CharField(max_length=200, initial="main")
    project_dir = forms.CharField(
        label="Project folder",
        max_length=300,
        required=False,
        help_text=(
            "Where pyproject.toml lives, e.g. backend/. Leave empty to detect it: the first "
            "scan lists the Python projects it found on the repository's page, where you can "
            "judge another one or register each as its own repository (a monorepo's services "
            "are one repository each: the same URL may be registered once per folder)."
        ),
    )

    def __init__(self, *args: Any, teams: QuerySet[Team], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams  # type: ignore[attr-defined]


def _default_expiry() -> str:
    return (timezone.now() + timedelta(days=90)).date().isoformat()


class WaiverForm(forms.Form):
    """Accept a failing rule for a while, with a reason."""

    rule = forms.ModelChoiceField(queryset=Rule.objects.none(), empty_label=None)
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), min_length=10, max_length=2000
    )
    expires_on = forms.DateField(
        widget=forms.DateInput(attrs={"type": "date"}), initial=_default_expiry
    )

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
