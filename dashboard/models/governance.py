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
