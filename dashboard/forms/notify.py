"""Forms: A team's notification settings and the outgoing addresses they name.

Shape and basic validation of input; the services decide the rest.
"""

from __future__ import annotations

from django import forms

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


class DigestSubscriptionForm(forms.Form):
    """Turn one weekly digest on or off: `scope` is `org` or a team's slug."""

    scope = forms.CharField(max_length=120)
    enabled = forms.BooleanField(required=False)
