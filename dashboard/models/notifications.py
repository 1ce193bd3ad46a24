"""Notifications: what happened (events), where each goes (deliveries), and team settings."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from dashboard.models.initiatives import Initiative
from dashboard.models.org import Team
from dashboard.models.repos import Repository
from dashboard.models.scans import Scan


class TeamNotificationSettings(models.Model):
    """Where a team's notifications go: email recipients, a Slack-compatible incoming webhook."""

    team = models.OneToOneField(
        Team, on_delete=models.CASCADE, related_name="notification_settings"
    )
    email_recipients = models.TextField(blank=True)  # comma- or newline-separated
    slack_webhook_encrypted = models.TextField(blank=True)
    # One message a day with everything instead of a message per event.
    digest = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "team notification settings"

    def __str__(self) -> str:
        return f"notifications of {self.team_id}"

    @property
    def recipients(self) -> list[str]:
        """Email addresses, in the order given, without duplicates."""
        seen: dict[str, None] = {}
        for raw in self.email_recipients.replace("\n", ",").split(","):
            if raw.strip():
                seen.setdefault(raw.strip(), None)
        return list(seen)


class DigestSubscription(models.Model):
    """A user's opt-in to the weekly digest of the organisation (no team) or of one team.

    Off unless a row says `enabled`; who may subscribe to what is decided by the service
    (`services/notify/subscriptions.py`) when subscribing and again when sending.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="digest_subscriptions"
    )
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.CASCADE, related_name="digest_subscriptions"
    )
    enabled = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = (
            models.UniqueConstraint(
                fields=("user", "team"),
                condition=models.Q(team__isnull=False),
                name="digest_subscription_unique_team",
            ),
            # NULLs are distinct in a unique index: the organisation's row needs its own.
            models.UniqueConstraint(
                fields=("user",),
                condition=models.Q(team__isnull=True),
                name="digest_subscription_unique_org",
            ),
        )

    def __str__(self) -> str:
        scope = f"team {self.team_id}" if self.team_id else "the organisation"
        return f"weekly digest of {scope} for {self.user_id}: {'on' if self.enabled else 'off'}"


class OutgoingWebhook(models.Model):
    """A URL that receives a signed JSON document when a scan finishes (all teams or one)."""

    name = models.CharField(max_length=100)
    url = models.URLField(max_length=500)
    secret_encrypted = models.TextField()
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.CASCADE, related_name="outgoing_webhooks"
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name


class Notification(models.Model):
    """One event worth telling someone about; `dedupe_key` makes recording it idempotent."""

    class Kind(models.TextChoices):
        LEVEL_DROP = "level_drop", "Level dropped"
        SCAN_FAILED = "scan_failed", "Scan failed"
        DEADLINE = "deadline", "Initiative deadline in a week"
        DIGEST = "digest", "Daily digest"
        SCAN_COMPLETED = "scan_completed", "Scan completed"
        WEEKLY_DIGEST = "weekly_digest", "Weekly digest"
        WAIVER_REQUEST = "waiver_request", "Waiver requested"
        WAIVER_DECISION = "waiver_decision", "Waiver request decided"
        EXPIRY_REMINDER = "expiry_reminder", "Waiver or attestation expiring"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    dedupe_key = models.CharField(max_length=200, unique=True)
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    repository = models.ForeignKey(
        Repository, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    scan = models.ForeignKey(
        Scan, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    initiative = models.ForeignKey(
        Initiative, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    subject = models.CharField(max_length=200)
    body = models.TextField()
    payload = models.JSONField(default=dict, blank=True)
    # Waiting for the team's daily digest, then the digest that carried it.
    deferred = models.BooleanField(default=False)
    digest = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="items"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = (models.Index(fields=("team", "deferred"), name="notification_team_deferred"),)
        constraints = (
            models.CheckConstraint(
                condition=models.Q(
                    kind__in=(
                        "level_drop",
                        "scan_failed",
                        "deadline",
                        "digest",
                        "scan_completed",
                        "weekly_digest",
                        "waiver_request",
                        "waiver_decision",
                        "expiry_reminder",
                    )
                ),
                name="notification_kind_valid",
            ),
        )

    def __str__(self) -> str:
        return f"{self.kind}: {self.subject}"


class Delivery(models.Model):
    """One notification sent once to one channel: retried while transient, recorded always."""

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        SLACK = "slack", "Slack webhook"
        WEBHOOK = "webhook", "Outgoing webhook"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    notification = models.ForeignKey(
        Notification, on_delete=models.CASCADE, related_name="deliveries"
    )
    channel = models.CharField(max_length=8, choices=Channel.choices)
    # What makes two deliveries of one notification different (the endpoint, the recipients).
    target = models.CharField(max_length=300)
    webhook = models.ForeignKey(
        OutgoingWebhook, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries"
    )
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    # Set while a worker sends it: a second worker leaves it alone (no duplicate sends).
    claimed_at = models.DateTimeField(null=True, blank=True)
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        verbose_name_plural = "deliveries"
        constraints = (
            models.UniqueConstraint(
                fields=("notification", "channel", "target"), name="delivery_unique_target"
            ),
            models.CheckConstraint(
                condition=models.Q(channel__in=("email", "slack", "webhook")),
                name="delivery_channel_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=("pending", "sent", "failed")),
                name="delivery_status_valid",
            ),
        )

    def __str__(self) -> str:
        return f"{self.channel} {self.target}: {self.status}"
