"""API tokens: per team, stored hashed, scoped, revocable."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from dashboard.models.org import Team


class ApiToken(models.Model):
    """A bearer token for the JSON API and CI uploads; only its SHA-256 is stored.

    `read` tokens read scorecards (organisation-wide, like any signed-in user); `write`
    tokens also register, scan and upload for their own team's repositories.
    """

    class Scope(models.TextChoices):
        READ = "read", "Read"
        WRITE = "write", "Read and write"

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    token_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=12)
    scope = models.CharField(max_length=8, choices=Scope.choices, default=Scope.READ)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("team", "name")
        constraints = (
            models.CheckConstraint(
                condition=models.Q(scope__in=("read", "write")), name="token_scope_valid"
            ),
        )

    def __str__(self) -> str:
        return f"{self.prefix}… {self.name} ({self.team_id}, {self.scope})"

    @property
    def can_write(self) -> bool:
        """Whether the token may change its team's repositories."""
        return self.scope == self.Scope.WRITE
