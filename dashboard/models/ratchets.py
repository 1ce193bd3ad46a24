"""Ratchets: a count-based rule passes while a repository's count stays at or below a baseline."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone

from dashboard.models.repos import Repository
from dashboard.models.standards import Rule


class RatchetQuerySet(models.QuerySet["Ratchet"]):
    """Ratchets, with the one definition of "in force" (dashboard/domain/scores.py)."""

    def in_force(self, at: datetime | None = None) -> RatchetQuerySet:
        """Those in force at `at` (now by default): set before it."""
        from dashboard.domain.scores import ratchet_in_force

        return self.filter(ratchet_in_force(at or timezone.now()))


class Ratchet(models.Model):
    """A frozen finding count for one repository and rule; it only ever goes down.

    The count is the number of evidence items the engine reported for the rule
    (`CheckResult.findings`). While it is at or below `baseline`, a failing or warning result
    counts as a pass; a lower count lowers the baseline at once.
    """

    repository = models.ForeignKey(Repository, on_delete=models.CASCADE, related_name="ratchets")
    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="ratchets")
    baseline = models.PositiveIntegerField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RatchetQuerySet.as_manager()

    class Meta:
        ordering = ("rule__position",)
        constraints = (
            models.UniqueConstraint(fields=("repository", "rule"), name="ratchet_unique_rule"),
        )

    def __str__(self) -> str:
        return f"ratchet {self.rule_id} on {self.repository_id} at {self.baseline}"
