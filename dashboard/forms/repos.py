"""Forms: Registering a repository.

Shape and basic validation of input; the services decide the rest.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet

from dashboard.models import Team


class RegistrationForm(forms.Form):
    """Register a repository for one of the teams the user maintains."""

    team = forms.ModelChoiceField(
        queryset=Team.objects.none(),
        empty_label="Choose a team",
        error_messages={"required": "Choose the team the repository belongs to."},
    )
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


class RepositorySettingsForm(forms.Form):
    """A repository's name, default branch and project folder (its settings page)."""

    name = forms.CharField(max_length=200)
    default_branch = forms.CharField(max_length=200)
    project_dir = forms.CharField(
        label="Project folder",
        max_length=300,
        required=False,
        help_text=(
            "Where pyproject.toml lives, e.g. backend/; empty for the root. A new branch or "
            "folder is scanned at once. Another row of the same clone URL may not judge it."
        ),
    )


class TransferForm(forms.Form):
    """The team a repository goes to."""

    to_team = forms.ModelChoiceField(
        label="Team",
        queryset=Team.objects.none(),
        empty_label="Choose a team",
        error_messages={"required": "Choose the team the repository goes to."},
    )

    def __init__(self, *args: Any, teams: QuerySet[Team], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["to_team"].queryset = teams  # type: ignore[attr-defined]
