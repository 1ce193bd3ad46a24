"""Webhook deliveries: every request to a webhook endpoint, with what became of it."""

from __future__ import annotations

from django.db import models

from dashboard.models.repos import Repository
from dashboard.models.scans import Scan


class WebhookDelivery(models.Model):
    """One delivery. Verified first deliveries are unique per (repository, provider, delivery
    id, pushed head).

    Refusals and replays are recorded outside the unique constraint, so an unauthenticated
    request can never claim a delivery id before the real delivery arrives (and refusals
    before verification are stored at most once a minute per repository).
    """

    class Provider(models.TextChoices):
        GITHUB = "github", "GitHub"
        GITLAB = "gitlab", "GitLab"
        GITEA = "gitea", "Gitea"
        GENERIC = "generic", "Generic"

    class Outcome(models.TextChoices):
        SCAN_REQUESTED = "scan_requested", "Scan requested"
        REVIEW_REQUESTED = "review_requested", "Review requested"
        PONG = "pong", "Ping answered"
        IGNORED = "ignored", "Ignored"
        DUPLICATE = "duplicate", "Duplicate delivery"
        REJECTED = "rejected", "Rejected"

    provider = models.CharField(max_length=8, choices=Provider.choices)
    delivery_id = models.CharField(max_length=100, blank=True)
    event = models.CharField(max_length=64, blank=True)
    repository = models.ForeignKey(
        Repository, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries"
    )
    # True for a verified delivery seen for the first time: only those are unique.
    accepted = models.BooleanField(default=False)
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    status_code = models.PositiveSmallIntegerField()
    detail = models.CharField(max_length=300, blank=True)
    ref = models.CharField(max_length=255, blank=True)
    commit_sha = models.CharField(max_length=64, blank=True)
    scan = models.ForeignKey(
        Scan, null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries"
    )
    remote_addr = models.GenericIPAddressField(null=True, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-received_at", "-id")
        verbose_name_plural = "webhook deliveries"
        constraints = (
            # Per repository (another repository's id is not a replay) and per pushed head (an
            # id naming another head is a new push); ids made from the body are deduplicated
            # against the repository's last delivery instead (services.webhooks._claim).
            models.UniqueConstraint(
                fields=("repository", "provider", "delivery_id", "commit_sha"),
                condition=models.Q(accepted=True) & ~models.Q(delivery_id__startswith="body-"),
                name="delivery_unique_per_repository",
            ),
            models.CheckConstraint(
                condition=models.Q(provider__in=("github", "gitlab", "gitea", "generic")),
                name="delivery_provider_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    outcome__in=(
                        "scan_requested",
                        "review_requested",
                        "pong",
                        "ignored",
                        "duplicate",
                        "rejected",
                    )
                ),
                name="delivery_outcome_valid",
            ),
        )
        indexes = (
            models.Index(fields=("repository", "-received_at"), name="delivery_repo_recent"),
        )

    def __str__(self) -> str:
        return f"{self.provider} {self.event} {self.delivery_id or '-'}: {self.outcome}"
