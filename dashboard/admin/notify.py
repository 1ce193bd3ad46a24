"""Admin: Team notification settings, outgoing webhooks, notifications and their deliveries,
weekly digest subscriptions."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest

from dashboard import models
from dashboard.forms.notify import clean_receiver_url
from dashboard.services.access import secrets


class TeamNotificationSettingsForm(forms.ModelForm[models.TeamNotificationSettings]):
    """The Slack URL is a secret: write-only, stored encrypted."""

    slack_webhook_url = forms.URLField(required=False, assume_scheme="https")

    def clean_slack_webhook_url(self) -> str:
        """A receiver the address policy allows (see `clean_receiver_url`)."""
        return clean_receiver_url(str(self.cleaned_data.get("slack_webhook_url") or ""))

    class Meta:
        model = models.TeamNotificationSettings
        fields = ("team", "email_recipients", "digest")

    def save(self, commit: bool = True) -> models.TeamNotificationSettings:
        """Encrypt a new Slack URL; an empty field keeps the stored one."""
        url = self.cleaned_data.get("slack_webhook_url")
        if url:
            self.instance.slack_webhook_encrypted = secrets.encrypt(url)
        return super().save(commit)


@admin.register(models.TeamNotificationSettings)
class TeamNotificationSettingsAdmin(admin.ModelAdmin[models.TeamNotificationSettings]):
    """Where each team's notifications go (maintainers also edit it on the team's page)."""

    form = TeamNotificationSettingsForm
    list_display = ("team", "digest", "updated_at")


class OutgoingWebhookForm(forms.ModelForm[models.OutgoingWebhook]):
    """The signing secret is write-only; left empty on creation, one is generated."""

    secret = forms.CharField(required=False, widget=forms.PasswordInput, min_length=16)

    class Meta:
        model = models.OutgoingWebhook
        fields = ("name", "url", "team", "active")

    def clean_url(self) -> str:
        """A receiver the address policy allows (see `clean_receiver_url`)."""
        return clean_receiver_url(str(self.cleaned_data.get("url") or ""))


@admin.register(models.OutgoingWebhook)
class OutgoingWebhookAdmin(admin.ModelAdmin[models.OutgoingWebhook]):
    """Endpoints that receive a signed JSON document after every scan."""

    form = OutgoingWebhookForm
    list_display = ("name", "url", "team", "active", "created_at")
    list_filter = ("active",)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        """Encrypt the secret; show a generated one once."""
        secret = form.cleaned_data.get("secret")
        if not secret and not obj.secret_encrypted:
            secret = secrets.generate_secret()
            messages.warning(request, f"Signing secret (shown once): {secret}")
        if secret:
            obj.secret_encrypted = secrets.encrypt(secret)
        super().save_model(request, obj, form, change)


@admin.register(models.Notification)
class NotificationAdmin(admin.ModelAdmin[models.Notification]):
    """Every event recorded for notification (read-only)."""

    list_display = ("created_at", "kind", "team", "subject", "deferred")
    list_filter = ("kind", "deferred")
    search_fields = ("subject", "dedupe_key")
    list_select_related = ("team",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Recorded by the pipeline only."""
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        """Never edited."""
        return False


@admin.register(models.Delivery)
class DeliveryAdmin(admin.ModelAdmin[models.Delivery]):
    """Each send with its attempts and last error (read-only)."""

    list_display = ("created_at", "channel", "target", "status", "attempts", "response_code")
    list_filter = ("channel", "status")
    list_select_related = ("notification",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Planned by the notifications service only."""
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        """Never edited."""
        return False


@admin.register(models.DigestSubscription)
class DigestSubscriptionAdmin(admin.ModelAdmin[models.DigestSubscription]):
    """Who turned the weekly digest on, per scope (read-only: opting in is each user's own
    choice, on the digest page; an administrator may delete a subscription)."""

    list_display = ("user", "team", "enabled", "updated_at")
    list_filter = ("enabled",)
    list_select_related = ("user", "team")
    search_fields = ("user__username", "team__name")

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Users opt in themselves."""
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        """Nobody turns a digest on for someone else."""
        return False
