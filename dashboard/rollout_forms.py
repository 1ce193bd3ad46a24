"""Forms for initiatives, ratchets and team notifications; the services decide the rest."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django import forms
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.utils import timezone

from dashboard.models import Initiative, Repository, Rule, Team
from dashboard.services.governance.initiatives import Goal
from dashboard.services.notify.http_post import check_url


def clean_receiver_url(url: str) -> str:
    """A notification receiver's URL as `check_url` allows it (resolved too), else a field
    error: the admin's and the team page's forms share it."""
    url = url.strip()
    if url:
        try:
            check_url(url, resolve=True)
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None
    return url


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
    start_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), initial=_today)
    target_date = forms.DateField(
        widget=forms.DateInput(attrs={"type": "date"}),
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


class NotificationSettingsForm(forms.Form):
    """Where a team's notifications go."""

    email_recipients = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Comma- or line-separated addresses.",
    )
    slack_webhook_url = forms.CharField(
        required=False,
        max_length=500,
        label="Slack-compatible incoming webhook URL",
        help_text="Write-only: leave empty to keep the current one.",
    )
    remove_slack = forms.BooleanField(required=False, label="Remove the Slack webhook")
    digest = forms.BooleanField(required=False, label="One daily digest instead of each event")

    def clean_email_recipients(self) -> str:
        """Every address must look like one."""
        raw = self.cleaned_data["email_recipients"]
        addresses = [a.strip() for a in raw.replace("\n", ",").split(",") if a.strip()]
        validator = forms.EmailField()
        for address in addresses:
            validator.clean(address)
        return ", ".join(addresses)

    def clean_slack_webhook_url(self) -> str:
        """An http(s) URL (https outside development) to a host the address policy allows."""
        return clean_receiver_url(str(self.cleaned_data["slack_webhook_url"]))
