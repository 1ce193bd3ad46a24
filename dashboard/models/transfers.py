"""Repositories moving from one team to another, with the receiving team's consent."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from dashboard.models.org import Team
from dashboard.models.repos import Repository


class RepositoryTransfer(models.Model):
    """A maintainer's proposal to hand a repository to another team, and its outcome.

    A maintainer of the receiving team accepts or declines it; the proposing team may cancel
    it while it is pending. One pending proposal per repository at a time.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        CANCELLED = "cancelled", "Cancelled"

    repository = models.ForeignKey(Repository, on_delete=models.CASCADE, related_name="transfers")
    from_team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+")
    to_team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="incoming_transfers")
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    proposed_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-proposed_at", "-id")
        indexes = (models.Index(fields=("to_team", "status"), name="transfer_to_team_status"),)
        constraints = (
            models.UniqueConstraint(
                fields=("repository",),
                condition=models.Q(status="pending"),
                name="transfer_one_pending_per_repository",
            ),
        )

    def __str__(self) -> str:
        return f"{self.repository} → {self.to_team}"
