"""Waivers and attestations: a maintainer's word where the engine's is not the last."""

from __future__ import annotations

from datetime import datetime
from typing import TypeVar

from django.conf import settings
from django.db import models
from django.utils import timezone

from dashboard.models.repos import Repository
from dashboard.models.standards import Rule

_M = TypeVar("_M", bound=models.Model)


class InForceQuerySet(models.QuerySet[_M]):
    """Waivers or attestations, with the one definition of "in force" (dashboard/domain)."""

    def in_force(self, at: datetime | None = None) -> InForceQuerySet[_M]:
        """Those in force at `at` (now by default)."""
        from dashboard.domain.scores import in_force

        return self.filter(in_force(at or timezone.now()))


class Waiver(models.Model):
    """An accepted exception to a rule for one repository, until it expires or is revoked."""

    repository = models.ForeignKey(Repository, on_delete=models.CASCADE, related_name="waivers")
    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="waivers")
    reason = models.TextField()
    expires_at = models.DateTimeField()
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = InForceQuerySet["Waiver"].as_manager()

    class Meta:
        indexes = (models.Index(fields=("repository", "expires_at"), name="waiver_repo_expiry"),)

    def __str__(self) -> str:
        return f"waiver {self.rule_id} on {self.repository_id}"


class Attestation(models.Model):
    """A maintainer's statement, with evidence, that an `attest` rule is met."""

    repository = models.ForeignKey(
        Repository, on_delete=models.CASCADE, related_name="attestations"
    )
    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="attestations")
    evidence_url = models.URLField(max_length=500)
    note = models.TextField(blank=True)
    expires_at = models.DateTimeField()
    attested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = InForceQuerySet["Attestation"].as_manager()

    class Meta:
        indexes = (models.Index(fields=("repository", "expires_at"), name="attest_repo_expiry"),)

    def __str__(self) -> str:
        return f"attestation {self.rule_id} on {self.repository_id}"


class WaiverRequest(models.Model):
    """A maintainer's request for a waiver, decided by someone else (see
    `services/governance/waiver_requests.py`). Only an approval makes a `Waiver`: a pending,
    rejected or withdrawn request never counts for a score.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        WITHDRAWN = "withdrawn", "Withdrawn"

    repository = models.ForeignKey(
        Repository, on_delete=models.CASCADE, related_name="waiver_requests"
    )
    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="waiver_requests")
    reason = models.TextField()
    expires_at = models.DateTimeField()  # the expiry asked for; the waiver gets it on approval
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decision_reason = models.TextField(blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    waiver = models.OneToOneField(
        Waiver, null=True, blank=True, on_delete=models.SET_NULL, related_name="request"
    )

    class Meta:
        ordering = ("created_at", "id")
        indexes = (models.Index(fields=("status", "created_at"), name="waiver_request_status"),)
        constraints = (
            models.CheckConstraint(
                condition=models.Q(status__in=("pending", "approved", "rejected", "withdrawn")),
                name="waiver_request_status_valid",
            ),
            # Two pending requests for one rule of one repository would be decided twice.
            models.UniqueConstraint(
                fields=("repository", "rule"),
                condition=models.Q(status="pending"),
                name="waiver_request_one_pending",
            ),
        )

    def __str__(self) -> str:
        return f"waiver request {self.rule_id} on {self.repository_id}: {self.status}"


class ExpiryReminder(models.Model):
    """A reminder sent `days` before a waiver or an attestation expires (at `expires_at`).

    Unique per item, threshold and expiry: the daily job sends each reminder once, and an
    extended expiry (an administrator's edit) earns fresh reminders.
    """

    waiver = models.ForeignKey(
        Waiver, null=True, blank=True, on_delete=models.CASCADE, related_name="reminders"
    )
    attestation = models.ForeignKey(
        Attestation, null=True, blank=True, on_delete=models.CASCADE, related_name="reminders"
    )
    days = models.PositiveSmallIntegerField()
    expires_at = models.DateTimeField()
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = (
            models.CheckConstraint(
                condition=models.Q(waiver__isnull=False, attestation__isnull=True)
                | models.Q(waiver__isnull=True, attestation__isnull=False),
                name="expiry_reminder_one_item",
            ),
            models.UniqueConstraint(
                fields=("waiver", "days", "expires_at"),
                condition=models.Q(waiver__isnull=False),
                name="expiry_reminder_unique_waiver",
            ),
            models.UniqueConstraint(
                fields=("attestation", "days", "expires_at"),
                condition=models.Q(attestation__isnull=False),
                name="expiry_reminder_unique_attestation",
            ),
        )

    def __str__(self) -> str:
        item = (
            f"waiver {self.waiver_id}" if self.waiver_id else f"attestation {self.attestation_id}"
        )
        return f"{self.days}-day reminder of {item}"
